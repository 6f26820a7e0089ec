"""Every write of the inbox: receiving, sending, delivering, assigning and moving conversations.

Inbound: a connector's `InboundMessage` → `receive_message` (idempotent on channel + external id)
→ contact found or created → conversation reopened or started → indicators → auto-assignment →
realtime on commit. Outbound: `send_message` stores `queued` → on commit the `deliver` job calls
the connector → `sent`, or retried with back-off, then `failed` with the provider's error.
"""

import datetime
import logging
import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from atiende.connectors.base import (
    InboundMessage,
    Media,
    OutboundMessage,
    Sender,
    SendError,
    StatusUpdate,
    connector_for,
)
from atiende.contacts.models import Contact, ContactPoint, Label
from atiende.contacts.services import (
    PointInput,
    create_contact,
    record_interaction,
    register_merge_part,
)
from atiende.core import audit
from atiende.core.attachments import store_attachment
from atiende.core.models import Attachment
from atiende.core.normalize import normalize_phone, phone_key
from atiende.core.permissions import require
from atiende.core.realtime import SUPERVISORS_GROUP, publish_on_commit, team_group, user_group
from atiende.inbox.models import (
    STATUS_RANK,
    CannedResponse,
    Channel,
    ChannelKind,
    Conversation,
    ConversationStatus,
    Message,
    MessageAuthor,
    MessageDirection,
    MessageKind,
    MessageStatus,
    MessageTemplate,
)
from atiende.users.models import AgentStatus, Team, User

logger = logging.getLogger(__name__)

MAX_BODY = 4096
WINDOW_CLOSED = gettext_lazy(
    "Pasaron más de 24 horas desde el último mensaje del cliente: solo puedes enviar una "
    "plantilla aprobada."
)
_MEDIA_KINDS = {
    MessageKind.IMAGE,
    MessageKind.VIDEO,
    MessageKind.AUDIO,
    MessageKind.VOICE,
    MessageKind.FILE,
}
# Which contact point holds a channel's sender id.
_POINT_KIND_FOR_CHANNEL = {
    "whatsapp": ContactPoint.Kind.WHATSAPP,
    "messenger": ContactPoint.Kind.MESSENGER,
    "instagram": ContactPoint.Kind.INSTAGRAM,
    "sms": ContactPoint.Kind.MOBILE,
}


# --- message hooks -----------------------------------------------------------------------

# Apps that follow conversations (tickets: last activity, first response, the 48-hour customer
# update) register here, so the inbox never imports them. Called inside the message's transaction
# with keyword arguments: conversation, at, outbound (an agent's reply; False for the customer's),
# new_conversation (the message just started it, so nothing can be linked to it yet).
MessageHook = Callable[..., Any]
_MESSAGE_HOOKS: list[MessageHook] = []


def register_message_hook(hook: MessageHook) -> None:
    """Tell the inbox to call `hook(conversation=…, at=…, outbound=…, new_conversation=…)` on
    every message."""
    if hook not in _MESSAGE_HOOKS:
        _MESSAGE_HOOKS.append(hook)


def unregister_message_hook(hook: MessageHook) -> None:
    if hook in _MESSAGE_HOOKS:
        _MESSAGE_HOOKS.remove(hook)


def _message_hooks(
    conversation: Conversation,
    *,
    at: datetime.datetime,
    outbound: bool,
    new_conversation: bool = False,
) -> None:
    for hook in _MESSAGE_HOOKS:
        hook(
            conversation=conversation,
            at=at,
            outbound=outbound,
            new_conversation=new_conversation,
        )


# --- realtime ----------------------------------------------------------------------------


def conversation_event(conversation: Conversation, event_type: str, **extra: Any) -> dict:
    return {
        "type": event_type,
        "conversation_id": conversation.pk,
        "status": conversation.status,
        "assignee_id": conversation.assignee_id,
        "team_id": conversation.team_id,
        "unread": conversation.unread_count,
        **extra,
    }


def _publish(conversation: Conversation, event: dict, *, previous_assignee_id: int | None = None):
    """To everyone who may see the conversation: its assignee, its team, supervisors."""
    groups = {SUPERVISORS_GROUP}
    if conversation.team_id:
        groups.add(team_group(conversation.team_id))
    for user_id in {conversation.assignee_id, previous_assignee_id} - {None}:
        groups.add(user_group(user_id))
    for group in groups:
        publish_on_commit(group, event)


def notify_typing(conversation: Conversation) -> None:
    """The customer is typing (website chat): a passing hint, nothing is stored."""
    _publish(conversation, {"type": "inbox.typing", "conversation_id": conversation.pk})


# --- receiving ---------------------------------------------------------------------------


def _latest_contact_id(channel: Channel, sender: Sender) -> int | None:
    """The contact of this sender's latest conversation on the channel, if any."""
    return (
        Conversation.objects.filter(channel=channel, recipient=sender.external_id)
        .order_by("-id")
        .values_list("contact_id", flat=True)
        .first()
    )


