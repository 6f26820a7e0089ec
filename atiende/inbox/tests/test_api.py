"""/api/v1 for the inbox: every endpoint, with the same visibility rules as the UI and socket."""

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from atiende.connectors import base as connectors
from atiende.contacts.models import Contact
from atiende.contacts.tests.factories import LabelFactory, make_contact
from atiende.core.models import Attachment
from atiende.inbox import services
from atiende.inbox.models import (
    CannedResponse,
    Channel,
    Conversation,
    Message,
    MessageStatus,
    MessageTemplate,
)
from atiende.inbox.tests.inbox_data import conversation_for, make_channel, receive
from atiende.users.models import AgentStatus
from atiende.users.tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

DENIED = "No tienes permiso para realizar esta acción."
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
PDF = b"%PDF-1.4\n%test\n"


@pytest.fixture
def teams(db):
    return TeamFactory(name="Servicio"), TeamFactory(name="Cobranza")


@pytest.fixture
def team_agent(agent, teams):
    teams[0].members.add(agent)
    return agent


@pytest.fixture
def channels(teams):
    return make_channel(name="Web Servicio", team=teams[0]), make_channel(
        name="Web Cobranza", team=teams[1]
    )


@pytest.fixture
def mine(channels):
    """A conversation of the agent's team (Servicio), pending and unassigned."""
    return conversation_for(channels[0], body="Necesito ayuda", name="Ana Pérez")


@pytest.fixture
def theirs(channels):
    """A conversation of the other team (Cobranza)."""
    return conversation_for(channels[1], body="Quiero pagar", name="Luis Duarte")


@pytest.fixture
def template_kind():
    """A test-only channel kind whose connector demands templates to start a conversation."""

    class TemplateOnly:
        kind = "tpl-prueba"
        capabilities = connectors.Capabilities(templates=True)

        def send(self, channel, message):
            return connectors.SendResult(external_id=f"tpl-{message.message_id}")

    connectors.register(TemplateOnly())
    yield TemplateOnly.kind
    connectors._REGISTRY.pop(TemplateOnly.kind, None)


# --- authentication ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/conversations"),
        ("get", "/conversations/{c}"),
        ("get", "/conversations/{c}/messages"),
        ("post", "/conversations/{c}/messages"),
        ("post", "/conversations/{c}/assign"),
        ("post", "/conversations/{c}/status"),
        ("post", "/conversations/{c}/read"),
        ("post", "/messages/{m}/retry"),
        ("post", "/conversations/start"),
        ("get", "/canned-responses"),
        ("post", "/canned-responses"),
        ("patch", "/canned-responses/1"),
        ("delete", "/canned-responses/1"),
        ("get", "/templates"),
        ("post", "/templates"),
        ("patch", "/templates/1"),
        ("get", "/channels"),
        ("post", "/channels"),
        ("get", "/channels/{ch}"),
        ("patch", "/channels/{ch}"),
    ],
)
def test_every_endpoint_needs_a_token(client, mine, method, path):
    message = mine.messages.get()
    url = "/api/v1" + path.format(c=mine.pk, m=message.pk, ch=mine.channel_id)
    for headers in ({}, {"Authorization": "Bearer atk_inventado"}):
        response = getattr(client, method)(url, headers=headers)
        assert response.status_code == 401, (method, path, headers)
        assert response.json() == {"detail": "Token ausente o inválido."}


def test_endpoints_are_documented(client):
    schema = client.get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/api/v1/conversations",
        "/api/v1/conversations/{conversation_id}/messages",
        "/api/v1/conversations/{conversation_id}/assign",
        "/api/v1/conversations/start",
        "/api/v1/canned-responses",
        "/api/v1/templates",
        "/api/v1/channels",
    ):
        assert path in paths, path
    body = paths["/api/v1/conversations/{conversation_id}/messages"]["post"]["requestBody"]
    assert set(body["content"]) == {"application/json", "multipart/form-data"}


# --- conversations: list ----------------------------------------------------------------


