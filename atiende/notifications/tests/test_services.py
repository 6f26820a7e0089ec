"""notify(), mark_read() and preferences: who gets what, once, live and by e-mail."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from atiende.notifications import selectors, services
from atiende.notifications.models import Kind, Notification
from atiende.users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pedro(db):
    return UserFactory(username="pedro", display_name="Pedro Gómez")


def ping(recipients, capture=None, **kwargs):
    kwargs.setdefault("kind", Kind.ASSIGNMENT)
    kwargs.setdefault("title", "Te asignaron el ticket T-000001")
    if capture is None:
        return services.notify(recipients=recipients, **kwargs)
    with capture(execute=True):
        return services.notify(recipients=recipients, **kwargs)


def test_notify_creates_one_for_each_recipient_but_not_the_actor(agent, supervisor, pedro):
    created = ping([agent, supervisor, pedro, agent], actor=supervisor, url="/tickets/1/")
    assert sorted(n.recipient_id for n in created) == sorted([agent.pk, pedro.pk])
    assert Notification.objects.filter(recipient=supervisor).count() == 0
    row = Notification.objects.get(recipient=agent)
    assert (row.kind, row.url, row.actor_id, row.read_at) == (
        "assignment",
        "/tickets/1/",
        supervisor.pk,
        None,
    )


def test_inactive_users_are_not_notified(agent, pedro):
    pedro.is_active = False
    pedro.save()
    assert [n.recipient_id for n in ping([agent, pedro])] == [agent.pk]


def test_notify_records_the_target(agent, supervisor):
    (created,) = ping([agent], target=supervisor)
    assert created.target_type.model == "user" and created.target_id == supervisor.pk


def test_a_dedupe_key_notifies_each_recipient_once(agent, pedro):
    first = ping([agent], kind=Kind.SLA_WARNING, dedupe_key="ticket:7:customer_update")
    again = ping([agent, pedro], kind=Kind.SLA_WARNING, dedupe_key="ticket:7:customer_update")
    assert len(first) == 1
    assert [n.recipient_id for n in again] == [pedro.pk]
    assert Notification.objects.filter(recipient=agent, kind=Kind.SLA_WARNING).count() == 1
    # another kind or another key is a new notification
    assert len(ping([agent], kind=Kind.SLA_BREACH, dedupe_key="ticket:7:customer_update")) == 1
    assert len(ping([agent], kind=Kind.SLA_WARNING, dedupe_key="ticket:8:customer_update")) == 1
    # without a key nothing is deduplicated
    assert len(ping([agent])) == 1 and len(ping([agent])) == 1


def test_unknown_kind_or_external_url_is_refused(agent):
    with pytest.raises(ValidationError):
        ping([agent], kind="lottery")
    with pytest.raises(ValidationError):
        ping([agent], url="https://evil.example/")
    assert not Notification.objects.exists()


def test_the_event_reaches_the_recipient_group_with_the_unread_count(
    agent, pedro, listen, django_capture_on_commit_callbacks
):
    mine, theirs = listen(f"user.{agent.pk}"), listen(f"user.{pedro.pk}")
    ping([agent], django_capture_on_commit_callbacks)
    (created,) = ping([agent], django_capture_on_commit_callbacks, body="Cliente espera", url="/x/")
    events = [e for e in mine() if e["type"] == "notification"]
    assert [e["unread"] for e in events] == [1, 2]
    assert events[1] == {
        "type": "notification",
        "id": created.pk,
        "kind": "assignment",
        "title": "Te asignaron el ticket T-000001",
        "body": "Cliente espera",
        "url": "/x/",
        "unread": 2,
    }
    assert theirs() == []


def test_no_event_for_a_rolled_back_notification(agent, listen, django_capture_on_commit_callbacks):
    events = listen(f"user.{agent.pk}")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ping([agent])
    assert len(callbacks) == 1  # run only on commit
    assert events() == []


def test_email_goes_only_to_who_chose_that_kind(agent, pedro, django_capture_on_commit_callbacks):
    services.set_preferences(user=agent, by_email={"assignment": True})
    services.set_preferences(user=pedro, by_email={"mention": True})
    ping([agent, pedro], django_capture_on_commit_callbacks, body="Póliza 123", url="/tickets/5/")
    assert [m.to for m in mail.outbox] == [[agent.email]]
    message = mail.outbox[0]
    assert message.subject == "[Atiende] Te asignaron el ticket T-000001"
    assert "Póliza 123" in message.body and "/tickets/5/" in message.body


def test_no_email_by_default(agent, django_capture_on_commit_callbacks):
    ping([agent], django_capture_on_commit_callbacks)
    assert mail.outbox == []


def test_preferences_default_to_no_email_and_refuse_unknown_kinds(agent):
    assert services.email_preferences(agent) == {kind: False for kind in Kind.values}
    prefs = services.set_preferences(user=agent, by_email={"sla_breach": True})
    assert prefs["sla_breach"] is True and prefs["mention"] is False
    prefs = services.set_preferences(user=agent, by_email={"sla_breach": False, "mention": True})
    assert prefs["sla_breach"] is False and prefs["mention"] is True
    with pytest.raises(ValidationError):
        services.set_preferences(user=agent, by_email={"nope": True})


def test_mark_read_marks_only_my_own(agent, pedro, listen, django_capture_on_commit_callbacks):
    a1, a2 = ping([agent])[0], ping([agent])[0]
    (p1,) = ping([pedro])
    with pytest.raises(PermissionDenied):
        services.mark_read(user=agent, ids=[a1.pk, p1.pk])
    assert selectors.unread_count(agent) == 2  # nothing changed
    events = listen(f"user.{agent.pk}")
    with django_capture_on_commit_callbacks(execute=True):
        assert services.mark_read(user=agent, ids=[a1.pk]) == 1
    assert events() == [{"type": "notification.read", "unread": 1}]
    assert services.mark_read(user=agent) == 1
    assert selectors.unread_count(agent) == 0 and selectors.unread_count(pedro) == 1
    a2.refresh_from_db()
    assert a2.read_at is not None


def test_selector_filters_by_kind_and_read_state(agent, pedro):
    (assigned,) = ping([agent])
    (mention,) = ping([agent], kind=Kind.MENTION)
    ping([pedro])
    services.mark_read(user=agent, ids=[assigned.pk])
    assert list(selectors.notifications_for(user=agent)) == [mention, assigned]
    assert list(selectors.notifications_for(user=agent, kind="mention")) == [mention]
    assert list(selectors.notifications_for(user=agent, unread=True)) == [mention]
    assert list(selectors.notifications_for(user=agent, unread=False)) == [assigned]
