"""Messenger and Instagram webhooks: channel lookup, raw event storage, parsing and media.

A POST is matched to channels by `entry[].id` (the page id for `object: page`, the Instagram
account id for `object: instagram`) and verified with that channel's app secret; the raw body is
stored once (SHA-256 dedupe) and parsed by a job. Parsing never trusts the shape of the payload:
anything unexpected is skipped, and each message is stored in its own transaction, whole or not
at all.

Time units (Meta's documentation): direct messages carry milliseconds as numbers, page feed and
Instagram comments seconds as numbers.

Echoes (`message.is_echo`: the page wrote, e.g. from Meta Business Suite) are stored as outbound
messages without an agent in the customer's existing conversation, once per `mid`; our own sends
already carry that `mid` and are recognised. An echo for a customer with no conversation is
skipped: it would create a contact out of the page's own words.
"""

import datetime
import hashlib
import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from atiende.connectors.base import InboundMessage, Sender, StatusUpdate
from atiende.connectors.meta.models import MetaWebhookEvent
from atiende.inbox import services as inbox
from atiende.inbox.models import (
    Channel,
    ChannelKind,
    Conversation,
    Message,
    MessageAuthor,
    MessageDirection,
    MessageKind,
    MessageStatus,
)

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://graph.facebook.com"
DEFAULT_VERSION = "v21.0"
KIND_FOR_OBJECT = {"page": ChannelKind.MESSENGER, "instagram": ChannelKind.INSTAGRAM}
ID_KEY_FOR_KIND = {ChannelKind.MESSENGER: "page_id", ChannelKind.INSTAGRAM: "instagram_account_id"}
_ATTACHMENT_KINDS = {
    "image": MessageKind.IMAGE,
    "video": MessageKind.VIDEO,
    "audio": MessageKind.AUDIO,
    "file": MessageKind.FILE,
}
_DEFAULT_MIME = {
    "image": "image/jpeg",
    "video": "video/mp4",
    "audio": "audio/mpeg",
    "file": "application/octet-stream",
}
MAX_ID = 200


# --- channel settings --------------------------------------------------------------------------


def setting(channel: Channel, key: str, default: str = "") -> str:
    """A provider setting: the encrypted credentials first, then the plain config."""
    for source in (channel.credentials or {}, channel.config or {}):
        value = source.get(key)
        if value not in (None, ""):
            return str(value)
    return default


def graph_for(channel: Channel):
    from atiende.connectors.meta.graph import GraphClient

    return GraphClient(
        base_url=setting(channel, "graph_base_url", DEFAULT_BASE_URL),
        version=setting(channel, "graph_version", DEFAULT_VERSION),
        token=setting(channel, "page_access_token"),
    )


def messages_path(channel: Channel) -> str:
    """The Send API: `/{page_id}/messages` when the page id is known, else `/me/messages`."""
    page_id = setting(channel, "page_id")
    return f"/{page_id}/messages" if page_id else "/me/messages"


def _meta_channels():
    return Channel.objects.filter(
        kind__in=[ChannelKind.MESSENGER, ChannelKind.INSTAGRAM], is_active=True
    )


def verify_token_matches(params) -> str | None:
    """The handshake's challenge when any Messenger/Instagram channel has this verify token."""
    from atiende.connectors.meta.graph import handshake

    for channel in _meta_channels():
        challenge = handshake(params, setting(channel, "verify_token"))
        if challenge is not None:
            return challenge
    return None


def channel_for(kind: str, account_id: str) -> Channel | None:
    if not account_id or len(account_id) > MAX_ID:
        return None
    key = ID_KEY_FOR_KIND[kind]
    for channel in _meta_channels().filter(kind=kind).order_by("pk"):
        if setting(channel, key) == account_id:
            return channel
    return None


