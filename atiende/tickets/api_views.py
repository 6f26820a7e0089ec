"""/api/v1/ticket-views: saved advanced filters of the ticket list (private or shared).

Thin: `saved_views` validates (422 with the Spanish message per field) and checks who may see,
change or delete a view (403); a private view of someone else answers 404, as if it did not exist.
Use a view on the list with GET /api/v1/tickets?view=<id>.
"""

import datetime

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from atiende.tickets import saved_views
from atiende.tickets.models import SavedView

router = Router(tags=["ticket-views"])


class OwnerRef(Schema):
    id: int
    name: str


class ViewOut(Schema):
    id: int
    name: str
    shared: bool
    owner: OwnerRef
    filters: dict
    description: list[str] = Field(description="Las condiciones en palabras.")
    can_edit: bool
    created_at: datetime.datetime

    @staticmethod
    def resolve_owner(obj: SavedView) -> dict:
        return {"id": obj.owner_id, "name": obj.owner.name}

    @staticmethod
    def resolve_description(obj: SavedView) -> list[str]:
        try:
            return saved_views.describe(saved_views.clean_filters(obj.filters))
        except ValidationError as exc:
            return exc.messages

    @staticmethod
    def resolve_can_edit(obj: SavedView, context: dict) -> bool:
        return saved_views.can_edit(context["request"].user, obj)


FILTERS_HELP = (
    '{"match": "all" | "any", "conditions": [{"field", "op", "value"}, …]}. Campos: '
    + ", ".join(saved_views.FIELDS)
    + ". Operadores: "
    + ", ".join(saved_views.OPERATORS)
    + '. "in" lleva una lista; "between" dos fechas AAAA-MM-DD; "empty" / "not_empty" ningún '
    'valor; el propietario admite "me".'
)


class ViewIn(Schema):
    name: str
    shared: bool = False
    filters: dict = Field(default_factory=saved_views.empty_filters, description=FILTERS_HELP)


class ViewPatch(Schema):
    name: str | None = None
    shared: bool | None = None
    filters: dict | None = Field(None, description=FILTERS_HELP)


def _view(request: HttpRequest, view_id: int) -> SavedView:
    try:
        return saved_views.get_view(user=request.user, view_id=view_id)
    except SavedView.DoesNotExist:
        raise HttpError(404, _("La vista no existe.")) from None


@router.get("/ticket-views", response=list[ViewOut])
def list_views(request: HttpRequest):
    """My views and the shared ones, by name."""
    return list(saved_views.views_for(request.user))


@router.post("/ticket-views", response={201: ViewOut})
def create_view(request: HttpRequest, payload: ViewIn):
    view = saved_views.save_view(
        owner=request.user, name=payload.name, shared=payload.shared, filters=payload.filters
    )
    return Status(201, view)


@router.get("/ticket-views/{int:view_id}", response=ViewOut)
def get_view(request: HttpRequest, view_id: int):
    return _view(request, view_id)


@router.patch("/ticket-views/{int:view_id}", response=ViewOut)
def update_view(request: HttpRequest, view_id: int, payload: ViewPatch):
    """Change only what is sent; only the owner or an admin may."""
    view = _view(request, view_id)
    data = payload.dict(exclude_unset=True)
    return saved_views.save_view(
        owner=request.user,
        name=data["name"] if data.get("name") is not None else view.name,
        shared=data["shared"] if data.get("shared") is not None else view.shared,
        filters=data["filters"] if data.get("filters") is not None else view.filters,
        view=view,
    )


@router.delete("/ticket-views/{int:view_id}", response={204: None})
def delete_view(request: HttpRequest, view_id: int):
    saved_views.delete_view(view=_view(request, view_id), by=request.user)
    return Status(204, None)
