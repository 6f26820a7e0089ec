"""Notes, tasks and calls: validation in Spanish, who may change them, and the contact timeline."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from atiende.activities import selectors, services, timeline
from atiende.activities.models import Call, Note, Task
from atiende.contacts.tests.factories import make_contact
from atiende.core.models import AuditEntry
from atiende.users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact(db):
    return make_contact(first_name="Ana", last_name="Benítez", phone="0991 651351")


@pytest.fixture
def other_agent(db):
    return UserFactory(username="otro", display_name="Pedro Gómez")


def _ago(**delta) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(**delta)


# --- notes -----------------------------------------------------------------------------------


def test_note_is_trimmed_and_recorded(contact, agent):
    note = services.add_note(contact=contact, body="  Llamó por su póliza  ", by=agent)
    assert (note.body, note.author) == ("Llamó por su póliza", agent)
    entry = AuditEntry.objects.get(action="note_added")
    assert entry.changes == {"nota": [None, "Llamó por su póliza"]}


@pytest.mark.parametrize(
    "body, message",
    [
        ("", "Escribe la nota."),
        ("   ", "Escribe la nota."),
        ("x" * 10_001, "La nota es demasiado larga."),
    ],
)
def test_empty_or_huge_note_is_refused_in_spanish(contact, agent, body, message):
    with pytest.raises(ValidationError) as error:
        services.add_note(contact=contact, body=body, by=agent)
    assert error.value.message_dict == {"body": [message]}
    assert not Note.objects.exists()


def test_note_can_be_changed_by_author_admin_or_supervisor_only(
    contact, agent, other_agent, admin_user, supervisor
):
    note = services.add_note(contact=contact, body="Primera versión", by=agent)
    with pytest.raises(PermissionDenied):
        services.update_note(note=note, body="Hackeada", by=other_agent)
    with pytest.raises(PermissionDenied):
        services.delete_note(note=note, by=other_agent)
    note.refresh_from_db()
    assert note.body == "Primera versión"

    for user, body in ((agent, "Segunda"), (supervisor, "Tercera"), (admin_user, "Cuarta")):
        services.update_note(note=note, body=body, by=user)
        note.refresh_from_db()
        assert note.body == body
    services.delete_note(note=note, by=agent)
    assert not Note.objects.exists()


# --- tasks ------------------------------------------------------------------------------------


def test_task_defaults_to_its_creator_and_may_have_no_contact(agent):
    task = services.create_task(by=agent, title="  Revisar cartera  ")
    assert (task.title, task.assignee, task.contact, task.is_done) == (
        "Revisar cartera",
        agent,
        None,
        False,
    )


def test_task_validation_in_spanish(contact, agent):
    gone = UserFactory(username="ex", is_active=False)
    with pytest.raises(ValidationError) as untitled:
        services.create_task(by=agent, contact=contact, title="  ")
    assert untitled.value.message_dict == {"title": ["Escribe la tarea."]}
    with pytest.raises(ValidationError) as inactive:
        services.create_task(by=agent, contact=contact, title="Llamar", assignee=gone)
    assert inactive.value.message_dict == {"assignee": ["El usuario no está activo."]}
    assert not Task.objects.exists()


@pytest.mark.parametrize("who", ["author", "assignee", "admin", "supervisor"])
def test_task_done_and_undone_by_those_allowed(
    contact, agent, other_agent, admin_user, supervisor, who
):
    task = services.create_task(by=agent, contact=contact, title="Llamar", assignee=other_agent)
    user = {
        "author": agent,
        "assignee": other_agent,
        "admin": admin_user,
        "supervisor": supervisor,
    }[who]
    services.set_task_done(task=task, done=True, by=user)
    task.refresh_from_db()
    assert task.done_at is not None
    services.set_task_done(task=task, done=False, by=user)
    task.refresh_from_db()
    assert task.done_at is None
    actions = list(
        AuditEntry.objects.filter(action__startswith="task_")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["task_added", "task_done", "task_reopened"]


def test_another_agent_cannot_close_or_edit_someone_elses_task(contact, agent, other_agent):
    task = services.create_task(by=agent, contact=contact, title="Llamar")
    with pytest.raises(PermissionDenied):
        services.set_task_done(task=task, done=True, by=other_agent)
    with pytest.raises(PermissionDenied):
        services.update_task(task=task, by=other_agent, title="Otra cosa", assignee=other_agent)
    task.refresh_from_db()
    assert (task.title, task.done_at, task.assignee) == ("Llamar", None, agent)


def test_marking_done_twice_changes_nothing_more(contact, agent):
    task = services.create_task(by=agent, contact=contact, title="Llamar")
    services.set_task_done(task=task, done=True, by=agent)
    first = Task.objects.get().done_at
    services.set_task_done(task=task, done=True, by=agent)
    assert Task.objects.get().done_at == first
    assert AuditEntry.objects.filter(action="task_done").count() == 1


def test_my_tasks_are_my_open_ones_soonest_first(contact, agent, other_agent):
    later = services.create_task(by=agent, title="Después", due_at=_ago(days=-3))
    sooner = services.create_task(by=agent, contact=contact, title="Antes", due_at=_ago(days=-1))
    done = services.create_task(by=agent, title="Hecha")
    services.set_task_done(task=done, done=True, by=agent)
    services.create_task(by=other_agent, title="De otro")
    assert list(selectors.open_tasks_for(user=agent)) == [sooner, later]


# --- calls ------------------------------------------------------------------------------------


def test_call_is_logged_and_counts_as_an_interaction(contact, agent):
    at = _ago(minutes=10)
    call = services.log_call(
        contact=contact,
        by=agent,
        direction="inbound",
        outcome="answered",
        duration_seconds=95,
        note=" Consulta de saldo ",
        at=at,
    )
    assert (call.note, call.by, call.at) == ("Consulta de saldo", agent, at)
    contact.refresh_from_db()
    assert contact.last_interaction_at == at
    assert AuditEntry.objects.get(action="call_logged").changes == {
        "llamada": [None, "Entrante · Contestada"]
    }


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"direction": "sideways"}, "direction", "Indica si la llamada fue entrante o saliente."),
        ({"outcome": ""}, "outcome", "Indica el resultado de la llamada."),
        ({"duration_seconds": -1}, "duration_seconds", "La duración no es válida."),
        ({"duration_seconds": 24 * 3600 + 1}, "duration_seconds", "La duración no es válida."),
        (
            {"at": timezone.now() + datetime.timedelta(hours=1)},
            "at",
            "La fecha de la llamada no puede ser futura.",
        ),
    ],
)
def test_bad_call_is_refused_in_spanish_and_changes_nothing(
    contact, agent, changes, field, message
):
    data = {"direction": "outbound", "outcome": "no_answer", "duration_seconds": 0, **changes}
    with pytest.raises(ValidationError) as error:
        services.log_call(contact=contact, by=agent, **data)
    assert error.value.message_dict == {field: [message]}
    assert not Call.objects.exists()
    contact.refresh_from_db()
    assert contact.last_interaction_at is None


def test_last_interaction_only_moves_forward(contact, agent):
    recent, older, newest = _ago(hours=1), _ago(days=2), _ago(minutes=1)
    services.log_call(contact=contact, by=agent, direction="outbound", outcome="busy", at=recent)
    # A call logged late, about an older conversation, does not move it back.
    services.log_call(contact=contact, by=agent, direction="inbound", outcome="answered", at=older)
    contact.refresh_from_db()
    assert contact.last_interaction_at == recent
    services.log_call(contact=contact, by=agent, direction="inbound", outcome="answered", at=newest)
    contact.refresh_from_db()
    assert contact.last_interaction_at == newest


def test_calls_need_permission_on_the_contact(contact):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionDenied):
        services.log_call(
            contact=contact, by=AnonymousUser(), direction="inbound", outcome="answered"
        )


# --- timeline ---------------------------------------------------------------------------------


def _note(contact, user, body, at):
    note = services.add_note(contact=contact, body=body, by=user)
    Note.objects.filter(pk=note.pk).update(created_at=at)
    return note


def _task(contact, user, title, at):
    task = services.create_task(by=user, contact=contact, title=title)
    Task.objects.filter(pk=task.pk).update(created_at=at)
    return task


def _call(contact, user, at):
    return services.log_call(
        contact=contact, by=user, direction="outbound", outcome="answered", at=at
    )


def test_timeline_merges_every_kind_newest_first(contact, agent):
    n1 = _note(contact, agent, "Primera nota", _ago(days=5))
    c1 = _call(contact, agent, _ago(days=4))
    t1 = _task(contact, agent, "Enviar póliza", _ago(days=3))
    n2 = _note(contact, agent, "Segunda nota", _ago(days=2))
    c2 = _call(contact, agent, _ago(hours=1))
    # Another contact's activity never shows up.
    _note(make_contact(first_name="Otro"), agent, "Ajena", _ago(minutes=1))

    items = selectors.contact_timeline(contact=contact)
    assert [(i.kind, i.obj.pk) for i in items] == [
        ("call", c2.pk),
        ("note", n2.pk),
        ("task", t1.pk),
        ("call", c1.pk),
        ("note", n1.pk),
    ]
    assert [i.at for i in items] == sorted((i.at for i in items), reverse=True)


def test_timeline_filters_by_kind_and_date_range(contact, agent):
    _note(contact, agent, "Vieja", _ago(days=10))
    recent_note = _note(contact, agent, "Reciente", _ago(days=1))
    task = _task(contact, agent, "Tarea", _ago(days=5))
    call = _call(contact, agent, _ago(days=3))

    notes = selectors.contact_timeline(contact=contact, kinds={"note"})
    assert {i.kind for i in notes} == {"note"} and len(notes) == 2

    calls_and_tasks = selectors.contact_timeline(contact=contact, kinds={"call", "task"})
    assert [i.obj.pk for i in calls_and_tasks] == [call.pk, task.pk]

    window = selectors.contact_timeline(contact=contact, since=_ago(days=6), until=_ago(days=2))
    assert [(i.kind, i.obj.pk) for i in window] == [("call", call.pk), ("task", task.pk)]

    since_two_days = selectors.contact_timeline(contact=contact, since=_ago(days=2))
    assert [i.obj.pk for i in since_two_days] == [recent_note.pk]


def test_timeline_pages_back_with_until(contact, agent):
    notes = [_note(contact, agent, f"Nota {i}", _ago(hours=i + 1)) for i in range(7)]
    first = selectors.contact_timeline(contact=contact, limit=3)
    assert [i.obj.pk for i in first] == [n.pk for n in notes[:3]]
    second = selectors.contact_timeline(contact=contact, limit=3, until=first[-1].at)
    assert [i.obj.pk for i in second] == [n.pk for n in notes[3:6]]


def _timeline_queries(contact, agent, per_kind: int) -> tuple[int, int]:
    existing = Note.objects.filter(contact=contact).count()
    other = UserFactory()
    for i in range(existing, per_kind):
        who = agent if i % 2 else other  # different authors: joined, not fetched one by one
        _note(contact, who, f"Nota {i}", _ago(hours=i + 1))
        _task(contact, who, f"Tarea {i}", _ago(hours=i + 1, minutes=10))
        _call(contact, who, _ago(hours=i + 1, minutes=20))
    with CaptureQueriesContext(connection) as queries:
        items = selectors.contact_timeline(contact=contact)
        # What the timeline templates read of each item must already be loaded.
        for item in items:
            getattr(item.obj, "author", None)
            getattr(item.obj, "assignee", None)
            getattr(item.obj, "by", None)
    return len(queries), len(items)


def test_timeline_runs_one_query_per_source_whatever_the_history(contact, agent):
    few_queries, few_items = _timeline_queries(contact, agent, 2)
    many_queries, many_items = _timeline_queries(contact, agent, 40)
    assert (few_items, many_items) == (6, selectors.TIMELINE_PAGE)
    assert few_queries == many_queries == len(timeline.sources())
