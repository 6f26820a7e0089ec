"""WhatsApp Cloud API: routing and storing webhook events, parsing them into neutral inbound
messages and statuses, fetching media, syncing templates and pacing sends.

Meta's formats: https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components
(timestamps are seconds as strings; a reaction removal may omit `emoji` or send ""; `wa_id` may be
empty with a `user_id` beside it).
"""

import datetime
import hashlib
import logging
import mimetypes
import time
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _

from atiende.connectors.base import InboundMessage, Media, Sender, StatusUpdate
from atiende.connectors.meta.graph import GraphClient, GraphError
from atiende.connectors.whatsapp.models import WebhookEvent
from atiende.inbox import services as inbox
from atiende.inbox.models import Channel, Message, MessageTemplate

logger = logging.getLogger(__name__)

DEFAULT_GRAPH_URL = "https://graph.facebook.com"
DEFAULT_GRAPH_VERSION = "v21.0"
DEFAULT_MAX_PER_SECOND = 80
MEDIA_TYPES = {
    "image": "image",
    "video": "video",
    "audio": "audio",
    "document": "file",
    "sticker": "image",
}
STATUSES = {"sent", "delivered", "read", "failed"}


# --- small, defensive readers ------------------------------------------------------------


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, (str, int, float)):
        return str(value)
    return ""


def _seconds(value: Any) -> datetime.datetime | None:
    try:
        return datetime.datetime.fromtimestamp(int(_str(value)), tz=datetime.UTC)
    except (ValueError, OverflowError, OSError):
        return None


# --- channels ------------------------------------------------------------------------------


def setting(channel: Channel, name: str, default: str = "") -> str:
    """A channel's value from its config, else its credentials, else the default."""
    value = channel.config.get(name) or channel.credentials.get(name)
    return str(value) if value else default


def client(channel: Channel) -> GraphClient:
    return GraphClient(
        base_url=setting(channel, "graph_base_url", DEFAULT_GRAPH_URL),
        version=setting(channel, "graph_version", DEFAULT_GRAPH_VERSION),
        token=setting(channel, "access_token"),
    )


def whatsapp_channels():
    return Channel.objects.filter(kind="whatsapp", is_active=True).order_by("id")


# Which active channel answers for which phone number id, kept a few seconds per process: the
# webhook is the hottest path (Meta may send thousands a minute) and this query plus decrypting
# every channel's credentials was a third of its time. A change to a channel clears it here at
# once (signal below); other processes see it within ROUTING_SECONDS.
ROUTING_SECONDS = 5.0
_routing: tuple[float, dict[str, list[Channel]]] = (0.0, {})


def _channels_by_number() -> dict[str, list[Channel]]:
    global _routing
    expires, table = _routing
    if time.monotonic() < expires:
        return table
    table = {}
    for channel in whatsapp_channels():
        table.setdefault(setting(channel, "phone_number_id"), []).append(channel)
    _routing = (time.monotonic() + ROUTING_SECONDS, table)
    return table


@receiver([post_save, post_delete], sender=Channel, dispatch_uid="whatsapp-routing")
def _forget_routing(**kwargs: Any) -> None:
    global _routing
    _routing = (0.0, {})


def channels_for_event(data: Any) -> list[Channel]:
    """The active channels whose phone number id the event names (usually one)."""
    ids = set()
    for entry in _list(_dict(data).get("entry")):
        for change in _list(_dict(entry).get("changes")):
            metadata = _dict(_dict(_dict(change).get("value")).get("metadata"))
            number = _str(metadata.get("phone_number_id"))
            if number:
                ids.add(number)
    if not ids:
        return []
    table = _channels_by_number()
    found = {c.pk: c for number in ids for c in table.get(number, [])}
    return [found[pk] for pk in sorted(found)]


def store_event(channel: Channel, raw: bytes, data: Any) -> tuple[WebhookEvent, bool]:
    """Keep the verified event once (Meta repeats deliveries): (event, created). The insert is
    tried first: a repeat is the exception, so the common path is one statement."""
    key = hashlib.sha256(raw).hexdigest()
    try:
        with transaction.atomic():
            return WebhookEvent.objects.create(channel_id=channel.pk, key=key, raw=data), True
    except IntegrityError:
        return WebhookEvent.objects.get(key=key), False


# --- processing ----------------------------------------------------------------------------


def _event_items(event: WebhookEvent, number: str) -> list[tuple[str, dict, list[dict]]]:
    """("message" | "status", item, the change's contacts) for every item addressed to `number`."""
    items: list[tuple[str, dict, list[dict]]] = []
    for entry in _list(_dict(event.raw).get("entry")):
        for change in _list(_dict(entry).get("changes")):
            value = _dict(_dict(change).get("value"))
            if _str(_dict(value.get("metadata")).get("phone_number_id")) != number:
                continue
            contacts = [_dict(c) for c in _list(value.get("contacts"))]
            items += [("message", _dict(item), contacts) for item in _list(value.get("messages"))]
            items += [("status", _dict(item), contacts) for item in _list(value.get("statuses"))]
    return items