def _point_contact_id(channel: Channel, sender: Sender) -> int | None:
    """A contact that already has the sender's phone, e-mail or channel id as a point."""
    keys = []
    if sender.phone:
        keys.append(phone_key(sender.phone))
    if sender.email:
        keys.append(sender.email.strip().lower())
    point_kind = _POINT_KIND_FOR_CHANNEL.get(channel.kind)
    if point_kind and point_kind not in ContactPoint.PHONE_KINDS:
        keys.append(sender.external_id.casefold())
    return (
        ContactPoint.objects.filter(search_value__in=[k for k in keys if k])
        .order_by("contact_id")
        .values_list("contact_id", flat=True)
        .first()
    )


def _create_sender_contact(
    channel: Channel, sender: Sender, *, at: datetime.datetime | None = None
) -> Contact:
    """A new contact from what the provider tells about the sender (name, phone, e-mail, id)."""
    point_kind = _POINT_KIND_FOR_CHANNEL.get(channel.kind)
    points = []
    if sender.phone:
        kind = point_kind if point_kind in ContactPoint.PHONE_KINDS else ContactPoint.Kind.MOBILE
        points.append(PointInput(kind, sender.phone, primary=True))
    if sender.email:
        points.append(PointInput(ContactPoint.Kind.EMAIL, sender.email, primary=True))
    if point_kind and point_kind not in ContactPoint.PHONE_KINDS:
        points.append(PointInput(point_kind, sender.external_id, primary=True))
    first, _sep, last = (sender.name or "").strip().partition(" ")
    try:
        return create_contact(
            by=None, first_name=first, last_name=last, points=points, last_interaction_at=at
        )
    except ValidationError:
        # A phone the provider vouches for but we cannot parse must not lose the message.
        name = sender.name or sender.phone or sender.email or _("Visitante")
        return create_contact(by=None, first_name=name[:120], last_interaction_at=at)


def _find_or_create_contact(channel: Channel, inbound: InboundMessage) -> Contact:
    sender = inbound.sender
    found = _latest_contact_id(channel, sender) or _point_contact_id(channel, sender)
    if found:
        return Contact.objects.get(pk=found)
    return _create_sender_contact(channel, sender)


def _preview(kind: str, body: str) -> str:
    if body:
        return body[:160]
    return str(MessageKind(kind).label) if kind in MessageKind.values else ""


def _store_media(message: Message, media: tuple[Media, ...]) -> None:
    for item in media:
        if item.content is None:
            continue
        upload = ContentFile(item.content, name=item.name)
        try:
            store_attachment(
                upload=upload, by=None, contact=message.conversation.contact, owner=message
            )
        except ValidationError:
            logger.warning("inbound media refused", extra={"message_id": message.pk})


class _AlreadyStored(Exception):
    """Another process stored the same delivery while we were at it."""


def receive_message(inbound: InboundMessage, *, channel: Channel | None = None) -> Message | None:
    """Store a customer's message once; a repeated delivery returns None and changes nothing.

    `channel` is the caller's row for `inbound.channel_id` (a connector processing an event has
    just read it), so it is not read again for every message."""
    try:
        return _receive_message(inbound, channel)
    except _AlreadyStored:
        return None


@transaction.atomic
def _receive_message(inbound: InboundMessage, channel: Channel | None) -> Message | None:
    if channel is None or channel.pk != inbound.channel_id:
        channel = Channel.objects.get(pk=inbound.channel_id)
    if (
        inbound.external_id
        and Message.objects.filter(channel=channel, external_id=inbound.external_id).exists()
    ):
        return None
    now = timezone.now()
    at = inbound.sent_at or now
    sender = inbound.sender
    # The sender's latest conversation here, locked: unless resolved it is the open one (one
    # query for the usual cases), and its contact is the sender's either way.
    latest = (
        Conversation.objects.select_for_update()
        .filter(channel=channel, recipient=sender.external_id)
        .order_by("-id")
        .first()
    )
    conversation = latest
    if latest is not None and latest.status == ConversationStatus.RESOLVED:
        conversation = (  # an older one reopened by hand after a newer one was resolved
            Conversation.objects.select_for_update()
            .filter(channel=channel, recipient=sender.external_id)
            .exclude(status=ConversationStatus.RESOLVED)
            .order_by("-id")
            .first()
        )
    new_contact = False
    if latest is not None:
        contact_id = latest.contact_id
    else:
        contact_id = _point_contact_id(channel, sender)
        if contact_id is None:
            contact_id = _create_sender_contact(channel, sender, at=at).pk
            new_contact = True  # stored with its last interaction already
    kind = inbound.kind if inbound.kind in MessageKind.values else MessageKind.UNSUPPORTED
    preview = _preview(kind, inbound.body)
    created = conversation is None
    if created:
        # Inserted with its indicators, rather than inserted and updated.
        conversation = Conversation.objects.create(
            contact_id=contact_id,
            channel=channel,
            recipient=sender.external_id,
            team_id=channel.team_id,
            status=ConversationStatus.PENDING,
            unread_count=1,
            last_message_at=at,
            last_inbound_at=at,
            last_message_preview=preview,
            last_message_inbound=True,
        )
    else:
        conversation.channel = channel  # the same row: not read again by what follows
    reply_to = None
    if inbound.reply_to_external_id:
        reply_to = Message.objects.filter(
            channel=channel, external_id=inbound.reply_to_external_id
        ).first()
    try:
        # No savepoint of its own: on a duplicate the whole of this atomic block rolls back
        # (the contact and conversation this attempt may have created included), and nothing
        # runs on the connection in between.
        message = Message.objects.create(
            conversation=conversation,
            channel=channel,
            direction=MessageDirection.INBOUND,
            author_kind=MessageAuthor.CONTACT,
            kind=kind,
            body=(inbound.body or "")[: MAX_BODY * 4],
            payload=inbound.payload,
            external_id=inbound.external_id,
            reply_to=reply_to,
            status=MessageStatus.RECEIVED,
        )
    except IntegrityError:
        # The same delivery raced us in another process.
        raise _AlreadyStored from None
    _store_media(message, inbound.media)
    if not created:
        conversation.unread_count += 1
        conversation.last_message_at = at
        conversation.last_inbound_at = at
        conversation.last_message_preview = preview
        conversation.last_message_inbound = True
        conversation.save(
            update_fields=[
                "unread_count",
                "last_message_at",
                "last_inbound_at",
                "last_message_preview",
                "last_message_inbound",
            ]
        )
    if not new_contact:
        record_interaction(contact_id=contact_id, at=at)
    _message_hooks(conversation, at=at, outbound=False, new_conversation=created)
    if conversation.assignee_id is None and channel.auto_assign:
        auto_assign(conversation)
    _publish(
        conversation,
        conversation_event(conversation, "inbox.message", message_id=message.pk, new=created),
    )
    if not channel_is_open(channel, now):
        _send_out_of_hours(conversation)
    return message


