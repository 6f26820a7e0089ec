"""Messenger and Instagram: webhook handshake, signature, DMs in and out, statuses, comments.

Meta's side is a real HTTP server on 127.0.0.1 (`meta_graph`), pointed to by the channel's
`graph_base_url`; webhooks are posted signed exactly as Meta signs them (HMAC over raw bytes).
"""

import json

import pytest

from atiende.connectors.meta.models import MetaWebhookEvent
from atiende.connectors.tests.meta_graph import PNG, meta_channel, sign, start_graph
from atiende.contacts.models import ContactPoint
from atiende.core.models import Attachment
from atiende.inbox import services
from atiende.inbox.models import (
    Conversation,
    Message,
    MessageDirection,
    MessageKind,
    MessageStatus,
    SocialComment,
)

pytestmark = pytest.mark.django_db(transaction=True)

PSID = "2400000000000001"
IGSID = "1780000000000002"


@pytest.fixture
def graph():
    graph, server = start_graph()
    yield graph
    server.shutdown()
    server.server_close()


@pytest.fixture
def messenger(graph):
    return meta_channel("messenger", graph)


@pytest.fixture
def instagram(graph):
    return meta_channel("instagram", graph)


def post(client, payload, secret, *, signature=None, raw=None):
    body = raw if raw is not None else json.dumps(payload, ensure_ascii=True).encode()
    headers = {}
    if signature is not False:
        headers["X-Hub-Signature-256"] = signature or sign(body, secret)
    return client.post(
        "/webhooks/meta", data=body, content_type="application/json", headers=headers
    )


def page_event(*messaging, page_id="1001"):
    return {"object": "page", "entry": [{"id": page_id, "time": 1, "messaging": list(messaging)}]}


def ig_event(*messaging, account="17841400000000001"):
    return {
        "object": "instagram",
        "entry": [{"id": account, "time": 1, "messaging": list(messaging)}],
    }


def dm(mid, text=None, *, sender=PSID, recipient="1001", ts=1764000000123, **message):
    body = {"mid": mid, **message}
    if text is not None:
        body["text"] = text
    return {
        "sender": {"id": sender},
        "recipient": {"id": recipient},
        "timestamp": ts,
        "message": body,
    }


# --- handshake and signature ----------------------------------------------------------------------


def test_handshake_answers_the_challenge_for_a_known_verify_token(client, messenger):
    params = {"hub.mode": "subscribe", "hub.verify_token": "verificar-messenger"}
    response = client.get("/webhooks/meta", {**params, "hub.challenge": "1158201444"})
    assert response.status_code == 200
    assert response.content == b"1158201444"


def test_handshake_with_a_wrong_token_is_refused(client, messenger):
    params = {"hub.mode": "subscribe", "hub.verify_token": "otro", "hub.challenge": "1"}
    assert client.get("/webhooks/meta", params).status_code == 403


@pytest.mark.parametrize("signature", [False, "sha256=" + "0" * 64, "sha1=abc", "basura"])
def test_missing_or_bad_signature_is_403_and_nothing_is_stored(client, messenger, signature):
    response = post(client, page_event(dm("m_1", "Hola")), "", signature=signature)
    assert response.status_code == 403
    assert MetaWebhookEvent.objects.count() == 0
    assert Message.objects.count() == 0


def test_signature_with_another_channels_secret_or_unknown_page_is_403(client, messenger):
    assert post(client, page_event(dm("m_1", "Hola")), "secreto-otro").status_code == 403
    unknown = page_event(dm("m_1", "Hola"), page_id="999")
    assert post(client, unknown, "secreto-messenger").status_code == 403
    assert MetaWebhookEvent.objects.count() == 0


def test_signature_is_over_the_raw_bytes_with_escaped_unicode(client, messenger):
    raw = json.dumps(page_event(dm("m_1", "¿Está abierto? 😀 a/b")), ensure_ascii=True)
    raw = raw.replace("/", "\\/").encode()
    assert post(client, None, "secreto-messenger", raw=raw).status_code == 200
    assert Message.objects.get().body == "¿Está abierto? 😀 a/b"