def _process_items(
    channel: Channel,
    items: list[tuple[str, dict, list[dict]]],
    media: list[tuple],
    *,
    event_id: int,
    batch: bool,
) -> list[str]:
    """Handle each item on its own and return the errors to keep on the event. In a batch an
    operational error (a deadlock between two batches, a database locked too long) is raised
    instead: the batch is redone item by item, as if never tried, rather than losing that item
    to a conflict only the batch caused. Anything else is the item's own fault and is kept."""
    errors: list[str] = []
    for what, item, contacts in items:
        try:
            if what == "message":
                _handle_message(channel, item, contacts, media)
            else:
                _handle_status(channel, item)
        except Exception as exc:  # keep going: the error is kept on the event
            if batch and isinstance(exc, OperationalError):
                raise
            logger.exception("whatsapp %s not processed", what, extra={"event": event_id})
            errors.append(f"{what}: {exc}"[:300])
    return errors


def _mark_processed(event_id: int, errors: list[str]) -> None:
    WebhookEvent.objects.filter(pk=event_id).update(
        processed_at=timezone.now(), error="\n".join(errors)[:4000]
    )


def process_event(event_id: int) -> None:
    """Every entry, change, message and status of one stored event; each item on its own, so
    one that cannot be read never loses the others.

    On PostgreSQL several items (Meta batches them under load) are stored in one transaction
    with the event's `processed_at`: each item's service is atomic, so it is a savepoint inside
    it, and a commit is paid once per POST, not per message. Realtime events go out when it
    commits; media downloads are queued after it. On an operational error (a deadlock between
    two batches) it is rolled back whole and the event redone item by item, each in its own
    transaction as a lone item is.

    On SQLite each item keeps its own short transaction. There is one writer, and in the
    embedded server the job thread holding the write lock also competes for the GIL with the
    web threads, so a transaction for a whole batch (or for the events queued behind this one,
    also tried) held the lock long enough for webhooks waiting to store their event to time out
    ("database is locked") under load."""
    event = WebhookEvent.objects.select_related("channel").filter(pk=event_id).first()
    if event is None or event.processed_at is not None:
        return
    channel = event.channel
    items = _event_items(event, setting(channel, "phone_number_id"))
    media: list[tuple] = []
    # A lone item needs no transaction around its service's own; see above for SQLite.
    one_by_one = len(items) <= 1 or connection.vendor == "sqlite"
    if not one_by_one:
        try:
            with transaction.atomic():
                errors = _process_items(channel, items, media, event_id=event.pk, batch=True)
                _mark_processed(event.pk, errors)
        except OperationalError:
            logger.warning("whatsapp batch redone item by item", extra={"event": event.pk})
            media.clear()
            one_by_one = True
    if one_by_one:
        _mark_processed(
            event.pk, _process_items(channel, items, media, event_id=event.pk, batch=False)
        )
    from atiende.connectors.whatsapp import jobs

    for args in media:  # committed by now: the download job reads the message
        jobs.fetch_whatsapp_media(*args)


def _sender(message: dict, contacts: list[dict]) -> Sender | None:
    sender_from = _str(message.get("from"))
    contact = next(
        (c for c in contacts if sender_from and _str(c.get("wa_id")) == sender_from),
        contacts[0] if len(contacts) == 1 else {},
    )
    wa_id = _str(contact.get("wa_id")) or sender_from
    user_id = _str(contact.get("user_id")) or _str(message.get("from_user_id"))
    external_id = wa_id or user_id
    if not external_id:
        return None
    name = _str(_dict(contact.get("profile")).get("name"))[:200]
    phone = f"+{wa_id}" if wa_id.isdigit() else ""
    return Sender(external_id=external_id[:200], name=name, phone=phone)


def _media_name(kind: str, media: dict) -> str:
    filename = _str(media.get("filename")).strip()
    if filename:
        return filename[:200]
    mime = _str(media.get("mime_type")).split(";")[0].strip()
    extension = mimetypes.guess_extension(mime) or ""
    if mime == "audio/ogg":
        extension = ".ogg"
    return f"whatsapp-{kind}-{_str(media.get('id'))[:40]}{extension}"


