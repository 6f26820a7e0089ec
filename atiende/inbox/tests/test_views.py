"""The inbox screen through the test client: trays, counts, filters and sort, constant queries,
team visibility (403), the chat actions, the composer and "Enviar mensaje a número"."""

import datetime
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from atiende.activities.models import Task
from atiende.connectors import base as connectors
from atiende.contacts.models import Contact
from atiende.contacts.tests.factories import GroupFactory, LabelFactory, make_contact
from atiende.core.models import Attachment
from atiende.inbox import services
from atiende.inbox.models import (
    CannedResponse,
    Conversation,
    ConversationStatus,
    Message,
    MessageKind,
    MessageStatus,
    MessageTemplate,
)
from atiende.inbox.tests.inbox_data import conversation_for, make_channel, receive
from atiende.users.tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JSON = {"HTTP_ACCEPT": "application/json"}
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def team(agent):
    team = TeamFactory(name="Servicio")
    team.members.add(agent)
    return team


@pytest.fixture
def channel(team):
    return make_channel(name="Chat web", team=team)


@pytest.fixture
def other_team_conversation():
    """A conversation of a team the agent is not in."""
    sales = TeamFactory(name="Ventas")
    return conversation_for(make_channel(name="WhatsApp Ventas", team=sales), "Hola ventas")


