"""Ticket lists, owner counts, the board, the timeline and the contact's Tickets card: filters
return exactly the matching tickets and the number of queries does not grow with the data."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from atiende.activities.selectors import contact_timeline
from atiende.contacts.tests.factories import LabelFactory, make_contact
from atiende.tickets import selectors, services
from atiende.tickets.models import Ticket
from atiende.tickets.selectors import TicketFilters
from atiende.tickets.tests.factories import make_ticket, policy_holder, stage

pytestmark = pytest.mark.django_db


def _ids(qs) -> set[int]:
    return {t.pk for t in qs}


def _list(user, **filters) -> set[int]:
    return _ids(selectors.tickets_for_list(user=user, filters=TicketFilters(**filters)))


def test_each_list_filter_returns_exactly_the_matching_tickets(agent, supervisor):
    label = LabelFactory(name="Reclamo")
    contact, account = policy_holder()
    now = timezone.now()
    a = make_ticket(
        by=agent,
        name="Reclamo de póliza",
        owner=agent,
        priority="high",
        labels=[label],
        account=account,
    )
    b = make_ticket(
        by=agent,
        name="Consulta sin cifras",
        stage_key="waiting_on_customer",
        created_at=now - datetime.timedelta(days=10),
    )
    c = make_ticket(
        by=agent, owner=supervisor, priority="urgent", stage_key="closed", name="Cambio de placa"
    )
    Ticket.objects.filter(pk=b.pk).update(last_activity_at=now - datetime.timedelta(days=9))
    assert _list(agent, stage=stage("waiting_on_customer").pk) == {b.pk}
    assert _list(agent, stage_key="closed") == {c.pk}
    assert _list(agent, priority="high") == {a.pk}
    assert _list(agent, owner="me") == {a.pk}
    assert _list(agent, owner="none") == {b.pk}
    assert _list(agent, owner=supervisor.pk) == {c.pk}
    assert _list(agent, pipeline=a.pipeline_id) == {a.pk, b.pk, c.pk}
    assert _list(agent, created_after=now - datetime.timedelta(days=1)) == {a.pk, c.pk}
    assert _list(agent, created_before=now - datetime.timedelta(days=1)) == {b.pk}
    assert _list(agent, last_activity_after=now - datetime.timedelta(days=1)) == {a.pk, c.pk}
    assert _list(agent, last_activity_before=now - datetime.timedelta(days=1)) == {b.pk}
    assert _list(agent, label=label.pk) == {a.pk}
    assert _list(agent, contact=contact.pk) == {a.pk}
    assert _list(agent, state="open") == {a.pk, b.pk}
    assert _list(agent, state="closed") == {c.pk}
    assert _list(agent, q=c.number) == {c.pk}
    assert _list(agent, q=str(c.pk)) == {c.pk}
    assert _list(agent, q="placa") == {c.pk}
    assert _list(agent, q="Lucía Ramírez") == {a.pk}
    assert _list(agent, q="POL-4455") == {a.pk}


def test_sorts(agent):
    low = make_ticket(by=agent, priority="low")
    urgent = make_ticket(by=agent, priority="urgent")
    medium = make_ticket(by=agent, priority="medium")
    by_priority = selectors.tickets_for_list(user=agent, filters=TicketFilters(sort="priority"))
    assert [t.pk for t in by_priority] == [urgent.pk, medium.pk, low.pk]
    by_number = selectors.tickets_for_list(user=agent, filters=TicketFilters(sort="number"))
    assert [t.pk for t in by_number] == [low.pk, urgent.pk, medium.pk]


def _list_queries(user, n: int) -> int:
    label = LabelFactory(name="L")
    _contact, account = policy_holder(number=f"POL-{n}")
    for i in range(n - Ticket.objects.count()):
        make_ticket(by=user, owner=user if i % 2 else None, labels=[label], account=account)
    with CaptureQueriesContext(connection) as ctx:
        for t in selectors.tickets_for_list(user=user, filters=TicketFilters()):
            str(t.stage), str(t.owner), str(t.contact), str(t.account), list(t.labels.all())
            str(t.pipeline), str(t.team)
    return len(ctx.captured_queries)


def test_list_query_count_is_constant(agent):
    assert _list_queries(agent, 5) == _list_queries(agent, 40)


def test_board_is_bounded_per_column_and_in_constant_queries(agent):
    for _i in range(6):
        make_ticket(by=agent, stage_key="new")
    make_ticket(by=agent, stage_key="closed")
    with CaptureQueriesContext(connection) as small:
        columns = selectors.board_columns(user=agent, per_column=4)
        [list(t.labels.all()) for col in columns for t in col.tickets]
    for _i in range(10):
        make_ticket(by=agent, stage_key="follow_up")
    with CaptureQueriesContext(connection) as large:
        columns = selectors.board_columns(user=agent, per_column=4)
        [list(t.labels.all()) for col in columns for t in col.tickets]
    assert len(small.captured_queries) == len(large.captured_queries) <= 6
    by_key = {col.stage.key: col for col in columns}
    assert next(col.stage.key for col in columns) == "new"
    assert by_key["new"].count == 6 and len(by_key["new"].tickets) == 4
    assert by_key["follow_up"].count == 10 and len(by_key["follow_up"].tickets) == 4
    assert by_key["closed"].count == 1
    assert by_key["tech_issues"].tickets == []


def test_owner_counts_and_my_tickets(agent, supervisor):
    make_ticket(by=agent, owner=agent)
    make_ticket(by=agent, owner=agent)
    make_ticket(by=agent, owner=supervisor)
    make_ticket(by=agent)
    make_ticket(by=agent, owner=agent, stage_key="closed")
    counts = {row["owner_id"]: row["count"] for row in selectors.owner_counts(user=agent)}
    assert counts == {agent.pk: 2, supervisor.pk: 1, None: 1}
    assert selectors.my_ticket_count(user=agent) == 2


def test_owner_counts_count_each_ticket_once_whatever_the_filter(agent, supervisor):
    """COUNT(*) without a to-many join, COUNT(DISTINCT id) with the label filter's join."""
    first, second = LabelFactory(name="Uno"), LabelFactory(name="Dos")
    make_ticket(by=agent, owner=agent, labels=[first, second])
    make_ticket(by=agent, owner=agent, labels=[first])
    make_ticket(by=agent, owner=supervisor, labels=[first, second])

    def counts(**filters) -> dict:
        rows = selectors.owner_counts(user=agent, filters=TicketFilters(state="open", **filters))
        return {row["owner_id"]: row["count"] for row in rows}

    assert counts() == {agent.pk: 2, supervisor.pk: 1}
    assert counts(label=first.pk) == {agent.pk: 2, supervisor.pk: 1}
    assert counts(label=second.pk) == {agent.pk: 1, supervisor.pk: 1}
    both = {
        "match": "any",
        "conditions": [{"field": "label", "op": "in", "value": [first.pk, second.pk]}],
    }
    assert counts(advanced=both) == {agent.pk: 2, supervisor.pk: 1}