def parse_message(channel: Channel, message: dict, contacts: list[dict]) -> InboundMessage | None:
    """One of Meta's messages as an InboundMessage (None for reactions and unusable items)."""
    external_id = _str(message.get("id"))
    sender = _sender(message, contacts)
    wa_type = _str(message.get("type"))
    if not external_id or sender is None or wa_type == "reaction":
        return None
    kind, body, payload, media = "text", "", {}, ()
    content = _dict(message.get(wa_type)) if wa_type else {}
    if wa_type == "text":
        body = _str(content.get("body"))
    elif wa_type in MEDIA_TYPES:
        kind = MEDIA_TYPES[wa_type]
        if wa_type == "audio" and content.get("voice") is True:
            kind = "voice"
        body = _str(content.get("caption"))
        media_id = _str(content.get("id"))
        mime = _str(content.get("mime_type")).split(";")[0].strip() or "application/octet-stream"
        payload = {"whatsapp_type": wa_type, "media_id": media_id, "mime_type": mime}
        if wa_type == "sticker":
            payload["sticker"] = True
        if media_id:
            media = (Media(name=_media_name(kind, content), mime_type=mime, provider_id=media_id),)
    elif wa_type == "location":
        kind = "location"
        payload = {
            "latitude": content.get("latitude"),
            "longitude": content.get("longitude"),
            "name": _str(content.get("name"))[:200],
            "address": _str(content.get("address"))[:300],
            "url": _str(content.get("url"))[:300],
        }
        body = " — ".join(p for p in (payload["name"], payload["address"]) if p)
    elif wa_type == "contacts":
        cards = [_dict(c) for c in _list(message.get("contacts"))]
        lines = []
        for card in cards:
            name = _str(_dict(card.get("name")).get("formatted_name"))
            phones = [_str(_dict(p).get("phone")) for p in _list(card.get("phones"))]
            lines.append(" ".join(p for p in [name or _("Contacto"), *phones] if p))
        body = _("Contacto compartido: %(list)s") % {"list": "; ".join(lines)} if lines else ""
        payload = {"contacts": cards}
    elif wa_type == "interactive":
        reply_type = _str(content.get("type"))
        reply = _dict(content.get(reply_type))
        body = _str(reply.get("title"))
        payload = {
            "interactive": {
                "type": reply_type,
                "id": _str(reply.get("id")),
                "title": body,
                "description": _str(reply.get("description")),
            }
        }
    elif wa_type == "button":
        body = _str(content.get("text"))
        payload = {"button": {"text": body, "payload": _str(content.get("payload"))}}
    else:
        kind = "unsupported"
        body = _("Mensaje de WhatsApp no compatible (%(type)s): ábrelo en el teléfono.") % {
            "type": wa_type or "?"
        }
        errors = [_dict(e) for e in _list(message.get("errors"))]
        payload = {"whatsapp_type": wa_type[:40], "errors": errors[:3]}
    if wa_type != "text" and not body and kind == "text":
        body = _("(sin texto)")
    context = _dict(message.get("context"))
    return InboundMessage(
        channel_id=channel.pk,
        external_id=external_id[:200],
        sender=sender,
        kind=kind,
        body=body[:16000],
        payload=payload,
        media=media,
        sent_at=_seconds(message.get("timestamp")),
        reply_to_external_id=_str(context.get("id"))[:200],
    )


def _handle_message(
    channel: Channel, message: dict, contacts: list[dict], media: list[tuple]
) -> None:
    """Store one message; its files to fetch are added to `media` (queued once committed)."""
    if _str(message.get("type")) == "reaction":
        reaction = _dict(message.get("reaction"))
        sender = _sender(message, contacts)
        target = _str(reaction.get("message_id"))
        if sender is not None and target:
            inbox.set_reaction(
                channel_id=channel.pk,
                external_id=target,
                sender=sender.external_id,
                emoji=_str(reaction.get("emoji")),
            )
        return
    inbound = parse_message(channel, message, contacts)
    if inbound is None:
        return
    stored = inbox.receive_message(inbound, channel=channel)
    if stored is None:
        return
    media += [(stored.pk, item.provider_id, item.name, item.mime_type) for item in inbound.media]


def explain_error(code: str, fallback: str = "") -> str:
    """Meta's common WhatsApp errors in Spanish for the agent, with Meta's own text after."""
    code = _str(code)
    known = {
        "131047": _("Fuera de la ventana de 24 horas: solo se pueden enviar plantillas aprobadas."),
        "130429": _("Límite de envío alcanzado: se reintenta en unos momentos."),
        "131056": _("Demasiados mensajes a este número en poco tiempo: se reintenta más tarde."),
        "131026": _("No se pudo entregar el mensaje a este número."),
    }
    text = known.get(code)
    if text is None and code.startswith("132"):
        text = _("Error de plantilla: revisa la plantilla y sus variables.")
    if text is None:
        return fallback or _("WhatsApp rechazó el mensaje.")
    return f"{text} ({fallback})" if fallback else text