def channel_is_open(channel: Channel, at: datetime.datetime) -> bool:
    """Business hours by ISO weekday ("1".."7") as [["08:00", "18:00"], …]; none = always open."""
    if not channel.business_hours:
        return True
    local = timezone.localtime(at)
    ranges = channel.business_hours.get(str(local.isoweekday()), [])
    now = local.strftime("%H:%M")
    return any(start <= now < end for start, end in ranges)


def _send_out_of_hours(conversation: Conversation) -> None:
    """Once per conversation and day: the channel's out-of-hours message, sent as the system."""
    message = conversation.channel.out_of_hours_message.strip()
    if not message:
        return
    today = timezone.localdate()
    already = conversation.messages.filter(
        author_kind=MessageAuthor.SYSTEM, created_at__date=today
    ).exists()
    if not already:
        _queue_outbound(
            conversation=conversation,
            by=None,
            kind=MessageKind.TEXT,
            body=message,
            author_kind=MessageAuthor.SYSTEM,
        )


@transaction.atomic
def apply_status(update: StatusUpdate) -> Message | None:
    """Move a sent message forward (sent → delivered → read) or to failed; never backwards."""
    message = (
        Message.objects.select_for_update()
        .filter(channel_id=update.channel_id, external_id=update.external_id)
        .first()
    )
    if message is None:
        return None
    at = update.at or timezone.now()
    if update.status == MessageStatus.FAILED:
        if message.status == MessageStatus.READ:
            return message
        message.status = MessageStatus.FAILED
        message.error_code, message.error_message = update.error_code, update.error_message[:300]
    elif update.status in STATUS_RANK:
        if message.status == MessageStatus.FAILED or (
            STATUS_RANK.get(message.status, -1) >= STATUS_RANK[update.status]
        ):
            return message
        message.status = update.status
        if update.status in (MessageStatus.DELIVERED, MessageStatus.READ):
            message.delivered_at = message.delivered_at or at
        if update.status == MessageStatus.READ:
            message.read_at = at
    else:
        return message
    message.save()
    _publish(
        message.conversation,
        conversation_event(
            message.conversation,
            "inbox.status",
            message_id=message.pk,
            message_status=message.status,
        ),
    )
    return message


def _refresh_message(message: Message) -> None:
    """Agents looking at the chat re-render this message (its status, reactions or file)."""
    _publish(
        message.conversation,
        conversation_event(
            message.conversation,
            "inbox.status",
            message_id=message.pk,
            message_status=message.status,
        ),
    )


@transaction.atomic
def set_reaction(*, channel_id: int, external_id: str, sender: str, emoji: str) -> Message | None:
    """A customer's reaction shown on the message it reacts to; an empty emoji removes it."""
    message = (
        Message.objects.select_for_update()
        .filter(channel_id=channel_id, external_id=external_id)
        .first()
    )
    if message is None:
        return None
    reactions = dict(message.payload.get("reactions") or {})
    if emoji:
        reactions[sender] = emoji
    else:
        reactions.pop(sender, None)
    message.payload = {**message.payload, "reactions": reactions}
    message.save(update_fields=["payload"])
    _refresh_message(message)
    return message


