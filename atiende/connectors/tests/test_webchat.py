"""The website chat's visitor side: signed identity, the widget's endpoints, the visitor socket."""

import asyncio
import json
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

from atiende.asgi import application
from atiende.connectors.webchat import services as webchat
from atiende.core.models import Attachment
from atiende.inbox import services as inbox
from atiende.inbox.models import (
    Channel,
    ChannelKind,
    Conversation,
    Message,
    MessageAuthor,
    MessageKind,
    MessageStatus,
)
from atiende.users.tests.factories import TeamFactory

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
ORIGIN = (b"origin", b"http://127.0.0.1")


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def team(agent):
    team = TeamFactory(name="Servicio")
    team.members.add(agent)
    return team


@pytest.fixture
def channel(team):
    channel = Channel.objects.create(
        name="Chat web", kind=ChannelKind.WEBCHAT, team=team, color="#0d7c86", auto_assign=False
    )
    webchat.ensure_public_key(channel)
    return channel


def url(channel: Channel, name: str) -> str:
    return f"/widget/{channel.config['public_key']}/{name}"


def start(client, channel, **data) -> dict:
    data = {"name": "Laura Benítez", "phone": "0981 123456", **data}
    response = client.post(url(channel, "session"), data, content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


def post(client, channel, body: str, client_id: str | None = None):
    payload = {"id": client_id or str(uuid.uuid4()), "body": body}
    return client.post(url(channel, "messages"), payload, content_type="application/json")


def visitor_cookie(client, channel) -> str:
    return client.cookies[webchat.cookie_name(channel)].value


# --- identity ------------------------------------------------------------------------------


def test_session_sets_a_signed_http_only_cookie_and_config_knows_the_visitor(client, channel):
    assert client.get(url(channel, "config")).json()["visitor"] is None
    data = start(client, channel)
    cookie = client.cookies[webchat.cookie_name(channel)]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and not cookie["secure"]
    assert cookie["max-age"] == webchat.VISITOR_MAX_AGE
    visitor = webchat.read_visitor(channel, cookie.value)
    assert visitor.name == "Laura Benítez" and visitor.phone == "+595981123456"
    assert data["token"] == cookie.value
    assert client.get(url(channel, "config")).json()["visitor"] == {"name": "Laura Benítez"}


def test_session_over_https_uses_samesite_none_and_secure(client, channel):
    client.post(
        url(channel, "session"),
        {"name": "Laura", "phone": "0981123456"},
        content_type="application/json",
        secure=True,
    )
    cookie = client.cookies[webchat.cookie_name(channel)]
    assert cookie["samesite"] == "None" and cookie["secure"]


def test_prechat_errors_are_spanish_and_set_no_cookie(client, channel):
    response = client.post(
        url(channel, "session"), {"name": " ", "phone": "12"}, content_type="application/json"
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors == {
        "name": "Escribe tu nombre.",
        "phone": "El número de teléfono no es válido.",
    }
    assert webchat.cookie_name(channel) not in client.cookies
    bad = client.post(url(channel, "session"), "{no json", content_type="application/json")
    assert bad.status_code == 400


def test_prechat_fields_come_from_the_channel(client, channel):
    channel.config = {**channel.config, "prechat": ["name", "email"]}
    channel.save()
    assert client.get(url(channel, "config")).json()["prechat"] == ["name", "email"]
    response = client.post(
        url(channel, "session"), {"name": "Ana", "email": "no"}, content_type="application/json"
    )
    assert response.json()["errors"] == {"email": "El correo electrónico no es válido."}
    start(client, channel, name="Ana", email="ANA@Example.com ")
    assert webchat.read_visitor(channel, visitor_cookie(client, channel)).email == "ana@example.com"


def test_tampered_or_foreign_cookie_is_refused(client, channel, team):
    start(client, channel)
    token = visitor_cookie(client, channel)
    payload, _sep, rest = token.partition(":")
    client.cookies[webchat.cookie_name(channel)] = payload[:-2] + "xx:" + rest
    response = client.get(url(channel, "messages"))
    assert response.status_code == 401
    assert response.json()["error"] == "Completa tus datos para empezar el chat."
    assert post(client, channel, "Hola").status_code == 401
    # A valid visitor of another channel is not a visitor of this one.
    other = Channel.objects.create(name="Otro", kind=ChannelKind.WEBCHAT, team=team)
    webchat.ensure_public_key(other)
    foreign = webchat.sign_visitor(webchat.Visitor(id="x", channel_id=other.pk, name="X"))
    client.cookies[webchat.cookie_name(channel)] = foreign
    assert client.get(url(channel, "messages")).status_code == 401
    # Signed with another salt (another purpose) is refused too.
    client.cookies[webchat.cookie_name(channel)] = signing.dumps({"v": "x", "c": channel.pk})
    assert client.get(url(channel, "messages")).status_code == 401
    assert not Message.objects.exists()


def test_signed_token_in_header_works_when_third_party_cookies_are_blocked(client, channel):
    token = start(client, channel)["token"]
    client.cookies.clear()
    headers = {"X-Atiende-Visitor": token, "Origin": "https://www.sigo.example"}
    response = client.post(
        url(channel, "messages"),
        {"id": str(uuid.uuid4()), "body": "Hola"},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 201
    assert response["Access-Control-Allow-Origin"] == "https://www.sigo.example"
    assert response["Access-Control-Allow-Credentials"] == "true"
    preflight = client.options(url(channel, "messages"), headers=headers)
    assert preflight.status_code == 204
    assert "X-Atiende-Visitor" in preflight["Access-Control-Allow-Headers"]


def test_allowed_origins_limit_who_embeds_the_widget(client, channel):
    channel.config = {**channel.config, "allowed_origins": ["https://www.sigo.example"]}
    channel.save()
    ok = client.get(url(channel, "config"), headers={"Origin": "https://www.sigo.example"})
    assert ok.status_code == 200
    evil = client.get(url(channel, "config"), headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403
    own = client.get(url(channel, "config"), headers={"Origin": "http://testserver"})
    assert own.status_code == 200


def test_returning_visitor_rejoins_the_same_conversation(client, channel):
    start(client, channel)
    assert post(client, channel, "Hola").status_code == 201
    visitor_id = webchat.read_visitor(channel, visitor_cookie(client, channel)).id
    start(client, channel)  # the form again in the same browser keeps the visitor
    assert webchat.read_visitor(channel, visitor_cookie(client, channel)).id == visitor_id
    assert post(client, channel, "¿Siguen ahí?").status_code == 201
    conversation = Conversation.objects.get()
    assert conversation.recipient == visitor_id
    assert conversation.contact.first_name == "Laura"
    assert conversation.contact.primary_phone == "+595981123456"
    bodies = [m["body"] for m in client.get(url(channel, "messages")).json()["messages"]]
    assert bodies == ["Hola", "¿Siguen ahí?"]


# --- channel -------------------------------------------------------------------------------


def test_unknown_or_inactive_channel_is_404(client, channel):
    for path in ["widget.js", "config", "messages", "session", "attachments"]:
        assert client.get(f"/widget/no-existe/{path}").status_code == 404
    start(client, channel)
    channel.is_active = False
    channel.save()
    assert client.get(url(channel, "config")).status_code == 404
    assert client.get(url(channel, "widget.js")).status_code == 404
    assert post(client, channel, "Hola").status_code == 404
    whatsapp = Channel.objects.create(
        name="WA", kind=ChannelKind.WHATSAPP, config={"public_key": "clave-wa"}
    )
    assert client.get(f"/widget/{whatsapp.config['public_key']}/config").status_code == 404


def test_public_key_is_generated_once_and_save_channel_creates_it(admin_user, team):
    saved = inbox.save_channel(by=admin_user, name="Chat del sitio", kind="webchat", team=team)
    key = saved.config["public_key"]
    assert len(key) >= 30
    assert Channel.objects.get(pk=saved.pk).config["public_key"] == key
    assert webchat.ensure_public_key(saved) == key
    again = inbox.save_channel(by=admin_user, name="Chat", kind="webchat", team=team, channel=saved)
    assert again.config["public_key"] == key
    other = inbox.save_channel(by=admin_user, name="WhatsApp", kind="whatsapp", team=team)
    assert "public_key" not in other.config


def test_embed_snippet_and_script(client, channel, rf, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "crm.sigo.example"]
    request = rf.get("/ajustes/canales/", HTTP_HOST="crm.sigo.example", secure=True)
    key = channel.config["public_key"]
    assert webchat.embed_snippet(channel, request) == (
        f'<script src="https://crm.sigo.example/widget/{key}/widget.js" async></script>'
    )
    script = client.get(url(channel, "widget.js"))
    assert script["Content-Type"].startswith("text/javascript")
    source = script.content.decode()
    assert json.dumps({"base": "http://testserver", "key": key}) in source
    assert "__ATIENDE_OPTIONS__" not in source
    assert "atiende-widget-button" in source


def test_config_gives_texts_colour_greeting_and_hours(client, channel):
    channel.color = "#aa3355"
    channel.config = {**channel.config, "greeting": "¡Hola! Soy Sigo."}
    channel.out_of_hours_message = "Volvemos mañana a las 8."
    channel.save()
    data = client.get(url(channel, "config")).json()
    assert data["name"] == "Chat web"
    assert data["color"] == "#aa3355"
    assert data["greeting"] == "¡Hola! Soy Sigo."
    assert data["prechat"] == ["name", "phone"]
    assert data["open"] is True and data["out_of_hours_message"] == ""
    assert data["texts"]["start"] == "Iniciar chat"
    english = client.get(url(channel, "config"), headers={"Cookie": "atiende_language=en"})
    assert english.json()["texts"]["start"] == "Start chat"
    assert english.json()["greeting"] == "¡Hola! Soy Sigo."  # the channel's own words stay


def test_demo_page_embeds_the_first_active_webchat_channel(client, channel):
    page = client.get("/widget/demo/").content.decode()
    key = channel.config["public_key"]
    assert f'<script src="http://testserver/widget/{key}/widget.js" async></script>' in page
    assert "Sigo" in page


def test_demo_page_without_channel_says_an_admin_must_create_one(client, db):
    page = client.get("/widget/demo/").content.decode()
    assert "Ajustes \N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK} Canales" in page
    assert "widget.js" not in page


# --- messages ------------------------------------------------------------------------------


def test_http_fallback_is_idempotent_on_the_client_uuid(client, channel):
    start(client, channel)
    client_id = str(uuid.uuid4())
    first = post(client, channel, "Necesito ayuda", client_id)
    again = post(client, channel, "Necesito ayuda", client_id)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == {"id": client_id, "duplicate": True}
    message = Message.objects.get()
    assert message.external_id == f"wc-in-{client_id}"
    assert message.conversation.unread_count == 1
    history = client.get(url(channel, "messages")).json()["messages"]
    assert [(m["id"], m["from"]) for m in history] == [(client_id, "visitor")]


def test_bad_message_ids_and_bodies_are_refused(client, channel):
    start(client, channel)
    assert post(client, channel, "Hola", "wc-out-1").json()["errors"] == {
        "id": "Identificador de mensaje no válido."
    }
    assert post(client, channel, "   ").json()["errors"] == {"body": "Escribe un mensaje."}
    assert post(client, channel, "x" * 5000).status_code == 422
    assert not Message.objects.exists()


def test_history_excludes_private_notes_and_shows_replies(
    client, channel, agent, django_capture_on_commit_callbacks
):
    start(client, channel)
    post(client, channel, "Hola")
    conversation = Conversation.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        inbox.send_message(conversation=conversation, by=agent, body="Nota interna", kind="note")
        inbox.send_message(conversation=conversation, by=agent, body="Hola {{contacto.nombre}}")
    history = client.get(url(channel, "messages")).json()
    assert history["conversation"] == {"status": "open"}
    rows = [(m["from"], m["body"]) for m in history["messages"]]
    assert rows == [("visitor", "Hola"), ("agent", "Hola Laura")]
    reply = Message.objects.get(body="Hola Laura")
    assert history["messages"][1]["id"] == f"wc-out-{reply.pk}" == reply.external_id


def test_visitor_never_sees_another_visitors_conversation(client, channel, agent):
    start(client, channel)
    post(client, channel, "Soy Laura")
    other = client.__class__()
    other.post(
        url(channel, "session"),
        {"name": "Pedro", "phone": "0982 654321"},
        content_type="application/json",
    )
    assert other.get(url(channel, "messages")).json() == {"conversation": None, "messages": []}


def test_attachments_are_checked_then_stored_and_served_only_to_their_visitor(client, channel):
    start(client, channel)
    fake = SimpleUploadedFile("poliza.png", b"MZ not a picture", content_type="image/png")
    refused = client.post(url(channel, "attachments"), {"id": str(uuid.uuid4()), "file": fake})
    assert refused.status_code == 422
    assert refused.json()["error"] == "El contenido del archivo no corresponde a su tipo."
    exe = SimpleUploadedFile("virus.exe", b"MZ", content_type="application/octet-stream")
    response = client.post(url(channel, "attachments"), {"id": str(uuid.uuid4()), "file": exe})
    assert response.json()["error"] == "Tipo de archivo no permitido."
    assert not Message.objects.exists()

    client_id = str(uuid.uuid4())
    photo = SimpleUploadedFile("choque.png", PNG, content_type="image/png")
    stored = client.post(url(channel, "attachments"), {"id": client_id, "file": photo})
    assert stored.status_code == 201
    again = SimpleUploadedFile("choque.png", PNG, content_type="image/png")
    assert client.post(url(channel, "attachments"), {"id": client_id, "file": again}).json()[
        "duplicate"
    ]
    message = Message.objects.get()
    assert message.kind == MessageKind.IMAGE
    attachment = Attachment.objects.get()
    assert (
        attachment.owner_id == str(message.pk)
        and attachment.contact == message.conversation.contact
    )
    files = client.get(url(channel, "messages")).json()["messages"][0]["attachments"]
    assert files[0]["name"] == "choque.png" and files[0]["mime_type"] == "image/png"
    download = client.get(files[0]["url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == PNG
    stranger = client.__class__()
    assert stranger.get(files[0]["url"]).status_code == 401
    stranger.post(
        url(channel, "session"),
        {"name": "Pedro", "phone": "0982654321"},
        content_type="application/json",
    )
    assert stranger.get(files[0]["url"]).status_code == 404


def test_posting_is_rate_limited_per_visitor(client, channel, settings):
    settings.ATIENDE_WEBCHAT_MESSAGES_PER_MINUTE = 3
    start(client, channel)
    codes = [post(client, channel, f"spam {n}").status_code for n in range(5)]
    assert codes == [201, 201, 201, 429, 429]
    assert post(client, channel, "otra").json()["error"] == (
        "Estás enviando demasiados mensajes. Espera un momento."
    )
    assert Message.objects.count() == 3
    other = client.__class__()
    other.post(
        url(channel, "session"),
        {"name": "Pedro", "phone": "0982654321"},
        content_type="application/json",
    )
    assert post(other, channel, "Hola").status_code == 201


def test_new_sessions_are_rate_limited_per_address(client, channel, settings):
    settings.ATIENDE_WEBCHAT_SESSIONS_PER_HOUR = 2
    codes = []
    for _n in range(3):
        fresh = client.__class__()
        response = fresh.post(
            url(channel, "session"),
            {"name": "Bot", "phone": "0981123456"},
            content_type="application/json",
        )
        codes.append(response.status_code)
    assert codes == [200, 200, 429]


def test_out_of_hours_config_and_message(client, channel):
    channel.business_hours = {str(d): [] for d in range(1, 8)}  # closed every day
    channel.out_of_hours_message = "Nuestro horario es de 8 a 18 h. Te respondemos mañana."
    channel.save()
    data = client.get(url(channel, "config")).json()
    assert data["open"] is False
    assert data["out_of_hours_message"] == channel.out_of_hours_message
    start(client, channel)
    post(client, channel, "Hola")
    post(client, channel, "¿Hay alguien?")
    history = client.get(url(channel, "messages")).json()["messages"]
    assert [(m["from"], m["body"]) for m in history] == [
        ("visitor", "Hola"),
        ("system", channel.out_of_hours_message),
        ("visitor", "¿Hay alguien?"),
    ]


# --- the visitor socket ---------------------------------------------------------------------------


def _agent_cookie(client, user) -> tuple[bytes, bytes]:
    client.force_login(user)
    value = client.cookies[settings.SESSION_COOKIE_NAME].value
    return (b"cookie", f"{settings.SESSION_COOKIE_NAME}={value}".encode())


def _visitor_headers(client, channel, origin: bytes = b"https://www.sigo.example") -> list:
    cookie = f"{webchat.cookie_name(channel)}={visitor_cookie(client, channel)}"
    return [(b"origin", origin), (b"cookie", cookie.encode())]


def _socket_path(channel) -> str:
    return f"/ws/webchat/{channel.config['public_key']}/"


async def _receive_until(communicator, predicate, timeout: float = 3) -> dict:
    async def loop():
        while True:
            event = await communicator.receive_json_from(timeout=timeout)
            if predicate(event):
                return event

    return await asyncio.wait_for(loop(), timeout)


async def _connect(path: str, headers: list) -> tuple[bool, int | None]:
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await communicator.connect()
    if connected:
        await communicator.disconnect()
    return connected, code


@pytest.mark.django_db(transaction=True)
def test_visitor_socket_refuses_without_a_valid_cookie_or_channel(client, channel):
    start(client, channel)
    good = _visitor_headers(client, channel)
    tampered = [
        (b"origin", b"https://x.example"),
        (b"cookie", f"{webchat.cookie_name(channel)}=abc:def".encode()),
    ]

    assert asyncio.run(_connect(_socket_path(channel), [ORIGIN])) == (False, 4401)
    assert asyncio.run(_connect(_socket_path(channel), tampered)) == (False, 4401)
    assert asyncio.run(_connect("/ws/webchat/no-existe/", good)) == (False, 4401)
    # Embedded on a customer's site: another origin is fine for the visitor socket.
    assert asyncio.run(_connect(_socket_path(channel), good))[0] is True
    token = visitor_cookie(client, channel)
    with_token = _socket_path(channel) + "?t=" + token
    assert asyncio.run(_connect(with_token, [ORIGIN]))[0] is True
    channel.config = {**channel.config, "allowed_origins": ["https://otra.example"]}
    channel.save()
    assert asyncio.run(_connect(_socket_path(channel), good)) == (False, 4401)
    channel.is_active = False
    channel.config = {**channel.config, "allowed_origins": []}
    channel.save()
    assert asyncio.run(_connect(_socket_path(channel), good)) == (False, 4401)


@pytest.mark.django_db(transaction=True)
def test_visitor_message_over_socket_is_stored_once_and_reaches_the_agent(client, channel, agent):
    start(client, channel)
    visitor_headers = _visitor_headers(client, channel)
    agent_headers = [ORIGIN, _agent_cookie(client.__class__(), agent)]
    client_id = str(uuid.uuid4())

    async def scenario():
        agent_socket = WebsocketCommunicator(application, "/ws/", headers=agent_headers)
        assert (await agent_socket.connect())[0]
        visitor = WebsocketCommunicator(application, _socket_path(channel), headers=visitor_headers)
        assert (await visitor.connect())[0]
        frame = {"type": "message", "id": client_id, "body": "Hola, necesito ayuda"}
        await visitor.send_json_to(frame)
        ack = await _receive_until(visitor, lambda e: e["type"] == "ack")
        echo = await _receive_until(visitor, lambda e: e["type"] == "message")
        event = await _receive_until(agent_socket, lambda e: e["type"] == "inbox.message")
        await visitor.send_json_to(frame)  # resent after a dropped ack
        second_ack = await _receive_until(visitor, lambda e: e["type"] == "ack")
        await visitor.send_json_to({"type": "message", "id": "no-uuid", "body": "x"})
        error = await _receive_until(visitor, lambda e: e["type"] == "error")
        await visitor.send_json_to({"type": "typing"})
        typing = await _receive_until(agent_socket, lambda e: e["type"] == "inbox.typing")
        await visitor.disconnect()
        await agent_socket.disconnect()
        return ack, echo, event, second_ack, error, typing

    ack, echo, event, second_ack, error, typing = asyncio.run(scenario())
    message = Message.objects.get()
    assert ack == second_ack == {"type": "ack", "id": client_id}
    assert echo["id"] == client_id and echo["from"] == "visitor"
    assert event["conversation_id"] == message.conversation_id
    assert event["message_id"] == message.pk and event["new"] is True
    assert error == {
        "type": "error",
        "id": "no-uuid",
        "error": "Identificador de mensaje no válido.",
    }
    assert typing == {"type": "inbox.typing", "conversation_id": message.conversation_id}
    assert message.body == "Hola, necesito ayuda"
    assert message.conversation.team_id == channel.team_id


@pytest.mark.django_db(transaction=True)
def test_agent_reply_reaches_the_visitor_socket_and_seen_marks_it_read(client, channel, agent):
    start(client, channel)
    post(client, channel, "Hola")
    conversation = Conversation.objects.get()
    visitor_headers = _visitor_headers(client, channel)

    async def scenario():
        visitor = WebsocketCommunicator(application, _socket_path(channel), headers=visitor_headers)
        assert (await visitor.connect())[0]
        reply = await database_sync_to_async(inbox.send_message)(
            conversation=conversation, by=agent, body="Con gusto, ¿cuál es su póliza?"
        )
        await database_sync_to_async(inbox.send_message)(
            conversation=conversation, by=agent, body="No mostrar", kind="note"
        )
        event = await _receive_until(visitor, lambda e: e["type"] == "message")
        await visitor.send_json_to({"type": "seen", "id": event["id"]})
        await visitor.send_json_to({"type": "ping"})
        await _receive_until(visitor, lambda e: e["type"] == "pong")
        nothing_else = await visitor.receive_nothing(timeout=0.3)
        await visitor.disconnect()
        return reply, event, nothing_else

    reply, event, nothing_else = asyncio.run(scenario())
    assert event["body"] == "Con gusto, ¿cuál es su póliza?"
    assert event["id"] == f"wc-out-{reply.pk}" and event["from"] == "agent"
    assert nothing_else  # the private note never reached the visitor
    reply.refresh_from_db()
    assert reply.status == MessageStatus.READ and reply.read_at is not None


@pytest.mark.django_db(transaction=True)
def test_seen_for_someone_elses_message_changes_nothing(client, channel, agent):
    start(client, channel)
    post(client, channel, "Hola")
    theirs = Conversation.objects.get()
    reply = inbox.send_message(conversation=theirs, by=agent, body="Respuesta")
    reply.refresh_from_db()
    other = client.__class__()
    other.post(
        url(channel, "session"),
        {"name": "Pedro", "phone": "0982654321"},
        content_type="application/json",
    )
    visitor = webchat.read_visitor(channel, visitor_cookie(other, channel))
    assert not webchat.mark_seen(channel=channel, visitor=visitor, message_id=reply.external_id)
    reply.refresh_from_db()
    assert reply.status == MessageStatus.SENT


@pytest.mark.django_db(transaction=True)
def test_out_of_hours_message_reaches_the_visitor_live(client, channel):
    channel.business_hours = {str(d): [] for d in range(1, 8)}
    channel.out_of_hours_message = "Estamos fuera de horario; te respondemos a las 8."
    channel.save()
    start(client, channel)
    headers = _visitor_headers(client, channel)

    async def scenario():
        visitor = WebsocketCommunicator(application, _socket_path(channel), headers=headers)
        assert (await visitor.connect())[0]
        await visitor.send_json_to({"type": "message", "id": str(uuid.uuid4()), "body": "Hola"})
        event = await _receive_until(
            visitor, lambda e: e["type"] == "message" and e["from"] != "visitor"
        )
        await visitor.disconnect()
        return event

    event = asyncio.run(scenario())
    assert event["body"] == "Estamos fuera de horario; te respondemos a las 8."
    system = Message.objects.get(author_kind=MessageAuthor.SYSTEM)
    assert system.status == MessageStatus.SENT
