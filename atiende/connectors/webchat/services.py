"""The website chat's visitor side: identity, configuration, history and what a visitor sends.

A visitor is a random id kept in a signed cookie (and, for browsers that block third-party
cookies, the same signed value kept by the widget and sent in a header). Everything a visitor
sends goes through `inbox.services.receive_message` with a client-generated UUID as external id,
so a retried HTTP request or a resent socket frame is stored once.
"""

import secrets
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _

from atiende.connectors.base import InboundMessage, Media, Sender, StatusUpdate
from atiende.core.attachments import check_upload, max_upload_bytes
from atiende.core.models import Attachment
from atiende.core.normalize import normalize_email, normalize_phone
from atiende.core.realtime import publish_on_commit, visitor_group
from atiende.inbox import services as inbox
from atiende.inbox.models import (
    Channel,
    ChannelKind,
    Conversation,
    Message,
    MessageDirection,
    MessageKind,
    MessageStatus,
)

VISITOR_SALT = "atiende.webchat.visitor"
VISITOR_MAX_AGE = 365 * 24 * 3600
VISITOR_HEADER = "X-Atiende-Visitor"
PRECHAT_FIELDS = ("name", "phone", "email")
DEFAULT_PRECHAT = ["name", "phone"]
INBOUND_PREFIX = "wc-in-"
OUTBOUND_PREFIX = "wc-out-"
HISTORY_LIMIT = 200
MAX_BODY = inbox.MAX_BODY