@transaction.atomic
def attach_media(message: Message, *, name: str, mime_type: str, content: bytes) -> None:
    """A file fetched after the message was stored (WhatsApp media); a refused type is noted."""
    upload = ContentFile(content, name=name)
    try:
        store_attachment(
            upload=upload, by=None, contact=message.conversation.contact, owner=message
        )
    except ValidationError as exc:
        message.payload = {**message.payload, "media_refused": " ".join(exc.messages)[:300]}
        message.save(update_fields=["payload"])
    _refresh_message(message)


@transaction.atomic
def note_media_error(message: Message, error: str) -> None:
    """The file of this message could not be fetched: the agent sees why."""
    message.payload = {**message.payload, "media_error": error[:300]}
    message.save(update_fields=["payload"])
    _refresh_message(message)


def reply_window_open(conversation: Conversation, at: datetime.datetime | None = None) -> bool:
    """Free-form replies are allowed: the channel has no window, or the customer wrote within it."""
    try:
        hours = connector_for(conversation.channel.kind).capabilities.reply_window_hours
    except LookupError:
        return True
    if not hours:
        return True
    last = conversation.last_inbound_at
    return last is not None and (at or timezone.now()) - last < datetime.timedelta(hours=hours)


# --- assignment --------------------------------------------------------------------------


def _open_counts(agent_ids: list[int]) -> dict[int, int]:
    rows = (
        Conversation.objects.filter(assignee_id__in=agent_ids)
        .exclude(status=ConversationStatus.RESOLVED)
        .values("assignee_id")
        .annotate(n=Count("id"))
    )
    return {row["assignee_id"]: row["n"] for row in rows}


def pick_agent(team: Team | None) -> User | None:
    """Round-robin among the team's active agents under the cap: the one assigned longest ago."""
    if team is None:
        return None
    candidates = list(
        team.members.filter(is_active=True, agent_status=AgentStatus.ACTIVE)
        .annotate(last_assigned=Max("conversations__assigned_at"))
        .order_by("id")
    )
    if not candidates:
        return None
    counts = _open_counts([agent.pk for agent in candidates])
    cap = settings.ATIENDE_INBOX_AGENT_CAP
    eligible = [agent for agent in candidates if counts.get(agent.pk, 0) < cap]
    if not eligible:
        return None
    epoch = datetime.datetime.min.replace(tzinfo=datetime.UTC)
    return min(eligible, key=lambda agent: (agent.last_assigned or epoch, agent.pk))


def auto_assign(conversation: Conversation) -> User | None:
    agent = pick_agent(conversation.team)
    if agent is not None:
        conversation.assignee = agent
        conversation.assigned_at = timezone.now()
        conversation.save(update_fields=["assignee", "assigned_at"])
        audit.record(
            actor=None, action="assign", obj=conversation, after={"assignee": agent.username}
        )
    return agent


@transaction.atomic
def assign_conversation(
    *, conversation: Conversation, assignee: User | None, by: User, team: Team | None = None
) -> Conversation:
    """Take, transfer or release a conversation (optionally to another team)."""
    require(by, "inbox.view_conversation", conversation)
    if assignee is None or assignee.pk != by.pk:  # handing it on or releasing it
        require(by, "inbox.transfer_conversation", conversation)
    if assignee is not None and not assignee.is_active:
        raise ValidationError({"assignee": _("El usuario no está activo.")})
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    previous = conversation.assignee_id
    before = {
        "assignee": getattr(conversation.assignee, "username", None),
        "team": str(conversation.team or ""),
    }
    conversation.assignee = assignee
    conversation.assigned_at = timezone.now() if assignee else None
    if team is not None:
        conversation.team = team
    if assignee is not None and conversation.status == ConversationStatus.PENDING:
        conversation.status = ConversationStatus.OPEN
    conversation.save()
    audit.record(
        actor=by,
        action="assign",
        obj=conversation,
        before=before,
        after={
            "assignee": getattr(assignee, "username", None),
            "team": str(conversation.team or ""),
        },
    )
    _publish(
        conversation,
        conversation_event(conversation, "inbox.conversation"),
        previous_assignee_id=previous,
    )
    return conversation


@transaction.atomic
def set_conversation_status(*, conversation: Conversation, status: str, by: User) -> Conversation:
    """Move between trays: Pendiente, En curso, Atendidos (resolve)."""
    require(by, "inbox.reply_conversation", conversation)
    if status not in ConversationStatus.values:
        raise ValidationError({"status": _("Bandeja desconocida.")})
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    before = conversation.status
    if before == status:
        return conversation
    conversation.status = status
    if status == ConversationStatus.RESOLVED:
        conversation.resolved_at = timezone.now()
    else:
        conversation.resolved_at = None
        if status == ConversationStatus.OPEN and conversation.assignee_id is None:
            conversation.assignee = by
            conversation.assigned_at = timezone.now()
    conversation.save()
    audit.record(
        actor=by,
        action="status",
        obj=conversation,
        before={"status": before},
        after={"status": status},
    )
    _publish(conversation, conversation_event(conversation, "inbox.conversation"))
    return conversation


