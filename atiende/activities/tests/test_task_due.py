"""«Tarea por vencer» in the bell: the periodic job tells the assignee once per task and due date,
not others, not for done tasks, and again when the due date moves."""

import datetime

import pytest
from django.apps import apps

from atiende.activities import jobs, services
from atiende.users.tests.factories import UserFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not apps.is_installed("atiende.notifications"), reason="notifications app not installed"
    ),
]

NOW = datetime.datetime(2026, 11, 2, 12, 0, tzinfo=datetime.UTC)


def due_notes(user):
    from atiende.notifications.models import Notification

    return list(Notification.objects.filter(recipient=user, kind="task_due").order_by("id"))


def test_the_assignee_hears_once_per_due_date(agent, supervisor):
    soon = services.create_task(
        by=supervisor,
        title="Llamar a Lucía",
        assignee=agent,
        due_at=NOW + datetime.timedelta(minutes=10),
    )
    services.create_task(
        by=supervisor, title="Más tarde", assignee=agent, due_at=NOW + datetime.timedelta(hours=3)
    )
    done = services.create_task(
        by=supervisor, title="Hecha", assignee=agent, due_at=NOW + datetime.timedelta(minutes=5)
    )
    services.set_task_done(task=done, done=True, by=agent)
    services.create_task(
        by=supervisor, title="Antigua", assignee=agent, due_at=NOW - datetime.timedelta(days=3)
    )
    assert jobs.notify_due_tasks.call_local(now=NOW) == 1
    assert jobs.notify_due_tasks.call_local(now=NOW + datetime.timedelta(minutes=1)) == 0
    [note] = due_notes(agent)
    assert note.title == "Tarea por vencer: Llamar a Lucía"
    assert note.url == "/tareas/"
    assert due_notes(supervisor) == []

    services.update_task(
        task=soon,
        by=agent,
        title=soon.title,
        assignee=agent,
        due_at=NOW + datetime.timedelta(minutes=12),
    )
    assert jobs.notify_due_tasks.call_local(now=NOW + datetime.timedelta(minutes=2)) == 1
    assert len(due_notes(agent)) == 2


def test_a_task_already_late_says_so(agent):
    other = UserFactory(username="otra")
    services.create_task(
        by=agent, title="Enviar póliza", assignee=other, due_at=NOW - datetime.timedelta(hours=2)
    )
    assert jobs.notify_due_tasks.call_local(now=NOW) == 1
    assert [n.title for n in due_notes(other)] == ["Tarea vencida: Enviar póliza"]