@pytest.fixture
def logged(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def sent_to_connector(monkeypatch):
    """Every message handed to the website-chat connector."""
    sent = []
    connector = connectors.connector_for("webchat")

    def send(channel, message):
        sent.append(message)
        return connectors.SendResult(external_id=f"wc-{message.message_id}")

    monkeypatch.setattr(connector, "send", send)
    return sent


def url(name, *args, **query):
    path = reverse(f"inbox:{name}", args=args)
    return path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def ids(response) -> list[int]:
    return [c.pk for c in response.context["conversations"]]


# --- trays, counts, filters, sort ------------------------------------------------------------


def test_inbox_lists_the_pending_tray_with_counts_per_tray(logged, channel, agent):
    waiting = conversation_for(channel, "Necesito ayuda", name="Lucía Benítez")
    open_ = conversation_for(channel, "Sigo esperando")
    services.assign_conversation(conversation=open_, assignee=agent, by=agent)
    done = conversation_for(channel, "Gracias")
    services.set_conversation_status(conversation=done, status="resolved", by=agent)

    response = logged.get(url("index"))
    assert response.status_code == 200
    assert ids(response) == [waiting.pk]
    assert response.context["counts"] == {"pending": 1, "open": 1, "resolved": 1}
    html = response.content.decode()
    assert 'data-tray="pending"' in html and 'data-count="1"' in html
    assert f'data-conversation-id="{waiting.pk}"' in html
    assert "Lucía Benítez" in html
    assert "first-response-dot" in html and "unread-badge" in html

    assert ids(logged.get(url("index", bandeja="open"))) == [open_.pk]
    assert ids(logged.get(url("index", bandeja="resolved"))) == [done.pk]
    # A bad tray falls back to Pendiente instead of failing.
    assert ids(logged.get(url("index", bandeja="nada"))) == [waiting.pk]


def test_counts_endpoint_follows_the_filters(logged, channel, agent):
    conversation_for(channel, "Uno")
    mine = conversation_for(channel, "Dos")
    services.assign_conversation(conversation=mine, assignee=agent, by=agent)
    assert logged.get(url("counts")).json() == {"pending": 1, "open": 1, "resolved": 0}
    assert logged.get(url("counts", mias=1)).json() == {"pending": 0, "open": 1, "resolved": 0}


def test_search_by_name_or_number_in_any_format(logged, channel):
    make_contact(first_name="Ana", last_name="Núñez", phone="+595 991 651351")
    ana = conversation_for(channel, "Hola", phone="0991 651351", name="Ana Núñez")
    other = conversation_for(channel, "Hola", name="Beto Rojas")
    assert ids(logged.get(url("index", q="595991651351"))) == [ana.pk]
    assert ids(logged.get(url("index", q="0991-651351"))) == [ana.pk]
    assert ids(logged.get(url("index", q="beto"))) == [other.pk]


def test_filters_by_channel_label_group_assignee_attention_and_mine(logged, channel, team, agent):
    other_channel = make_channel(name="WhatsApp", kind="whatsapp", team=team)
    vip = LabelFactory(name="VIP")
    empresas = GroupFactory(name="Empresas")
    a = conversation_for(channel, "A")
    b = conversation_for(other_channel, "B")
    c = conversation_for(channel, "C")
    a.labels.add(vip)
    c.contact.groups.add(empresas)
    services.assign_conversation(conversation=b, assignee=agent, by=agent)
    services.send_message(conversation=c, by=agent, body="Respondido")  # → En curso, ours last
    services.set_conversation_status(conversation=c, status="pending", by=agent)

    assert ids(logged.get(url("index", canal=other_channel.pk, bandeja="open"))) == [b.pk]
    assert ids(logged.get(url("index", etiqueta=vip.pk))) == [a.pk]
    assert ids(logged.get(url("index", grupo=empresas.pk))) == [c.pk]
    assert ids(logged.get(url("index", agente="sin"))) == [a.pk]
    assert set(ids(logged.get(url("index", atencion=1)))) == {a.pk}
    assert ids(logged.get(url("index", mias=1, bandeja="open"))) == [b.pk]
    assert ids(logged.get(url("index", equipo=team.pk, bandeja="open"))) == [b.pk]
    # Unknown values are ignored, never an error.
    assert logged.get(url("index", canal="x", etiqueta="-1", orden="zz")).status_code == 200


def test_sort_by_last_message_creation_and_waiting_time(logged, channel):
    now = timezone.now()
    first = conversation_for(channel, "Primero")
    second = conversation_for(channel, "Segundo")
    Conversation.objects.filter(pk=first.pk).update(
        last_message_at=now, last_inbound_at=now - datetime.timedelta(hours=3)
    )
    Conversation.objects.filter(pk=second.pk).update(
        last_message_at=now - datetime.timedelta(hours=1),
        last_inbound_at=now - datetime.timedelta(hours=1),
    )
    assert ids(logged.get(url("index"))) == [first.pk, second.pk]
    assert ids(logged.get(url("index", orden="last"))) == [second.pk, first.pk]
    assert ids(logged.get(url("index", orden="-created"))) == [second.pk, first.pk]
    assert ids(logged.get(url("index", orden="created"))) == [first.pk, second.pk]
    assert ids(logged.get(url("index", orden="waiting"))) == [first.pk, second.pk]


def test_filters_stay_in_the_links_of_the_list(logged, channel):
    conversation = conversation_for(channel, "Hola", name="Ana")
    html = logged.get(url("index", q="ana", orden="last")).content.decode()
    assert f"/inbox/{conversation.pk}/?q=ana&amp;orden=last&amp;bandeja=pending" in html
    assert "/inbox/?q=ana&amp;orden=last&amp;bandeja=open" in html


def test_list_paging_is_bounded_with_load_more(logged, channel):
    for n in range(30):
        conversation_for(channel, f"Mensaje {n}")
    first = logged.get(url("index"))
    assert len(first.context["conversations"]) == 25
    assert first.context["has_more"]
    more = logged.get(url("list", pagina=2), **HTMX)
    assert len(more.context["conversations"]) == 5
    assert not more.context["has_more"]
    assert "Cargar más" not in more.content.decode()


def test_htmx_list_request_returns_only_the_list_body(logged, channel):
    conversation_for(channel, "Hola")
    response = logged.get(url("index"), HTTP_HX_TARGET="list-body", **HTMX)
    html = response.content.decode()
    assert 'id="conversation-list"' in html
    assert "<html" not in html and 'id="list-filters"' not in html


def _queries(client, path, **extra) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, **extra)
    assert response.status_code == 200
    return len(queries)


