"""Sending through the local Graph server: the exact JSON Meta receives, its errors, the
24-hour window, template sync and pacing."""

import datetime
import itertools
import time

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from atiende.connectors.base import OutboundMessage
from atiende.connectors.whatsapp import services
from atiende.connectors.whatsapp.connector import WhatsAppConnector
from atiende.connectors.whatsapp.tests.wa_data import (
    NUMBER_ID,
    VERSION,
    WABA_ID,
    envelope,
    message,
    post_webhook,
)
from atiende.inbox import services as inbox
from atiende.inbox.models import Conversation, Message, MessageStatus, MessageTemplate

pytestmark = pytest.mark.django_db

SEND = f"/{VERSION}/{NUMBER_ID}/messages"


def ok(wamid="wamid.SALIENTE1"):
    return (
        200,
        {
            "messaging_product": "whatsapp",
            "contacts": [{"input": "595981123456", "wa_id": "595981123456"}],
            "messages": [{"id": wamid}],
        },
        "application/json",
    )


def meta_error(code, message="error", status=400):
    body = {
        "error": {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": message},
            "fbtrace_id": "A1",
        }
    }
    return (status, body, "application/json")


@pytest.fixture
def conversation(client, wa_channel):
    post_webhook(client, envelope([message(body="Hola, quiero información")]))
    return Conversation.objects.get()


def send(supervisor, conversation, capture, **kwargs):
    with capture(execute=True):
        stored = inbox.send_message(conversation=conversation, by=supervisor, **kwargs)
    stored.refresh_from_db()
    return stored


def test_text_reply_reaches_meta_with_the_exact_json(
    graph, conversation, supervisor, django_capture_on_commit_callbacks
):
    graph.answer("POST", SEND, ok())
    stored = send(
        supervisor,
        conversation,
        django_capture_on_commit_callbacks,
        body="Hola, mira https://atiende.example/planes",
    )
    assert stored.status == MessageStatus.SENT
    assert stored.external_id == "wamid.SALIENTE1"
    [request] = graph.sent("POST", SEND)
    assert request.headers["Authorization"] == "Bearer EAAG-token"
    assert request.json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "595981123456",
        "type": "text",
        "text": {"preview_url": True, "body": "Hola, mira https://atiende.example/planes"},
    }


def test_template_reaches_meta_with_language_and_body_parameters(
    graph, conversation, supervisor, django_capture_on_commit_callbacks
):
    template = MessageTemplate.objects.create(
        channel=conversation.channel,
        name="recordatorio_pago",
        language="es_AR",
        body="Hola {{1}}, tu cuota de {{2}} vence mañana.",
        status="approved",
    )
    graph.answer("POST", SEND, ok("wamid.PLANTILLA"))
    with django_capture_on_commit_callbacks(execute=True):
        stored = inbox.send_template(
            conversation=conversation,
            by=supervisor,
            template=template,
            variables=["Lucía", "noviembre"],
        )
    stored.refresh_from_db()
    assert stored.status == MessageStatus.SENT
    assert stored.body == "Hola Lucía, tu cuota de noviembre vence mañana."
    assert graph.sent("POST", SEND)[0].json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "595981123456",
        "type": "template",
        "template": {
            "name": "recordatorio_pago",
            "language": {"code": "es_AR"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Lucía"},
                        {"type": "text", "text": "noviembre"},
                    ],
                }
            ],
        },
    }


def test_outside_the_window_error_fails_at_once_with_the_spanish_explanation(
    graph, conversation, supervisor, django_capture_on_commit_callbacks, fast_retries
):
    graph.answer("POST", SEND, meta_error(131047, "Re-engagement message"))
    stored = send(supervisor, conversation, django_capture_on_commit_callbacks, body="Hola")
    assert stored.status == MessageStatus.FAILED
    assert stored.error_code == "131047"
    assert "24 horas" in stored.error_message
    assert len(graph.sent("POST", SEND)) == 1


def test_throughput_error_is_retried_then_sent(
    graph, conversation, supervisor, django_capture_on_commit_callbacks, fast_retries
):
    graph.answer("POST", SEND, meta_error(130429, "Rate limit hit"), ok("wamid.LUEGO"))
    stored = send(supervisor, conversation, django_capture_on_commit_callbacks, body="Hola")
    assert stored.status == MessageStatus.SENT
    assert stored.external_id == "wamid.LUEGO"
    assert stored.attempts == 2
    assert len(graph.sent("POST", SEND)) == 2


def test_template_error_is_final(graph, wa_channel):
    graph.answer("POST", SEND, meta_error(132001, "Template name does not exist"))
    outbound = OutboundMessage(
        message_id=1,
        recipient="595981123456",
        kind="template",
        payload={"template": "no_existe", "language": "es"},
    )
    with pytest.raises(Exception) as caught:
        WhatsAppConnector().send(wa_channel, outbound)
    assert caught.value.code == "132001" and caught.value.retryable is False
    assert "plantilla" in str(caught.value)