@transaction.atomic
def mark_read(*, conversation: Conversation, by: User) -> Conversation:
    """The assignee opened the chat: unread goes to zero (others looking don't clear it)."""
    require(by, "inbox.view_conversation", conversation)
    if conversation.unread_count and conversation.assignee_id in (None, by.pk):
        Conversation.objects.filter(pk=conversation.pk).update(unread_count=0)
        conversation.unread_count = 0
        _publish(conversation, conversation_event(conversation, "inbox.conversation"))
        _tell_provider_read(conversation)
    return conversation


def _tell_provider_read(conversation: Conversation) -> None:
    """Connectors that show read receipts (WhatsApp's blue ticks) hear it from a job."""
    try:
        connector = connector_for(conversation.channel.kind)
    except LookupError:
        return
    if not hasattr(connector, "mark_read"):
        return
    last = (
        conversation.messages.filter(direction=MessageDirection.INBOUND)
        .exclude(external_id="")
        .order_by("-id")
        .values_list("external_id", flat=True)
        .first()
    )
    if last:
        from atiende.inbox import jobs

        channel_id = conversation.channel_id
        transaction.on_commit(lambda: jobs.tell_provider_read(channel_id, last))


@transaction.atomic
def set_conversation_labels(
    *, conversation: Conversation, labels: list[Label], by: User
) -> Conversation:
    require(by, "inbox.reply_conversation", conversation)
    conversation.labels.set(labels)
    _publish(conversation, conversation_event(conversation, "inbox.conversation"))
    return conversation


# --- sending -----------------------------------------------------------------------------


def _queue_outbound(
    *,
    conversation: Conversation,
    by: User | None,
    kind: str,
    body: str,
    payload: dict | None = None,
    author_kind: str = MessageAuthor.AGENT,
) -> Message:
    message = Message.objects.create(
        conversation=conversation,
        channel=conversation.channel,
        direction=MessageDirection.OUTBOUND,
        author_kind=author_kind,
        author=by,
        kind=kind,
        body=body,
        payload=payload or {},
        status=MessageStatus.QUEUED,
    )
    now = timezone.now()
    conversation.last_message_at = now
    conversation.last_message_preview = _preview(kind, body)
    conversation.last_message_inbound = False
    if author_kind == MessageAuthor.AGENT:
        if conversation.awaiting_first_response:
            conversation.awaiting_first_response = False
            conversation.first_response_at = now
        if conversation.status == ConversationStatus.PENDING:
            conversation.status = ConversationStatus.OPEN
        if conversation.assignee_id is None and by is not None:
            conversation.assignee = by
            conversation.assigned_at = now
        conversation.unread_count = 0
    conversation.save()
    if author_kind == MessageAuthor.AGENT:
        _message_hooks(conversation, at=now, outbound=True)
    from atiende.inbox import jobs  # the job module imports this one

    transaction.on_commit(lambda: jobs.deliver_message(message.pk))
    _publish(conversation, conversation_event(conversation, "inbox.message", message_id=message.pk))
    return message


_VARIABLE = re.compile(r"\{\{\s*([\w.]+)\s*\}\}")


# The {{…}} names fill_variables knows, with their label (template variable mapping uses them).
VARIABLE_FIELDS = {
    "contacto.nombre": _("Nombre del contacto"),
    "contacto.apellido": _("Apellido del contacto"),
    "contacto.nombre_completo": _("Nombre completo del contacto"),
    "contacto.telefono": _("Teléfono del contacto"),
    "contacto.correo": _("Correo del contacto"),
    "agente.nombre": _("Nombre del agente"),
    "canal.nombre": _("Nombre del canal"),
}
_NUMBERED = re.compile(r"\{\{(\d+)\}\}")


def fill_variables(text: str, conversation: Conversation, agent: User | None) -> str:
    """Fill {{contacto.nombre}}, {{agente.nombre}}… from the conversation; unknown ones stay."""
    values = _variable_values(conversation, agent)
    return _VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def _variable_values(conversation: Conversation, agent: User | None) -> dict[str, str]:
    contact = conversation.contact
    values = {
        "contacto.nombre": contact.first_name,
        "contacto.apellido": contact.last_name,
        "contacto.nombre_completo": contact.full_name,
        "contacto.telefono": contact.primary_phone,
        "contacto.correo": contact.primary_email,
        "agente.nombre": agent.name if agent else "",
        "canal.nombre": conversation.channel.name,
    }
    return {key: str(value or "") for key, value in values.items()}


def template_variable_numbers(body: str) -> list[int]:
    """The numbered variables a template uses, sorted: "{{2}} y {{1}}" → [1, 2]."""
    return sorted({int(n) for n in _NUMBERED.findall(body or "")})


def template_defaults(
    template: MessageTemplate, conversation: Conversation, agent: User | None
) -> list[str]:
    """Pre-filled values for {{1}}…{{n}} from the template's mapping ("" where unmapped)."""
    numbers = template_variable_numbers(template.body)
    mapping = template.variable_map or {}
    values = _variable_values(conversation, agent) if mapping else {}
    return [values.get(mapping.get(str(n), ""), "") for n in range(1, max(numbers, default=0) + 1)]