def test_list_queries_do_not_grow_with_the_rows(logged, channel, agent):
    vip = LabelFactory(name="VIP")

    def add(n):
        for i in range(n):
            conversation = conversation_for(channel, f"Hola {i}")
            conversation.labels.add(vip)
            conversation.contact.labels.add(vip)
            Task.objects.create(contact=conversation.contact, title="Llamar", assignee=agent)

    add(3)
    logged.get(url("index"))  # warm caches (content types, session)
    few = _queries(logged, url("index"))
    add(27)
    assert _queries(logged, url("index")) == few
    assert _queries(logged, url("list", pagina=1), **HTMX) <= few


def test_thread_queries_do_not_grow_with_the_messages(logged, channel, agent):
    conversation = conversation_for(channel, "Hola")
    services.assign_conversation(conversation=conversation, assignee=agent, by=agent)

    def add(n):
        for i in range(n):
            receive(channel, conversation.recipient, f"Mensaje {i}")
            services.send_message(conversation=conversation, by=agent, body=f"Respuesta {i}")

    add(2)
    logged.get(url("conversation", conversation.pk))  # warm caches (content types, session)
    few = _queries(logged, url("conversation", conversation.pk))
    few_fragment = _queries(
        logged, url("conversation", conversation.pk), HTTP_HX_TARGET="conversation-pane", **HTMX
    )
    add(23)
    assert _queries(logged, url("conversation", conversation.pk)) == few
    assert (
        _queries(
            logged,
            url("conversation", conversation.pk),
            HTTP_HX_TARGET="conversation-pane",
            **HTMX,
        )
        == few_fragment
    )


# --- visibility ------------------------------------------------------------------------------


def test_agent_of_another_team_gets_403_on_the_chat_and_its_partials(
    logged, other_team_conversation
):
    conversation = other_team_conversation
    message = conversation.messages.get()
    pk = conversation.pk
    for path in [
        url("conversation", pk),
        url("row", pk),
        url("header", pk),
        url("messages", pk, despues=0),
        reverse("inbox:message", args=[pk, message.pk]),
        url("canned", pk, q="s"),
        url("templates", pk),
    ]:
        assert logged.get(path).status_code == 403, path
    for name in ["take", "transfer", "move", "labels", "mark_read", "send", "send_template"]:
        assert logged.post(url(name, pk), {"body": "x", "status": "resolved"}).status_code == 403
    retry = reverse("inbox:retry", args=[pk, message.pk])
    assert logged.post(retry).status_code == 403
    assert not Message.objects.filter(conversation=conversation, direction="out").exists()
    assert ids(logged.get(url("index"))) == []


def test_supervisor_sees_every_team(client, supervisor, other_team_conversation):
    client.force_login(supervisor)
    assert client.get(url("conversation", other_team_conversation.pk)).status_code == 200
    assert ids(client.get(url("index"))) == [other_team_conversation.pk]


def test_missing_conversation_is_404(logged):
    assert logged.get(url("conversation", 999)).status_code == 404


def test_anonymous_is_sent_to_log_in(client, channel):
    conversation = conversation_for(channel)
    response = client.get(url("conversation", conversation.pk))
    assert response.status_code == 302 and "/cuenta/ingresar/" in response["Location"]


# --- the chat and its actions ----------------------------------------------------------------