# --- Messenger DMs --------------------------------------------------------------------------------


def test_messenger_text_creates_contact_with_profile_name_and_ms_timestamp(
    client, messenger, graph
):
    response = post(client, page_event(dm("m_1", "Hola, ¿tienen stock?")), "secreto-messenger")
    assert response.status_code == 200
    message = Message.objects.get()
    assert message.body == "Hola, ¿tienen stock?"
    assert message.direction == MessageDirection.INBOUND
    conversation = message.conversation
    assert conversation.recipient == PSID
    assert conversation.last_inbound_at.year == 2025  # 1764000000123 ms, not seconds
    contact = conversation.contact
    assert (contact.first_name, contact.last_name) == ("Lucía", "Benítez")
    assert contact.points.filter(kind=ContactPoint.Kind.MESSENGER, value=PSID).exists()
    lookup = graph.calls("GET", f"/{PSID}")
    assert lookup and lookup[0].query["fields"] == ["first_name,last_name"]
    assert lookup[0].headers["Authorization"] == "Bearer token-pagina"
    assert MetaWebhookEvent.objects.get().processed_at is not None


def test_profile_lookup_failure_never_loses_the_message(client, messenger, graph):
    graph.reply("GET", f"/{PSID}", 400, {"error": {"message": "No permission", "code": 10}})
    post(client, page_event(dm("m_1", "Hola")), "secreto-messenger")
    assert Message.objects.get().body == "Hola"


def test_messenger_attachment_is_downloaded_into_an_attachment(client, messenger, graph):
    url = f"{graph.base_url}/media/foto.png?token=abc"
    attachment = {"type": "image", "payload": {"url": url}}
    post(client, page_event(dm("m_img", attachments=[attachment])), "secreto-messenger")
    message = Message.objects.get()
    assert message.kind == MessageKind.IMAGE
    stored = Attachment.objects.get(owner_id=str(message.pk))
    assert stored.mime_type == "image/png"
    assert stored.file.read() == PNG
    message.refresh_from_db()
    assert message.payload["media"][0]["stored"] is True


def test_attachment_download_failure_is_retried_then_flagged(client, messenger, graph, settings):
    settings.ATIENDE_SEND_BACKOFF_SECONDS = 0
    graph.reply("GET", "/media/roto.png", 500, {"error": {"message": "boom"}})
    attachment = {"type": "image", "payload": {"url": f"{graph.base_url}/media/roto.png"}}
    post(client, page_event(dm("m_img", attachments=[attachment])), "secreto-messenger")
    message = Message.objects.get()
    assert message.payload["media"][0]["failed"] is True
    assert len(graph.calls("GET", "/media/roto.png")) == 3
    assert not Attachment.objects.filter(owner_id=str(message.pk)).exists()


def test_quick_reply_payload_is_kept(client, messenger):
    event = dm("m_q", "Sí, quiero", quick_reply={"payload": "CONFIRMAR_PEDIDO"})
    post(client, page_event(event), "secreto-messenger")
    message = Message.objects.get()
    assert message.body == "Sí, quiero"
    assert message.payload["quick_reply"] == "CONFIRMAR_PEDIDO"


def test_batched_entries_and_duplicates_five_times_give_one_message_each(client, messenger):
    payload = page_event(dm("m_1", "Uno"), dm("m_2", "Dos", ts=1764000000999))
    for _ in range(5):
        assert post(client, payload, "secreto-messenger").status_code == 200
    # A retry with different bytes (Meta re-batches) is caught by the message id.
    post(client, page_event(dm("m_2", "Dos", ts=1764000000999)), "secreto-messenger")
    assert sorted(Message.objects.values_list("body", flat=True)) == ["Dos", "Uno"]
    assert Conversation.objects.count() == 1
    assert MetaWebhookEvent.objects.count() == 2


