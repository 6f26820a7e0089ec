"""The comments tray: Facebook page post comments and Instagram media comments.

Who sees a comment: the same rule as conversations — admins and supervisors all, agents those of
their teams' channels (or all, by setting). Replies go through the Graph API at once (the agent is
waiting): publicly under the comment, or privately by direct message (Meta's private replies,
one per comment), which also lands in the customer's DM conversation. Every change is published
as an `inbox.comment` event to the channel's team and the supervisors.
"""

import datetime
import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from atiende.contacts.models import ContactPoint
from atiende.core.realtime import SUPERVISORS_GROUP, publish_on_commit, team_group
from atiende.inbox.models import (
    Channel,
    ChannelKind,
    CommentStatus,
    Conversation,
    ConversationStatus,
    Message,
    MessageAuthor,
    MessageDirection,
    MessageKind,
    MessageStatus,
    SocialComment,
)
from atiende.users.models import User

logger = logging.getLogger(__name__)

MAX_REPLY = 2000
_POINT_KIND = {
    ChannelKind.MESSENGER: ContactPoint.Kind.MESSENGER,
    ChannelKind.INSTAGRAM: ContactPoint.Kind.INSTAGRAM,
}


# --- visibility --------------------------------------------------------------------------------


def visible_comments(*, user: User) -> QuerySet[SocialComment]:
    if not user.has_perm("inbox.view_inbox"):
        raise PermissionDenied(_("No tienes permiso para realizar esta acción."))
    comments = SocialComment.objects.all()
    if user.has_perm("users.view_presence") or settings.ATIENDE_INBOX_AGENT_SCOPE == "all":
        return comments
    team_ids = list(user.teams.values_list("id", flat=True))
    return comments.filter(channel__team_id__in=team_ids)


def can_work(user: User, comment: SocialComment) -> bool:
    return visible_comments(user=user).filter(pk=comment.pk).exists()


def _require(user: User, comment: SocialComment) -> None:
    if not can_work(user, comment):
        raise PermissionDenied(_("No tienes permiso para realizar esta acción."))


def tray(*, user: User, status: str = "", channel: int | None = None) -> QuerySet[SocialComment]:
    """Newest first, with channel, contact and handler in the same query."""
    comments = visible_comments(user=user).select_related("channel", "contact", "handled_by")
    if status in CommentStatus.values:
        comments = comments.filter(status=status)
    if channel:
        comments = comments.filter(channel_id=channel)
    return comments.order_by("-created_at", "-id")


def _publish(comment: SocialComment) -> None:
    event = {
        "type": "inbox.comment",
        "comment_id": comment.pk,
        "channel_id": comment.channel_id,
        "status": comment.status,
    }
    groups = {SUPERVISORS_GROUP}
    if comment.channel.team_id:
        groups.add(team_group(comment.channel.team_id))
    for group in groups:
        publish_on_commit(group, event)


# --- receiving ---------------------------------------------------------------------------------


def _contact_for(channel: Channel, author_id: str, author_name: str):
    """The contact whose Messenger/Instagram point is this author's id (or IG username)."""
    kind = _POINT_KIND.get(channel.kind)
    keys = [key.casefold() for key in (author_id, author_name) if key]
    if channel.kind != ChannelKind.INSTAGRAM:
        keys = keys[:1]
    if not kind or not keys:
        return None
    point = (
        ContactPoint.objects.select_related("contact")
        .filter(kind=kind, search_value__in=keys)
        .order_by("contact_id")
        .first()
    )
    return point.contact if point else None