def test_opening_the_chat_renders_the_thread_and_marks_it_read(logged, channel, agent):
    conversation = conversation_for(channel, "Hola, ¿cómo están?")
    services.assign_conversation(conversation=conversation, assignee=agent, by=agent)
    services.send_message(conversation=conversation, by=agent, body="Bien, ¿y vos?")
    services.send_message(conversation=conversation, by=agent, body="Nota", kind="note")
    receive(channel, conversation.recipient, "Todo bien")
    assert Conversation.objects.get(pk=conversation.pk).unread_count == 1

    response = logged.get(url("conversation", conversation.pk))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="thread"' in html and 'id="composer"' in html
    assert html.count('class="message message-in') == 2
    assert html.count('class="message message-out') == 1
    assert html.count('class="message message-note') == 1
    assert "Hoy" in html  # the day separator
    assert 'data-action="resolve"' in html
    assert Conversation.objects.get(pk=conversation.pk).unread_count == 0

    fragment = logged.get(
        url("conversation", conversation.pk), HTTP_HX_TARGET="conversation-pane", **HTMX
    )
    assert "<html" not in fragment.content.decode()
    assert json.loads(fragment["HX-Trigger"]) == {"inbox:changed": {"id": conversation.pk}}


def test_new_messages_after_an_id_for_live_updates_and_catch_up(logged, channel):
    conversation = conversation_for(channel, "Uno")
    last = conversation.messages.get()
    receive(channel, conversation.recipient, "Dos")
    receive(channel, conversation.recipient, "Tres")
    html = logged.get(url("messages", conversation.pk, despues=last.pk)).content.decode()
    assert "Dos" in html and "Tres" in html and "Uno" not in html
    today = timezone.localdate().isoformat()
    html = logged.get(url("messages", conversation.pk, despues=last.pk, dia=today)).content
    assert b"day-separator" not in html
    assert logged.get(url("messages", conversation.pk, despues="x")).status_code == 200


def test_row_partial_is_empty_when_the_conversation_left_the_tray(logged, channel, agent):
    conversation = conversation_for(channel, "Hola")
    assert f'data-conversation-id="{conversation.pk}"' in (
        logged.get(url("row", conversation.pk, bandeja="pending")).content.decode()
    )
    services.assign_conversation(conversation=conversation, assignee=agent, by=agent)
    assert logged.get(url("row", conversation.pk, bandeja="pending")).content == b""
    assert logged.get(url("row", conversation.pk, bandeja="open")).content != b""


def test_take_moves_to_en_curso_and_assigns_me(logged, channel, agent):
    conversation = conversation_for(channel)
    response = logged.post(url("take", conversation.pk), **HTMX)
    assert response.status_code == 200
    assert 'id="chat-header"' in response.content.decode()
    assert json.loads(response["HX-Trigger"]) == {"inbox:changed": {"id": conversation.pk}}
    conversation.refresh_from_db()
    assert conversation.assignee == agent
    assert conversation.status == ConversationStatus.OPEN


def test_take_without_javascript_redirects_back(logged, channel, agent):
    conversation = conversation_for(channel)
    response = logged.post(url("take", conversation.pk), {"bandeja": "pending"})
    assert response.status_code == 302
    assert response["Location"] == f"/inbox/{conversation.pk}/?bandeja=pending"


def test_transfer_to_another_agent(logged, channel, agent, team):
    colleague = UserFactory(username="sofia", display_name="Sofía Núñez")
    conversation = conversation_for(channel)
    response = logged.post(url("transfer", conversation.pk), {"assignee": colleague.pk}, **HTMX)
    assert response.status_code == 200
    assert "Sofía Núñez" in response.content.decode()
    conversation.refresh_from_db()
    assert conversation.assignee == colleague and conversation.team == team


def test_transfer_to_another_team_leaves_the_agent_on_the_list(logged, channel, agent):
    ventas = TeamFactory(name="Ventas")
    conversation = conversation_for(channel)
    response = logged.post(url("transfer", conversation.pk), {"team": ventas.pk}, **HTMX)
    assert response.status_code == 204 and response["HX-Redirect"] == "/inbox/"
    conversation.refresh_from_db()
    assert conversation.team == ventas
    assert logged.get(url("conversation", conversation.pk)).status_code == 403


def test_transfer_with_a_bad_agent_changes_nothing(logged, channel):
    conversation = conversation_for(channel)
    response = logged.post(url("transfer", conversation.pk), {"assignee": "999"}, **HTMX)
    assert "Elige un agente o un equipo válido." in response.content.decode()
    conversation.refresh_from_db()
    assert conversation.assignee is None


