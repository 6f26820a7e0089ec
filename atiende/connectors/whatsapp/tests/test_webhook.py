"""The WhatsApp webhook: handshake, signatures, storing once, and every inbound type."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atiende.connectors.whatsapp.models import WebhookEvent
from atiende.connectors.whatsapp.tests.wa_data import (
    NUMBER_ID,
    VERIFY_TOKEN,
    VERSION,
    envelope,
    message,
    post_webhook,
    sign,
    wamid,
)
from atiende.core.models import Attachment
from atiende.inbox import services as inbox
from atiende.inbox.models import Conversation, Message, MessageStatus
from atiende.inbox.tests.inbox_data import receive

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


# --- handshake -----------------------------------------------------------------------------


def test_handshake_answers_the_challenge_with_the_right_token(client, wa_channel):
    params = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    response = client.get("/webhooks/whatsapp", params)
    assert response.status_code == 200
    assert response.content == b"1158201444"
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "otro", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {},
    ],
)
def test_handshake_refuses_a_wrong_token(client, wa_channel, params):
    assert client.get("/webhooks/whatsapp", params).status_code == 403


# --- signatures ----------------------------------------------------------------------------


@pytest.mark.parametrize("signature", [None, "sha256=" + "0" * 64, "sha1=abc", "", "sha256="])
def test_missing_or_bad_signature_is_refused_and_nothing_is_stored(client, wa_channel, signature):
    response = post_webhook(client, envelope([message(body="Hola")]), signature=signature)
    assert response.status_code == 403
    assert not WebhookEvent.objects.exists()
    assert not Message.objects.exists()


def test_the_number_routing_is_not_read_from_the_database_on_every_post(client, wa_channel):
    assert post_webhook(client, envelope([message()])).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert post_webhook(client, envelope([message()])).status_code == 200
    listing = [q["sql"] for q in queries.captured_queries if "\"kind\" = 'whatsapp'" in q["sql"]]
    assert not listing  # the job reads its own channel by id; nobody lists them again
    assert Message.objects.count() == 2


def test_a_new_app_secret_applies_to_the_next_post(client, wa_channel):
    assert post_webhook(client, envelope([message()])).status_code == 200
    wa_channel.credentials = {**wa_channel.credentials, "app_secret": "secreto-nuevo"}
    wa_channel.save()
    raw = json.dumps(envelope([message()])).encode()
    assert post_webhook(client, raw).status_code == 403
    assert post_webhook(client, raw, signature=sign(raw, "secreto-nuevo")).status_code == 200
    wa_channel.is_active = False
    wa_channel.save()
    again = json.dumps(envelope([message()])).encode()
    assert post_webhook(client, again, signature=sign(again, "secreto-nuevo")).status_code == 403


def test_signature_with_another_secret_or_unknown_number_is_refused(client, wa_channel):
    raw = json.dumps(envelope([message()])).encode()
    assert post_webhook(client, raw, signature=sign(raw, "otro-secreto")).status_code == 403
    unknown = json.dumps(envelope([message()], number_id="999")).encode()
    assert post_webhook(client, unknown).status_code == 403
    assert post_webhook(client, b"not json").status_code == 403
    assert not WebhookEvent.objects.exists()


def test_signature_is_computed_over_the_raw_bytes(client, wa_channel):
    """Meta escapes non-ASCII and slashes: re-serialising would change the bytes."""
    data = envelope([message(body="Hola, ¿qué tal? 👋 https://ejemplo.com/a")])
    raw = json.dumps(data, ensure_ascii=True).replace("/", "\\/").encode()
    assert post_webhook(client, raw).status_code == 200
    assert Message.objects.get().body == "Hola, ¿qué tal? 👋 https://ejemplo.com/a"


# --- batches, duplicates, statuses ---------------------------------------------------------


def _outbound(conversation, body="Respuesta", external_id=""):
    message = Message.objects.create(
        conversation=conversation,
        channel=conversation.channel,
        direction="out",
        author_kind="agent",
        kind="text",
        body=body,
        status=MessageStatus.SENT,
        external_id=external_id or wamid(),
    )
    return message


def test_one_post_with_two_messages_and_three_statuses(client, wa_channel):
    first = receive(wa_channel, "595981123456", "Hola", phone="+595981123456")
    conversation = first.conversation
    a, b = _outbound(conversation), _outbound(conversation)
    data = envelope(
        [message(body="Primero"), message(body="Segundo")],
        statuses=[
            {
                "id": a.external_id,
                "status": "delivered",
                "timestamp": "1700000000",
                "recipient_id": "595981123456",
            },
            {
                "id": a.external_id,
                "status": "read",
                "timestamp": "1700000005",
                "recipient_id": "595981123456",
            },
            {
                "id": b.external_id,
                "status": "failed",
                "timestamp": "1700000001",
                "recipient_id": "595981123456",
                "errors": [{"code": 131026, "title": "Message undeliverable"}],
            },
        ],
    )
    assert post_webhook(client, data).status_code == 200
    inbound = Message.objects.filter(direction="in").order_by("id")
    assert [m.body for m in inbound] == ["Hola", "Primero", "Segundo"]
    assert {m.conversation_id for m in inbound} == {conversation.pk}
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.status == MessageStatus.READ
    assert b.status == MessageStatus.FAILED
    assert b.error_code == "131026"
    assert "No se pudo entregar" in b.error_message
    event = WebhookEvent.objects.get()
    assert event.processed_at is not None and event.error == ""


def test_the_same_webhook_five_times_stores_one_message(client, wa_channel):
    data = envelope([message(body="Solo una vez")])
    for _ in range(5):
        assert post_webhook(client, data).status_code == 200
    assert Message.objects.filter(body="Solo una vez").count() == 1
    assert WebhookEvent.objects.count() == 1
    # Meta may also resend the same message inside a differently shaped body.
    data["entry"][0]["id"] = "otro"
    assert post_webhook(client, data).status_code == 200
    assert Message.objects.filter(body="Solo una vez").count() == 1


def test_read_before_delivered_stays_read(client, wa_channel):
    conversation = receive(wa_channel, "595981123456", "Hola").conversation
    sent = _outbound(conversation)
    read = {"id": sent.external_id, "status": "read", "timestamp": "1700000010"}
    delivered = {"id": sent.external_id, "status": "delivered", "timestamp": "1700000005"}
    post_webhook(client, envelope(statuses=[read]))
    post_webhook(client, envelope(statuses=[delivered]))
    sent.refresh_from_db()
    assert sent.status == MessageStatus.READ
    assert sent.read_at is not None


# --- inbound types -------------------------------------------------------------------------


def _one(client, item, contacts=None) -> Message:
    assert post_webhook(client, envelope([item], contacts=contacts)).status_code == 200
    return Message.objects.filter(direction="in").latest("id")


def _media_routes(graph, media_id, content=PNG, mime="image/jpeg"):
    file_url = f"{graph.url}/files/{media_id}"
    graph.answer(
        "GET",
        f"/{VERSION}/{media_id}",
        (
            200,
            {
                "messaging_product": "whatsapp",
                "url": file_url,
                "mime_type": mime,
                "sha256": "x",
                "file_size": str(len(content)),
                "id": media_id,
            },
            "application/json",
        ),
    )
    graph.answer("GET", f"/files/{media_id}", (200, content, mime))


def test_text_fills_a_new_contact_with_the_profile_name(client, wa_channel):
    stored = _one(client, message(body="Buenas tardes"))
    assert (stored.kind, stored.body) == ("text", "Buenas tardes")
    conversation = stored.conversation
    assert conversation.recipient == "595981123456"
    assert conversation.contact.first_name == "Lucía"
    assert stored.external_id.startswith("wamid.")


@pytest.mark.parametrize(
    ("wa_type", "content", "kind"),
    [
        ("image", {"mime_type": "image/jpeg", "caption": "Mi factura"}, "image"),
        ("video", {"mime_type": "video/mp4"}, "video"),
        ("audio", {"mime_type": "audio/ogg; codecs=opus", "voice": False}, "audio"),
        ("audio", {"mime_type": "audio/ogg; codecs=opus", "voice": True}, "voice"),
        ("document", {"mime_type": "application/pdf", "filename": "contrato.pdf"}, "file"),
        ("sticker", {"mime_type": "image/webp", "animated": False}, "image"),
    ],
)
def test_media_types_are_downloaded_and_attached(client, wa_channel, graph, wa_type, content, kind):
    media_id = f"media-{wa_type}-{kind}"
    mime = content["mime_type"].split(";")[0]
    body = b"%PDF-1.4\n%%EOF\n" if mime == "application/pdf" else PNG
    if mime != "application/pdf":
        body = {"image": PNG, "video": b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 40}.get(
            mime.split("/")[0], b"OggS" + b"\x00" * 60
        )
    _media_routes(graph, media_id, body, mime)
    stored = _one(client, message(wa_type, **content, id=media_id))
    assert stored.kind == kind
    assert stored.payload["media_id"] == media_id
    if content.get("caption"):
        assert stored.body == "Mi factura"
    download = graph.sent("GET", f"/files/{media_id}")
    assert download and download[0].headers["Authorization"] == "Bearer EAAG-token"
    attachments = Attachment.objects.filter(owner_id=str(stored.pk), owner_type__model="message")
    stored.refresh_from_db()
    if attachments.exists():
        attachment = attachments.get()
        assert attachment.size == len(body)
        assert attachment.contact_id == stored.conversation.contact_id
        if wa_type == "document":
            assert attachment.name == "contrato.pdf"
    else:  # a type Atiende does not accept is kept as a note, never lost
        assert "media_refused" in stored.payload


def test_media_download_failure_is_retried_then_flagged(client, wa_channel, graph, fast_retries):
    graph.answer(
        "GET",
        f"/{VERSION}/media-roto",
        (500, {"error": {"code": 2, "message": "x"}}, "application/json"),
    )
    stored = _one(client, message("image", id="media-roto", mime_type="image/jpeg"))
    stored.refresh_from_db()
    assert len(graph.sent("GET", f"/{VERSION}/media-roto")) == 3
    assert "media_error" in stored.payload
    assert not Attachment.objects.filter(owner_id=str(stored.pk)).exists()


def test_location(client, wa_channel):
    stored = _one(
        client,
        message(
            "location",
            latitude=-25.2637,
            longitude=-57.5759,
            name="Oficina",
            address="Av. Mariscal López 1234",
        ),
    )
    assert stored.kind == "location"
    assert stored.payload["latitude"] == -25.2637
    assert stored.payload["name"] == "Oficina"
    assert "Mariscal" in stored.body


def test_contacts_vcards(client, wa_channel):
    cards = [
        {
            "name": {"formatted_name": "Ana Gómez", "first_name": "Ana"},
            "phones": [{"phone": "+595 981 222333", "type": "CELL", "wa_id": "595981222333"}],
        }
    ]
    stored = _one(client, message("contacts", cards=cards))
    assert stored.kind == "text"
    assert "Ana Gómez" in stored.body and "+595 981 222333" in stored.body
    assert stored.payload["contacts"][0]["name"]["first_name"] == "Ana"


def test_interactive_replies_and_template_button(client, wa_channel):
    button = _one(
        client,
        message(
            "interactive", type="button_reply", button_reply={"id": "si", "title": "Sí, confirmar"}
        ),
    )
    assert (button.kind, button.body) == ("text", "Sí, confirmar")
    assert button.payload["interactive"]["id"] == "si"
    listed = _one(
        client,
        message(
            "interactive",
            type="list_reply",
            list_reply={"id": "plan-2", "title": "Plan Plus", "description": "El de siempre"},
        ),
    )
    assert listed.body == "Plan Plus"
    assert listed.payload["interactive"]["type"] == "list_reply"
    quick = _one(client, message("button", text="Quiero más info", payload="MAS_INFO"))
    assert quick.body == "Quiero más info"
    assert quick.payload["button"]["payload"] == "MAS_INFO"


def test_reply_context_links_the_quoted_message(client, wa_channel):
    first = _one(client, message(body="Original"))
    reply = _one(
        client, message(body="Respuesta", context={"from": "595981123456", "id": first.external_id})
    )
    assert reply.reply_to_id == first.pk


def test_reactions_are_shown_on_the_message_and_removed(client, wa_channel):
    target = _one(client, message(body="¿Les llegó el pago?"))
    post_webhook(client, envelope([message("reaction", message_id=target.external_id, emoji="👍")]))
    target.refresh_from_db()
    assert target.payload["reactions"] == {"595981123456": "👍"}
    assert Message.objects.count() == 1
    post_webhook(client, envelope([message("reaction", message_id=target.external_id)]))
    target.refresh_from_db()
    assert target.payload["reactions"] == {}
    post_webhook(client, envelope([message("reaction", message_id=target.external_id, emoji="❤️")]))
    post_webhook(client, envelope([message("reaction", message_id=target.external_id, emoji="")]))
    target.refresh_from_db()
    assert target.payload["reactions"] == {}


@pytest.mark.parametrize("wa_type", ["unsupported", "order", "something_new", "system"])
def test_unknown_types_are_kept_with_a_placeholder(client, wa_channel, wa_type):
    item = message(wa_type, dummy=1)
    if wa_type == "unsupported":
        item["errors"] = [{"code": 131051, "title": "Message type unknown"}]
    stored = _one(client, item)
    assert stored.kind == "unsupported"
    assert "no compatible" in stored.body


def test_username_without_wa_id_keys_the_contact_by_user_id(client, wa_channel):
    contacts = [{"profile": {"name": "Pedro"}, "wa_id": "", "user_id": "US.13491208655302741918"}]
    item = message(body="Hola desde mi usuario", sender="")
    item["from_user_id"] = "US.13491208655302741918"
    stored = _one(client, item, contacts=contacts)
    assert stored.conversation.recipient == "US.13491208655302741918"
    again = _one(client, message(body="Otra vez", sender=""), contacts=contacts)
    assert again.conversation_id == stored.conversation_id


def test_agent_opening_the_chat_sends_the_read_receipt(
    client, wa_channel, graph, agent, django_capture_on_commit_callbacks
):
    graph.answer(
        "POST", f"/{VERSION}/{NUMBER_ID}/messages", (200, {"success": True}, "application/json")
    )
    stored = _one(client, message(body="¿Hola?"))
    conversation = Conversation.objects.get(pk=stored.conversation_id)
    from atiende.users.models import Role

    agent.role = Role.SUPERVISOR
    agent.save()
    with django_capture_on_commit_callbacks(execute=True):
        inbox.mark_read(conversation=conversation, by=agent)
    sent = graph.sent("POST", f"/{VERSION}/{NUMBER_ID}/messages")
    assert [r.json for r in sent] == [
        {"messaging_product": "whatsapp", "status": "read", "message_id": stored.external_id}
    ]


def test_a_signed_body_with_nan_is_refused_and_stores_nothing(client, wa_channel):
    """Python's json accepts NaN; no database stores it as JSON, so it must never reach storage."""
    raw = json.dumps(envelope([message(body="Hola")])).encode()
    raw = raw.replace(b'"Hola"', b"NaN")
    assert post_webhook(client, raw).status_code == 403
    assert not WebhookEvent.objects.exists()
    assert not Message.objects.exists()


def test_a_nul_character_in_a_message_is_dropped_not_a_500(client, wa_channel):
    """PostgreSQL cannot store NUL in text or jsonb; the message is kept without it."""
    raw = json.dumps(envelope([message(body="Ho\u0000la")])).encode()
    assert post_webhook(client, raw).status_code == 200
    assert Message.objects.get().body == "Hola"


def test_a_lone_surrogate_in_a_message_is_replaced_not_a_500(client, wa_channel):
    raw = json.dumps(envelope([message(body="Hola")])).encode().replace(b"Hola", b"Ho\\ud800la")
    assert post_webhook(client, raw).status_code == 200
    assert Message.objects.get().body == "Ho?la"
