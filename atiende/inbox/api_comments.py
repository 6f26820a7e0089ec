"""/api/v1/comments: the comments tray (Facebook and Instagram), with the tray's visibility."""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import PageNumberPagination, paginate

from atiende.inbox import comments
from atiende.inbox.models import CommentStatus, SocialComment

router = Router(tags=["comments"])


class CommentOut(Schema):
    id: int
    channel_id: int
    channel_kind: str
    status: str
    body: str
    author_id: str
    author_name: str
    contact_id: int | None
    post_id: str
    post_caption: str
    post_permalink: str
    post_thumbnail_url: str
    parent_id: str
    created_at: datetime.datetime
    reply_text: str
    private_reply_sent: bool
    handled_by_id: int | None

    @staticmethod
    def resolve_channel_kind(obj: SocialComment) -> str:
        return obj.channel.kind

    @staticmethod
    def resolve_parent_id(obj: SocialComment) -> str:
        return obj.parent_external_id


class CommentFilters(Schema):
    status: str = Field("", description="new | replied | hidden | handled; vacío = todos.")
    channel: int | None = None


class ReplyIn(Schema):
    text: str
    private: bool = False


def _comment(request: HttpRequest, comment_id: int) -> SocialComment:
    comment = get_object_or_404(SocialComment.objects.select_related("channel"), pk=comment_id)
    if not comments.can_work(request.user, comment):
        raise PermissionDenied(_("No tienes permiso para realizar esta acción."))
    return comment


@router.get("/comments", response=list[CommentOut])
@paginate(PageNumberPagination, page_size=25, max_page_size=100)
def list_comments(request: HttpRequest, filters: Query[CommentFilters]):
    """Comments the caller may see, newest first."""
    if filters.status and filters.status not in CommentStatus.values:
        raise ValidationError({"status": _("Estado desconocido.")})
    return comments.tray(user=request.user, status=filters.status, channel=filters.channel)


@router.post("/comments/{int:comment_id}/reply", response=CommentOut)
def reply(request: HttpRequest, comment_id: int, payload: ReplyIn):
    """Answer publicly under the comment, or privately by direct message (`private: true`)."""
    comment = _comment(request, comment_id)
    action = comments.reply_privately if payload.private else comments.reply_publicly
    return action(comment=comment, by=request.user, text=payload.text)


@router.post("/comments/{int:comment_id}/hide", response=CommentOut)
def hide(request: HttpRequest, comment_id: int):
    return comments.hide(comment=_comment(request, comment_id), by=request.user)


@router.post("/comments/{int:comment_id}/handled", response=CommentOut)
def handled(request: HttpRequest, comment_id: int):
    return comments.mark_handled(comment=_comment(request, comment_id), by=request.user)