def test_agent_lists_only_their_teams_conversations(api, team_agent, mine, theirs):
    response = api(team_agent, "get", "/conversations")
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 1
    [item] = data["items"]
    assert item["id"] == mine.pk
    assert item["status"] == "pending"
    assert item["contact"]["full_name"] == "Ana Pérez"
    assert item["channel"] == {
        "id": mine.channel_id,
        "name": "Web Servicio",
        "kind": "webchat",
        "color": "#0d7c86",
        "icon": "chat-dots",
    }
    assert item["team"]["name"] == "Servicio"
    assert item["unread_count"] == 1
    assert item["awaiting_first_response"] is True
    assert item["last_message_inbound"] is True
    assert item["last_message_preview"] == "Necesito ayuda"


def test_agent_also_lists_conversations_assigned_to_them_in_another_team(
    api, team_agent, mine, theirs
):
    Conversation.objects.filter(pk=theirs.pk).update(assignee=team_agent)
    ids = {item["id"] for item in api(team_agent, "get", "/conversations").json()["items"]}
    assert ids == {mine.pk, theirs.pk}


def test_supervisor_lists_every_team(api, supervisor, mine, theirs):
    data = api(supervisor, "get", "/conversations").json()
    assert {item["id"] for item in data["items"]} == {mine.pk, theirs.pk}


def test_without_status_every_tray_is_listed_and_status_filters_one(api, supervisor, mine, theirs):
    services.set_conversation_status(conversation=theirs, status="resolved", by=supervisor)
    assert api(supervisor, "get", "/conversations").json()["count"] == 2
    resolved = api(supervisor, "get", "/conversations?status=resolved").json()
    assert [item["id"] for item in resolved["items"]] == [theirs.pk]
    pending = api(supervisor, "get", "/conversations?status=pending").json()
    assert [item["id"] for item in pending["items"]] == [mine.pk]


def test_list_filters(api, supervisor, team_agent, channels, mine, theirs, teams):
    label = LabelFactory(name="VIP")
    mine.labels.add(label)
    theirs = services.assign_conversation(conversation=theirs, assignee=team_agent, by=supervisor)

    def ids(query: str) -> list[int]:
        response = api(supervisor, "get", f"/conversations?{query}")
        assert response.status_code == 200, response.content
        return [item["id"] for item in response.json()["items"]]

    assert ids(f"channel={channels[1].pk}") == [theirs.pk]
    assert ids(f"team={teams[0].pk}") == [mine.pk]
    assert ids(f"label={label.pk}") == [mine.pk]
    assert ids(f"assignee={team_agent.pk}") == [theirs.pk]
    assert ids("assignee=none") == [mine.pk]
    assert ids("assignee=me") == []
    assert ids("q=Luis") == [theirs.pk]
    services.send_message(conversation=theirs, by=team_agent, body="Enseguida")
    assert ids("needs_attention=true") == [mine.pk]


def test_search_finds_a_conversation_by_phone_in_any_format(api, supervisor, channels):
    conversation = conversation_for(
        channels[0], name="Rosa Giménez", phone="+595991651351", sender_id="595991651351"
    )
    for query in ("0991 651351", "595991651351", "%2B595 991-651-351"):
        data = api(supervisor, "get", f"/conversations?q={query}").json()
        assert [item["id"] for item in data["items"]] == [conversation.pk], query


def test_list_sorts(api, supervisor, mine, theirs):
    newest_first = [i["id"] for i in api(supervisor, "get", "/conversations").json()["items"]]
    assert newest_first == [theirs.pk, mine.pk]
    oldest_first = api(supervisor, "get", "/conversations?sort=created").json()["items"]
    assert [i["id"] for i in oldest_first] == [mine.pk, theirs.pk]


@pytest.mark.parametrize(
    "query, field",
    [("status=cerrada", "status"), ("sort=azar", "sort"), ("assignee=alguien", "assignee")],
)
def test_bad_list_filters_are_422_in_spanish(api, supervisor, query, field):
    response = api(supervisor, "get", f"/conversations?{query}")
    assert response.status_code == 422
    assert list(response.json()["detail"]) == [field]


def test_list_pages_are_bounded(api, supervisor, channels):
    for _ in range(3):
        conversation_for(channels[0])
    first = api(supervisor, "get", "/conversations?page_size=2").json()
    assert first["count"] == 3 and len(first["items"]) == 2
    second = api(supervisor, "get", "/conversations?page_size=2&page=2").json()
    assert len(second["items"]) == 1
    assert {i["id"] for i in first["items"]}.isdisjoint({i["id"] for i in second["items"]})
    assert api(supervisor, "get", "/conversations?page_size=100000").status_code == 200