def test_the_list_total_read_off_the_owner_counts_is_the_lists_own_count(agent, supervisor):
    label = LabelFactory(name="Uno")
    make_ticket(by=agent, owner=agent, labels=[label], priority="high")
    make_ticket(by=agent, owner=agent, priority="low")
    make_ticket(by=agent, owner=supervisor, labels=[label], priority="high")
    make_ticket(by=agent, priority="high")
    make_ticket(by=agent, owner=agent, stage_key="closed", labels=[label])
    for state in ("open", "closed", "all"):
        for extra in ({}, {"label": label.pk}, {"priority": "high"}):
            for owner in (None, "me", "none", str(supervisor.pk), str(agent.pk)):
                filters = TicketFilters(state=state, owner=owner, **extra)
                rows = selectors.owner_counts(user=agent, filters=filters)
                total = selectors.total_from_owner_counts(rows, user=agent, owner=owner)
                listed = selectors.tickets_for_list(user=agent, filters=filters)
                assert total == listed.count(), (state, extra, owner)


def test_search_matches_as_many_contacts_and_accounts_as_a_subquery(agent, monkeypatch):
    """Past MAX_SEARCH_IDS the matched contacts and accounts stay a subquery: same tickets."""
    contact, account = policy_holder()
    other, other_account = policy_holder(number="pol-4455")
    mine = make_ticket(by=agent, contact=contact, account=account, name="Uno")
    theirs = make_ticket(by=agent, contact=other, account=other_account, name="Dos")
    for limit in (1000, 1):
        monkeypatch.setattr(selectors, "MAX_SEARCH_IDS", limit)
        assert _list(agent, q="Lucía Ramírez") == {mine.pk, theirs.pk}
        assert _list(agent, q="POL-4455") == {mine.pk, theirs.pk}


def test_ticket_timeline_has_notes_stage_changes_and_conversations(agent):
    from atiende.inbox.models import Channel, Conversation

    contact = make_contact(first_name="Ana")
    conversation = Conversation.objects.create(
        contact=contact, channel=Channel.objects.create(name="WA", kind="whatsapp"), recipient="1"
    )
    ticket = make_ticket(by=agent, contact=contact, conversation=conversation)
    services.add_note(ticket=ticket, by=agent, body="Llamé al cliente")
    services.change_stage(ticket=ticket, stage=stage("waiting_on_customer"), by=agent)
    kinds = [e.kind for e in selectors.ticket_timeline(ticket=ticket)]
    assert set(kinds) == {"created", "note", "stage", "conversation"}


def test_contact_tickets_card_and_profile_timeline(agent, client):
    contact = make_contact(first_name="Ana", last_name="Pérez")
    open_ticket = make_ticket(by=agent, contact=contact, name="Reclamo de reembolso")
    make_ticket(by=agent, contact=contact, stage_key="closed")
    make_ticket(by=agent)
    summary = selectors.contact_ticket_summary(contact=contact)
    assert (summary["open"], summary["closed"], summary["total"]) == (1, 1, 2)
    assert summary["latest"][0] == open_ticket
    items = contact_timeline(contact=contact, kinds={"ticket"})
    assert {i.obj.pk for i in items} == set(
        Ticket.objects.filter(contact=contact).values_list("pk", flat=True)
    )
    assert items[0].template == "tickets/items/_ticket.html"
    client.force_login(agent)
    response = client.get(f"/contactos/{contact.pk}/actividad/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Reclamo de reembolso" in body
    assert open_ticket.number in body


def test_agent_without_permission_sees_nothing():
    from django.contrib.auth.models import AnonymousUser
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        selectors.tickets_for_list(user=AnonymousUser(), filters=TicketFilters())