@transaction.atomic
def send_message(
    *,
    conversation: Conversation,
    by: User,
    body: str = "",
    kind: str = MessageKind.TEXT,
    upload: UploadedFile | None = None,
    payload: dict | None = None,
) -> Message:
    """An agent's reply (or private note): stored first, delivered by a job after commit."""
    require(by, "inbox.reply_conversation", conversation)
    body = (body or "").strip()
    if kind not in MessageKind.values or kind in (MessageKind.UNSUPPORTED, MessageKind.TEMPLATE):
        raise ValidationError({"kind": _("Tipo de mensaje no válido.")})
    if len(body) > MAX_BODY:
        raise ValidationError({"body": _("El mensaje es demasiado largo.")})
    if kind == MessageKind.LOCATION:
        payload = _clean_location(payload or {})
    elif kind in _MEDIA_KINDS:
        if upload is None:
            raise ValidationError({"file": _("Adjunta un archivo.")})
    elif not body:
        raise ValidationError({"body": _("Escribe un mensaje.")})
    if kind == MessageKind.NOTE:
        return _add_note(conversation=conversation, by=by, body=body)
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if not reply_window_open(conversation):
        raise ValidationError({"body": str(WINDOW_CLOSED)})
    body = fill_variables(body, conversation, by)
    message = _queue_outbound(
        conversation=conversation, by=by, kind=kind, body=body, payload=payload
    )
    if upload is not None:
        store_attachment(upload=upload, by=by, contact=conversation.contact, owner=message)
    return message


def _clean_location(payload: dict) -> dict:
    try:
        latitude = float(payload.get("latitude"))
        longitude = float(payload.get("longitude"))
    except (TypeError, ValueError) as exc:
        raise ValidationError({"location": _("Ubicación no válida.")}) from exc
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise ValidationError({"location": _("Ubicación no válida.")})
    return {
        "latitude": latitude,
        "longitude": longitude,
        "name": str(payload.get("name", ""))[:120],
    }


_MENTION = re.compile(r"@([\w.\-]+)")


def _add_note(*, conversation: Conversation, by: User, body: str) -> Message:
    """A private note: visible to agents only, never handed to a connector; @mentions notify."""
    message = Message.objects.create(
        conversation=conversation,
        channel=conversation.channel,
        direction=MessageDirection.OUTBOUND,
        author_kind=MessageAuthor.AGENT,
        author=by,
        kind=MessageKind.NOTE,
        body=body,
        status=MessageStatus.SENT,
    )
    mentioned = User.objects.filter(username__in=_MENTION.findall(body), is_active=True)
    if mentioned:
        from atiende.notifications.services import notify  # notifications builds on inbox

        notify(
            recipients=mentioned,
            kind="mention",
            title=_("%(name)s te mencionó") % {"name": by.name},
            body=body[:140],
            url=f"/inbox/{conversation.pk}/",
            actor=by,
            target=conversation,
        )
    _publish(conversation, conversation_event(conversation, "inbox.message", message_id=message.pk))
    return message


@transaction.atomic
def send_template(
    *, conversation: Conversation, by: User, template: MessageTemplate, variables: list[str]
) -> Message:
    require(by, "inbox.reply_conversation", conversation)
    if template.status != MessageTemplate.Status.APPROVED:
        raise ValidationError({"template": _("La plantilla no está aprobada.")})
    if template.channel_id not in (None, conversation.channel_id):
        raise ValidationError({"template": _("La plantilla no es de este canal.")})
    used = {int(number) for number in re.findall(r"\{\{(\d+)\}\}", template.body)}
    if any(n < 1 or n > len(variables) or not str(variables[n - 1]).strip() for n in used):
        raise ValidationError({"variables": _("Completa todas las variables de la plantilla.")})
    body = re.sub(
        r"\{\{(\d+)\}\}", lambda m: str(variables[int(m.group(1)) - 1]).strip(), template.body
    )
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    return _queue_outbound(
        conversation=conversation,
        by=by,
        kind=MessageKind.TEMPLATE,
        body=body,
        payload={"template": template.name, "language": template.language, "variables": variables},
    )


@transaction.atomic
def start_conversation(
    *,
    channel: Channel,
    phone: str,
    by: User,
    body: str = "",
    template: MessageTemplate | None = None,
    variables: list[str] | None = None,
) -> Conversation:
    """ "Enviar mensaje a número": a conversation with a number that may not be a contact yet."""
    require(by, "inbox.start_conversation")
    try:
        e164 = normalize_phone(phone)
    except ValidationError as exc:
        raise ValidationError({"phone": exc.messages}) from exc
    capabilities = connector_for(channel.kind).capabilities
    if capabilities.templates and template is None:
        raise ValidationError({"template": _("Este canal exige una plantilla para iniciar.")})
    recipient = e164.lstrip("+")
    sender = Sender(external_id=recipient, phone=e164)
    inbound = InboundMessage(channel_id=channel.pk, external_id="", sender=sender)
    contact = _find_or_create_contact(channel, inbound)
    conversation = (
        Conversation.objects.filter(channel=channel, recipient=recipient)
        .exclude(status=ConversationStatus.RESOLVED)
        .first()
    ) or Conversation.objects.create(
        contact=contact,
        channel=channel,
        recipient=recipient,
        team=channel.team,
        status=ConversationStatus.OPEN,
        assignee=by,
        assigned_at=timezone.now(),
        last_message_inbound=False,
    )
    if template is not None:
        send_template(
            conversation=conversation, by=by, template=template, variables=variables or []
        )
    else:
        send_message(conversation=conversation, by=by, body=body)
    return conversation