def test_list_query_count_does_not_grow_with_rows(api, team_agent, channels, teams):
    label = LabelFactory(name="Reclamo")

    def make(n: int) -> None:
        for _ in range(n):
            conversation = conversation_for(channels[0])
            conversation.labels.add(label)
            Conversation.objects.filter(pk=conversation.pk).update(assignee=team_agent)

    def count() -> int:
        api(team_agent, "get", "/conversations")  # token issued outside the measurement
        with CaptureQueriesContext(connection) as ctx:
            response = api(team_agent, "get", "/conversations")
        assert response.status_code == 200
        return len(ctx.captured_queries)

    make(2)
    few = count()
    make(8)
    assert count() == few


# --- conversations: one, thread ---------------------------------------------------------


def test_get_conversation(api, team_agent, mine):
    response = api(team_agent, "get", f"/conversations/{mine.pk}")
    assert response.status_code == 200
    assert response.json()["id"] == mine.pk


def test_agent_of_another_team_gets_403_on_every_conversation_endpoint(api, team_agent, theirs):
    message = theirs.messages.get()
    calls = [
        ("get", f"/conversations/{theirs.pk}", None),
        ("get", f"/conversations/{theirs.pk}/messages", None),
        ("post", f"/conversations/{theirs.pk}/messages", {"body": "hola"}),
        ("post", f"/conversations/{theirs.pk}/assign", {"assignee": team_agent.pk}),
        ("post", f"/conversations/{theirs.pk}/status", {"status": "resolved"}),
        ("post", f"/conversations/{theirs.pk}/read", None),
        ("post", f"/messages/{message.pk}/retry", None),
    ]
    for method, path, payload in calls:
        response = api(team_agent, method, path, payload)
        assert response.status_code == 403, path
        assert response.json() == {"detail": DENIED}
    theirs.refresh_from_db()
    assert theirs.assignee is None and theirs.status == "pending" and theirs.unread_count == 1
    assert theirs.messages.count() == 1


def test_missing_conversation_and_message_are_404(api, supervisor):
    assert api(supervisor, "get", "/conversations/999").json() == {
        "detail": "La conversación no existe."
    }
    assert api(supervisor, "get", "/conversations/999/messages").status_code == 404
    assert api(supervisor, "post", "/messages/999/retry").json() == {
        "detail": "El mensaje no existe."
    }


def test_thread_with_after_and_before(api, team_agent, channels, mine):
    first = mine.messages.get()
    second = receive(channels[0], mine.recipient, "¿Hay alguien?")
    note = services.send_message(conversation=mine, by=team_agent, body="Lo veo", kind="note")
    url = f"/conversations/{mine.pk}/messages"
    everything = api(team_agent, "get", url).json()
    assert [m["id"] for m in everything] == [first.pk, second.pk, note.pk]
    assert everything[0]["direction"] == "in" and everything[0]["author_kind"] == "contact"
    assert everything[2]["kind"] == "note" and everything[2]["author"]["id"] == team_agent.pk
    after = api(team_agent, "get", f"{url}?after={first.pk}").json()
    assert [m["id"] for m in after] == [second.pk, note.pk]
    before = api(team_agent, "get", f"{url}?before={note.pk}&limit=1").json()
    assert [m["id"] for m in before] == [second.pk]
    assert api(team_agent, "get", f"{url}?limit=1000").status_code == 422


# --- sending ------------------------------------------------------------------------------


def test_send_text_is_queued_and_takes_the_conversation(api, team_agent, mine):
    response = api(team_agent, "post", f"/conversations/{mine.pk}/messages", {"body": "Hola"})
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["kind"] == "text" and data["body"] == "Hola" and data["direction"] == "out"
    assert data["status"] == "queued"
    assert data["author"] == {"id": team_agent.pk, "name": "María González"}
    mine.refresh_from_db()
    assert mine.status == "open" and mine.assignee == team_agent
    assert mine.awaiting_first_response is False


