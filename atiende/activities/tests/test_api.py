"""/api/v1/tasks: the caller's tasks, and completing or editing one, with the UI's rules."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from atiende.activities import services
from atiende.activities.models import Task
from atiende.contacts.tests.factories import make_contact
from atiende.core.models import AuditEntry
from atiende.users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

DENIED = {"detail": "No tienes permiso para realizar esta acción."}


@pytest.fixture
def other_agent(db):
    return UserFactory(username="otro", display_name="Pedro Gómez")


def task(by, **kwargs) -> Task:
    kwargs.setdefault("title", "Llamar al cliente")
    return services.create_task(by=by, **kwargs)


def in_days(days: int) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(days=days)


# --- the list ---------------------------------------------------------------------------------


def test_lists_only_my_open_tasks_soonest_first(api, agent, other_agent):
    ana = make_contact(first_name="Ana", last_name="Núñez")
    later = task(agent, title="Enviar póliza", due_at=in_days(3), contact=ana)
    sooner = task(agent, title="Llamar", due_at=in_days(1))
    undated = task(agent, title="Sin fecha")
    task(other_agent, title="De Pedro")
    task(agent, title="Para Pedro", assignee=other_agent)
    done = task(agent, title="Hecha")
    services.set_task_done(task=done, done=True, by=agent)

    body = api(agent, "get", "/tasks").json()
    assert body["count"] == 3
    assert [t["id"] for t in body["items"]] == [sooner.pk, later.pk, undated.pk]
    item = body["items"][1]
    assert item["title"] == "Enviar póliza"
    assert item["contact"] == {"id": ana.pk, "full_name": "Ana Núñez"}
    assert item["assignee"] == {"id": agent.pk, "name": "María González"}
    assert (item["done"], item["done_at"]) == (False, None)
    assert body["items"][0]["contact"] is None


def test_all_adds_my_done_tasks_after_the_open_ones(api, agent, other_agent):
    open_task = task(agent, title="Abierta")
    done = task(agent, title="Hecha")
    services.set_task_done(task=done, done=True, by=agent)
    task(other_agent, title="De Pedro")
    body = api(agent, "get", "/tasks?all=1").json()
    assert [(t["id"], t["done"]) for t in body["items"]] == [(open_task.pk, False), (done.pk, True)]
    assert body["items"][1]["done_at"] is not None
    assert api(agent, "get", "/tasks?all=0").json()["count"] == 1


def test_list_is_paginated(api, agent):
    Task.objects.bulk_create(
        [Task(title=f"Tarea {i}", assignee=agent, created_by=agent) for i in range(30)]
    )
    body = api(agent, "get", "/tasks?page=2&page_size=20").json()
    assert (body["count"], len(body["items"])) == (30, 10)
    assert len(api(agent, "get", "/tasks").json()["items"]) == 25


def test_list_runs_the_same_number_of_queries_for_2_or_30_tasks(api, agent):
    api(agent, "get", "/tasks")

    def queries(n: int, path: str) -> int:
        for i in range(Task.objects.count(), n):
            task(agent, title=f"Tarea {i}", contact=make_contact(first_name=f"Cliente {i}"))
        with CaptureQueriesContext(connection) as ctx:
            assert len(api(agent, "get", path).json()["items"]) == n
        return len(ctx.captured_queries)

    few = queries(2, "/tasks?page_size=50"), queries(2, "/tasks?all=1&page_size=50")
    many = queries(30, "/tasks?page_size=50"), queries(30, "/tasks?all=1&page_size=50")
    assert few == many


def test_tasks_need_a_token(client, agent):
    item = task(agent)
    assert client.get("/api/v1/tasks").status_code == 401
    response = client.patch(
        f"/api/v1/tasks/{item.pk}", data={"done": True}, content_type="application/json"
    )
    assert response.status_code == 401
    item.refresh_from_db()
    assert not item.is_done


# --- changing a task --------------------------------------------------------------------------


def test_done_toggles_and_is_in_the_contacts_history(api, agent):
    ana = make_contact(first_name="Ana")
    item = task(agent, title="Llamar", contact=ana)
    response = api(agent, "patch", f"/tasks/{item.pk}", {"done": True})
    assert response.status_code == 200, response.content
    assert response.json()["done"] is True
    item.refresh_from_db()
    assert item.is_done
    assert api(agent, "get", "/tasks").json()["count"] == 0

    response = api(agent, "patch", f"/tasks/{item.pk}", {"done": False})
    assert (response.json()["done"], response.json()["done_at"]) == (False, None)
    actions = list(
        AuditEntry.objects.filter(object_id=str(ana.pk), action__startswith="task_")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["task_added", "task_done", "task_reopened"]


def test_edit_title_due_date_and_assignee(api, agent, other_agent):
    item = task(agent, title="Llamar", description="Por la póliza")
    due = "2031-05-04T10:30:00-04:00"
    response = api(
        agent,
        "patch",
        f"/tasks/{item.pk}",
        {"title": "Llamar de tarde", "due_at": due, "assignee": other_agent.pk},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["title"] == "Llamar de tarde"
    assert body["description"] == "Por la póliza"
    assert body["assignee"] == {"id": other_agent.pk, "name": "Pedro Gómez"}
    item.refresh_from_db()
    assert item.due_at == datetime.datetime.fromisoformat(due)
    # Now it is Pedro's: gone from my list, on his.
    assert api(agent, "get", "/tasks").json()["count"] == 0
    assert [t["id"] for t in api(other_agent, "get", "/tasks").json()["items"]] == [item.pk]

    cleared = api(other_agent, "patch", f"/tasks/{item.pk}", {"due_at": None, "done": True})
    assert (cleared.json()["due_at"], cleared.json()["done"]) == (None, True)


@pytest.mark.parametrize(
    "payload, field, message",
    [
        ({"title": "   "}, "title", "Escribe la tarea."),
        ({"assignee": 999}, "assignee", "El usuario no existe o no está activo."),
        ({"assignee": None}, "assignee", "El usuario no existe o no está activo."),
    ],
)
def test_bad_edits_are_refused_in_spanish_and_change_nothing(api, agent, payload, field, message):
    item = task(agent, title="Llamar")
    response = api(agent, "patch", f"/tasks/{item.pk}", {**payload, "done": True})
    assert response.status_code == 422
    assert response.json() == {"detail": {field: [message]}}
    item.refresh_from_db()
    assert (item.title, item.assignee, item.is_done) == ("Llamar", agent, False)


def test_another_agent_gets_403_and_nothing_changes(api, agent, other_agent):
    item = task(agent, title="Llamar")
    for payload in ({"done": True}, {"title": "Mía"}, {}):
        response = api(other_agent, "patch", f"/tasks/{item.pk}", payload)
        assert response.status_code == 403
        assert response.json() == DENIED
    item.refresh_from_db()
    assert (item.title, item.is_done) == ("Llamar", False)


def test_a_supervisor_may_close_an_agents_task(api, agent, supervisor):
    item = task(agent, title="Llamar")
    assert api(supervisor, "patch", f"/tasks/{item.pk}", {"done": True}).json()["done"] is True


def test_unknown_task_is_404(api, agent):
    response = api(agent, "patch", "/tasks/999", {"done": True})
    assert response.status_code == 404
    assert response.json() == {"detail": "La tarea no existe."}


def test_openapi_documents_the_task_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert set(paths["/api/v1/tasks"]) == {"get"}
    assert set(paths["/api/v1/tasks/{task_id}"]) == {"patch"}
    parameters = {p["name"] for p in paths["/api/v1/tasks"]["get"]["parameters"]}
    assert {"all", "page", "page_size"} <= parameters