def _entries(payload: Any) -> tuple[str, list[dict]]:
    if not isinstance(payload, dict):
        return "", []
    kind = KIND_FOR_OBJECT.get(payload.get("object"))  # type: ignore[arg-type]
    entries = payload.get("entry")
    if kind is None or not isinstance(entries, list):
        return "", []
    return kind, [entry for entry in entries if isinstance(entry, dict)]


def _str(value: Any, limit: int = MAX_ID) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return ""
    return str(value)[:limit]


def verified_channels(raw_body: bytes, signature: str | None) -> list[Channel]:
    """The channels named by the entries whose app secret signs this body; [] = refuse (403)."""
    from atiende.connectors.meta.graph import parse_webhook_body, verify_signature

    if not signature:
        return []
    try:
        payload = parse_webhook_body(raw_body)
    except (ValueError, UnicodeDecodeError):
        return []
    kind, entries = _entries(payload)
    channels: dict[int, Channel] = {}
    for entry in entries:
        channel = channel_for(kind, _str(entry.get("id")))
        if (
            channel is not None
            and channel.pk not in channels
            and verify_signature(raw_body, signature, setting(channel, "app_secret"))
        ):
            channels[channel.pk] = channel
    return list(channels.values())


def store_event(raw_body: bytes, channel: Channel) -> MetaWebhookEvent | None:
    """Keep the raw delivery once; a retry of the same bytes returns None."""
    from atiende.connectors.meta.graph import parse_webhook_body

    key = hashlib.sha256(raw_body).hexdigest()
    payload = parse_webhook_body(raw_body)
    try:
        with transaction.atomic():
            event, created = MetaWebhookEvent.objects.get_or_create(
                dedupe_key=key, defaults={"channel": channel, "payload": payload}
            )
    except IntegrityError:
        return None
    return event if created else None


# --- processing ----------------------------------------------------------------------------------


def _from_ms(value: Any) -> datetime.datetime | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return datetime.datetime.fromtimestamp(value / 1000, tz=datetime.UTC)
    except (OverflowError, OSError, ValueError):
        return None


def from_seconds(value: Any) -> datetime.datetime | None:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return datetime.datetime.fromtimestamp(value, tz=datetime.UTC)
    except (OverflowError, OSError, ValueError):
        return None


def process_event(event_id: int) -> None:
    """Parse one stored delivery: every entry of a verified channel, each item on its own."""
    event = MetaWebhookEvent.objects.filter(pk=event_id, processed_at__isnull=True).first()
    if event is None:
        return
    kind, entries = _entries(event.payload)
    allowed = {event.channel_id}
    secret = setting(event.channel, "app_secret") if event.channel is not None else ""
    errors: list[str] = []
    for entry in entries:
        channel = channel_for(kind, _str(entry.get("id"))) if kind else None
        if channel is None:
            continue
        if channel.pk not in allowed and (not secret or setting(channel, "app_secret") != secret):
            continue  # not the secret that signed this body
        for item in _list(entry.get("messaging")):
            _guard(errors, handle_messaging, channel, item)
        for change in _list(entry.get("changes")):
            _guard(errors, handle_change, channel, change, entry)
    event.processed_at = timezone.now()
    event.error = "\n".join(errors)[:4000]
    event.save(update_fields=["processed_at", "error"])


def _list(value: Any) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _guard(errors: list[str], func, *args) -> None:
    try:
        func(*args)
    except Exception as exc:  # one bad item never loses the others
        logger.exception("meta webhook item failed")
        errors.append(f"{type(exc).__name__}: {exc}"[:300])