# --- delivery (called by the job) ------------------------------------------------------------


def deliver(message_id: int) -> str:
    """Hand one queued message to its connector. Returns the outcome for the job to act on:
    "sent", "retry" (try again later), "failed" or "skip" (already handled)."""
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("conversation", "channel")
            .filter(pk=message_id)
            .first()
        )
        if message is None or message.status != MessageStatus.QUEUED or message.is_note:
            return "skip"
        message.attempts += 1
        message.save(update_fields=["attempts"])
    outbound = OutboundMessage(
        message_id=message.pk,
        recipient=message.conversation.recipient,
        kind=message.kind,
        body=message.body,
        payload=message.payload,
        media=tuple(_outbound_media(message)),
    )
    try:
        result = connector_for(message.channel.kind).send(message.channel, outbound)
    except SendError as exc:
        final = not exc.retryable or message.attempts >= settings.ATIENDE_SEND_ATTEMPTS
        _record_send_error(message, exc, final=final)
        return "failed" if final else "retry"
    except Exception as exc:  # network errors and the like: retry, then fail
        logger.exception("send failed", extra={"message_id": message.pk})
        final = message.attempts >= settings.ATIENDE_SEND_ATTEMPTS
        _record_send_error(message, SendError(str(exc)[:300], code="error"), final=final)
        return "failed" if final else "retry"
    with transaction.atomic():
        updated = Message.objects.filter(pk=message.pk, status=MessageStatus.QUEUED).update(
            status=MessageStatus.SENT,
            external_id=result.external_id,
            sent_at=timezone.now(),
            error_code="",
            error_message="",
        )
        if updated:
            message.status = MessageStatus.SENT
            _publish(
                message.conversation,
                conversation_event(
                    message.conversation,
                    "inbox.status",
                    message_id=message.pk,
                    message_status=MessageStatus.SENT,
                ),
            )
    return "sent"


def _outbound_media(message: Message):
    for attachment in Attachment.objects.filter(
        owner_id=str(message.pk), owner_type__model="message"
    ):
        with attachment.file.open("rb") as handle:
            yield Media(name=attachment.name, mime_type=attachment.mime_type, content=handle.read())


def _record_send_error(message: Message, error: SendError, *, final: bool) -> None:
    with transaction.atomic():
        fields = {"error_code": error.code[:40], "error_message": str(error)[:300]}
        if final:
            fields["status"] = MessageStatus.FAILED
        Message.objects.filter(pk=message.pk).update(**fields)
        if final:
            _publish(
                message.conversation,
                conversation_event(
                    message.conversation,
                    "inbox.status",
                    message_id=message.pk,
                    message_status=MessageStatus.FAILED,
                ),
            )


@transaction.atomic
def retry_message(*, message: Message, by: User) -> Message:
    """The agent's "reintentar" on a failed message: queue it again, attempts from zero."""
    require(by, "inbox.reply_conversation", message.conversation)
    if message.status != MessageStatus.FAILED:
        raise ValidationError(_("Solo se reintentan mensajes fallidos."))
    message.status = MessageStatus.QUEUED
    message.attempts = 0
    message.save(update_fields=["status", "attempts"])
    from atiende.inbox import jobs

    transaction.on_commit(lambda: jobs.deliver_message(message.pk))
    _publish(
        message.conversation,
        conversation_event(
            message.conversation,
            "inbox.status",
            message_id=message.pk,
            message_status=MessageStatus.QUEUED,
        ),
    )
    return message


# --- canned responses and templates ----------------------------------------------------------


@transaction.atomic
def save_canned_response(
    *,
    by: User,
    shortcut: str,
    title: str,
    body: str,
    team: Team | None = None,
    canned: CannedResponse | None = None,
) -> CannedResponse:
    require(by, "inbox.manage_canned_responses", team)
    shortcut = (shortcut or "").strip().lstrip("/").lower()
    errors = {}
    if not re.fullmatch(r"[a-z0-9_\-]{1,40}", shortcut):
        errors["shortcut"] = _("El atajo solo admite letras, números, guiones y guion bajo.")
    if not (title or "").strip():
        errors["title"] = _("El título es obligatorio.")
    if not (body or "").strip():
        errors["body"] = _("El texto es obligatorio.")
    if errors:
        raise ValidationError(errors)
    clash = CannedResponse.objects.filter(shortcut=shortcut, team=team)
    if canned is not None:
        clash = clash.exclude(pk=canned.pk)
    if clash.exists():
        raise ValidationError({"shortcut": _("Ya existe una respuesta con ese atajo.")})
    canned = canned or CannedResponse(created_by=by)
    canned.shortcut, canned.title, canned.body, canned.team = (
        shortcut,
        title.strip(),
        body.strip(),
        team,
    )
    canned.save()
    return canned