def test_move_between_trays_and_resolve(logged, channel, agent):
    conversation = conversation_for(channel)
    logged.post(url("move", conversation.pk), {"status": "open"}, **HTMX)
    conversation.refresh_from_db()
    assert conversation.status == "open" and conversation.assignee == agent
    logged.post(url("move", conversation.pk), {"status": "resolved"}, **HTMX)
    conversation.refresh_from_db()
    assert conversation.status == "resolved" and conversation.resolved_at is not None
    response = logged.post(url("move", conversation.pk), {"status": "archivada"}, **HTMX)
    assert "Bandeja desconocida." in response.content.decode()
    conversation.refresh_from_db()
    assert conversation.status == "resolved"


def test_labels_are_set_on_the_conversation(logged, channel):
    vip, nuevo = LabelFactory(name="VIP"), LabelFactory(name="Nuevo")
    conversation = conversation_for(channel)
    logged.post(url("labels", conversation.pk), {"labels": [vip.pk, nuevo.pk]}, **HTMX)
    assert set(conversation.labels.all()) == {vip, nuevo}
    response = logged.post(url("labels", conversation.pk), {"labels": [vip.pk]}, **HTMX)
    assert "VIP" in response.content.decode()
    assert list(conversation.labels.all()) == [vip]
    logged.post(url("labels", conversation.pk), {"labels": ["999"]}, **HTMX)
    assert list(conversation.labels.all()) == [vip]


def test_mark_read_through_the_view(logged, channel, agent):
    conversation = conversation_for(channel)
    receive(channel, conversation.recipient, "¿Hola?")
    assert logged.post(url("mark_read", conversation.pk), **JSON).json() == {"unread": 0}
    assert Conversation.objects.get(pk=conversation.pk).unread_count == 0


# --- the composer ----------------------------------------------------------------------------


def test_send_text_returns_the_message_and_queues_it(
    logged, channel, agent, sent_to_connector, django_capture_on_commit_callbacks
):
    conversation = conversation_for(channel, name="Lucía")
    with django_capture_on_commit_callbacks(execute=True):
        response = logged.post(
            url("send", conversation.pk),
            {"body": "Hola {{contacto.nombre}}", "mode": "reply"},
            **JSON,
        )
    data = response.json()
    message = Message.objects.get(pk=data["id"])
    assert message.body == "Hola Lucía" and message.direction == "out"
    assert f'data-message-id="{message.pk}"' in data["html"]
    assert "message-out" in data["html"]
    assert [m.body for m in sent_to_connector] == ["Hola Lucía"]
    assert Message.objects.get(pk=message.pk).status == MessageStatus.SENT
    conversation.refresh_from_db()
    assert conversation.status == "open" and not conversation.awaiting_first_response


def test_private_note_is_never_delivered(
    logged, channel, agent, sent_to_connector, django_capture_on_commit_callbacks
):
    conversation = conversation_for(channel)
    with django_capture_on_commit_callbacks(execute=True):
        data = logged.post(
            url("send", conversation.pk), {"body": "Cliente VIP, ojo", "mode": "note"}, **JSON
        ).json()
    note = Message.objects.get(pk=data["id"])
    assert note.kind == MessageKind.NOTE
    assert "message-note" in data["html"] and "Nota privada" in data["html"]
    assert sent_to_connector == []
    assert Message.objects.get(pk=note.pk).status == note.status
    assert note.external_id == ""
    conversation.refresh_from_db()
    assert conversation.awaiting_first_response  # a note is not an answer


def test_empty_message_gets_a_spanish_error(logged, channel):
    conversation = conversation_for(channel)
    response = logged.post(url("send", conversation.pk), {"body": "  "}, **JSON)
    assert response.status_code == 400
    assert response.json() == {"error": "Escribe un mensaje."}
    assert conversation.messages.count() == 1