def handle_messaging(channel: Channel, item: dict) -> None:
    sender = _str(
        (item.get("sender") or {}).get("id") if isinstance(item.get("sender"), dict) else ""
    )
    recipient_obj = item.get("recipient")
    recipient = _str(recipient_obj.get("id")) if isinstance(recipient_obj, dict) else ""
    at = _from_ms(item.get("timestamp"))
    message = item.get("message")
    if isinstance(message, dict):
        if message.get("is_echo") is True:
            _store_echo(channel, recipient, message, at)
        elif sender:
            _receive(channel, sender, message, at)
        return
    postback = item.get("postback")
    if isinstance(postback, dict) and sender:
        mid = _str(postback.get("mid")) or f"postback-{sender}-{item.get('timestamp')}"
        title = _str(postback.get("title"), 1000)
        payload = {"postback": _str(postback.get("payload"), 1000)}
        _deliver_inbound(channel, sender, mid, title, payload, (), at)
        return
    delivery = item.get("delivery")
    if isinstance(delivery, dict):
        for mid in delivery.get("mids") or []:
            if _str(mid):
                inbox.apply_status(
                    StatusUpdate(
                        channel_id=channel.pk, external_id=_str(mid), status="delivered", at=at
                    )
                )
        _watermark(channel, sender, delivery.get("watermark"), "delivered")
        return
    read = item.get("read")
    if isinstance(read, dict):
        mid = _str(read.get("mid"))  # Instagram names the message read
        if mid:
            inbox.apply_status(
                StatusUpdate(channel_id=channel.pk, external_id=mid, status="read", at=at)
            )
        _watermark(channel, sender, read.get("watermark"), "read")
        return
    reaction = item.get("reaction")
    if isinstance(reaction, dict):
        _react(channel, sender, reaction)


def _watermark(channel: Channel, customer: str, watermark: Any, status: str) -> None:
    """Messenger: everything sent to this customer up to the watermark (ms) was delivered/read."""
    at = _from_ms(watermark)
    if at is None or not customer:
        return
    mids = (
        Message.objects.filter(
            channel=channel,
            conversation__recipient=customer,
            direction=MessageDirection.OUTBOUND,
            status__in=[MessageStatus.SENT, MessageStatus.DELIVERED],
            sent_at__lte=at,
        )
        .exclude(external_id="")
        .values_list("external_id", flat=True)[:200]
    )
    for mid in list(mids):
        inbox.apply_status(
            StatusUpdate(channel_id=channel.pk, external_id=mid, status=status, at=at)
        )


def _react(channel: Channel, customer: str, reaction: dict) -> None:
    """A reaction shown on the message; `unreact` (emoji absent or "") removes it."""
    mid = _str(reaction.get("mid"))
    if not mid or not customer:
        return
    emoji = "" if reaction.get("action") == "unreact" else _str(reaction.get("emoji"), 16)
    inbox.set_reaction(channel_id=channel.pk, external_id=mid, sender=customer, emoji=emoji)


def _receive(channel: Channel, sender: str, message: dict, at) -> None:
    mid = _str(message.get("mid"))
    if not mid:
        return
    text = message.get("text")
    body = text[: inbox.MAX_BODY] if isinstance(text, str) else ""
    payload: dict[str, Any] = {}
    quick = message.get("quick_reply")
    if isinstance(quick, dict) and _str(quick.get("payload"), 1000):
        payload["quick_reply"] = _str(quick.get("payload"), 1000)
    reply_to = message.get("reply_to")
    reply_mid = ""
    if isinstance(reply_to, dict):
        story = reply_to.get("story")
        if isinstance(story, dict):
            payload["story"] = {
                "type": "reply",
                "id": _str(story.get("id")),
                "url": _str(story.get("url"), 1000),
            }
        reply_mid = _str(reply_to.get("mid"))
    media: list[dict] = []
    for attachment in _list(message.get("attachments")):
        kind = _str(attachment.get("type"), 40)
        data = attachment.get("payload") if isinstance(attachment.get("payload"), dict) else {}
        url = _str(data.get("url"), 2000)
        if kind == "story_mention":
            payload["story"] = {"type": "mention", "id": _str(data.get("id")), "url": url}
        elif kind in _ATTACHMENT_KINDS and url.startswith(("http://", "https://")):
            media.append({"type": kind, "url": url})
        elif kind:
            payload.setdefault("unsupported", []).append(kind)
    if not body and "story" in payload:
        body = (
            _("Te mencionó en su historia")
            if payload["story"]["type"] == "mention"
            else _("Respondió a tu historia")
        )
    _deliver_inbound(channel, sender, mid, body, payload, media, at, reply_mid=reply_mid)