def test_delivery_and_read_move_outbound_statuses(client, messenger, graph, supervisor):
    post(client, page_event(dm("m_1", "Hola")), "secreto-messenger")
    conversation = Conversation.objects.get()
    sent = services.send_message(conversation=conversation, by=supervisor, body="¿En qué te ayudo?")
    sent.refresh_from_db()
    assert sent.status == MessageStatus.SENT
    read_first = {
        "sender": {"id": PSID},
        "recipient": {"id": "1001"},
        "timestamp": 1764000009000,
        "read": {"watermark": 1999999999999},
    }
    delivery = {
        "sender": {"id": PSID},
        "recipient": {"id": "1001"},
        "timestamp": 1764000008000,
        "delivery": {"mids": [sent.external_id], "watermark": 1764000008000},
    }
    post(client, page_event(read_first), "secreto-messenger")
    sent.refresh_from_db()
    assert sent.status == MessageStatus.READ
    post(client, page_event(delivery), "secreto-messenger")
    sent.refresh_from_db()
    assert sent.status == MessageStatus.READ  # never backwards


def test_echo_from_the_page_inbox_is_stored_outbound_once(client, messenger, supervisor):
    post(client, page_event(dm("m_1", "Hola")), "secreto-messenger")
    echo = dm("m_echo", "Te respondo desde Business Suite", sender="1001", recipient=PSID)
    echo["message"]["is_echo"] = True
    post(client, page_event(echo), "secreto-messenger")
    post(client, page_event(echo, dm("m_3", "Gracias")), "secreto-messenger")
    stored = Message.objects.get(external_id="m_echo")
    assert stored.direction == MessageDirection.OUTBOUND and stored.author_id is None
    # An echo of our own send (same mid) is not stored twice.
    conversation = Conversation.objects.get()
    sent = services.send_message(conversation=conversation, by=supervisor, body="Listo")
    sent.refresh_from_db()
    own = dm(sent.external_id, "Listo", sender="1001", recipient=PSID)
    own["message"]["is_echo"] = True
    post(client, page_event(own), "secreto-messenger")
    assert Message.objects.filter(body="Listo").count() == 1
    # An echo to someone with no conversation creates nobody.
    stray = dm("m_stray", "Hola", sender="1001", recipient="555")
    stray["message"]["is_echo"] = True
    post(client, page_event(stray), "secreto-messenger")
    assert not Message.objects.filter(external_id="m_stray").exists()


def test_outbound_messenger_text_reaches_the_send_api(client, messenger, graph, supervisor):
    post(client, page_event(dm("m_1", "Hola")), "secreto-messenger")
    conversation = Conversation.objects.get()
    sent = services.send_message(conversation=conversation, by=supervisor, body="¡Hola Lucía!")
    sent.refresh_from_db()
    call = graph.calls("POST", "/1001/messages")[-1]
    assert call.json == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "¡Hola Lucía!"},
    }
    assert call.headers["Authorization"] == "Bearer token-pagina"
    assert sent.status == MessageStatus.SENT and sent.external_id.startswith("m_out_")


def test_outbound_rate_limit_is_retried_then_failed(client, messenger, graph, supervisor, settings):
    settings.ATIENDE_SEND_BACKOFF_SECONDS = 0
    post(client, page_event(dm("m_1", "Hola")), "secreto-messenger")
    graph.reply("POST", "/1001/messages", 400, {"error": {"message": "Too many", "code": 613}})
    sent = services.send_message(
        conversation=Conversation.objects.get(), by=supervisor, body="Hola"
    )
    sent.refresh_from_db()
    assert sent.status == MessageStatus.FAILED and sent.error_code == "613"
    assert len(graph.calls("POST", "/1001/messages")) == settings.ATIENDE_SEND_ATTEMPTS