@transaction.atomic
def delete_canned_response(*, canned: CannedResponse, by: User) -> None:
    require(by, "inbox.manage_canned_responses", canned.team)
    canned.delete()


@transaction.atomic
def save_template(
    *,
    by: User,
    name: str,
    body: str,
    language: str = "es",
    channel: Channel | None = None,
    category: str = "",
    status: str = MessageTemplate.Status.APPROVED,
    template: MessageTemplate | None = None,
    variable_map: dict[str, str] | None = None,
) -> MessageTemplate:
    require(by, "inbox.manage_channels")
    name = (name or "").strip()
    errors = {}
    if variable_map is not None:
        used = {str(n) for n in template_variable_numbers(body)}
        variable_map = {str(k): v for k, v in variable_map.items() if v and str(k) in used}
        unknown = sorted(v for v in variable_map.values() if v not in VARIABLE_FIELDS)
        if unknown:
            errors["variable_map"] = _("Campo del contacto desconocido: %(field)s.") % {
                "field": ", ".join(unknown)
            }
    if not re.fullmatch(r"[a-z0-9_]{1,120}", name):
        errors["name"] = _("El nombre solo admite minúsculas, números y guion bajo.")
    if not (body or "").strip():
        errors["body"] = _("El texto es obligatorio.")
    if status not in MessageTemplate.Status.values:
        errors["status"] = _("Estado desconocido.")
    if errors:
        raise ValidationError(errors)
    clash = MessageTemplate.objects.filter(channel=channel, name=name, language=language)
    if template is not None:
        clash = clash.exclude(pk=template.pk)
    if clash.exists():
        raise ValidationError({"name": _("Ya existe una plantilla con ese nombre e idioma.")})
    template = template or MessageTemplate()
    template.name, template.body, template.language = name, body.strip(), language
    template.channel, template.category, template.status = channel, category, status
    if variable_map is not None:
        template.variable_map = variable_map
    template.save()
    return template


def sync_channel_templates(*, channel: Channel, by: User) -> int:
    """Fetch the channel's templates from its provider (WhatsApp); how many were read."""
    require(by, "inbox.manage_channels")
    try:
        sync = getattr(connector_for(channel.kind), "sync_templates", None)
    except LookupError:
        sync = None
    if sync is None:
        raise ValidationError(_("Este canal no tiene plantillas que sincronizar."))
    count = sync(channel)
    audit.record(actor=by, action="sync_templates", obj=channel, after={"templates": count})
    return count


@transaction.atomic
def save_channel(
    *,
    by: User,
    name: str,
    kind: str,
    team: Team | None = None,
    color: str = "#0d7c86",
    is_active: bool = True,
    auto_assign: bool = True,
    business_hours: dict | None = None,
    out_of_hours_message: str = "",
    config: dict | None = None,
    credentials: dict | None = None,
    channel: Channel | None = None,
) -> Channel:
    require(by, "inbox.manage_channels")
    errors = {}
    if not (name or "").strip():
        errors["name"] = _("El nombre es obligatorio.")
    if kind not in ChannelKind.values:
        errors["kind"] = _("Tipo de canal desconocido.")
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", color or ""):
        errors["color"] = _("El color debe tener el formato #RRGGBB.")
    hours = business_hours or {}
    for day, ranges in hours.items():
        if day not in {str(d) for d in range(1, 8)} or not all(
            isinstance(r, (list, tuple))
            and len(r) == 2
            and all(re.fullmatch(r"\d\d:\d\d", str(t)) for t in r)
            and r[0] < r[1]
            for r in ranges
        ):
            errors["business_hours"] = _("Horario no válido.")
    if errors:
        raise ValidationError(errors)
    channel = channel or Channel(kind=kind)
    before = audit.snapshot(channel, ["name", "team", "is_active"]) if channel.pk else {}
    channel.name, channel.team, channel.color = name.strip(), team, color.lower()
    channel.is_active, channel.auto_assign = is_active, auto_assign
    channel.business_hours, channel.out_of_hours_message = (
        hours,
        (out_of_hours_message or "").strip(),
    )
    channel.config = {**channel.config, **(config or {})}
    if credentials is not None:
        channel.credentials = {**channel.credentials, **credentials}
    try:
        prepare = getattr(connector_for(channel.kind), "prepare_channel", None)
    except LookupError:  # a kind whose connector is not installed yet
        prepare = None
    if prepare is not None:
        prepare(channel)  # e.g. the website chat's public key
    channel.save()
    audit.record(
        actor=by,
        action="update" if before else "create",
        obj=channel,
        before=before,
        after=audit.snapshot(channel, ["name", "team", "is_active"]),
    )
    return channel


def _move_conversations(survivor: Contact, duplicate: Contact) -> int:
    return Conversation.objects.filter(contact=duplicate).update(contact=survivor)


register_merge_part("conversations", gettext_lazy("Conversaciones"), _move_conversations)
