"""Reads for the bell: a user's notifications, filtered, and the unread count."""

from django.db.models import QuerySet

from atiende.notifications.models import Kind, Notification

PANEL_SIZE = 15


def notifications_for(
    *, user, kind: str | None = None, unread: bool | None = None
) -> QuerySet[Notification]:
    """The user's notifications, newest first; `kind` and `unread` narrow it. Paginate or slice."""
    qs = Notification.objects.filter(recipient=user).select_related("actor")
    if kind and kind in Kind.values:
        qs = qs.filter(kind=kind)
    if unread is True:
        qs = qs.filter(read_at__isnull=True)
    elif unread is False:
        qs = qs.filter(read_at__isnull=False)
    return qs.order_by("-created_at", "-id")


def unread_count(user) -> int:
    user_id = getattr(user, "pk", user)
    return Notification.objects.filter(recipient_id=user_id, read_at__isnull=True).count()
