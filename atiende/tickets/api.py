"""/api/v1 for tickets: list with filters, create, read, edit, notes, escalation to Tech, pipelines.

Thin: the same selectors and services as the UI, so the permission rules (`tickets.rules`) and the
Spanish validation messages are the same. A service refusing input answers 422 field by field.
"""

import datetime
import json
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import PageNumberPagination, paginate

from atiende.contacts.models import Account, Contact, Label
from atiende.tickets import saved_views, selectors, services, sla
from atiende.tickets.models import (
    Pipeline,
    Priority,
    SavedView,
    SlaState,
    Source,
    Stage,
    Ticket,
)
from atiende.users.models import Team, User

router = Router(tags=["tickets"])

PAGE_SIZE = 25
MAX_PAGE_SIZE = 100


# --- schemas ----------------------------------------------------------------------------


class Ref(Schema):
    id: int
    name: str


class ContactRef(Schema):
    id: int
    full_name: str


class AccountRef(Schema):
    id: int
    number: str
    product: str


class LabelRef(Schema):
    id: int
    name: str
    color: str


class StageOut(Schema):
    id: int
    key: str = Field(description="Identificador en inglés: new, follow_up, tech_issues, …")
    name: str = Field(description="Nombre en el idioma del usuario.")
    help_text: str
    position: int
    color: str
    is_closed: bool
    pauses_sla: bool
    is_escalation: bool

    @staticmethod
    def resolve_name(obj: Stage) -> str:
        return obj.label

    @staticmethod
    def resolve_help_text(obj: Stage) -> str:
        return obj.meaning


class PipelineOut(Schema):
    id: int
    key: str
    name: str
    team: Ref | None
    is_default: bool
    stages: list[StageOut]

    @staticmethod
    def resolve_name(obj: Pipeline) -> str:
        return str(obj)

    @staticmethod
    def resolve_stages(obj: Pipeline) -> list:
        return sorted(obj.stages.all(), key=lambda s: (s.position, s.id))


class StageRef(Schema):
    id: int
    key: str
    name: str

    @staticmethod
    def resolve_name(obj: Stage) -> str:
        return obj.label


class TicketOut(Schema):
    id: int
    number: str = Field(description="Número visible: T-000123.")
    name: str
    pipeline: Ref
    stage: StageRef
    priority: str = Field(description="low | medium | high | urgent")
    priority_label: str
    owner: Ref | None
    team: Ref | None
    contact: ContactRef | None
    account: AccountRef | None
    source: str
    labels: list[LabelRef]
    created_at: datetime.datetime
    last_activity_at: datetime.datetime
    closed_at: datetime.datetime | None

    @staticmethod
    def resolve_pipeline(obj: Ticket) -> dict:
        return {"id": obj.pipeline_id, "name": str(obj.pipeline)}

    @staticmethod
    def resolve_owner(obj: Ticket) -> dict | None:
        return {"id": obj.owner.pk, "name": obj.owner.name} if obj.owner else None

    @staticmethod
    def resolve_priority_label(obj: Ticket) -> str:
        return str(obj.get_priority_display())

    @staticmethod
    def resolve_labels(obj: Ticket) -> list:
        return list(obj.labels.all())


class ClockOut(Schema):
    key: str = Field(description="first_response | customer_update | resolution")
    label: str
    state: str = Field(description="ok | at_risk | breached | paused")
    state_label: str
    target_seconds: int
    elapsed_seconds: float
    remaining_seconds: float = Field(description="Negativo una vez incumplido.")
    due_at: datetime.datetime | None


class TicketDetailOut(TicketOut):
    description: str
    escalation_what: str
    escalation_how: str
    escalation_where: str
    requested_changes: str
    escalated_at: datetime.datetime | None
    first_response_at: datetime.datetime | None
    last_customer_update_at: datetime.datetime | None
    followers: list[Ref]
    conversations: list[int]
    sla: list[ClockOut]

    @staticmethod
    def resolve_followers(obj: Ticket) -> list:
        return [{"id": u.pk, "name": u.name} for u in obj.followers.all()]

    @staticmethod
    def resolve_conversations(obj: Ticket) -> list[int]:
        return [c.pk for c in obj.conversations.all()]

    @staticmethod
    def resolve_sla(obj: Ticket) -> list:
        return sla.ticket_clocks(obj)