def _deliver_inbound(channel, sender, mid, body, payload, media, at, reply_mid="") -> None:
    kind = MessageKind.TEXT
    if media:
        kind = _ATTACHMENT_KINDS[media[0]["type"]]
        payload["media"] = media
    elif not body and not payload:
        kind = MessageKind.UNSUPPORTED
    if Message.objects.filter(channel=channel, external_id=mid).exists():
        return
    name = _profile_name(channel, sender)
    inbound = InboundMessage(
        channel_id=channel.pk,
        external_id=mid,
        sender=Sender(external_id=sender, name=name),
        kind=kind,
        body=body,
        payload=payload,
        sent_at=at,
        reply_to_external_id=reply_mid,
    )
    stored = inbox.receive_message(inbound)
    if stored is not None and media:
        from atiende.connectors.meta import jobs

        for index in range(len(media)):
            transaction.on_commit(
                lambda index=index: jobs.download_media(stored.pk, index), robust=True
            )


def _profile_name(channel: Channel, psid: str) -> str:
    """A new sender's name from the Graph API when the page may read it; "" on any failure."""
    if (channel.config or {}).get("fetch_profiles") is False:
        return ""
    if Conversation.objects.filter(channel=channel, recipient=psid).exists():
        return ""
    fields = "name,username" if channel.kind == ChannelKind.INSTAGRAM else "first_name,last_name"
    try:
        data = graph_for(channel).get(f"/{psid}", params={"fields": fields})
    except Exception:  # no permission, network: the message matters more than the name
        logger.info("meta profile lookup failed", extra={"channel_id": channel.pk})
        return ""
    if channel.kind == ChannelKind.INSTAGRAM:
        return _str(data.get("name"), 120) or _str(data.get("username"), 120)
    return " ".join(
        part for part in (_str(data.get("first_name"), 60), _str(data.get("last_name"), 60)) if part
    )


@transaction.atomic
def _store_echo(channel: Channel, customer: str, message: dict, at) -> None:
    mid = _str(message.get("mid"))
    if not mid or not customer:
        return
    if Message.objects.filter(channel=channel, external_id=mid).exists():
        return  # one of ours, or already stored
    conversation = (
        Conversation.objects.select_for_update()
        .filter(channel=channel, recipient=customer)
        .order_by("-id")
        .first()
    )
    if conversation is None:
        return
    text = message.get("text")
    body = text[: inbox.MAX_BODY] if isinstance(text, str) else ""
    kinds = [_str(a.get("type"), 40) for a in _list(message.get("attachments"))]
    kind = _ATTACHMENT_KINDS.get(kinds[0], MessageKind.UNSUPPORTED) if kinds else MessageKind.TEXT
    if kind == MessageKind.TEXT and not body:
        return
    now = at or timezone.now()
    try:
        with transaction.atomic():
            stored = Message.objects.create(
                conversation=conversation,
                channel=channel,
                direction=MessageDirection.OUTBOUND,
                author_kind=MessageAuthor.AGENT,
                kind=kind,
                body=body,
                payload={"echo": True},
                external_id=mid,
                status=MessageStatus.SENT,
                sent_at=now,
            )
    except IntegrityError:
        return
    conversation.last_message_at = now
    conversation.last_message_preview = inbox._preview(kind, body)
    conversation.last_message_inbound = False
    conversation.save(
        update_fields=["last_message_at", "last_message_preview", "last_message_inbound"]
    )
    inbox._publish(
        conversation, inbox.conversation_event(conversation, "inbox.message", message_id=stored.pk)
    )