def test_sent_text_is_delivered_after_commit(
    api, team_agent, mine, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api(
            team_agent, "post", f"/conversations/{mine.pk}/messages", {"body": "Buenos días"}
        )
    message = Message.objects.get(pk=response.json()["id"])
    assert message.status == MessageStatus.SENT
    assert message.external_id == f"wc-out-{message.pk}"


def test_send_fills_variables(api, team_agent, mine):
    body = "Hola {{contacto.nombre}}, soy {{agente.nombre}}"
    data = api(team_agent, "post", f"/conversations/{mine.pk}/messages", {"body": body}).json()
    assert data["body"] == "Hola Ana, soy María González"


def test_send_private_note_is_never_queued(api, team_agent, mine):
    response = api(
        team_agent,
        "post",
        f"/conversations/{mine.pk}/messages",
        {"body": "Cliente VIP, atender rápido", "kind": "note"},
    )
    assert response.status_code == 201
    assert response.json()["kind"] == "note" and response.json()["status"] == "sent"
    mine.refresh_from_db()
    assert mine.awaiting_first_response is True and mine.last_message_inbound is True


def test_send_location(api, team_agent, mine):
    payload = {"kind": "location", "payload": {"latitude": -25.28, "longitude": -57.63}}
    response = api(team_agent, "post", f"/conversations/{mine.pk}/messages", payload)
    assert response.status_code == 201
    assert response.json()["payload"] == {"latitude": -25.28, "longitude": -57.63, "name": ""}


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"body": ""}, "body"),
        ({"body": "x" * 5000}, "body"),
        ({"kind": "image", "body": "foto"}, "kind"),
        ({"kind": "sticker", "body": "x"}, "kind"),
        ({"kind": "location", "payload": {"latitude": 200, "longitude": 0}}, "location"),
        ({"body": 5, "kind": ["text"]}, "kind"),
        ({"template": 999}, "template"),
    ],
)
def test_bad_messages_are_422_and_store_nothing(api, team_agent, mine, payload, field):
    response = api(team_agent, "post", f"/conversations/{mine.pk}/messages", payload)
    assert response.status_code == 422, response.content
    assert field in response.json()["detail"]
    assert mine.messages.count() == 1