class TicketQuery(Schema):
    stage: str = Field("", description="Id o identificador del estado (p. ej. tech_issues).")
    priority: str = Field("", description="low | medium | high | urgent")
    owner: str = Field("", description='Id de usuario, "me" (los míos) o "none" (sin propietario).')
    pipeline: str = Field("", description="Id o identificador del pipeline.")
    team: int | None = None
    label: int | None = None
    contact: int | None = None
    state: str = Field("", description="open | closed; vacío: todos.")
    created_after: datetime.datetime | None = None
    created_before: datetime.datetime | None = None
    last_activity_after: datetime.datetime | None = None
    last_activity_before: datetime.datetime | None = None
    q: str = Field("", description="Número (T-000123), nombre, póliza o cliente.")
    sort: str = Field("-last_activity", description=" | ".join(selectors.SORTS))
    sla_state: str = Field("", description='ok | at_risk | breached | paused | "none" (sin SLA)')
    view: int | None = Field(None, description="Id de una vista guardada (/ticket-views).")


class TicketIn(Schema):
    name: str = ""
    description: str = ""
    priority: str = Priority.MEDIUM
    pipeline: int | str | None = None
    stage: int | str | None = Field(None, description="Id o identificador del estado.")
    owner: int | None = None
    team: int | None = None
    contact: int | None = None
    account: int | None = None
    source: str = Source.INTERNAL
    created_at: datetime.datetime | None = None
    labels: list[int] = []
    conversation: int | None = None
    what: str = Field("", description="Escalación: ¿Qué ocurre?")
    how: str = Field("", description="Escalación: ¿Cómo ocurrió?")
    where: str = Field("", description="Escalación: ¿Dónde ocurrió?")
    requested_changes: str = ""


class TicketPatch(Schema):
    name: str | None = None
    description: str | None = None
    priority: str | None = None
    stage: int | str | None = None
    owner: int | None = None
    team: int | None = None
    contact: int | None = None
    account: int | None = None
    source: str | None = None
    created_at: datetime.datetime | None = None
    labels: list[int] | None = None


class NoteIn(Schema):
    body: str


class NoteOut(Schema):
    id: int
    body: str
    author: Ref | None
    created_at: datetime.datetime

    @staticmethod
    def resolve_author(obj) -> dict | None:
        return {"id": obj.author.pk, "name": obj.author.name} if obj.author else None


# --- helpers ----------------------------------------------------------------------------


def _ticket(request: HttpRequest, ticket_id: int) -> Ticket:
    try:
        return selectors.ticket_detail(user=request.user, ticket_id=ticket_id)
    except Ticket.DoesNotExist:
        raise HttpError(404, _("El ticket no existe.")) from None


def _pipeline(value: int | str | None) -> Pipeline | None:
    if value in (None, ""):
        return None
    lookup = {"pk": int(value)} if str(value).isdigit() else {"key": value}
    pipeline = Pipeline.objects.filter(**lookup).first()
    if pipeline is None:
        raise ValidationError({"pipeline": _("El pipeline no existe.")})
    return pipeline


def _stage(value: int | str | None, pipeline: Pipeline | None) -> Stage | None:
    if value in (None, ""):
        return None
    if str(value).isdigit():
        stage = Stage.objects.select_related("pipeline").filter(pk=int(value)).first()
    else:
        pipeline = pipeline or services.default_pipeline()
        stage = pipeline.stages.select_related("pipeline").filter(key=value).first()
    if stage is None:
        raise ValidationError({"stage": _("El estado no existe.")})
    return stage


