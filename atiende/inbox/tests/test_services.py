"""inbox.services: receiving, assignment, the outbound path against a real HTTP server, statuses,
notes and mentions, variables, and the settings services (canned responses, templates, channels)."""

import asyncio
import datetime
import json
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from atiende.connectors import base as connectors
from atiende.connectors.base import InboundMessage, Sender, StatusUpdate
from atiende.contacts.models import Contact, ContactPoint
from atiende.contacts.tests.factories import make_contact
from atiende.inbox import selectors, services
from atiende.inbox.models import (
    Channel,
    Conversation,
    Message,
    MessageAuthor,
    MessageStatus,
    MessageTemplate,
)
from atiende.inbox.tests.inbox_data import conversation_for, make_channel, receive
from atiende.users.models import AgentStatus
from atiende.users.tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

HTTP_KIND = "prueba-http"


# --- a connector that talks HTTP to a real local server -----------------------------------


class ProviderServer:
    """A provider on 127.0.0.1: answers each POST with the next scripted (status, body)."""

    def __init__(self) -> None:
        self.script: list[tuple[int, dict]] = []
        self.received: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                server.received.append(json.loads(self.rfile.read(length)))
                status, body = server.script.pop(0) if server.script else (200, {"id": "x"})
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/messages"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class HttpConnector:
    """Posts the neutral message as JSON to the channel's `config["url"]`, like a real provider."""

    kind = HTTP_KIND
    capabilities = connectors.Capabilities(text=True, media=True, location=True)

    def send(self, channel, message):
        request = urllib.request.Request(
            channel.config["url"],
            data=json.dumps(
                {"to": message.recipient, "kind": message.kind, "text": message.body}
            ).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                data = json.load(response)
        except urllib.error.HTTPError as exc:
            error = json.load(exc).get("error", "")
            raise connectors.SendError(
                f"HTTP {exc.code}: {error}", code=str(exc.code), retryable=exc.code >= 500
            ) from exc
        return connectors.SendResult(external_id=data["id"])


@pytest.fixture
def provider():
    server = ProviderServer()
    connectors.register(HttpConnector())
    yield server
    connectors._REGISTRY.pop(HTTP_KIND, None)
    server.close()


@pytest.fixture
def team(db):
    return TeamFactory(name="Servicio")


@pytest.fixture
def team_agent(agent, team):
    team.members.add(agent)
    return agent


@pytest.fixture
def http_channel(provider, team):
    return make_channel(name="Proveedor", kind=HTTP_KIND, team=team, config={"url": provider.url})


@pytest.fixture
def http_conversation(http_channel):
    return conversation_for(http_channel, sender_id="595981000111", name="Ana Pérez")


@pytest.fixture
def listen():
    """`events = listen(group)` subscribes to a realtime group; `events()` drains what arrived."""
    layer = get_channel_layer()

    async def drain(name: str) -> list[dict]:
        received = []
        while True:
            try:
                message = await asyncio.wait_for(layer.receive(name), timeout=0.2)
            except TimeoutError:
                return received
            received.append(message["event"])

    def subscribe(group: str):
        name = async_to_sync(layer.new_channel)()
        async_to_sync(layer.group_add)(group, name)
        return lambda: async_to_sync(drain)(name)

    return subscribe


def send(conversation, by, body="Hola", capture=None, **kwargs) -> Message:
    """An agent's reply with its delivery job run (after commit, retries inline)."""
    with capture(execute=True):
        message = services.send_message(conversation=conversation, by=by, body=body, **kwargs)
    message.refresh_from_db()
    return message


# --- receiving ------------------------------------------------------------------------------


def test_the_same_external_id_twice_stores_one_message(team):
    channel = make_channel(team=team)
    first = receive(channel, "visitante-1", "Hola", external_id="wamid.1")
    second = receive(channel, "visitante-1", "Hola", external_id="wamid.1")
    assert first is not None and second is None
    assert Message.objects.filter(external_id="wamid.1").count() == 1
    conversation = Conversation.objects.get()
    assert conversation.unread_count == 1


def test_the_same_external_id_on_another_channel_is_another_message(team):
    one, two = make_channel(team=team), make_channel(team=team)
    assert receive(one, "v", external_id="id-1") is not None
    assert receive(two, "v", external_id="id-1") is not None
    assert Message.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_the_same_message_store_it_once():
    channel = make_channel()
    barrier = threading.Barrier(2)
    results = []

    def deliver():
        try:
            barrier.wait()
            results.append(receive(channel, "visitante-9", "Hola", external_id="dup-1"))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(result is None for result in results) == [False, True]
    assert Message.objects.count() == 1
    assert Conversation.objects.count() == 1
    assert Contact.objects.count() == 1


def test_a_delivery_that_loses_the_race_leaves_no_contact_or_conversation_behind(team, monkeypatch):
    """Two processes receive a new sender's first message at once: both miss the other's row
    (invisible until it commits), and the loser's insert hits the unique (channel, external id).
    Its whole work must roll back, not leave an empty conversation and a duplicate contact."""
    from django.db.models import QuerySet

    channel = make_channel(team=team)
    receive(channel, "visitante-1", "Hola", external_id="dup-2", name="Ana")
    real_exists = QuerySet.exists
    blind = [True]  # the first look for the message does not see the winner's row

    def exists(queryset):
        if queryset.model is Message and blind:
            return not blind.pop()
        return real_exists(queryset)

    monkeypatch.setattr(QuerySet, "exists", exists)
    assert receive(channel, "visitante-2", "Hola", external_id="dup-2", name="Ana B") is None
    assert not blind
    assert Message.objects.count() == 1
    assert Conversation.objects.count() == 1
    assert Contact.objects.count() == 1


def test_an_existing_contact_is_matched_by_phone_in_any_format(team):
    contact = make_contact(first_name="Rosa", last_name="Giménez", phone="0991 651351")
    channel = make_channel(kind="whatsapp", team=team)
    message = receive(channel, "595991651351", "Buenas", name="Rosi 🌸", phone="595991651351")
    assert message.conversation.contact_id == contact.pk
    assert Contact.objects.count() == 1
    contact.refresh_from_db()
    assert contact.first_name == "Rosa"  # the profile name does not overwrite ours
    assert contact.last_interaction_at is not None


def test_a_new_sender_becomes_a_contact_with_the_profile_name(team):
    channel = make_channel(kind="whatsapp", team=team)
    message = receive(channel, "595981222333", "Hola", name="Carlos Benítez", phone="595981222333")
    contact = message.conversation.contact
    assert (contact.first_name, contact.last_name) == ("Carlos", "Benítez")
    assert contact.primary_phone == "+595981222333"
    assert contact.points.get().kind == ContactPoint.Kind.WHATSAPP
    again = receive(channel, "595981222333", "¿Hola?", name="Carlos Benítez")
    assert again.conversation_id == message.conversation_id
    assert Contact.objects.count() == 1


def test_an_anonymous_visitor_is_a_contact_named_visitante(team):
    message = receive(make_channel(team=team), "visitante-77", "Hola")
    assert message.conversation.contact.first_name == "Visitante"


def test_indicators_follow_the_conversation(team_agent, team):
    channel = make_channel(team=team)
    first = receive(channel, "v-1", "Hola")
    conversation = first.conversation
    receive(channel, "v-1", "¿Hay alguien?")
    conversation.refresh_from_db()
    assert conversation.status == "pending"
    assert conversation.unread_count == 2
    assert conversation.awaiting_first_response is True
    assert conversation.last_message_inbound is True
    assert conversation.last_message_preview == "¿Hay alguien?"
    services.send_message(conversation=conversation, by=team_agent, body="Buenas, la atiendo")
    conversation.refresh_from_db()
    assert conversation.status == "open" and conversation.assignee == team_agent
    assert conversation.awaiting_first_response is False
    assert conversation.first_response_at is not None
    assert conversation.unread_count == 0
    assert conversation.last_message_inbound is False
    receive(channel, "v-1", "Gracias")
    conversation.refresh_from_db()
    assert conversation.last_message_inbound is True and conversation.unread_count == 1
    assert conversation.awaiting_first_response is False


def test_a_new_message_after_resolving_starts_a_new_pending_conversation(team_agent, team):
    channel = make_channel(team=team)
    old = receive(channel, "v-2", "Hola").conversation
    services.send_message(conversation=old, by=team_agent, body="Listo")
    services.set_conversation_status(conversation=old, status="resolved", by=team_agent)
    message = receive(channel, "v-2", "Otra consulta")
    new = message.conversation
    assert new.pk != old.pk
    assert new.contact_id == old.contact_id
    assert new.status == "pending" and new.assignee is None and new.team == team
    assert new.unread_count == 1
    assert new.awaiting_first_response is True and new.last_message_inbound is True
    old.refresh_from_db()
    assert old.status == "resolved"


def test_out_of_hours_message_is_sent_once_a_day(team):
    tomorrow = str(timezone.localtime().isoweekday() % 7 + 1)
    channel = make_channel(
        team=team,
        business_hours={tomorrow: [["08:00", "18:00"]]},
        out_of_hours_message="Atendemos de 8 a 18.",
    )
    conversation = receive(channel, "v-3", "Hola").conversation
    receive(channel, "v-3", "¿Están?")
    system = conversation.messages.filter(author_kind=MessageAuthor.SYSTEM)
    assert list(system.values_list("body", flat=True)) == ["Atendemos de 8 a 18."]
    conversation.refresh_from_db()
    assert conversation.awaiting_first_response is True  # the robot did not answer for us


# --- assignment -----------------------------------------------------------------------------


def _members(team, *statuses: str):
    agents = []
    for index, status in enumerate(statuses):
        agent = UserFactory(username=f"ag{index}", agent_status=status)
        team.members.add(agent)
        agents.append(agent)
    return agents


def test_round_robin_skips_paused_offline_and_inactive_agents(team):
    paused, offline, active = _members(
        team, AgentStatus.PAUSED, AgentStatus.OFFLINE, AgentStatus.ACTIVE
    )
    gone = UserFactory(username="baja", is_active=False)
    team.members.add(gone)
    channel = make_channel(team=team, auto_assign=True)
    for n in range(3):
        assert receive(channel, f"v-{n}").conversation.assignee == active
    assert not Conversation.objects.filter(assignee__in=[paused, offline, gone]).exists()


def test_round_robin_picks_the_agent_assigned_longest_ago(team):
    first, second, third = _members(team, *[AgentStatus.ACTIVE] * 3)
    now = timezone.now()
    channel = make_channel(team=team)
    for agent, minutes in ((first, 5), (second, 60), (third, 30)):
        conversation = conversation_for(channel)
        Conversation.objects.filter(pk=conversation.pk).update(
            assignee=agent, assigned_at=now - datetime.timedelta(minutes=minutes)
        )
    assert services.pick_agent(team) == second
    channel.auto_assign = True
    channel.save()
    order = [receive(channel, f"nuevo-{n}").conversation.assignee for n in range(3)]
    assert order == [second, third, first]


def test_round_robin_honours_the_cap_of_open_conversations(team, settings):
    settings.ATIENDE_INBOX_AGENT_CAP = 2
    busy, free = _members(team, AgentStatus.ACTIVE, AgentStatus.ACTIVE)
    channel = make_channel(team=team)
    for _ in range(2):
        conversation = conversation_for(channel)
        Conversation.objects.filter(pk=conversation.pk).update(
            assignee=busy, assigned_at=timezone.now() - datetime.timedelta(days=1)
        )
    assert services.pick_agent(team) == free  # busy waited longest but is at the cap
    conversation = conversation_for(channel)
    Conversation.objects.filter(pk=conversation.pk).update(assignee=free, status="resolved")
    assert services.pick_agent(team) == free  # resolved ones do not count
    for _ in range(2):
        conversation = conversation_for(channel)
        Conversation.objects.filter(pk=conversation.pk).update(assignee=free)
    assert services.pick_agent(team) is None
    channel.auto_assign = True
    channel.save()
    waiting = receive(channel, "sin-agente").conversation
    assert waiting.assignee is None and waiting.status == "pending"


def test_no_team_no_automatic_assignment():
    _members(TeamFactory(name="Otro"), AgentStatus.ACTIVE)
    channel = make_channel(team=None, auto_assign=True)
    assert receive(channel, "v").conversation.assignee is None


def test_agent_takes_and_transfers_within_the_rules(team_agent, team, supervisor):
    colleague = UserFactory(username="colega")
    third = UserFactory(username="tercero")
    team.members.add(colleague, third)
    conversation = conversation_for(make_channel(team=team))
    conversation = services.assign_conversation(
        conversation=conversation, assignee=team_agent, by=team_agent
    )
    assert conversation.status == "open" and conversation.assigned_at is not None
    conversation = services.assign_conversation(
        conversation=conversation, assignee=colleague, by=team_agent
    )
    assert conversation.assignee == colleague
    with pytest.raises(PermissionDenied):
        services.assign_conversation(conversation=conversation, assignee=third, by=team_agent)
    conversation.refresh_from_db()
    assert conversation.assignee == colleague
    other_team = TeamFactory(name="Cobranza")
    conversation = services.assign_conversation(
        conversation=conversation, assignee=third, by=supervisor, team=other_team
    )
    assert (conversation.assignee, conversation.team) == (third, other_team)
    conversation.refresh_from_db()
    with pytest.raises(PermissionDenied):  # no longer their team's
        services.assign_conversation(conversation=conversation, assignee=team_agent, by=team_agent)


def test_only_the_holder_or_a_supervisor_releases_a_conversation(team_agent, team, supervisor):
    colleague = UserFactory(username="colega")
    team.members.add(colleague)
    conversation = conversation_for(make_channel(team=team))
    conversation = services.assign_conversation(
        conversation=conversation, assignee=colleague, by=colleague
    )
    with pytest.raises(PermissionDenied):
        services.assign_conversation(conversation=conversation, assignee=None, by=team_agent)
    conversation.refresh_from_db()
    assert conversation.assignee == colleague
    released = services.assign_conversation(conversation=conversation, assignee=None, by=colleague)
    assert released.assignee is None and released.assigned_at is None
    conversation = services.assign_conversation(
        conversation=released, assignee=colleague, by=colleague
    )
    assert (
        services.assign_conversation(
            conversation=conversation, assignee=None, by=supervisor
        ).assignee
        is None
    )


def test_assigning_to_an_inactive_user_is_refused(team_agent, team):
    conversation = conversation_for(make_channel(team=team))
    gone = UserFactory(username="baja", is_active=False)
    with pytest.raises(ValidationError) as exc:
        services.assign_conversation(conversation=conversation, assignee=gone, by=team_agent)
    assert exc.value.message_dict == {"assignee": ["El usuario no está activo."]}


def test_agents_outside_the_team_cannot_act_on_a_conversation(team):
    outsider = UserFactory(username="ajeno")
    TeamFactory(name="Cobranza").members.add(outsider)
    conversation = conversation_for(make_channel(team=team))
    for action in (
        lambda: services.assign_conversation(
            conversation=conversation, assignee=outsider, by=outsider
        ),
        lambda: services.set_conversation_status(
            conversation=conversation, status="resolved", by=outsider
        ),
        lambda: services.send_message(conversation=conversation, by=outsider, body="hola"),
        lambda: services.mark_read(conversation=conversation, by=outsider),
    ):
        with pytest.raises(PermissionDenied):
            action()
    conversation.refresh_from_db()
    assert conversation.assignee is None and conversation.unread_count == 1


# --- outbound: queued → job → sent / retried / failed ---------------------------------------


def test_a_reply_is_sent_with_the_provider_id_after_retries(
    http_conversation, team_agent, provider, settings, django_capture_on_commit_callbacks
):
    settings.ATIENDE_SEND_ATTEMPTS = 4
    provider.script = [
        (500, {"error": "ocupado"}),
        (500, {"error": "ocupado"}),
        (200, {"id": "prov-123"}),
    ]
    message = send(http_conversation, team_agent, "Hola Ana", django_capture_on_commit_callbacks)
    assert message.status == MessageStatus.SENT
    assert message.external_id == "prov-123"
    assert message.attempts == 3 and message.sent_at is not None
    assert message.error_message == ""
    assert provider.received == [{"to": "595981000111", "kind": "text", "text": "Hola Ana"}] * 3


def test_a_reply_fails_with_the_provider_error_after_the_last_attempt(
    http_conversation,
    team_agent,
    provider,
    settings,
    listen,
    team,
    django_capture_on_commit_callbacks,
):
    settings.ATIENDE_SEND_ATTEMPTS = 3
    provider.script = [(500, {"error": "Servicio no disponible"})] * 5
    events = listen(f"team.{team.pk}")
    message = send(http_conversation, team_agent, "Hola", django_capture_on_commit_callbacks)
    assert len(provider.received) == 3
    assert message.status == MessageStatus.FAILED and message.attempts == 3
    assert message.error_code == "500"
    assert message.error_message == "HTTP 500: Servicio no disponible"
    # The agent sees it: in the thread and live.
    [_, shown] = selectors.thread(conversation=http_conversation)
    assert (shown.status, shown.error_message) == ("failed", "HTTP 500: Servicio no disponible")
    statuses = [e.get("message_status") for e in events() if e["type"] == "inbox.status"]
    assert statuses == ["failed"]


def test_a_non_retryable_error_fails_at_once(
    http_conversation, team_agent, provider, django_capture_on_commit_callbacks
):
    provider.script = [(400, {"error": "Número inválido"})]
    message = send(http_conversation, team_agent, "Hola", django_capture_on_commit_callbacks)
    assert len(provider.received) == 1
    assert message.status == MessageStatus.FAILED and message.attempts == 1
    assert message.error_message == "HTTP 400: Número inválido"


def test_an_unreachable_provider_is_retried_then_failed(
    http_conversation, team_agent, provider, settings, django_capture_on_commit_callbacks
):
    settings.ATIENDE_SEND_ATTEMPTS = 2
    provider.close()  # nothing listens any more
    message = send(http_conversation, team_agent, "Hola", django_capture_on_commit_callbacks)
    assert message.status == MessageStatus.FAILED and message.attempts == 2
    assert message.error_message


def test_retry_requeues_a_failed_message_and_sends_it(
    http_conversation, team_agent, provider, settings, django_capture_on_commit_callbacks
):
    settings.ATIENDE_SEND_ATTEMPTS = 1
    provider.script = [(503, {"error": "caído"}), (200, {"id": "prov-9"})]
    message = send(http_conversation, team_agent, "Hola", django_capture_on_commit_callbacks)
    assert message.status == MessageStatus.FAILED
    with django_capture_on_commit_callbacks(execute=True):
        services.retry_message(message=message, by=team_agent)
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and message.external_id == "prov-9"
    assert message.error_message == "" and message.attempts == 1
    with pytest.raises(ValidationError):
        services.retry_message(message=message, by=team_agent)  # only failed ones


def test_retry_needs_access_to_the_conversation(http_conversation, team_agent):
    message = services.send_message(conversation=http_conversation, by=team_agent, body="x")
    Message.objects.filter(pk=message.pk).update(status=MessageStatus.FAILED)
    message.refresh_from_db()
    outsider = UserFactory(username="ajeno")
    with pytest.raises(PermissionDenied):
        services.retry_message(message=message, by=outsider)
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED


def test_a_sent_message_is_never_sent_twice(
    http_conversation, team_agent, provider, django_capture_on_commit_callbacks
):
    message = send(http_conversation, team_agent, "Hola", django_capture_on_commit_callbacks)
    assert message.status == MessageStatus.SENT
    assert services.deliver(message.pk) == "skip"
    assert len(provider.received) == 1


# --- private notes and mentions ---------------------------------------------------------------


def test_private_notes_never_reach_a_connector(
    http_conversation, team_agent, provider, django_capture_on_commit_callbacks
):
    note = send(
        http_conversation,
        team_agent,
        "Cliente molesto, cuidado",
        django_capture_on_commit_callbacks,
        kind="note",
    )
    assert provider.received == []
    assert note.status == MessageStatus.SENT and note.attempts == 0 and note.external_id == ""
    assert services.deliver(note.pk) == "skip"
    assert provider.received == []
    http_conversation.refresh_from_db()
    assert http_conversation.awaiting_first_response is True
    assert http_conversation.last_message_inbound is True


def test_a_mention_notifies_the_mentioned_user(
    http_conversation, team_agent, supervisor, listen, django_capture_on_commit_callbacks
):
    mentioned = listen(f"user.{supervisor.pk}")
    author = listen(f"user.{team_agent.pk}")
    with django_capture_on_commit_callbacks(execute=True):
        services.send_message(
            conversation=http_conversation,
            by=team_agent,
            body="@super ¿le hacemos descuento?",
            kind="note",
        )
    notifications = [e for e in mentioned() if e["type"] == "notification"]
    assert [
        {k: e[k] for k in ("type", "kind", "title", "body", "url", "unread")} for e in notifications
    ] == [
        {
            "type": "notification",
            "kind": "mention",
            "title": "María González te mencionó",
            "body": "@super ¿le hacemos descuento?",
            "url": f"/inbox/{http_conversation.pk}/",
            "unread": 1,
        }
    ]
    assert not [e for e in author() if e["type"] == "notification"]


# --- provider statuses ------------------------------------------------------------------------


def _sent(conversation, by) -> Message:
    message = services.send_message(conversation=conversation, by=by, body="Hola")
    Message.objects.filter(pk=message.pk).update(status=MessageStatus.SENT, external_id="p-1")
    return message


def _status(channel, status, **kwargs) -> Message | None:
    return services.apply_status(
        StatusUpdate(channel_id=channel.pk, external_id="p-1", status=status, **kwargs)
    )


def test_statuses_only_move_forward(http_conversation, team_agent):
    channel = http_conversation.channel
    message = _sent(http_conversation, team_agent)
    assert _status(channel, "delivered").status == "delivered"
    read = _status(channel, "read")
    assert read.status == "read" and read.read_at and read.delivered_at
    assert _status(channel, "delivered").status == "read"
    assert _status(channel, "sent").status == "read"
    assert _status(channel, "failed", error_message="tarde").status == "read"
    message.refresh_from_db()
    assert message.status == "read" and message.error_message == ""


def test_a_failure_callback_fails_a_sent_message_and_later_ones_are_ignored(
    http_conversation, team_agent
):
    channel = http_conversation.channel
    _sent(http_conversation, team_agent)
    failed = _status(channel, "failed", error_code="131026", error_message="No es WhatsApp")
    assert (failed.status, failed.error_code) == ("failed", "131026")
    assert _status(channel, "delivered").status == "failed"
    assert _status(channel, "read").status == "failed"


def test_a_status_for_an_unknown_message_is_ignored(http_conversation):
    assert _status(http_conversation.channel, "read") is None


# --- variables --------------------------------------------------------------------------------


def test_fill_variables(team_agent, team):
    channel = make_channel(name="Web", team=team)
    conversation = conversation_for(channel, name="Ana Pérez", email="ana@example.com")
    text = (
        "Hola {{contacto.nombre}} {{ contacto.apellido }} ({{contacto.nombre_completo}}, "
        "{{contacto.correo}}): soy {{agente.nombre}} de {{canal.nombre}}. {{otra.cosa}}"
    )
    assert services.fill_variables(text, conversation, team_agent) == (
        "Hola Ana Pérez (Ana Pérez, ana@example.com): soy María González de Web. {{otra.cosa}}"
    )
    assert services.fill_variables("{{agente.nombre}}.", conversation, None) == "."


# --- canned responses, templates, channels ----------------------------------------------------


def test_canned_response_is_cleaned_and_validated(supervisor, team):
    canned = services.save_canned_response(
        by=supervisor, shortcut=" /Saludo ", title=" Saludo ", body=" Hola {{contacto.nombre}} "
    )
    assert (canned.shortcut, canned.title, canned.body) == (
        "saludo",
        "Saludo",
        "Hola {{contacto.nombre}}",
    )
    with pytest.raises(ValidationError) as exc:
        services.save_canned_response(by=supervisor, shortcut="a b", title="", body=" ")
    assert set(exc.value.message_dict) == {"shortcut", "title", "body"}
    with pytest.raises(ValidationError) as exc:
        services.save_canned_response(by=supervisor, shortcut="saludo", title="x", body="x")
    assert exc.value.message_dict == {"shortcut": ["Ya existe una respuesta con ese atajo."]}
    same_in_team = services.save_canned_response(
        by=supervisor, shortcut="saludo", title="x", body="x", team=team
    )
    assert same_in_team.team == team
    edited = services.save_canned_response(
        by=supervisor, canned=canned, shortcut="saludo", title="Nuevo", body="x"
    )
    assert edited.pk == canned.pk and edited.title == "Nuevo"


def test_agents_cannot_manage_canned_responses(agent, supervisor):
    with pytest.raises(PermissionDenied):
        services.save_canned_response(by=agent, shortcut="x", title="x", body="x")
    canned = services.save_canned_response(by=supervisor, shortcut="x", title="x", body="x")
    with pytest.raises(PermissionDenied):
        services.delete_canned_response(canned=canned, by=agent)
    services.delete_canned_response(canned=canned, by=supervisor)


def test_template_is_validated(admin_user, supervisor):
    channel = make_channel()
    template = services.save_template(
        by=admin_user, name="cuota", body="Hola {{1}}", channel=channel, category="UTILITY"
    )
    assert template.status == MessageTemplate.Status.APPROVED
    with pytest.raises(ValidationError) as exc:
        services.save_template(by=admin_user, name="Cuota Vencida", body="", status="x")
    assert set(exc.value.message_dict) == {"name", "body", "status"}
    with pytest.raises(ValidationError) as exc:
        services.save_template(by=admin_user, name="cuota", body="Otra", channel=channel)
    assert exc.value.message_dict == {"name": ["Ya existe una plantilla con ese nombre e idioma."]}
    services.save_template(
        by=admin_user, name="cuota", body="Hi {{1}}", channel=channel, language="en"
    )
    with pytest.raises(PermissionDenied):
        services.save_template(by=supervisor, name="otra", body="x")


def test_send_template_checks_status_channel_and_variables(team_agent, admin_user, team):
    channel = make_channel(team=team)
    conversation = conversation_for(channel)
    paused = services.save_template(by=admin_user, name="pausada", body="x", status="paused")
    elsewhere = services.save_template(by=admin_user, name="otra", body="x", channel=make_channel())
    needs_two = services.save_template(by=admin_user, name="dos", body="{{1}} y {{2}}")
    for template, variables, field in (
        (paused, [], "template"),
        (elsewhere, [], "template"),
        (needs_two, ["uno", " "], "variables"),
    ):
        with pytest.raises(ValidationError) as exc:
            services.send_template(
                conversation=conversation, by=team_agent, template=template, variables=variables
            )
        assert field in exc.value.message_dict
    message = services.send_template(
        conversation=conversation, by=team_agent, template=needs_two, variables=["uno", "dos"]
    )
    assert message.body == "uno y dos" and message.kind == "template"


def test_send_template_needs_every_numbered_variable(team_agent, admin_user, team):
    conversation = conversation_for(make_channel(team=team))
    gap = services.save_template(by=admin_user, name="hueco", body="{{1}} y {{3}}")
    pair = services.save_template(by=admin_user, name="par", body="{{1}} y {{2}}")
    for template, variables in ((gap, ["uno", "dos"]), (pair, ["", "dos", "tres"])):
        with pytest.raises(ValidationError) as exc:
            services.send_template(
                conversation=conversation, by=team_agent, template=template, variables=variables
            )
        assert exc.value.message_dict == {
            "variables": ["Completa todas las variables de la plantilla."]
        }
    assert conversation.messages.count() == 1
    message = services.send_template(
        conversation=conversation, by=team_agent, template=gap, variables=["uno", "", "tres"]
    )
    assert message.body == "uno y tres"


def test_channel_is_validated(admin_user, agent):
    with pytest.raises(ValidationError) as exc:
        services.save_channel(
            by=admin_user,
            name=" ",
            kind="fax",
            color="verde",
            business_hours={"8": [["08:00", "18:00"]]},
        )
    assert set(exc.value.message_dict) == {"name", "kind", "color", "business_hours"}
    for hours in ({"1": [["18:00", "08:00"]]}, {"1": [["8", "18"]]}, {"1": ["08:00"]}):
        with pytest.raises(ValidationError):
            services.save_channel(by=admin_user, name="Web", kind="webchat", business_hours=hours)
    with pytest.raises(PermissionDenied):
        services.save_channel(by=agent, name="Web", kind="webchat")
    assert not Channel.objects.exists()


def test_channel_credentials_are_encrypted_at_rest(admin_user):
    channel = services.save_channel(
        by=admin_user,
        name="WhatsApp",
        kind="whatsapp",
        credentials={"access_token": "EAAG-muy-secreto", "app_secret": "s3cr3t"},
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT credentials_encrypted FROM inbox_channel WHERE id = %s", [channel.pk]
        )
        [raw] = cursor.fetchone()
    assert raw and "EAAG-muy-secreto" not in raw and "s3cr3t" not in raw
    fresh = Channel.objects.get(pk=channel.pk)
    assert fresh.credentials == {"access_token": "EAAG-muy-secreto", "app_secret": "s3cr3t"}
    services.save_channel(
        by=admin_user,
        channel=fresh,
        name="WhatsApp",
        kind="whatsapp",
        credentials={"access_token": "nuevo"},
    )
    fresh = Channel.objects.get(pk=channel.pk)
    assert fresh.credentials == {"access_token": "nuevo", "app_secret": "s3cr3t"}
    services.save_channel(by=admin_user, channel=fresh, name="WA", kind="whatsapp")
    assert Channel.objects.get(pk=channel.pk).credentials["app_secret"] == "s3cr3t"


def test_inbound_message_to_a_visitor_keeps_its_external_id(team):
    channel = make_channel(team=team)
    inbound = InboundMessage(
        channel_id=channel.pk,
        external_id="wc-in-1",
        sender=Sender(external_id="v-10", name="Ana"),
        body="Hola",
    )
    message = services.receive_message(inbound)
    assert message.external_id == "wc-in-1" and message.status == MessageStatus.RECEIVED
