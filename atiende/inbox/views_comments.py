"""The comments tray (/inbox/comentarios/): Facebook and Instagram comments, newest first.

Actions post to the comment's own URL; with htmx the card is swapped in place (with the error,
if Meta or the form refused), without it the page is reloaded with a message.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from atiende.inbox import comments
from atiende.inbox.models import Channel, ChannelKind, CommentStatus, SocialComment

PAGE = 30
ACTIONS = ("publico", "privado", "ocultar", "atendido")
TABS = (
    (CommentStatus.NEW, gettext_lazy("Nuevos")),
    (CommentStatus.REPLIED, gettext_lazy("Respondidos")),
    (CommentStatus.HIDDEN, gettext_lazy("Ocultos")),
    (CommentStatus.HANDLED, gettext_lazy("Atendidos")),
)


@login_required
@require_GET
def tray(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("inbox.view_inbox"):
        raise PermissionDenied
    status = request.GET.get("estado", CommentStatus.NEW)
    if status not in CommentStatus.values and status != "todos":
        status = CommentStatus.NEW
    channel = request.GET.get("canal", "")
    channel_id = int(channel) if channel.isdigit() else None
    queryset = comments.tray(
        user=request.user, status="" if status == "todos" else status, channel=channel_id
    )
    page = Paginator(queryset, PAGE).get_page(request.GET.get("page"))
    counts = comments.counts(user=request.user)
    context = {
        "page": page,
        "status": status,
        "channel_id": channel_id,
        "statuses": [
            (value, label, counts.get(value, 0)) for value, label in CommentStatus.choices
        ],
        "total": sum(counts.values()),
        "channels": Channel.objects.filter(
            kind__in=[ChannelKind.MESSENGER, ChannelKind.INSTAGRAM]
        ).order_by("name"),
    }
    return render(request, "inbox/comments.html", context)


@login_required
@require_GET
def row(request: HttpRequest, comment_id: int) -> HttpResponse:
    """One comment's card, for the tray's live updates (inbox.comment events)."""
    comment = get_object_or_404(
        comments.visible_comments(user=request.user).select_related(
            "channel", "contact", "handled_by"
        ),
        pk=comment_id,
    )
    return render(request, "inbox/_comment.html", {"comment": comment})


@login_required
@require_POST
def act(request: HttpRequest, comment_id: int, action: str) -> HttpResponse:
    comment = get_object_or_404(
        SocialComment.objects.select_related("channel", "contact", "handled_by"), pk=comment_id
    )
    if action not in ACTIONS or not comments.can_work(request.user, comment):
        raise PermissionDenied
    error = ""
    text = request.POST.get("text", "")
    try:
        if action == "publico":
            comments.reply_publicly(comment=comment, by=request.user, text=text)
        elif action == "privado":
            comments.reply_privately(comment=comment, by=request.user, text=text)
        elif action == "ocultar":
            comments.hide(comment=comment, by=request.user)
        else:
            comments.mark_handled(comment=comment, by=request.user)
    except ValidationError as exc:
        error = " ".join(exc.messages)
    if request.htmx:
        comment.refresh_from_db()
        return render(
            request, "inbox/_comment.html", {"comment": comment, "error": error, "text": text}
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Listo."))
    return redirect(request.POST.get("next") or "inbox:comments")