def _handle_status(channel: Channel, status: dict) -> None:
    value = _str(status.get("status"))
    external_id = _str(status.get("id"))
    if value not in STATUSES or not external_id:
        return
    error = _dict((_list(status.get("errors")) or [{}])[0])
    code = _str(error.get("code"))
    meta_text = _str(error.get("title")) or _str(error.get("message"))
    details = _str(_dict(error.get("error_data")).get("details"))
    if details and details not in meta_text:
        meta_text = f"{meta_text}: {details}" if meta_text else details
    inbox.apply_status(
        StatusUpdate(
            channel_id=channel.pk,
            external_id=external_id[:200],
            status=value,
            error_code=code[:40],
            error_message=explain_error(code, meta_text) if value == "failed" else "",
            at=_seconds(status.get("timestamp")),
        )
    )


# --- media ---------------------------------------------------------------------------------


def fetch_media(message_id: int, media_id: str, name: str, mime_type: str) -> None:
    """id → URL → bytes with the token → the message's attachment. Raises GraphError."""
    message = Message.objects.select_related("channel", "conversation").get(pk=message_id)
    graph = client(message.channel)
    info = graph.get(media_id)
    url = _str(info.get("url"))
    if not url:
        raise GraphError("media without url", status=200, code="", retryable=True)
    content, content_type = graph.download(url)
    mime = _str(info.get("mime_type")).split(";")[0].strip() or content_type or mime_type
    inbox.attach_media(message, name=name, mime_type=mime, content=content)


# --- templates -----------------------------------------------------------------------------

_TEMPLATE_STATUS = {
    "approved": MessageTemplate.Status.APPROVED,
    "pending": MessageTemplate.Status.PENDING,
    "in_appeal": MessageTemplate.Status.PENDING,
    "rejected": MessageTemplate.Status.REJECTED,
    "paused": MessageTemplate.Status.PAUSED,
    "disabled": MessageTemplate.Status.PAUSED,
}


def sync_templates(channel: Channel) -> int:
    """The WhatsApp Business Account's templates into MessageTemplate; ones gone are paused.
    Returns how many were read. Raises GraphError."""
    waba_id = setting(channel, "waba_id")
    if not waba_id:
        raise GraphError(_("Falta el id de la cuenta de WhatsApp Business."), status=400)
    graph = client(channel)
    seen: set[int] = set()
    page = graph.get(
        f"{waba_id}/message_templates",
        {"fields": "name,language,status,category,components", "limit": 100},
    )
    for _page in range(100):
        for item in _list(page.get("data")):
            template = _upsert_template(channel, _dict(item))
            if template is not None:
                seen.add(template.pk)
        next_url = _str(_dict(page.get("paging")).get("next"))
        if not next_url:
            break
        page = graph.get(next_url)
    MessageTemplate.objects.filter(channel=channel).exclude(pk__in=seen).update(
        status=MessageTemplate.Status.PAUSED
    )
    return len(seen)


def _upsert_template(channel: Channel, item: dict) -> MessageTemplate | None:
    name = _str(item.get("name"))[:120]
    language = _str(item.get("language"))[:10] or "es"
    if not name:
        return None
    components = [_dict(c) for c in _list(item.get("components"))]
    body = next(
        (_str(c.get("text")) for c in components if _str(c.get("type")).upper() == "BODY"), ""
    )
    status = _TEMPLATE_STATUS.get(_str(item.get("status")).lower(), MessageTemplate.Status.PENDING)
    template, _created = MessageTemplate.objects.update_or_create(
        channel=channel,
        name=name,
        language=language,
        defaults={
            "category": _str(item.get("category")).lower()[:30],
            "status": status,
            "components": components,
            "body": body or name,
        },
    )
    return template


# --- pacing --------------------------------------------------------------------------------


def pace(channel: Channel) -> None:
    """Wait for a slot: at most `max_per_second` sends a second for one phone number, counted in
    the shared cache (per process with locmem, across processes with Redis).

    The n-th slot of a second is not taken before n/rate into it: without that spacing a backlog
    sends a whole second's quota in one burst at the turn of each second, twice the rate in any
    one-second window that straddles it (the benchmark measured 80 sends within 1 s at 40/s)."""
    try:
        rate = int(channel.config.get("max_per_second") or DEFAULT_MAX_PER_SECOND)
    except (TypeError, ValueError):
        rate = DEFAULT_MAX_PER_SECOND
    rate = max(rate, 1)
    number = setting(channel, "phone_number_id", str(channel.pk))
    for _attempt in range(200):
        now = time.time()
        key = f"whatsapp:pace:{number}:{int(now)}"
        cache.add(key, 0, timeout=5)
        try:
            used = cache.incr(key)
        except ValueError:  # expired between add and incr
            continue
        if used <= rate:
            early = int(now) + (used - 1) / rate - time.time()
            if early > 0:
                time.sleep(early)
            return
        time.sleep(max(0.001, 1 - (now % 1)))
