"""/api/v1/notifications: the caller's bell, marking read, and which kinds also go by e-mail."""

import datetime

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from atiende.notifications import selectors, services
from atiende.notifications.models import Kind

router = Router(tags=["notifications"])

PAGE_SIZE = 25


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    url: str
    actor: int | None = Field(None, alias="actor_id")
    created_at: datetime.datetime
    read_at: datetime.datetime | None


class NotificationPage(Schema):
    items: list[NotificationOut]
    count: int
    unread: int


class ReadIn(Schema):
    ids: list[int] | None = Field(None, description="Sin `ids`: todas las del usuario.")


class ReadOut(Schema):
    marked: int
    unread: int


class PreferencesIO(Schema):
    by_email: dict[Kind, bool] = Field(..., description="Tipo → si también se envía por correo.")


@router.get("/notifications", response=NotificationPage)
def list_notifications(
    request: HttpRequest,
    kind: str | None = Query(None, description="assignment, mention, customer_reply, …"),
    unread: bool | None = Query(None, description="true: sin leer; false: leídas."),
    page: int = Query(1, ge=1),
):
    """The caller's notifications, newest first, 25 a page."""
    if kind and kind not in Kind.values:
        raise ValidationError({"kind": _("Tipo de notificación desconocido.")})
    qs = selectors.notifications_for(user=request.user, kind=kind, unread=unread)
    paginator = Paginator(qs, PAGE_SIZE)
    return {
        "items": list(paginator.get_page(page).object_list),
        "count": paginator.count,
        "unread": selectors.unread_count(request.user),
    }


@router.post("/notifications/read", response=ReadOut)
def read_notifications(request: HttpRequest, payload: ReadIn):
    """Mark some (`{"ids": [...]}`) or all (`{}`) read; another user's ids get 403."""
    marked = services.mark_read(user=request.user, ids=payload.ids)
    return {"marked": marked, "unread": selectors.unread_count(request.user)}


@router.get("/notifications/preferences", response=PreferencesIO)
def get_preferences(request: HttpRequest):
    return {"by_email": services.email_preferences(request.user)}


@router.put("/notifications/preferences", response=PreferencesIO)
def put_preferences(request: HttpRequest, payload: PreferencesIO):
    """Set which kinds also go by e-mail; kinds left out keep their setting."""
    chosen = {
        str(kind.value if isinstance(kind, Kind) else kind): v
        for kind, v in payload.by_email.items()
    }
    return {"by_email": services.set_preferences(user=request.user, by_email=chosen)}