def _post_details(channel: Channel, post_id: str) -> dict:
    """Caption, link and thumbnail of the post or media; {} when the page may not read it."""
    from atiende.connectors.meta.services import graph_for

    if not post_id:
        return {}
    previous = (
        SocialComment.objects.filter(channel=channel, post_id=post_id)
        .exclude(post_caption="", post_permalink="")
        .values("post_caption", "post_permalink", "post_thumbnail_url")
        .first()
    )
    if previous:
        return previous
    if channel.kind == ChannelKind.INSTAGRAM:
        fields = "caption,permalink,thumbnail_url,media_url,media_type"
    else:
        fields = "message,permalink_url,full_picture"
    try:
        data = graph_for(channel).get(f"/{post_id}", params={"fields": fields})
    except Exception:
        logger.info("post lookup failed", extra={"channel_id": channel.pk})
        return {}
    caption = data.get("caption") or data.get("message") or ""
    link = data.get("permalink") or data.get("permalink_url") or ""
    thumb = data.get("thumbnail_url") or data.get("full_picture") or ""
    if channel.kind == ChannelKind.INSTAGRAM and not thumb and data.get("media_type") == "IMAGE":
        thumb = data.get("media_url") or ""
    return {
        "post_caption": str(caption)[:4000],
        "post_permalink": str(link)[:500] if str(link).startswith("http") else "",
        "post_thumbnail_url": str(thumb)[:1000] if str(thumb).startswith("http") else "",
    }


def receive_comment(
    *,
    channel: Channel,
    external_id: str,
    body: str,
    author_id: str = "",
    author_name: str = "",
    post_id: str = "",
    parent_external_id: str = "",
    created_at: datetime.datetime | None = None,
    post_permalink: str = "",
    edited: bool = False,
) -> SocialComment | None:
    """Store a comment once per channel; an edit updates the text. None for a repeat."""
    existing = SocialComment.objects.filter(channel=channel, external_id=external_id).first()
    if existing is not None:
        if edited and existing.body != body:
            existing.body = body
            existing.save(update_fields=["body"])
            _publish(existing)
        return None
    details = _post_details(channel, post_id)
    if post_permalink and not details.get("post_permalink"):
        details["post_permalink"] = post_permalink
    try:
        with transaction.atomic():
            comment = SocialComment.objects.create(
                channel=channel,
                external_id=external_id,
                post_id=post_id,
                parent_external_id=parent_external_id,
                author_id=author_id,
                author_name=author_name,
                contact=_contact_for(channel, author_id, author_name),
                body=body,
                created_at=created_at or timezone.now(),
                **details,
            )
            _publish(comment)
    except IntegrityError:
        return None
    return comment


def comment_removed(*, channel: Channel, external_id: str) -> None:
    """The author deleted it: nothing left to answer."""
    comment = SocialComment.objects.filter(channel=channel, external_id=external_id).first()
    if comment is not None and comment.status == CommentStatus.NEW:
        comment.status = CommentStatus.HANDLED
        comment.handled_at = timezone.now()
        comment.save(update_fields=["status", "handled_at"])
        _publish(comment)


# --- agent actions -------------------------------------------------------------------------------


def _clean_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("Escribe una respuesta.")})
    if len(text) > MAX_REPLY:
        raise ValidationError(
            {
                "text": _("La respuesta es demasiado larga (máximo %(n)s caracteres).")
                % {"n": MAX_REPLY}
            }
        )
    return text


def _graph_call(comment: SocialComment, method: str, path: str, **kwargs) -> dict:
    from atiende.connectors.meta.graph import GraphError
    from atiende.connectors.meta.services import graph_for

    try:
        return getattr(graph_for(comment.channel), method)(path, **kwargs)
    except GraphError as exc:
        logger.warning("comment action refused", extra={"comment_id": comment.pk})
        detail = (exc.message or "")[:200]
        raise ValidationError(
            _("Meta rechazó la acción: %(detail)s") % {"detail": detail or exc.code}
        ) from exc


def _done(comment: SocialComment, status: str, by: User, fields: list[str]) -> SocialComment:
    comment.status = status
    comment.handled_by = by
    comment.handled_at = timezone.now()
    comment.save(update_fields=[*fields, "status", "handled_by", "handled_at"])
    _publish(comment)
    return comment


def reply_publicly(*, comment: SocialComment, by: User, text: str) -> SocialComment:
    _require(by, comment)
    text = _clean_text(text)
    if comment.status == CommentStatus.HIDDEN:
        raise ValidationError(_("No se puede responder a un comentario oculto."))
    if comment.channel.kind == ChannelKind.INSTAGRAM:
        path = f"/{comment.external_id}/replies"
    else:
        path = f"/{comment.external_id}/comments"
    response = _graph_call(comment, "post", path, json={"message": text})
    with transaction.atomic():
        comment.reply_text = text
        comment.reply_external_id = str(response.get("id") or "")[:200]
        return _done(comment, CommentStatus.REPLIED, by, ["reply_text", "reply_external_id"])