def test_image_is_uploaded_then_sent_by_id(graph, wa_channel):
    from atiende.connectors.base import Media

    graph.answer(
        "POST", f"/{VERSION}/{NUMBER_ID}/media", (200, {"id": "media-subida"}, "application/json")
    )
    graph.answer("POST", SEND, ok("wamid.IMG"))
    outbound = OutboundMessage(
        message_id=1,
        recipient="595981123456",
        kind="image",
        body="Tu factura",
        media=(Media(name="factura.png", mime_type="image/png", content=b"\x89PNG data"),),
    )
    assert WhatsAppConnector().send(wa_channel, outbound).external_id == "wamid.IMG"
    upload = graph.sent("POST", f"/{VERSION}/{NUMBER_ID}/media")[0]
    assert upload.headers["Content-Type"].startswith("multipart/form-data")
    assert b'name="messaging_product"\r\n\r\nwhatsapp' in upload.body
    assert b"\x89PNG data" in upload.body
    assert graph.sent("POST", SEND)[0].json["image"] == {
        "id": "media-subida",
        "caption": "Tu factura",
    }


def test_location_and_interactive_buttons(graph, wa_channel):
    graph.answer("POST", SEND, ok())
    connector = WhatsAppConnector()
    connector.send(
        wa_channel,
        OutboundMessage(
            message_id=1,
            recipient="595981123456",
            kind="location",
            payload={"latitude": -25.28, "longitude": -57.63, "name": "Sucursal Centro"},
        ),
    )
    connector.send(
        wa_channel,
        OutboundMessage(
            message_id=2,
            recipient="595981123456",
            kind="text",
            body="¿Confirmás?",
            payload={"buttons": [{"id": "si", "title": "Sí"}, {"id": "no", "title": "No"}]},
        ),
    )
    location, buttons = (r.json for r in graph.sent("POST", SEND))
    assert location["location"] == {
        "latitude": -25.28,
        "longitude": -57.63,
        "name": "Sucursal Centro",
    }
    assert buttons["interactive"]["type"] == "button"
    assert buttons["interactive"]["action"]["buttons"][1] == {
        "type": "reply",
        "reply": {"id": "no", "title": "No"},
    }


# --- 24-hour window ------------------------------------------------------------------------


def test_free_text_outside_the_window_is_refused_but_a_template_goes(
    graph, conversation, supervisor, django_capture_on_commit_callbacks
):
    Conversation.objects.filter(pk=conversation.pk).update(
        last_inbound_at=timezone.now() - datetime.timedelta(hours=25)
    )
    conversation.refresh_from_db()
    assert not inbox.reply_window_open(conversation)
    with pytest.raises(ValidationError) as refused:
        inbox.send_message(conversation=conversation, by=supervisor, body="Hola")
    assert "más de 24 horas" in str(refused.value)
    assert not Message.objects.filter(direction="out").exists()
    template = MessageTemplate.objects.create(
        channel=conversation.channel, name="retomar", body="Hola, ¿seguimos?", status="approved"
    )
    graph.answer("POST", SEND, ok())
    with django_capture_on_commit_callbacks(execute=True):
        inbox.send_template(
            conversation=conversation, by=supervisor, template=template, variables=[]
        )
    assert Message.objects.get(direction="out").status == MessageStatus.SENT


def test_composer_shows_the_notice_and_only_templates_when_the_window_is_closed(
    client, conversation, supervisor
):
    client.force_login(supervisor)
    MessageTemplate.objects.create(
        channel=conversation.channel, name="retomar", body="Hola, ¿seguimos?", status="approved"
    )
    page = client.get(f"/inbox/{conversation.pk}/").content.decode()
    assert "más de 24 horas" not in page
    Conversation.objects.filter(pk=conversation.pk).update(
        last_inbound_at=timezone.now() - datetime.timedelta(hours=30)
    )
    page = client.get(f"/inbox/{conversation.pk}/").content.decode()
    assert "Pasaron más de 24 horas desde el último mensaje del cliente" in page
    assert 'data-window="closed"' in page


# --- templates -----------------------------------------------------------------------------


