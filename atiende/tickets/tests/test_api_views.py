"""/api/v1/ticket-views and GET /api/v1/tickets?view=&sla_state=: saved views through the API
with the same rules as the screen (private ones 404 for others, only owner or admin change them,
422 with the Spanish message), and the list filtered by a view."""

import pytest

from atiende.tickets import saved_views
from atiende.tickets.models import SavedView, Ticket
from atiende.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

URGENT = {"match": "all", "conditions": [{"field": "priority", "op": "eq", "value": "urgent"}]}


def test_without_a_token_401(client):
    assert client.get("/api/v1/ticket-views").status_code == 401
    assert client.post("/api/v1/ticket-views", {}).status_code == 401


def test_create_read_update_delete_a_view(api, agent):
    response = api(agent, "post", "/ticket-views", {"name": "Urgentes", "filters": URGENT})
    assert response.status_code == 201
    data = response.json()
    assert data["name"] == "Urgentes" and data["shared"] is False and data["can_edit"] is True
    assert data["owner"] == {"id": agent.pk, "name": "María González"}
    assert data["filters"] == URGENT
    assert data["description"] == ["Prioridad es igual a Urgente 🔴"]
    view_id = data["id"]

    assert api(agent, "get", f"/ticket-views/{view_id}").json()["name"] == "Urgentes"
    response = api(agent, "patch", f"/ticket-views/{view_id}", {"shared": True})
    assert response.status_code == 200
    assert response.json()["shared"] is True and response.json()["filters"] == URGENT
    response = api(agent, "patch", f"/ticket-views/{view_id}", {"name": "Urgentísimos"})
    assert response.json()["name"] == "Urgentísimos" and response.json()["shared"] is True
    assert [v["name"] for v in api(agent, "get", "/ticket-views").json()] == ["Urgentísimos"]

    assert api(agent, "delete", f"/ticket-views/{view_id}").status_code == 204
    assert not SavedView.objects.exists()
    assert api(agent, "get", f"/ticket-views/{view_id}").status_code == 404


def test_bad_input_answers_422_in_spanish_and_changes_nothing(api, agent):
    bad = {"match": "all", "conditions": [{"field": "password", "op": "eq", "value": "x"}]}
    response = api(agent, "post", "/ticket-views", {"name": "Mala", "filters": bad})
    assert response.status_code == 422
    assert "campo desconocido" in response.json()["detail"]["filters"][0]
    response = api(agent, "post", "/ticket-views", {"name": " ", "filters": URGENT})
    assert response.status_code == 422
    assert response.json()["detail"]["name"] == ["Indica el nombre de la vista."]
    assert not SavedView.objects.exists()

    view = saved_views.save_view(owner=agent, name="Buena", shared=False, filters=URGENT)
    between = {
        "conditions": [
            {"field": "created_at", "op": "between", "value": ["2026-02-01", "2026-01-01"]}
        ]
    }
    response = api(agent, "patch", f"/ticket-views/{view.pk}", {"filters": between})
    assert response.status_code == 422 and "posterior" in response.json()["detail"]["filters"][0]
    view.refresh_from_db()
    assert view.filters == URGENT


def test_private_views_and_who_may_change_them(api, agent, supervisor, admin_user):
    private = saved_views.save_view(owner=agent, name="Privada", shared=False, filters={})
    shared = saved_views.save_view(owner=agent, name="Compartida", shared=True, filters={})

    names = [v["name"] for v in api(supervisor, "get", "/ticket-views").json()]
    assert names == ["Compartida"]
    assert api(supervisor, "get", f"/ticket-views/{private.pk}").status_code == 404
    assert api(supervisor, "patch", f"/ticket-views/{private.pk}", {"name": "x"}).status_code == 404
    assert api(supervisor, "get", f"/ticket-views/{shared.pk}").json()["can_edit"] is False
    response = api(supervisor, "patch", f"/ticket-views/{shared.pk}", {"name": "Mía"})
    assert response.status_code == 403 and "Solo quien creó la vista" in response.json()["detail"]
    assert api(supervisor, "delete", f"/ticket-views/{shared.pk}").status_code == 403
    shared.refresh_from_db()
    assert shared.name == "Compartida"

    response = api(admin_user, "patch", f"/ticket-views/{shared.pk}", {"name": "Revisada"})
    assert response.status_code == 200 and response.json()["owner"]["id"] == agent.pk
    assert api(admin_user, "delete", f"/ticket-views/{shared.pk}").status_code == 204


def test_ticket_list_by_view_and_sla_state(api, agent, supervisor):
    urgent = make_ticket(by=agent, priority="urgent")
    make_ticket(by=agent, priority="low")
    Ticket.objects.filter(pk=urgent.pk).update(sla_state="breached")
    Ticket.objects.exclude(pk=urgent.pk).update(sla_state="")
    view = saved_views.save_view(owner=agent, name="Urgentes", shared=False, filters=URGENT)

    response = api(agent, "get", f"/tickets?view={view.pk}")
    assert response.status_code == 200
    assert [t["id"] for t in response.json()["items"]] == [urgent.pk]
    assert [t["id"] for t in api(agent, "get", "/tickets?sla_state=breached").json()["items"]] == [
        urgent.pk
    ]
    none = api(agent, "get", "/tickets?sla_state=none").json()["items"]
    assert urgent.pk not in [t["id"] for t in none] and len(none) == 1

    assert api(supervisor, "get", f"/tickets?view={view.pk}").status_code == 404
    response = api(agent, "get", "/tickets?sla_state=tarde")
    assert response.status_code == 422
    assert response.json()["detail"]["sla_state"] == ["Estado de SLA desconocido."]