def handle_change(channel: Channel, change: dict, entry: dict) -> None:
    """Page feed comments (`field: feed`, item comment) and Instagram `comments`."""
    from atiende.inbox import comments

    value = change.get("value")
    if not isinstance(value, dict):
        return
    field = change.get("field")
    if field == "feed" and channel.kind == ChannelKind.MESSENGER:
        if value.get("item") != "comment":
            return
        author = value.get("from") if isinstance(value.get("from"), dict) else {}
        author_id = _str(author.get("id"))
        if author_id and author_id == setting(channel, "page_id"):
            return  # the page's own reply
        comment_id = _str(value.get("comment_id"))
        if not comment_id:
            return
        verb = value.get("verb")
        if verb == "remove":
            comments.comment_removed(channel=channel, external_id=comment_id)
            return
        post = value.get("post") if isinstance(value.get("post"), dict) else {}
        post_id = _str(value.get("post_id"))
        parent = _str(value.get("parent_id"))
        comments.receive_comment(
            channel=channel,
            external_id=comment_id,
            post_id=post_id,
            parent_external_id="" if parent == post_id else parent,
            author_id=author_id,
            author_name=_str(author.get("name"), 200),
            body=_str(value.get("message"), 8000),
            created_at=from_seconds(value.get("created_time")),
            post_permalink=_str(post.get("permalink_url"), 500),
            edited=verb == "edited",
        )
    elif field == "comments" and channel.kind == ChannelKind.INSTAGRAM:
        author = value.get("from") if isinstance(value.get("from"), dict) else {}
        comment_id = _str(value.get("id"))
        author_id = _str(author.get("id"))
        if not comment_id or author_id == setting(channel, "instagram_account_id"):
            return
        media = value.get("media") if isinstance(value.get("media"), dict) else {}
        comments.receive_comment(
            channel=channel,
            external_id=comment_id,
            post_id=_str(media.get("id")),
            parent_external_id=_str(value.get("parent_id")),
            author_id=author_id,
            author_name=_str(author.get("username"), 200),
            body=_str(value.get("text"), 8000),
            created_at=from_seconds(entry.get("time")),
        )


# --- media -------------------------------------------------------------------------------------


def download_media(message_id: int, index: int) -> bool:
    """Fetch one attachment of an inbound message into Atiende's storage. Raises on failure."""
    from django.core.files.base import ContentFile

    from atiende.core.attachments import store_attachment

    message = (
        Message.objects.select_related("conversation", "channel").filter(pk=message_id).first()
    )
    if message is None:
        return True
    items = (message.payload or {}).get("media") or []
    if index >= len(items):
        return True
    item = items[index]
    if item.get("stored"):
        return True
    content, mime = graph_for(message.channel).download(item["url"])
    extension = {"image": "jpg", "video": "mp4", "audio": "mp3"}.get(item["type"], "bin")
    name = f"{item['type']}-{message.pk}-{index + 1}.{extension}"
    if mime and "/" in mime:
        import mimetypes

        name = f"{item['type']}-{message.pk}-{index + 1}{mimetypes.guess_extension(mime) or ''}"
    upload = ContentFile(content, name=name)
    with transaction.atomic():
        locked = Message.objects.select_for_update().get(pk=message.pk)
        media = list((locked.payload or {}).get("media") or [])
        if media[index].get("stored"):
            return True
        attachment = store_attachment(
            upload=upload, by=None, contact=message.conversation.contact, owner=locked
        )
        media[index] = {**media[index], "stored": True, "attachment_id": attachment.pk}
        media[index].pop("failed", None)
        locked.payload = {**locked.payload, "media": media}
        locked.save(update_fields=["payload"])
        inbox._refresh_message(locked)
    return True


def flag_media_failed(message_id: int, index: int, error: str) -> None:
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(pk=message_id).first()
        if message is None:
            return
        media = list((message.payload or {}).get("media") or [])
        if index < len(media):
            media[index] = {**media[index], "failed": True, "error": error[:200]}
            message.payload = {**message.payload, "media": media}
            inbox.note_media_error(message, error)