def reply_privately(*, comment: SocialComment, by: User, text: str) -> SocialComment:
    """A private reply by direct message (once per comment); it continues in the DM thread."""
    from atiende.connectors.meta.services import messages_path

    _require(by, comment)
    text = _clean_text(text)
    if comment.private_reply_sent:
        raise ValidationError(_("Este comentario ya recibió una respuesta privada."))
    if comment.created_at < timezone.now() - datetime.timedelta(days=7):
        raise ValidationError(
            _("Meta solo permite responder por privado durante 7 días después del comentario.")
        )
    response = _graph_call(
        comment,
        "post",
        messages_path(comment.channel),
        json={"recipient": {"comment_id": comment.external_id}, "message": {"text": text}},
    )
    recipient = str(response.get("recipient_id") or comment.author_id or "")[:200]
    mid = str(response.get("message_id") or "")[:200]
    with transaction.atomic():
        if recipient:
            _store_private_reply(comment, by, text, recipient, mid)
        comment.private_reply_sent = True
        comment.reply_text = text
        return _done(comment, CommentStatus.REPLIED, by, ["private_reply_sent", "reply_text"])


def _store_private_reply(comment, by, text, recipient, mid) -> None:
    from atiende.connectors.base import InboundMessage, Sender
    from atiende.inbox import services as inbox

    channel = comment.channel
    conversation = (
        Conversation.objects.filter(channel=channel, recipient=recipient)
        .exclude(status=ConversationStatus.RESOLVED)
        .order_by("-id")
        .first()
    )
    now = timezone.now()
    if conversation is None:
        contact = comment.contact or inbox._find_or_create_contact(
            channel,
            InboundMessage(
                channel_id=channel.pk,
                external_id="",
                sender=Sender(external_id=recipient, name=comment.author_name),
            ),
        )
        conversation = Conversation.objects.create(
            contact=contact,
            channel=channel,
            recipient=recipient,
            team=channel.team,
            status=ConversationStatus.OPEN,
            assignee=by,
            assigned_at=now,
            last_message_inbound=False,
            awaiting_first_response=False,
        )
        if comment.contact_id is None:
            comment.contact = contact
            comment.save(update_fields=["contact"])
    if mid and Message.objects.filter(channel=channel, external_id=mid).exists():
        return
    message = Message.objects.create(
        conversation=conversation,
        channel=channel,
        direction=MessageDirection.OUTBOUND,
        author_kind=MessageAuthor.AGENT,
        author=by,
        kind=MessageKind.TEXT,
        body=text,
        payload={"private_reply_to": comment.external_id},
        external_id=mid,
        status=MessageStatus.SENT,
        sent_at=now,
    )
    conversation.last_message_at = now
    conversation.last_message_preview = text[:160]
    conversation.last_message_inbound = False
    conversation.save(
        update_fields=["last_message_at", "last_message_preview", "last_message_inbound"]
    )
    inbox._publish(
        conversation,
        inbox.conversation_event(conversation, "inbox.message", message_id=message.pk),
    )


def hide(*, comment: SocialComment, by: User) -> SocialComment:
    _require(by, comment)
    if comment.channel.kind == ChannelKind.INSTAGRAM:
        _graph_call(comment, "post", f"/{comment.external_id}", json={"hide": True})
    else:
        _graph_call(comment, "post", f"/{comment.external_id}", json={"is_hidden": True})
    with transaction.atomic():
        return _done(comment, CommentStatus.HIDDEN, by, [])


def mark_handled(*, comment: SocialComment, by: User) -> SocialComment:
    _require(by, comment)
    with transaction.atomic():
        return _done(comment, CommentStatus.HANDLED, by, [])


def counts(*, user: User) -> dict[str, int]:
    from django.db.models import Count

    rows = visible_comments(user=user).values("status").annotate(n=Count("id"))
    result = {status: 0 for status in CommentStatus.values}
    result.update({row["status"]: row["n"] for row in rows})
    return result


def new_count(*, user: User) -> int:
    """The "Nuevos" comments the user may see: the badge on the inbox's Comentarios link."""
    return visible_comments(user=user).filter(status=CommentStatus.NEW).count()