def test_outbound_permanent_error_fails_at_once(client, messenger, graph, supervisor):
    post(client, page_event(dm("m_1", "Hola")), "secreto-messenger")
    error = {"error": {"message": "Outside of allowed window", "code": 10}}
    graph.reply("POST", "/1001/messages", 400, error)
    sent = services.send_message(
        conversation=Conversation.objects.get(), by=supervisor, body="Hola"
    )
    sent.refresh_from_db()
    assert sent.status == MessageStatus.FAILED and sent.error_code == "10"
    assert len(graph.calls("POST", "/1001/messages")) == 1


# --- Instagram DMs --------------------------------------------------------------------------------


def test_instagram_dm_with_story_reply_context_and_outbound(client, instagram, graph, supervisor):
    story = {"story": {"url": "https://cdn.example.com/story.mp4", "id": "1799"}}
    event = dm("ig_m_1", "¡Qué lindo!", sender=IGSID, recipient="17841400000000001", reply_to=story)
    assert post(client, ig_event(event), "secreto-instagram").status_code == 200
    message = Message.objects.get()
    assert message.body == "¡Qué lindo!"
    assert message.payload["story"] == {
        "type": "reply",
        "id": "1799",
        "url": "https://cdn.example.com/story.mp4",
    }
    contact = message.conversation.contact
    assert contact.first_name == "Carla"
    assert graph.calls("GET", f"/{IGSID}")[0].query["fields"] == ["name,username"]
    mention = dm(
        "ig_m_2",
        sender=IGSID,
        recipient="17841400000000001",
        attachments=[{"type": "story_mention", "payload": {"url": "https://cdn.example.com/s"}}],
    )
    post(client, ig_event(mention), "secreto-instagram")
    assert Message.objects.get(external_id="ig_m_2").payload["story"]["type"] == "mention"
    sent = services.send_message(conversation=message.conversation, by=supervisor, body="¡Gracias!")
    sent.refresh_from_db()
    call = graph.calls("POST", "/1001/messages")[-1]
    assert call.json["recipient"] == {"id": IGSID}
    assert call.json["message"] == {"text": "¡Gracias!"}
    assert sent.status == MessageStatus.SENT
    read = {
        "sender": {"id": IGSID},
        "recipient": {"id": "17841400000000001"},
        "timestamp": 1764000009000,
        "read": {"mid": sent.external_id},
    }
    post(client, ig_event(read), "secreto-instagram")
    sent.refresh_from_db()
    assert sent.status == MessageStatus.READ


# --- comments arriving --------------------------------------------------------------------


def test_facebook_feed_comment_lands_in_the_tray_linked_to_a_known_contact(
    client, messenger, graph
):
    post(client, page_event(dm("m_1", "Hola")), "secreto-messenger")  # PSID becomes a contact
    contact = Conversation.objects.get().contact
    change = {
        "field": "feed",
        "value": {
            "item": "comment",
            "verb": "add",
            "comment_id": "456_789",
            "post_id": "1001_456",
            "parent_id": "1001_456",
            "from": {"id": PSID, "name": "Lucía Benítez"},
            "message": "¿Cuánto cuesta?",
            "created_time": 1764000000,
            "post": {"permalink_url": "https://www.facebook.com/1001/posts/456"},
        },
    }
    payload = {"object": "page", "entry": [{"id": "1001", "time": 1764000001, "changes": [change]}]}
    for _ in range(2):
        assert post(client, payload, "secreto-messenger").status_code == 200
    comment = SocialComment.objects.get()
    assert comment.contact == contact
    assert comment.body == "¿Cuánto cuesta?"
    assert comment.post_caption == "¡Promo de verano!"
    assert comment.post_thumbnail_url == "https://cdn.example.com/fb.jpg"
    assert comment.parent_external_id == ""
    assert comment.created_at.year == 2025  # seconds here, not milliseconds
    # The page's own reply and other feed items are not comments to answer.
    own = json.loads(json.dumps(change))
    own["value"].update(comment_id="456_790", **{"from": {"id": "1001", "name": "Tienda"}})
    like = {"field": "feed", "value": {"item": "reaction", "verb": "add"}}
    changes = {"object": "page", "entry": [{"id": "1001", "time": 2, "changes": [own, like]}]}
    post(client, changes, "secreto-messenger")
    assert SocialComment.objects.count() == 1