def _limit(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


# --- channel ---------------------------------------------------------------------------------


def ensure_public_key(channel: Channel, *, save: bool = True) -> str:
    """The channel's public key (in `config["public_key"]`), generated once when missing."""
    key = (channel.config or {}).get("public_key")
    if key:
        return key
    key = secrets.token_urlsafe(24)
    channel.config = {**(channel.config or {}), "public_key": key}
    if save and channel.pk:
        Channel.objects.filter(pk=channel.pk).update(config=channel.config)
    return key


def channel_for_key(public_key: str) -> Channel | None:
    """The active webchat channel with this public key, else None."""
    if not public_key or len(public_key) > 64:
        return None
    return (
        Channel.objects.select_related("team")
        .filter(kind=ChannelKind.WEBCHAT, is_active=True, config__public_key=public_key)
        .first()
    )


def demo_channel() -> Channel | None:
    """The first active webchat channel (the demo page embeds its widget)."""
    channel = (
        Channel.objects.filter(kind=ChannelKind.WEBCHAT, is_active=True).order_by("pk").first()
    )
    if channel is not None:
        ensure_public_key(channel)
    return channel


def embed_snippet(channel: Channel, request: Any) -> str:
    """The `<script>` a customer pastes into their site, with this server's absolute address."""
    key = ensure_public_key(channel)
    url = request.build_absolute_uri(reverse("webchat:widget_js", args=[key]))
    return f'<script src="{escape(url)}" async></script>'


def prechat_fields(channel: Channel) -> list[str]:
    fields = (channel.config or {}).get("prechat", DEFAULT_PRECHAT)
    if not isinstance(fields, list):
        return list(DEFAULT_PRECHAT)
    return [field for field in PRECHAT_FIELDS if field in fields]


def origin_allowed(channel: Channel, origin: str, own_origin: str = "") -> bool:
    """`config["allowed_origins"]` (e.g. ["https://www.sigo.com.py"]) limits who may embed the
    widget; empty or absent = any site. Our own pages are always allowed."""
    allowed = (channel.config or {}).get("allowed_origins") or []
    if not allowed or not origin:
        return True
    origin = origin.rstrip("/").lower()
    if own_origin and origin == own_origin.rstrip("/").lower():
        return True
    return origin in {str(item).rstrip("/").lower() for item in allowed}


# --- visitor identity --------------------------------------------------------------------------


@dataclass(frozen=True)
class Visitor:
    id: str
    channel_id: int
    name: str = ""
    phone: str = ""
    email: str = ""

    def sender(self) -> Sender:
        return Sender(external_id=self.id, name=self.name, phone=self.phone, email=self.email)


def cookie_name(channel: Channel) -> str:
    return f"atiende_wc_{channel.pk}"


def sign_visitor(visitor: Visitor) -> str:
    data = {"v": visitor.id, "c": visitor.channel_id}
    data.update(
        {k: v for k, v in (("n", visitor.name), ("p", visitor.phone), ("e", visitor.email)) if v}
    )
    return signing.dumps(data, salt=VISITOR_SALT, compress=True)


def read_visitor(channel: Channel, token: str | None) -> Visitor | None:
    """The visitor in a signed token for this channel; None when missing, tampered or expired."""
    if not token:
        return None
    try:
        data = signing.loads(token, salt=VISITOR_SALT, max_age=VISITOR_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("c") != channel.pk or not data.get("v"):
        return None
    return Visitor(
        id=str(data["v"]),
        channel_id=channel.pk,
        name=str(data.get("n", "")),
        phone=str(data.get("p", "")),
        email=str(data.get("e", "")),
    )


def start_session(*, channel: Channel, data: dict, current: Visitor | None = None) -> Visitor:
    """Validate the pre-chat form; keep a returning visitor's id. Raises ValidationError."""
    fields = prechat_fields(channel)
    errors: dict[str, str] = {}
    name = " ".join(str(data.get("name") or "").split())
    phone = email = ""
    if "name" in fields:
        if not name:
            errors["name"] = _("Escribe tu nombre.")
        elif len(name) > 120:
            errors["name"] = _("El nombre es demasiado largo.")
    if "phone" in fields:
        raw = str(data.get("phone") or "").strip()
        if not raw:
            errors["phone"] = _("Escribe tu número de teléfono.")
        else:
            try:
                phone = normalize_phone(raw[:40])
            except ValidationError:
                errors["phone"] = _("El número de teléfono no es válido.")
    if "email" in fields:
        raw = str(data.get("email") or "").strip()
        if not raw:
            errors["email"] = _("Escribe tu correo electrónico.")
        else:
            try:
                email = normalize_email(raw[:254])
            except ValidationError:
                errors["email"] = _("El correo electrónico no es válido.")
    if errors:
        raise ValidationError(errors)
    visitor_id = current.id if current is not None else secrets.token_urlsafe(18)
    return Visitor(id=visitor_id, channel_id=channel.pk, name=name[:120], phone=phone, email=email)


# --- flood control ---------------------------------------------------------------------------


def rate_limited(key: str, *, limit: int, window: int) -> bool:
    """Count one hit for `key` in the current window; True once the limit is exceeded."""
    bucket = f"atiende:webchat:{key}:{int(time.time() // window)}"
    cache.add(bucket, 0, timeout=window + 5)
    try:
        hits = cache.incr(bucket)
    except ValueError:  # expired between add and incr
        cache.set(bucket, 1, timeout=window + 5)
        hits = 1
    return hits > limit


def session_rate_limited(channel: Channel, address: str) -> bool:
    return rate_limited(
        f"session:{channel.pk}:{address}",
        limit=_limit("ATIENDE_WEBCHAT_SESSIONS_PER_HOUR", 30),
        window=3600,
    )


def post_rate_limited(channel: Channel, visitor: Visitor) -> bool:
    return rate_limited(
        f"post:{channel.pk}:{visitor.id}",
        limit=_limit("ATIENDE_WEBCHAT_MESSAGES_PER_MINUTE", 20),
        window=60,
    )


# --- configuration -------------------------------------------------------------------------------


def widget_texts() -> dict[str, str]:
    """Every text the widget shows, in the active language."""
    return {
        "open": _("Abrir el chat"),
        "close": _("Cerrar el chat"),
        "title": _("Chatea con nosotros"),
        "online": _("En línea · respondemos en minutos"),
        "offline": _("Fuera de horario"),
        "prechat_intro": _("Déjanos tus datos para empezar la conversación."),
        "name": _("Nombre"),
        "phone": _("Teléfono"),
        "email": _("Correo electrónico"),
        "name_placeholder": _("Tu nombre y apellido"),
        "phone_placeholder": _("Ej.: 0981 123456"),
        "email_placeholder": _("tucorreo@ejemplo.com"),
        "start": _("Iniciar chat"),
        "input_placeholder": _("Escribe tu mensaje…"),
        "send": _("Enviar"),
        "attach": _("Adjuntar archivo"),
        "sending": _("Enviando…"),
        "sent": _("Enviado"),
        "seen": _("Visto"),
        "failed": _("No se pudo enviar. Toca para reintentar."),
        "file_too_big": _("El archivo supera el tamaño máximo."),
        "reconnecting": _("Reconectando…"),
        "typing": _("Escribiendo…"),
        "error": _("Algo salió mal. Inténtalo de nuevo."),
        "you": _("Tú"),
        "powered_by": _("Con tecnología de Atiende"),
        "new_message": _("Nuevo mensaje"),
    }


def widget_config(channel: Channel, visitor: Visitor | None) -> dict[str, Any]:
    config = channel.config or {}
    is_open = inbox.channel_is_open(channel, timezone.now())
    return {
        "name": channel.name,
        # What the visitor reads in the panel's header; the channel's name is for the agents.
        "title": config.get("title") or _("Chatea con nosotros"),
        "color": channel.color,
        "greeting": config.get("greeting") or _("¡Hola! ¿En qué podemos ayudarte hoy?"),
        "prechat": prechat_fields(channel),
        "open": is_open,
        "out_of_hours_message": "" if is_open else channel.out_of_hours_message,
        "visitor": {"name": visitor.name} if visitor else None,
        "max_upload_bytes": max_upload_bytes(),
        "texts": widget_texts(),
    }


# --- history -------------------------------------------------------------------------------


def latest_conversation(channel: Channel, visitor: Visitor) -> Conversation | None:
    return (
        Conversation.objects.filter(channel=channel, recipient=visitor.id).order_by("-id").first()
    )


def public_id(message: Message) -> str:
    """The id the widget knows a message by: the client's UUID, or the connector's id."""
    if message.direction == MessageDirection.INBOUND:
        return message.external_id.removeprefix(INBOUND_PREFIX)
    return message.external_id or f"{OUTBOUND_PREFIX}{message.pk}"


def visible_messages(conversation: Conversation) -> QuerySet[Message]:
    """What the visitor may see: never private notes, failed sends or unsupported events."""
    return (
        conversation.messages.exclude(kind__in=[MessageKind.NOTE, MessageKind.UNSUPPORTED])
        .exclude(status=MessageStatus.FAILED)
        .order_by("-created_at", "-id")
    )


def attachment_url(channel: Channel, attachment: Attachment) -> str:
    key = ensure_public_key(channel, save=False)
    return reverse("webchat:file", args=[key, attachment.pk])


def attachments_for(channel: Channel, message_ids: list[int]) -> dict[int, list[dict]]:
    found: dict[int, list[dict]] = {}
    rows = Attachment.objects.filter(
        owner_type__app_label="inbox",
        owner_type__model="message",
        owner_id__in=[str(pk) for pk in message_ids],
    ).order_by("pk")
    for attachment in rows:
        found.setdefault(int(attachment.owner_id), []).append(
            {
                "name": attachment.name,
                "mime_type": attachment.mime_type,
                "size": attachment.size,
                "url": attachment_url(channel, attachment),
            }
        )
    return found


def serialize(message: Message, attachments: list[dict] | None = None) -> dict[str, Any]:
    inbound = message.direction == MessageDirection.INBOUND
    return {
        "id": public_id(message),
        "from": "visitor" if inbound else message.author_kind,
        "kind": message.kind,
        "body": message.body,
        "payload": message.payload if message.kind == MessageKind.LOCATION else {},
        "attachments": attachments or [],
        "at": message.created_at.isoformat(),
        "status": message.status,
    }


def history(channel: Channel, visitor: Visitor) -> dict[str, Any]:
    conversation = latest_conversation(channel, visitor)
    if conversation is None:
        return {"conversation": None, "messages": []}
    messages = list(visible_messages(conversation)[:HISTORY_LIMIT])
    messages.reverse()
    files = attachments_for(channel, [m.pk for m in messages])
    return {
        "conversation": {"status": conversation.status},
        "messages": [serialize(m, files.get(m.pk)) for m in messages],
    }


# --- what the visitor sends ------------------------------------------------------------------


class RateLimited(Exception):
    pass


def clean_client_id(value: Any) -> str:
    """The widget's UUID for a message, canonical; ValidationError when it is not one."""
    try:
        return str(uuid.UUID(str(value)))
    except (TypeError, ValueError, AttributeError) as exc:
        raise ValidationError({"id": _("Identificador de mensaje no válido.")}) from exc


def _echo(visitor: Visitor, message: Message, attachments: list[dict] | None = None) -> None:
    """The visitor's other tabs show what one tab sent."""
    publish_on_commit(
        visitor_group(visitor.id), {"type": "message", **serialize(message, attachments)}
    )


def post_message(
    *, channel: Channel, visitor: Visitor, client_id: Any, body: Any
) -> tuple[str, bool]:
    """Store a visitor's text once per client UUID. Returns (id, created)."""
    client_id = clean_client_id(client_id)
    text = str(body or "").strip() if isinstance(body, str) else ""
    if not text:
        raise ValidationError({"body": _("Escribe un mensaje.")})
    if len(text) > MAX_BODY:
        raise ValidationError({"body": _("El mensaje es demasiado largo.")})
    if post_rate_limited(channel, visitor):
        raise RateLimited
    with transaction.atomic():
        message = inbox.receive_message(
            InboundMessage(
                channel_id=channel.pk,
                external_id=INBOUND_PREFIX + client_id,
                sender=visitor.sender(),
                kind=MessageKind.TEXT,
                body=text,
            )
        )
        if message is not None:
            _echo(visitor, message)
    return client_id, message is not None


def _media_kind(mime_type: str) -> str:
    if mime_type.startswith("image/"):
        return MessageKind.IMAGE
    if mime_type.startswith("audio/"):
        return MessageKind.AUDIO
    if mime_type.startswith("video/"):
        return MessageKind.VIDEO
    return MessageKind.FILE


def post_attachment(
    *,
    channel: Channel,
    visitor: Visitor,
    client_id: Any,
    upload: UploadedFile | None,
    body: Any = "",
) -> tuple[str, bool]:
    """Store a visitor's file once per client UUID, after its size and type are checked."""
    client_id = clean_client_id(client_id)
    if upload is None:
        raise ValidationError({"file": _("Adjunta un archivo.")})
    mime_type = check_upload(upload)
    if post_rate_limited(channel, visitor):
        raise RateLimited
    upload.seek(0)
    media = Media(
        name=Path(upload.name or "archivo").name[:200], mime_type=mime_type, content=upload.read()
    )
    caption = str(body or "").strip()[:MAX_BODY] if isinstance(body, str) else ""
    with transaction.atomic():
        message = inbox.receive_message(
            InboundMessage(
                channel_id=channel.pk,
                external_id=INBOUND_PREFIX + client_id,
                sender=visitor.sender(),
                kind=_media_kind(mime_type),
                body=caption,
                media=(media,),
            )
        )
        if message is not None:
            _echo(visitor, message, attachments_for(channel, [message.pk]).get(message.pk))
    return client_id, message is not None


def mark_seen(
    *, channel: Channel, visitor: Visitor, message_id: Any, status: str = MessageStatus.READ
) -> bool:
    """The visitor's browser showed (or received) an agent's message: its status moves forward.
    Only messages of this visitor's conversations; anything else is ignored."""
    if status not in (MessageStatus.DELIVERED, MessageStatus.READ):
        return False
    external_id = str(message_id or "")[:200]
    if not external_id.startswith(OUTBOUND_PREFIX):
        return False
    mine = Message.objects.filter(
        channel=channel,
        external_id=external_id,
        direction=MessageDirection.OUTBOUND,
        conversation__recipient=visitor.id,
    ).exists()
    if not mine:
        return False
    inbox.apply_status(StatusUpdate(channel_id=channel.pk, external_id=external_id, status=status))
    return True


def typing(*, channel: Channel, visitor: Visitor) -> bool:
    """Tell the agents who may see the visitor's open conversation that the visitor is typing."""
    conversation = (
        Conversation.objects.filter(channel=channel, recipient=visitor.id)
        .exclude(status="resolved")
        .order_by("-id")
        .first()
    )
    if conversation is None:
        return False
    inbox.notify_typing(conversation)
    return True


def visitor_file(channel: Channel, visitor: Visitor, attachment_id: int) -> Attachment | None:
    """An attachment of a message in one of this visitor's conversations, else None."""
    attachment = (
        Attachment.objects.filter(
            pk=attachment_id, owner_type__app_label="inbox", owner_type__model="message"
        )
        .only("pk", "owner_id", "file", "name", "mime_type", "size")
        .first()
    )
    if attachment is None:
        return None
    visible = (
        Message.objects.filter(
            pk=int(attachment.owner_id),
            channel=channel,
            conversation__recipient=visitor.id,
        )
        .exclude(kind=MessageKind.NOTE)
        .exists()
    )
    return attachment if visible else None
