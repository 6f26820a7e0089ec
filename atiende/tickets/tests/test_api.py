"""/api/v1 for tickets: the same rules and messages as the services; 401 / 403 / 404 / 422."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atiende.contacts.tests.factories import LabelFactory
from atiende.core.models import Attachment
from atiende.tickets.models import Ticket
from atiende.tickets.tests.factories import make_ticket, policy_holder
from atiende.users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_without_a_token_every_endpoint_answers_401(client):
    for method, path in [
        ("get", "/api/v1/tickets"),
        ("post", "/api/v1/tickets"),
        ("get", "/api/v1/tickets/1"),
        ("patch", "/api/v1/tickets/1"),
        ("post", "/api/v1/tickets/1/notes"),
        ("post", "/api/v1/tickets/1/escalate"),
        ("get", "/api/v1/pipelines"),
    ]:
        assert getattr(client, method)(path).status_code == 401, path


def test_pipelines_list_the_stages_in_order(api, agent):
    response = api(agent, "get", "/pipelines")
    assert response.status_code == 200
    support = response.json()[0]
    assert support["key"] == "support"
    assert [s["key"] for s in support["stages"]][:2] == ["new", "follow_up"]
    assert support["stages"][6]["is_escalation"] is True
    assert support["stages"][1]["help_text"]


def test_create_answers_the_id_and_number(api, agent):
    contact, account = policy_holder()
    label = LabelFactory(name="VIP")
    response = api(
        agent,
        "post",
        "/tickets",
        {
            "name": "Cambio de dirección",
            "description": "<p>Nueva dirección</p>",
            "priority": "high",
            "contact": contact.pk,
            "account": account.pk,
            "owner": agent.pk,
            "stage": "change_request",
            "source": "whatsapp",
            "labels": [label.pk],
        },
    )
    assert response.status_code == 201, response.content
    data = response.json()
    ticket = Ticket.objects.get()
    assert data["id"] == ticket.pk and data["number"] == ticket.number
    assert data["stage"]["key"] == "change_request"
    assert data["priority"] == "high" and data["owner"]["id"] == agent.pk
    assert data["labels"][0]["name"] == "VIP"


def test_create_refuses_with_422_field_by_field(api, agent):
    response = api(agent, "post", "/tickets", {"name": "", "priority": "altísima"})
    assert response.status_code == 422
    assert set(response.json()["detail"]) == {"name", "priority"}
    response = api(agent, "post", "/tickets", {"name": "x", "stage": "tech_issues"})
    assert response.status_code == 422
    assert {"what", "how", "where"} <= set(response.json()["detail"])
    assert Ticket.objects.count() == 0


def test_list_filters_and_paginates(api, agent, supervisor):
    mine = make_ticket(by=agent, owner=agent, priority="urgent")
    make_ticket(by=agent, owner=supervisor)
    make_ticket(by=agent, stage_key="closed")
    response = api(agent, "get", "/tickets?owner=me")
    assert response.json()["count"] == 1
    assert response.json()["items"][0]["id"] == mine.pk
    assert api(agent, "get", "/tickets?stage=closed").json()["count"] == 1
    assert api(agent, "get", "/tickets?priority=urgent").json()["count"] == 1
    assert api(agent, "get", "/tickets?pipeline=support").json()["count"] == 3
    assert api(agent, "get", f"/tickets?q={mine.number}").json()["count"] == 1
    assert api(agent, "get", "/tickets?created_after=2000-01-01T00:00:00Z").json()["count"] == 3
    assert (
        api(agent, "get", "/tickets?last_activity_after=2999-01-01T00:00:00Z").json()["count"] == 0
    )
    assert api(agent, "get", "/tickets?priority=x").status_code == 422
    assert api(agent, "get", "/tickets?owner=alguien").status_code == 422


def test_list_runs_a_constant_number_of_queries(api, agent):
    for _ in range(3):
        make_ticket(by=agent, owner=agent, labels=[LabelFactory(name="A")])
    api(agent, "get", "/tickets")
    with CaptureQueriesContext(connection) as few:
        api(agent, "get", "/tickets")
    for _ in range(12):
        make_ticket(by=agent, owner=agent, labels=[LabelFactory(name="A")])
    with CaptureQueriesContext(connection) as many:
        assert api(agent, "get", "/tickets").json()["count"] == 15
    assert len(few.captured_queries) == len(many.captured_queries)


def test_get_and_patch(api, agent):
    ticket = make_ticket(by=agent)
    assert api(agent, "get", f"/tickets/{ticket.pk}").json()["number"] == ticket.number
    assert api(agent, "get", "/tickets/999999").status_code == 404
    clocks = {c["key"]: c for c in api(agent, "get", f"/tickets/{ticket.pk}").json()["sla"]}
    assert set(clocks) == {"first_response", "customer_update", "resolution"}
    assert clocks["customer_update"]["state"] == "ok"
    assert clocks["customer_update"]["target_seconds"] == 48 * 3600
    response = api(
        agent, "patch", f"/tickets/{ticket.pk}", {"priority": "low", "stage": "waiting_on_us"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["priority"] == "low"
    assert response.json()["stage"]["key"] == "waiting_on_us"
    assert api(agent, "patch", f"/tickets/{ticket.pk}", {"priority": "x"}).status_code == 422
    assert api(agent, "patch", "/tickets/999999", {"priority": "low"}).status_code == 404


def test_patch_on_someone_elses_ticket_is_403(api, agent):
    other = UserFactory(username="otro")
    ticket = make_ticket(by=agent, owner=agent)
    response = api(other, "patch", f"/tickets/{ticket.pk}", {"priority": "urgent"})
    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.priority == "medium"


def test_notes(api, agent):
    ticket = make_ticket(by=agent)
    response = api(agent, "post", f"/tickets/{ticket.pk}/notes", {"body": "Llamé al cliente"})
    assert response.status_code == 201
    assert response.json()["author"]["id"] == agent.pk
    assert api(agent, "post", f"/tickets/{ticket.pk}/notes", {"body": " "}).status_code == 422
    assert api(agent, "post", "/tickets/999999/notes", {"body": "x"}).status_code == 404


def test_escalate_lists_every_missing_field(api, agent):
    ticket = make_ticket(by=agent)
    response = api(agent, "post", f"/tickets/{ticket.pk}/escalate", {"what": "Error"})
    assert response.status_code == 422
    assert set(response.json()["detail"]) == {"how", "where", "priority"}


def test_escalate_moves_to_tech_issues_with_the_built_name(api, agent):
    _contact, account = policy_holder()
    ticket = make_ticket(by=agent, account=account)
    Ticket.objects.filter(pk=ticket.pk).update(name="")
    response = api(
        agent,
        "post",
        f"/tickets/{ticket.pk}/escalate",
        {
            "what": "No se emite el endoso",
            "how": "Al confirmar",
            "where": "Portal de agentes",
            "requested_changes": "Cambiar color del vehículo",
            "priority": "high",
        },
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["stage"]["key"] == "tech_issues"
    assert data["name"] == "POL-4455 \u2013 Lucía Ramírez"
    assert data["escalation_where"] == "Portal de agentes"


def test_escalate_with_screenshots_as_multipart(client, api_token, agent):
    ticket = make_ticket(by=agent)
    response = client.post(
        f"/api/v1/tickets/{ticket.pk}/escalate",
        {
            "what": "a",
            "how": "b",
            "where": "c",
            "priority": "low",
            "screenshots": [SimpleUploadedFile("error.png", PNG, content_type="image/png")],
        },
        headers=api_token(agent),
    )
    assert response.status_code == 200, response.content
    assert Attachment.objects.filter(owner_id=str(ticket.pk)).count() == 1


def test_escalate_someone_elses_ticket_is_403(api, agent):
    ticket = make_ticket(by=agent, owner=agent)
    other = UserFactory(username="otro")
    payload = {"what": "a", "how": "b", "where": "c", "priority": "low"}
    assert api(other, "post", f"/tickets/{ticket.pk}/escalate", payload).status_code == 403