def test_invalid_json_is_422(api, team_agent, mine):
    response = api(
        team_agent,
        "post",
        f"/conversations/{mine.pk}/messages",
        data="{no es json",
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json() == {"detail": {"__all__": ["El cuerpo no es JSON válido."]}}


def test_send_template_fills_numbered_variables(api, team_agent, admin_user, mine):
    template = services.save_template(
        by=admin_user, name="recordatorio", body="Hola {{1}}, tu cuota vence el {{2}}."
    )
    url = f"/conversations/{mine.pk}/messages"
    short = api(team_agent, "post", url, {"template": template.pk, "variables": ["Ana"]})
    assert short.status_code == 422
    assert "variables" in short.json()["detail"]
    response = api(
        team_agent, "post", url, {"template": template.pk, "variables": ["Ana", "5 de mayo"]}
    )
    assert response.status_code == 201
    data = response.json()
    assert data["kind"] == "template"
    assert data["body"] == "Hola Ana, tu cuota vence el 5 de mayo."
    assert data["payload"]["template"] == "recordatorio"


def test_send_file_as_multipart_takes_kind_from_mime(api, team_agent, mine):
    url = f"/conversations/{mine.pk}/messages"
    image = io.BytesIO(PNG)
    image.name = "captura.png"
    response = api(team_agent, "post", url, data={"file": image, "body": "Mira"})
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["kind"] == "image" and data["body"] == "Mira"
    [attachment] = data["attachments"]
    assert attachment["name"] == "captura.png" and attachment["mime_type"] == "image/png"
    assert attachment["url"].endswith(f"/adjuntos/{attachment['id']}/descargar/")
    document = io.BytesIO(PDF)
    document.name = "poliza.pdf"
    data = api(team_agent, "post", url, data={"file": document}).json()
    assert data["kind"] == "file"
    thread = api(team_agent, "get", url).json()
    assert [len(m["attachments"]) for m in thread] == [0, 1, 1]


def test_multipart_without_file_or_with_bad_file_is_422(api, team_agent, mine):
    url = f"/conversations/{mine.pk}/messages"
    response = api(team_agent, "post", url, data={"body": "sin archivo"})
    assert response.status_code == 422 and "file" in response.json()["detail"]
    fake = io.BytesIO(b"no soy un png")
    fake.name = "foto.png"
    response = api(team_agent, "post", url, data={"file": fake})
    assert response.status_code == 422
    assert response.json()["detail"]["file"] == [
        "El contenido del archivo no corresponde a su tipo."
    ]
    assert mine.messages.count() == 1
    assert not Attachment.objects.exists()


# --- assign, status, read, retry ---------------------------------------------------------


def test_agent_takes_a_conversation(api, team_agent, mine):
    response = api(
        team_agent, "post", f"/conversations/{mine.pk}/assign", {"assignee": team_agent.pk}
    )
    assert response.status_code == 200
    assert response.json()["assignee"]["id"] == team_agent.pk
    assert response.json()["status"] == "open"


def test_agent_transfers_their_own_but_not_a_colleagues(api, team_agent, teams, mine):
    colleague = UserFactory(username="colega")
    teams[0].members.add(colleague)
    services.assign_conversation(conversation=mine, assignee=team_agent, by=team_agent)
    url = f"/conversations/{mine.pk}/assign"
    assert api(team_agent, "post", url, {"assignee": colleague.pk}).status_code == 200
    response = api(team_agent, "post", url, {"assignee": team_agent.pk})
    assert response.status_code == 200  # taking over is allowed…
    services.assign_conversation(conversation=mine, assignee=colleague, by=colleague)
    third = UserFactory(username="tercero")
    response = api(team_agent, "post", url, {"assignee": third.pk})
    assert response.status_code == 403  # …but not handing a colleague's chat to someone else
    assert api(team_agent, "post", url, {"assignee": None}).status_code == 403  # nor releasing
    mine.refresh_from_db()
    assert mine.assignee == colleague


def test_supervisor_transfers_to_another_team_and_releases(api, supervisor, teams, mine):
    url = f"/conversations/{mine.pk}/assign"
    other = UserFactory(username="cobrador")
    response = api(supervisor, "post", url, {"assignee": other.pk, "team": teams[1].pk})
    assert response.json()["team"]["id"] == teams[1].pk
    assert response.json()["assignee"]["id"] == other.pk
    response = api(supervisor, "post", url, {"assignee": None})
    assert response.status_code == 200 and response.json()["assignee"] is None


def test_assign_to_unknown_user_or_team_is_422(api, supervisor, mine):
    url = f"/conversations/{mine.pk}/assign"
    inactive = UserFactory(username="baja", is_active=False)
    for payload, field in (
        ({"assignee": 999}, "assignee"),
        ({"assignee": inactive.pk}, "assignee"),
        ({"assignee": None, "team": 999}, "team"),
    ):
        response = api(supervisor, "post", url, payload)
        assert response.status_code == 422
        assert list(response.json()["detail"]) == [field]
    assert api(supervisor, "post", url, {}).status_code == 422  # assignee is required


def test_status_moves_trays(api, team_agent, mine):
    url = f"/conversations/{mine.pk}/status"
    response = api(team_agent, "post", url, {"status": "resolved"})
    assert response.status_code == 200
    assert response.json()["status"] == "resolved" and response.json()["resolved_at"]
    response = api(team_agent, "post", url, {"status": "open"})
    assert response.json()["status"] == "open" and response.json()["resolved_at"] is None
    bad = api(team_agent, "post", url, {"status": "cerrada"})
    assert bad.status_code == 422
    assert bad.json() == {"detail": {"status": ["Bandeja desconocida."]}}


def test_read_clears_unread(api, team_agent, mine):
    response = api(team_agent, "post", f"/conversations/{mine.pk}/read")
    assert response.status_code == 200 and response.json()["unread_count"] == 0
    mine.refresh_from_db()
    assert mine.unread_count == 0


def test_retry_requeues_a_failed_message(api, team_agent, mine):
    message = services.send_message(conversation=mine, by=team_agent, body="Hola")
    url = f"/messages/{message.pk}/retry"
    response = api(team_agent, "post", url)
    assert response.status_code == 422  # only failed messages are retried
    Message.objects.filter(pk=message.pk).update(
        status=MessageStatus.FAILED, attempts=4, error_message="Proveedor caído"
    )
    response = api(team_agent, "post", url)
    assert response.status_code == 200
    assert response.json()["status"] == "queued" and response.json()["attempts"] == 0


# --- start a conversation ----------------------------------------------------------------


def test_start_conversation_with_a_new_number_creates_the_contact(api, team_agent, channels):
    payload = {"channel": channels[0].pk, "phone": "0981 123 456", "body": "Hola, le escribo"}
    response = api(team_agent, "post", "/conversations/start", payload)
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["recipient"] == "595981123456"
    assert data["status"] == "open" and data["assignee"]["id"] == team_agent.pk
    contact = Contact.objects.get(pk=data["contact"]["id"])
    assert contact.primary_phone == "+595981123456"
    assert Message.objects.get(conversation_id=data["id"]).body == "Hola, le escribo"


def test_start_conversation_with_a_known_number_uses_the_contact(api, team_agent, channels):
    contact = make_contact(first_name="Ana", phone="+595 981 123456")
    payload = {"channel": channels[0].pk, "phone": "595981123456", "body": "Hola"}
    data = api(team_agent, "post", "/conversations/start", payload).json()
    assert data["contact"]["id"] == contact.pk
    assert Contact.objects.count() == 1


def test_start_conversation_errors(api, team_agent, channels, template_kind, admin_user):
    inactive = make_channel(name="Viejo", is_active=False)
    strict = make_channel(name="WhatsApp prueba", kind=template_kind)
    for payload, field in (
        ({"channel": 999, "phone": "0981123456", "body": "x"}, "channel"),
        ({"channel": inactive.pk, "phone": "0981123456", "body": "x"}, "channel"),
        ({"channel": channels[0].pk, "phone": "12", "body": "x"}, "phone"),
        ({"channel": channels[0].pk, "phone": "0981123456", "body": ""}, "body"),
        ({"channel": strict.pk, "phone": "0981123456", "body": "hola"}, "template"),
        ({"channel": strict.pk, "phone": "0981123456", "template": 999}, "template"),
    ):
        response = api(team_agent, "post", "/conversations/start", payload)
        assert response.status_code == 422, payload
        assert field in response.json()["detail"], (payload, response.json())
    assert not Conversation.objects.exists()
    assert not Contact.objects.exists()
    template = services.save_template(by=admin_user, name="hola", body="Hola {{1}}")
    payload = {
        "channel": strict.pk,
        "phone": "0981123456",
        "template": template.pk,
        "variables": ["Ana"],
    }
    response = api(team_agent, "post", "/conversations/start", payload)
    assert response.status_code == 201
    assert response.json()["last_message_preview"] == "Hola Ana"


# --- canned responses ---------------------------------------------------------------------


@pytest.fixture
def canned(supervisor, teams):
    return (
        services.save_canned_response(
            by=supervisor, shortcut="saludo", title="Saludo", body="Hola {{contacto.nombre}}"
        ),
        services.save_canned_response(
            by=supervisor, shortcut="pago", title="Pago", body="Puede pagar…", team=teams[1]
        ),
        services.save_canned_response(
            by=supervisor, shortcut="horario", title="Horario", body="8 a 18", team=teams[0]
        ),
    )


def test_agent_lists_global_and_their_teams_canned_responses(api, team_agent, canned):
    data = api(team_agent, "get", "/canned-responses").json()
    assert [item["shortcut"] for item in data["items"]] == ["horario", "saludo"]
    data = api(team_agent, "get", "/canned-responses?q=sal").json()
    assert [item["shortcut"] for item in data["items"]] == ["saludo"]


def test_supervisor_lists_all_canned_responses_by_team(api, supervisor, canned, teams):
    data = api(supervisor, "get", "/canned-responses").json()
    assert [item["shortcut"] for item in data["items"]] == ["horario", "pago", "saludo"]
    data = api(supervisor, "get", f"/canned-responses?team={teams[1].pk}").json()
    assert [item["shortcut"] for item in data["items"]] == ["pago"]
    data = api(supervisor, "get", "/canned-responses?team=global").json()
    assert [item["shortcut"] for item in data["items"]] == ["saludo"]
    assert api(supervisor, "get", "/canned-responses?team=x").status_code == 422


def test_create_update_delete_canned_response(api, supervisor, teams):
    payload = {"shortcut": "/Gracias", "title": "Gracias", "body": "¡Gracias {{contacto.nombre}}!"}
    response = api(supervisor, "post", "/canned-responses", payload)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["shortcut"] == "gracias" and created["team"] is None
    url = f"/canned-responses/{created['id']}"
    response = api(supervisor, "patch", url, {"title": "Agradecer", "team": teams[0].pk})
    assert response.status_code == 200
    assert response.json()["title"] == "Agradecer" and response.json()["team"]["id"] == teams[0].pk
    assert response.json()["body"] == "¡Gracias {{contacto.nombre}}!"
    response = api(supervisor, "patch", url, {"team": None})
    assert response.json()["team"] is None
    assert api(supervisor, "delete", url).status_code == 204
    assert not CannedResponse.objects.exists()
    assert api(supervisor, "delete", url).json() == {"detail": "La respuesta rápida no existe."}


def test_canned_response_errors_are_422_and_change_nothing(api, supervisor, canned):
    response = api(
        supervisor,
        "post",
        "/canned-responses",
        {"shortcut": "con espacio", "title": "", "body": ""},
    )
    assert response.status_code == 422
    assert set(response.json()["detail"]) == {"shortcut", "title", "body"}
    duplicate = {"shortcut": "saludo", "title": "Otro", "body": "Otro"}
    response = api(supervisor, "post", "/canned-responses", duplicate)
    assert response.json() == {"detail": {"shortcut": ["Ya existe una respuesta con ese atajo."]}}
    response = api(supervisor, "post", "/canned-responses", {**duplicate, "team": 999})
    assert response.json() == {"detail": {"team": ["El equipo no existe."]}}
    assert CannedResponse.objects.count() == 3


def test_agents_cannot_write_canned_responses(api, team_agent, canned):
    payload = {"shortcut": "nuevo", "title": "Nuevo", "body": "Nuevo"}
    assert api(team_agent, "post", "/canned-responses", payload).status_code == 403
    url = f"/canned-responses/{canned[0].pk}"
    assert api(team_agent, "patch", url, {"title": "Cambiado"}).status_code == 403
    assert api(team_agent, "delete", url).status_code == 403
    assert CannedResponse.objects.get(pk=canned[0].pk).title == "Saludo"


# --- templates ----------------------------------------------------------------------------


def test_templates_list_create_update(api, admin_user, team_agent, channels):
    payload = {
        "name": "cuota_vencida",
        "body": "Hola {{1}}, su cuota de {{2}} venció.",
        "category": "UTILITY",
        "channel": channels[0].pk,
    }
    response = api(admin_user, "post", "/templates", payload)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["status"] == "approved" and created["channel"]["id"] == channels[0].pk
    api(admin_user, "post", "/templates", {"name": "general", "body": "Hola", "status": "pending"})
    data = api(team_agent, "get", f"/templates?channel={channels[0].pk}").json()
    assert [t["name"] for t in data["items"]] == ["cuota_vencida", "general"]
    data = api(team_agent, "get", f"/templates?channel={channels[1].pk}").json()
    assert [t["name"] for t in data["items"]] == ["general"]
    data = api(team_agent, "get", "/templates?status=approved").json()
    assert [t["name"] for t in data["items"]] == ["cuota_vencida"]
    assert api(team_agent, "get", "/templates?status=x").status_code == 422
    url = f"/templates/{created['id']}"
    response = api(admin_user, "patch", url, {"status": "paused", "channel": None})
    assert response.status_code == 200
    assert response.json()["status"] == "paused" and response.json()["channel"] is None
    assert response.json()["body"] == payload["body"]
    assert api(admin_user, "patch", "/templates/999", {"status": "paused"}).status_code == 404


def test_template_errors_and_permissions(api, admin_user, supervisor, team_agent):
    response = api(admin_user, "post", "/templates", {"name": "Con Espacios", "body": ""})
    assert response.status_code == 422
    assert set(response.json()["detail"]) == {"name", "body"}
    response = api(admin_user, "post", "/templates", {"name": "x", "body": "y", "channel": 999})
    assert response.json() == {"detail": {"channel": ["El canal no existe."]}}
    for user in (supervisor, team_agent):
        response = api(user, "post", "/templates", {"name": "x", "body": "y"})
        assert response.status_code == 403
    assert not MessageTemplate.objects.exists()


# --- channels -----------------------------------------------------------------------------


def test_admin_creates_a_channel_and_credentials_are_never_returned(api, admin_user, teams):
    payload = {
        "name": "WhatsApp Ventas",
        "kind": "whatsapp",
        "color": "#25D366",
        "team": teams[0].pk,
        "business_hours": {"1": [["08:00", "18:00"]]},
        "out_of_hours_message": "Volvemos mañana a las 8.",
        "credentials": {"access_token": "EAAG-secreto-123", "phone_number_id": "1234"},
    }
    response = api(admin_user, "post", "/channels", payload)
    assert response.status_code == 201, response.content
    assert "EAAG-secreto-123" not in response.content.decode()
    data = response.json()
    assert data["has_credentials"] is True and "credentials" not in data
    assert data["color"] == "#25d366" and data["team"]["id"] == teams[0].pk
    channel = Channel.objects.get(pk=data["id"])
    assert channel.credentials["access_token"] == "EAAG-secreto-123"
    assert "EAAG-secreto-123" not in channel.credentials_encrypted
    url = f"/channels/{channel.pk}"
    for path in ("/channels", url):
        assert "EAAG-secreto-123" not in api(admin_user, "get", path).content.decode()
    response = api(admin_user, "patch", url, {"credentials": {"access_token": "nuevo"}})
    assert response.status_code == 200
    channel.refresh_from_db()
    assert channel.credentials == {"access_token": "nuevo", "phone_number_id": "1234"}
    response = api(admin_user, "patch", url, {"is_active": False, "name": "WA Ventas"})
    assert response.json()["is_active"] is False and response.json()["name"] == "WA Ventas"
    assert response.json()["business_hours"] == {"1": [["08:00", "18:00"]]}


def test_channel_errors_are_422(api, admin_user):
    payload = {"name": "", "kind": "fax", "color": "rojo"}
    response = api(admin_user, "post", "/channels", payload)
    assert response.status_code == 422
    assert set(response.json()["detail"]) == {"name", "kind", "color"}
    payload = {"name": "Web", "kind": "webchat", "business_hours": {"1": [["18:00", "08:00"]]}}
    response = api(admin_user, "post", "/channels", payload)
    assert response.json() == {"detail": {"business_hours": ["Horario no válido."]}}
    response = api(admin_user, "post", "/channels", {"name": "Web", "kind": "webchat", "team": 9})
    assert response.json() == {"detail": {"team": ["El equipo no existe."]}}
    assert not Channel.objects.exists()
    assert api(admin_user, "get", "/channels/999").status_code == 404


def test_agents_list_active_channels_but_cannot_manage_them(api, team_agent, supervisor):
    active = make_channel(name="Web")
    make_channel(name="Viejo", is_active=False)
    data = api(team_agent, "get", "/channels").json()
    assert [c["id"] for c in data["items"]] == [active.pk]
    for user in (team_agent, supervisor):
        assert api(user, "post", "/channels", {"name": "X", "kind": "webchat"}).status_code == 403
        assert api(user, "get", f"/channels/{active.pk}").status_code == 403
        assert api(user, "patch", f"/channels/{active.pk}", {"name": "Y"}).status_code == 403
    active.refresh_from_db()
    assert active.name == "Web"


@override_settings(ATIENDE_INBOX_AGENT_SCOPE="all")
def test_agent_scope_all_lets_agents_see_every_team(api, team_agent, mine, theirs):
    assert api(team_agent, "get", "/conversations").json()["count"] == 2
    assert api(team_agent, "get", f"/conversations/{theirs.pk}").status_code == 200


def test_paused_agent_still_reads_the_api(api, team_agent, mine):
    team_agent.agent_status = AgentStatus.PAUSED
    team_agent.save()
    assert api(team_agent, "get", "/conversations").json()["count"] == 1