def test_instagram_comment_lands_linked_by_username(client, instagram):
    from atiende.contacts.services import PointInput, create_contact

    contact = create_contact(
        by=None,
        first_name="Carla",
        points=[PointInput(ContactPoint.Kind.INSTAGRAM, "carla.ruiz", primary=True)],
    )
    change = {
        "field": "comments",
        "value": {
            "from": {"id": "1780000000000099", "username": "carla.ruiz"},
            "media": {"id": "17900000000000001", "media_product_type": "FEED"},
            "id": "17865799348089039",
            "text": "¿Hacen envíos a Encarnación?",
        },
    }
    payload = {
        "object": "instagram",
        "entry": [{"id": "17841400000000001", "time": 1764000000, "changes": [change]}],
    }
    post(client, payload, "secreto-instagram")
    comment = SocialComment.objects.get()
    assert comment.contact == contact
    assert comment.author_name == "carla.ruiz"
    assert comment.post_caption == "Nueva colección de otoño"
    assert comment.post_thumbnail_url == "https://cdn.example.com/ig.jpg"
    assert comment.created_at.year == 2025


def test_outbound_image_is_uploaded_as_multipart(client, messenger, graph, supervisor):
    from django.core.files.uploadedfile import SimpleUploadedFile

    post(client, page_event(dm("m_1", "Hola")), "secreto-messenger")
    upload = SimpleUploadedFile("foto.png", PNG, content_type="image/png")
    sent = services.send_message(
        conversation=Conversation.objects.get(), by=supervisor, kind="image", upload=upload
    )
    sent.refresh_from_db()
    call = graph.calls("POST", "/1001/messages")[-1]
    assert call.headers["Content-Type"].startswith("multipart/form-data")
    assert b'name="filedata"; filename="foto.png"' in call.body
    assert PNG in call.body
    assert b'"type": "image"' in call.body and PSID.encode() in call.body
    assert sent.status == MessageStatus.SENT


def test_reaction_and_its_removal_show_on_the_message(client, messenger, supervisor):
    post(client, page_event(dm("m_1", "Hola")), "secreto-messenger")
    sent = services.send_message(conversation=Conversation.objects.get(), by=supervisor, body="Ok")
    sent.refresh_from_db()

    def reaction(**data):
        return {
            "sender": {"id": PSID},
            "recipient": {"id": "1001"},
            "timestamp": 1764000009000,
            "reaction": {"mid": sent.external_id, **data},
        }

    post(
        client,
        page_event(reaction(action="react", reaction="love", emoji="❤")),
        "secreto-messenger",
    )
    sent.refresh_from_db()
    assert sent.payload["reactions"] == {PSID: "❤"}
    post(client, page_event(reaction(action="unreact")), "secreto-messenger")
    sent.refresh_from_db()
    assert sent.payload["reactions"] == {}


def test_story_context_shows_in_the_chat(client, instagram, supervisor):
    story = {"story": {"url": "https://cdn.example.com/story.mp4", "id": "1799"}}
    event = dm("ig_m_1", "¡Qué lindo!", sender=IGSID, recipient="17841400000000001", reply_to=story)
    post(client, ig_event(event), "secreto-instagram")
    client.force_login(supervisor)
    conversation = Conversation.objects.get()
    html = client.get(f"/inbox/{conversation.pk}/").content.decode()
    assert "Respuesta a tu historia" in html
    assert 'href="https://cdn.example.com/story.mp4"' in html