def test_send_without_javascript_redirects_with_the_error(logged, channel):
    conversation = conversation_for(channel)
    response = logged.post(url("send", conversation.pk), {"body": ""}, follow=True)
    assert "Escribe un mensaje." in response.content.decode()


def test_image_upload_becomes_an_image_message_with_its_file(logged, channel, agent):
    conversation = conversation_for(channel)
    upload = SimpleUploadedFile("foto.png", PNG, content_type="image/png")
    data = logged.post(url("send", conversation.pk), {"file": upload, "body": "Mirá"}, **JSON)
    message = Message.objects.get(pk=data.json()["id"])
    assert message.kind == MessageKind.IMAGE and message.body == "Mirá"
    attachment = Attachment.objects.get(owner_id=str(message.pk))
    assert attachment.contact_id == conversation.contact_id
    assert "media-image" in data.json()["html"]

    file_url = reverse("inbox:attachment", args=[conversation.pk, attachment.pk])
    response = logged.get(file_url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in logged.get(file_url + "?descargar=1")["Content-Disposition"]


def test_voice_note_and_document_kinds(logged, channel):
    conversation = conversation_for(channel)
    voice = SimpleUploadedFile("nota-de-voz.ogg", b"OggS" + b"\x00" * 40)
    data = logged.post(url("send", conversation.pk), {"file": voice, "kind": "voice"}, **JSON)
    assert Message.objects.get(pk=data.json()["id"]).kind == MessageKind.VOICE
    pdf = SimpleUploadedFile("poliza.pdf", b"%PDF-1.4\n%x\n")
    data = logged.post(url("send", conversation.pk), {"file": pdf}, **JSON)
    assert Message.objects.get(pk=data.json()["id"]).kind == MessageKind.FILE
    assert "poliza.pdf" in data.json()["html"]


def test_upload_of_a_refused_type_or_size_changes_nothing(logged, channel, settings):
    conversation = conversation_for(channel)
    script = SimpleUploadedFile("virus.exe", b"MZ" + b"\x00" * 40)
    response = logged.post(url("send", conversation.pk), {"file": script}, **JSON)
    assert response.status_code == 400
    assert response.json()["error"] == "Tipo de archivo no permitido."
    fake = SimpleUploadedFile("foto.png", b"no soy un png")
    response = logged.post(url("send", conversation.pk), {"file": fake}, **JSON)
    assert response.json()["error"] == "El contenido del archivo no corresponde a su tipo."
    settings.ATIENDE_MAX_UPLOAD_MB = 1
    big = SimpleUploadedFile("grande.png", PNG + b"\x00" * (1024 * 1024))
    response = logged.post(url("send", conversation.pk), {"file": big}, **JSON)
    assert response.json()["error"] == "El archivo supera el tamaño máximo de 1 MB."
    assert conversation.messages.count() == 1
    assert not Attachment.objects.exists()


def test_location_is_sent_and_shown_as_a_map_link(logged, channel):
    conversation = conversation_for(channel)
    data = logged.post(
        url("send", conversation.pk),
        {"kind": "location", "latitude": "-25.2867", "longitude": "-57.647", "name": "Oficina"},
        **JSON,
    ).json()
    message = Message.objects.get(pk=data["id"])
    assert message.kind == MessageKind.LOCATION
    assert message.payload["latitude"] == -25.2867
    assert "openstreetmap.org/?mlat=-25.2867" in data["html"]
    bad = logged.post(url("send", conversation.pk), {"kind": "location", "latitude": "200"}, **JSON)
    assert bad.json() == {"error": "Ubicación no válida."}


def test_retry_of_a_failed_message(
    logged, channel, agent, sent_to_connector, django_capture_on_commit_callbacks
):
    conversation = conversation_for(channel)
    message = services.send_message(conversation=conversation, by=agent, body="Hola")
    Message.objects.filter(pk=message.pk).update(
        status=MessageStatus.FAILED, error_message="Proveedor caído", attempts=4
    )
    html = logged.get(url("conversation", conversation.pk)).content.decode()
    assert "Proveedor caído" in html and 'data-action="retry"' in html

    with django_capture_on_commit_callbacks(execute=True):
        response = logged.post(reverse("inbox:retry", args=[conversation.pk, message.pk]), **HTMX)
    assert response.status_code == 200
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT  # queued again, then delivered by the job
    assert [m.body for m in sent_to_connector] == ["Hola"]
    again = logged.post(reverse("inbox:retry", args=[conversation.pk, message.pk]), **HTMX)
    assert "Solo se reintentan mensajes fallidos." in again.content.decode()


def test_template_picker_and_send(logged, channel):
    template = MessageTemplate.objects.create(
        channel=channel, name="bienvenida", body="Hola {{1}}, tu cuota vence el {{2}}."
    )
    MessageTemplate.objects.create(
        channel=channel, name="borrador", body="x", status=MessageTemplate.Status.PENDING
    )
    conversation = conversation_for(channel)
    html = logged.get(url("templates", conversation.pk, q="bien")).content.decode()
    assert "bienvenida" in html and "borrador" not in html
    assert html.count('name="variable"') == 2
    response = logged.post(
        url("send_template", conversation.pk),
        {"template": template.pk, "variable": ["Ana"]},
        **JSON,
    )
    assert response.json() == {"error": "Completa todas las variables de la plantilla."}
    data = logged.post(
        url("send_template", conversation.pk),
        {"template": template.pk, "variable": ["Ana", "5 de mayo"]},
        **JSON,
    ).json()
    assert Message.objects.get(pk=data["id"]).body == "Hola Ana, tu cuota vence el 5 de mayo."


# --- canned responses and mentions -----------------------------------------------------------


def test_canned_list_filters_by_prefix_and_fills_variables(logged, channel, agent, team):
    CannedResponse.objects.create(
        shortcut="saludo", title="Saludo", body="Hola {{contacto.nombre}}, soy {{agente.nombre}}."
    )
    CannedResponse.objects.create(shortcut="horario", title="Horario", body="De 8 a 18.")
    CannedResponse.objects.create(
        shortcut="secreto", title="De otro equipo", body="x", team=TeamFactory(name="Otro")
    )
    CannedResponse.objects.create(shortcut="sala", title="Sala", body="Sala 2", team=team)
    conversation = conversation_for(channel, name="Lucía Benítez")

    html = logged.get(url("canned", conversation.pk, q="sa")).content.decode()
    assert html.count('class="canned-item') == 2
    assert 'data-body="Hola Lucía, soy María González."' in html
    assert "/horario" not in html and "/secreto" not in html
    assert html.index("/sala") < html.index("/saludo")
    assert 'class="canned-item active"' in html  # the first one is highlighted
    everything = logged.get(url("canned", conversation.pk)).content.decode()
    assert everything.count('class="canned-item') == 3
    none = logged.get(url("canned", conversation.pk, q="zzz")).content.decode()
    assert "Ninguna respuesta rápida empieza con «/zzz»." in none


def test_mentions_list_usernames(logged, agent):
    UserFactory(username="sofia", display_name="Sofía Núñez")
    html = logged.get(url("mentions", q="sof")).content.decode()
    assert 'data-username="sofia"' in html and "agente" not in html


# --- "Enviar mensaje a número" ---------------------------------------------------------------


def test_start_conversation_with_a_number(logged, channel, agent):
    response = logged.post(
        url("start"),
        {"channel": channel.pk, "phone": "0991 651351", "body": "Hola, te escribimos de Atiende"},
        **HTMX,
    )
    assert response.status_code == 204
    conversation = Conversation.objects.get()
    assert response["HX-Redirect"] == f"/inbox/{conversation.pk}/?bandeja=open"
    assert conversation.contact.primary_phone == "+595991651351"
    assert conversation.assignee == agent
    assert conversation.messages.get().body == "Hola, te escribimos de Atiende"


def test_start_with_an_invalid_phone_shows_a_spanish_error_and_creates_nothing(logged, channel):
    response = logged.post(
        url("start"), {"channel": channel.pk, "phone": "12", "body": "Hola"}, **HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "is-invalid" in html or "invalid-feedback" in html
    assert "número" in html.lower()
    assert not Conversation.objects.exists()
    assert not Contact.objects.exists()
    assert not Message.objects.exists()


def test_start_needs_a_text_or_a_template(logged, channel):
    response = logged.post(url("start"), {"channel": channel.pk, "phone": "0991 651351"})
    assert "Escribe un mensaje o elige una plantilla." in response.content.decode()
    assert not Conversation.objects.exists()


def test_start_form_page_without_javascript(logged, channel):
    response = logged.get(url("start"))
    assert response.status_code == 200
    assert "Enviar mensaje a número" in response.content.decode()


def test_long_threads_load_older_messages_on_demand(logged, channel):
    conversation = conversation_for(channel, "Mensaje 0")
    for n in range(1, 65):
        receive(channel, conversation.recipient, f"Mensaje {n}")
    response = logged.get(url("conversation", conversation.pk))
    items = response.context["items"]
    assert len(items) == 60 and items[-1]["message"].body == "Mensaje 64"
    assert "Ver mensajes anteriores" in response.content.decode()
    older = logged.get(url("messages", conversation.pk, antes=items[0]["message"].pk), **HTMX)
    bodies = [item["message"].body for item in older.context["items"]]
    assert bodies == [f"Mensaje {n}" for n in range(5)]
    assert "Ver mensajes anteriores" not in older.content.decode()


def test_demo_inbox_is_idempotent_and_fills_the_three_trays(client):
    from io import StringIO

    from django.core.management import call_command

    from atiende.inbox.models import Channel
    from atiende.users.models import User

    call_command("seed_demo", stdout=StringIO())
    counts = (Channel.objects.count(), Conversation.objects.count(), Message.objects.count())
    call_command("seed_demo", stdout=StringIO())
    assert (Channel.objects.count(), Conversation.objects.count(), Message.objects.count()) == (
        counts
    )
    assert counts[0] == 2 and counts[1] == 10
    assert {"saludo", "horario", "despedida"} <= set(
        CannedResponse.objects.values_list("shortcut", flat=True)
    )
    assert MessageTemplate.objects.count() == 2
    client.force_login(User.objects.get(username="supervisor"))
    assert client.get(url("counts")).json() == {"pending": 3, "open": 4, "resolved": 3}
    assert not Message.objects.filter(status=MessageStatus.QUEUED).exists()  # nothing to send


def test_template_picker_prefills_variables_from_the_contact_and_previews(logged, channel, agent):
    template = MessageTemplate.objects.create(
        channel=channel,
        name="cuota",
        body="Hola {{1}} {{2}}, soy {{3}}. Vence el {{4}}.",
        variable_map={"1": "contacto.nombre", "2": "contacto.apellido", "3": "agente.nombre"},
    )
    conversation = conversation_for(channel, name="Lucía Benítez")
    defaults = services.template_defaults(template, conversation, agent)
    assert defaults == ["Lucía", "Benítez", agent.name, ""]
    html = logged.get(url("templates", conversation.pk)).content.decode()
    assert 'value="Lucía"' in html and 'value="Benítez"' in html
    assert html.count('name="variable"') == 4 and 'data-variable="4" ' in html
    assert "data-template-preview" in html and "Vista previa" in html
    data = logged.post(
        url("send_template", conversation.pk),
        {"template": template.pk, "variable": [*defaults[:3], "5 de mayo"]},
        **JSON,
    ).json()
    assert Message.objects.get(pk=data["id"]).body == (
        f"Hola Lucía Benítez, soy {agent.name}. Vence el 5 de mayo."
    )