def _get(model: Any, pk: int | None, field: str, message: str, **extra: Any) -> Any:
    if pk is None:
        return None
    obj = model.objects.filter(pk=pk, **extra).first()
    if obj is None:
        raise ValidationError({field: message})
    return obj


def _user(pk: int | None) -> User | None:
    return _get(User, pk, "owner", _("El usuario no existe."), is_active=True)


def _labels(ids: list[int]) -> list[Label]:
    labels = list(Label.objects.filter(pk__in=ids))
    if len(labels) != len(set(ids)):
        raise ValidationError({"labels": _("Alguna etiqueta no existe.")})
    return labels


# --- endpoints --------------------------------------------------------------------------


@router.get("/pipelines", response=list[PipelineOut])
def list_pipelines(request: HttpRequest):
    """Pipelines with their stages in order (the Support pipeline first)."""
    if not request.user.has_perm("tickets.view_ticket"):
        raise HttpError(403, _("No tienes permiso para realizar esta acción."))
    return list(selectors.pipelines_with_stages())


@router.get("/tickets", response=list[TicketOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
def list_tickets(request: HttpRequest, filters: Query[TicketQuery]):
    """The tickets, filtered like the list screen, most recent activity first."""
    errors: dict[str, str] = {}
    if filters.priority and filters.priority not in Priority.values:
        errors["priority"] = _("Prioridad desconocida.")
    if filters.sort not in selectors.SORTS:
        errors["sort"] = _("Orden desconocido.")
    owner = filters.owner.strip()
    if owner not in ("", "me", "none") and not owner.isdigit():
        errors["owner"] = _('Indica el id de un usuario, "me" o "none".')
    if filters.state not in ("", "open", "closed"):
        errors["state"] = _('Indica "open" o "closed".')
    if filters.sla_state not in ("", "none", *SlaState.values):
        errors["sla_state"] = _("Estado de SLA desconocido.")
    if errors:
        raise ValidationError(errors)
    pipeline = _pipeline(filters.pipeline)
    stage = filters.stage.strip()
    advanced = None
    if filters.view is not None:
        try:
            advanced = saved_views.get_view(user=request.user, view_id=filters.view).filters
        except SavedView.DoesNotExist:
            raise HttpError(404, _("La vista no existe.")) from None
    return selectors.tickets_for_list(
        user=request.user,
        filters=selectors.TicketFilters(
            stage=int(stage) if stage.isdigit() else None,
            stage_key="" if stage.isdigit() else stage,
            priority=filters.priority,
            owner=owner or None,
            team=filters.team,
            pipeline=pipeline.pk if pipeline else None,
            created_after=filters.created_after,
            created_before=filters.created_before,
            last_activity_after=filters.last_activity_after,
            last_activity_before=filters.last_activity_before,
            label=filters.label,
            contact=filters.contact,
            state=filters.state,
            q=filters.q.strip(),
            sort=filters.sort,
            sla_state=filters.sla_state,
            advanced=advanced,
        ),
    )


@router.post("/tickets", response={201: TicketDetailOut})
def create_ticket(request: HttpRequest, payload: TicketIn):
    """A new ticket; into Tech Issues only with what / how / where (the escalation)."""
    from atiende.inbox.models import Conversation

    pipeline = _pipeline(payload.pipeline)
    stage = _stage(payload.stage, pipeline)
    escalation = None
    if stage is not None and stage.is_escalation:
        escalation = services.Escalation(
            what=payload.what,
            how=payload.how,
            where=payload.where,
            requested_changes=payload.requested_changes,
        )
    ticket = services.create_ticket(
        by=request.user,
        name=payload.name,
        description=payload.description,
        pipeline=pipeline,
        stage=stage,
        priority=payload.priority,
        owner=_user(payload.owner),
        team=_get(Team, payload.team, "team", _("El equipo no existe.")),
        contact=_get(Contact, payload.contact, "contact", _("El contacto no existe.")),
        account=_get(Account, payload.account, "account", _("La póliza no existe.")),
        source=payload.source,
        created_at=payload.created_at,
        labels=_labels(payload.labels),
        conversation=_get(
            Conversation, payload.conversation, "conversation", _("La conversación no existe.")
        ),
        escalation=escalation,
    )
    return Status(201, _ticket(request, ticket.pk))


@router.get("/tickets/{int:ticket_id}", response=TicketDetailOut)
def get_ticket(request: HttpRequest, ticket_id: int):
    return _ticket(request, ticket_id)


@router.patch("/tickets/{int:ticket_id}", response=TicketDetailOut)
def update_ticket(request: HttpRequest, ticket_id: int, payload: TicketPatch):
    """Change only the fields sent; `stage` moves it (Tech Issues needs /escalate)."""
    ticket = _ticket(request, ticket_id)
    data = payload.dict(exclude_unset=True)
    changes: dict[str, Any] = {}
    for field in ("name", "description", "priority", "source", "created_at"):
        if field in data:
            changes[field] = data[field]
    if "owner" in data:
        changes["owner"] = _user(data["owner"])
    if "team" in data:
        changes["team"] = _get(Team, data["team"], "team", _("El equipo no existe."))
    if "contact" in data:
        changes["contact"] = _get(Contact, data["contact"], "contact", _("El contacto no existe."))
    if "account" in data:
        changes["account"] = _get(Account, data["account"], "account", _("La póliza no existe."))
    if data.get("labels") is not None:
        changes["labels"] = _labels(data["labels"])
    stage = _stage(data.get("stage"), ticket.pipeline)
    if changes:
        services.update_ticket(ticket=ticket, by=request.user, **changes)
    if stage is not None:
        services.change_stage(ticket=ticket, stage=stage, by=request.user)
    return _ticket(request, ticket_id)


@router.post("/tickets/{int:ticket_id}/notes", response={201: NoteOut})
def add_note(request: HttpRequest, ticket_id: int, payload: NoteIn):
    ticket = _ticket(request, ticket_id)
    note = services.add_note(ticket=ticket, by=request.user, body=payload.body)
    return Status(201, note)


@router.post(
    "/tickets/{int:ticket_id}/escalate",
    response=TicketDetailOut,
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "what": {"type": "string", "description": "¿Qué ocurre?"},
                            "how": {"type": "string", "description": "¿Cómo ocurrió?"},
                            "where": {"type": "string", "description": "¿Dónde ocurrió?"},
                            "requested_changes": {"type": "string"},
                            "priority": {"type": "string", "enum": Priority.values},
                            "name": {"type": "string"},
                        },
                        "required": ["what", "how", "where", "priority"],
                    }
                },
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "screenshots": {
                                "type": "array",
                                "items": {"type": "string", "format": "binary"},
                            }
                        },
                    }
                },
            }
        }
    },
)
def escalate(request: HttpRequest, ticket_id: int):
    """Escalation to Tech (guide 001). Every missing part is listed in the 422 answer. Screenshots
    go as multipart (`screenshots`, images only) with the same fields as form values."""
    ticket = _ticket(request, ticket_id)
    screenshots: list = []
    if request.content_type == "multipart/form-data":
        data: dict[str, Any] = request.POST.dict()
        screenshots = request.FILES.getlist("screenshots")
    else:
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            raise ValidationError({"__all__": _("El cuerpo no es JSON válido.")}) from None
        if not isinstance(data, dict):
            raise ValidationError({"__all__": _("El cuerpo no es JSON válido.")})

    def text(key: str) -> str:
        value = data.get(key)
        return value if isinstance(value, str) else ""

    services.escalate_to_tech(
        ticket=ticket,
        by=request.user,
        what=text("what"),
        how=text("how"),
        where=text("where"),
        requested_changes=text("requested_changes"),
        priority=text("priority") or None,
        screenshots=screenshots,
        name=text("name") or None,
    )
    return _ticket(request, ticket_id)