def test_sync_templates_pages_through_and_pauses_missing_ones(graph, wa_channel):
    old = MessageTemplate.objects.create(
        channel=wa_channel, name="vieja", body="x", status="approved"
    )
    path = f"/{VERSION}/{WABA_ID}/message_templates"
    page1 = {
        "data": [
            {
                "name": "bienvenida",
                "language": "es",
                "status": "APPROVED",
                "category": "MARKETING",
                "id": "1",
                "components": [
                    {"type": "HEADER", "format": "TEXT", "text": "Hola"},
                    {"type": "BODY", "text": "Hola {{1}}, gracias."},
                ],
            }
        ],
        "paging": {"cursors": {"after": "QVFI"}, "next": f"{graph.url}{path}?after=QVFI"},
    }
    page2 = {
        "data": [
            {
                "name": "pago_vencido",
                "language": "es_AR",
                "status": "REJECTED",
                "category": "UTILITY",
                "id": "2",
                "components": [{"type": "BODY", "text": "Tu pago vence"}],
            },
            {
                "name": "en_revision",
                "language": "en_US",
                "status": "PENDING",
                "category": "UTILITY",
                "components": [],
            },
        ],
        "paging": {"cursors": {"before": "QVFI"}},
    }
    graph.answer("GET", path, (200, page1, "application/json"), (200, page2, "application/json"))
    assert services.sync_templates(wa_channel) == 3
    templates = {t.name: t for t in MessageTemplate.objects.filter(channel=wa_channel)}
    assert templates["bienvenida"].status == "approved"
    assert templates["bienvenida"].body == "Hola {{1}}, gracias."
    assert templates["bienvenida"].category == "marketing"
    assert templates["bienvenida"].components[0]["type"] == "HEADER"
    assert (templates["pago_vencido"].status, templates["pago_vencido"].language) == (
        "rejected",
        "es_AR",
    )
    assert templates["en_revision"].status == "pending"
    old.refresh_from_db()
    assert old.status == "paused"
    assert len(graph.sent("GET", path)) == 2
    # Twice is the same.
    graph.answer("GET", path, (200, page1, "application/json"), (200, page2, "application/json"))
    services.sync_templates(wa_channel)
    assert MessageTemplate.objects.filter(channel=wa_channel).count() == 4


def test_pacing_keeps_sends_under_the_configured_rate(wa_channel):
    wa_channel.config = {**wa_channel.config, "max_per_second": 3}
    started = time.monotonic()
    for _ in range(7):
        services.pace(wa_channel)
    assert time.monotonic() - started >= 1.0


def _templates_page(graph):
    path = f"/{VERSION}/{WABA_ID}/message_templates"
    data = {
        "data": [
            {
                "name": "bienvenida",
                "language": "es",
                "status": "APPROVED",
                "category": "UTILITY",
                "components": [{"type": "BODY", "text": "Hola"}],
            }
        ]
    }
    graph.answer("GET", path, (200, data, "application/json"))


def test_sync_button_on_the_channel_settings_and_the_api(
    client, graph, wa_channel, admin_user, api_token
):
    client.force_login(admin_user)
    page = client.get(f"/ajustes/canales/{wa_channel.pk}/").content.decode()
    assert "Sincronizar plantillas" in page
    for field in (
        "phone_number_id",
        "waba_id",
        "access_token",
        "app_secret",
        "verify_token",
        "graph_version",
        "graph_base_url",
    ):
        assert f'name="whatsapp__{field}"' in page
    _templates_page(graph)
    response = client.post(f"/ajustes/canales/{wa_channel.pk}/sincronizar-plantillas/")
    assert response.status_code == 302
    assert MessageTemplate.objects.get(channel=wa_channel).name == "bienvenida"
    client.logout()
    response = client.post(
        f"/api/v1/channels/{wa_channel.pk}/templates/sync", headers=api_token(admin_user)
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"templates": 1}


def test_sync_needs_the_admin_and_reports_meta_errors(
    client, graph, wa_channel, agent, admin_user, api_token
):
    url = f"/api/v1/channels/{wa_channel.pk}/templates/sync"
    assert client.post(url, headers=api_token(agent)).status_code == 403
    path = f"/{VERSION}/{WABA_ID}/message_templates"
    graph.answer(
        "GET", path, (400, {"error": {"code": 100, "message": "Invalid WABA"}}, "application/json")
    )
    response = client.post(url, headers=api_token(admin_user))
    assert response.status_code in (400, 422)
    assert "Invalid WABA" in response.content.decode()


def test_pacing_spreads_a_backlog_over_the_second_instead_of_a_burst(wa_channel):
    """A backlog at the turn of a second: the 5 slots of 5/s are spaced 0.2 s apart, so no
    one-second window holds a second's quota twice (a burst would send all five at once)."""
    wa_channel.config = {**wa_channel.config, "max_per_second": 5}
    time.sleep(1.0 - time.time() % 1 + 0.001)
    started = time.time()
    sent = []
    for _ in range(5):
        services.pace(wa_channel)
        sent.append(time.time() - started)
    assert sent[0] < 0.1
    assert sent[-1] >= 0.7
    assert all(b - a >= 0.15 for a, b in itertools.pairwise(sent))
