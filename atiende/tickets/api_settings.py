"""/api/v1 for Ajustes > Pipelines y SLA: pipelines, their stages and the SLA policies.

Thin: `tickets.configuration` validates (Spanish messages, 422 field by field) and checks that
the caller is an admin (403 otherwise). Targets travel in hours, as people set them.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from atiende.tickets import configuration
from atiende.tickets.api import StageOut
from atiende.tickets.api import router as tickets_router
from atiende.tickets.models import Pipeline, SlaPolicy, Stage
from atiende.users.models import Team

router = Router(tags=["ajustes de tickets"])


# --- schemas ------------------------------------------------------------------------------------


class TeamRef(Schema):
    id: int
    name: str


class StageSettingsOut(StageOut):
    """The stage as an admin edits it: the stored name beside the one shown to users."""

    pipeline: int = Field(alias="pipeline_id")
    name: str = Field(description="Nombre guardado (los del pipeline de soporte se traducen).")
    label: str = Field(description="Nombre en el idioma del usuario.")

    @staticmethod
    def resolve_name(obj: Stage) -> str:
        return obj.name


class PipelineSettingsOut(Schema):
    id: int
    key: str
    name: str
    team: TeamRef | None
    position: int
    is_default: bool
    stages: list[StageSettingsOut]

    @staticmethod
    def resolve_stages(obj: Pipeline) -> list:
        return list(obj.stages.order_by("position", "id"))


class PipelineIn(Schema):
    name: str
    key: str = Field("", description="Identificador (minúsculas y _); vacío: se deriva del nombre.")
    team: int | None = None
    position: int | None = None
    is_default: bool = False


class PipelinePatch(Schema):
    name: str | None = None
    key: str | None = None
    team: int | None = None
    position: int | None = None
    is_default: bool | None = None


class StageIn(Schema):
    name: str
    key: str = ""
    help_text: str = Field("", description="Significado del estado (texto de ayuda).")
    color: str = "#6c757d"
    is_closed: bool = False
    pauses_sla: bool = Field(False, description="Los plazos se detienen (esperando al cliente).")
    is_escalation: bool = Field(False, description="Escalación a Tech: pide qué/cómo/dónde.")
    position: int | None = Field(None, description="0 = primero; el resto se corre.")


class StagePatch(Schema):
    name: str | None = None
    key: str | None = None
    help_text: str | None = None
    color: str | None = None
    is_closed: bool | None = None
    pauses_sla: bool | None = None
    is_escalation: bool | None = None
    position: int | None = None


def _hours(minutes: int | None) -> float | None:
    return None if minutes is None else round(minutes / 60, 2)


class PolicyOut(Schema):
    id: int
    name: str
    pipeline: int = Field(alias="pipeline_id")
    priority: str = Field(description='low | medium | high | urgent; "" = cualquiera.')
    first_response_hours: float | None
    customer_update_hours: float | None
    resolution_hours: float | None
    at_risk_percent: int
    business_hours: dict[str, list[list[str]]] = Field(
        description='Por día ISO (1 = lunes): [["08:00", "18:00"]]; {} = las 24 horas.'
    )
    time_zone: str
    holiday_country: str
    holidays: list[str]
    is_active: bool

    @staticmethod
    def resolve_first_response_hours(obj: SlaPolicy) -> float | None:
        return _hours(obj.first_response_minutes)

    @staticmethod
    def resolve_customer_update_hours(obj: SlaPolicy) -> float | None:
        return _hours(obj.customer_update_minutes)

    @staticmethod
    def resolve_resolution_hours(obj: SlaPolicy) -> float | None:
        return _hours(obj.resolution_minutes)


class PolicyIn(Schema):
    name: str
    pipeline: int | str = Field(description="Id o identificador del pipeline.")
    priority: str = ""
    first_response_hours: float | None = None
    customer_update_hours: float | None = Field(48, description="La regla de las 48 horas.")
    resolution_hours: float | None = None
    at_risk_percent: int = 80
    business_hours: dict[str, list[list[str]]] = {}
    time_zone: str = ""
    holiday_country: str | None = Field(
        None, description='Código ISO (PY, AR…); "" sin feriados; vacío: el país de la instalación.'
    )
    holidays: list[str] = Field([], description="Feriados adicionales AAAA-MM-DD.")
    is_active: bool = True


class PolicyPatch(Schema):
    name: str | None = None
    pipeline: int | str | None = None
    priority: str | None = None
    first_response_hours: float | None = None
    customer_update_hours: float | None = None
    resolution_hours: float | None = None
    at_risk_percent: int | None = None
    business_hours: dict[str, list[list[str]]] | None = None
    time_zone: str | None = None
    holiday_country: str | None = None
    holidays: list[str] | None = None
    is_active: bool | None = None


# --- helpers ------------------------------------------------------------------------------------


def _team(pk: int | None) -> Team | None:
    if pk is None:
        return None
    team = Team.objects.filter(pk=pk).first()
    if team is None:
        raise ValidationError({"team": _("El equipo no existe.")})
    return team


def _pipeline_ref(value: int | str) -> Pipeline:
    lookup = {"pk": int(value)} if str(value).isdigit() else {"key": str(value)}
    pipeline = Pipeline.objects.filter(**lookup).first()
    if pipeline is None:
        raise ValidationError({"pipeline": _("El pipeline no existe.")})
    return pipeline


def _get_pipeline(pipeline_id: int) -> Pipeline:
    pipeline = Pipeline.objects.select_related("team").filter(pk=pipeline_id).first()
    if pipeline is None:
        raise HttpError(404, _("El pipeline no existe."))
    return pipeline


def _get_stage(stage_id: int) -> Stage:
    stage = Stage.objects.select_related("pipeline").filter(pk=stage_id).first()
    if stage is None:
        raise HttpError(404, _("El estado no existe."))
    return stage


def _get_policy(policy_id: int) -> SlaPolicy:
    policy = SlaPolicy.objects.filter(pk=policy_id).first()
    if policy is None:
        raise HttpError(404, _("La política de SLA no existe."))
    return policy


def _require_admin(request: HttpRequest) -> None:
    if not request.user.has_perm(configuration.PERM):
        raise HttpError(403, _("Solo un administrador configura pipelines y SLA."))


def _policy_kwargs(data: dict[str, Any]) -> dict[str, Any]:
    kwargs = dict(data)
    if "pipeline" in kwargs:
        kwargs["pipeline"] = _pipeline_ref(kwargs["pipeline"]) if kwargs["pipeline"] else None
    for key in ("first_response", "customer_update", "resolution"):
        if f"{key}_hours" in kwargs:
            hours = kwargs.pop(f"{key}_hours")
            kwargs[f"{key}_minutes"] = configuration.hours_to_minutes(hours, f"{key}_hours")
    return kwargs


def _policy_values(policy: SlaPolicy) -> dict[str, Any]:
    return {field: getattr(policy, field) for field in configuration.POLICY_FIELDS}


# --- pipelines ----------------------------------------------------------------------------------


def create_pipeline(request: HttpRequest, payload: PipelineIn):
    """A new pipeline, with a «Nuevo» and a «Cerrado» stage to start."""
    _require_admin(request)
    data = payload.dict()
    data["team"] = _team(data["team"])
    pipeline = configuration.save_pipeline(by=request.user, **data)
    return Status(201, _get_pipeline(pipeline.pk))


# GET /pipelines lives in the tickets router; Django resolves a path to one router, so the POST
# joins that router's path (another router's /pipelines would answer 405 to one of them).
tickets_router.add_api_operation(
    "/pipelines",
    ["POST"],
    create_pipeline,
    response={201: PipelineSettingsOut},
    tags=["ajustes de tickets"],
)


@router.patch("/pipelines/{int:pipeline_id}", response=PipelineSettingsOut)
def update_pipeline(request: HttpRequest, pipeline_id: int, payload: PipelinePatch):
    _require_admin(request)
    pipeline = _get_pipeline(pipeline_id)
    data = payload.dict(exclude_unset=True)
    values = {field: getattr(pipeline, field) for field in configuration.PIPELINE_FIELDS}
    if "team" in data:
        data["team"] = _team(data["team"])
    values.update({k: v for k, v in data.items() if v is not None or k == "team"})
    configuration.save_pipeline(by=request.user, pipeline=pipeline, **values)
    return _get_pipeline(pipeline.pk)


@router.delete("/pipelines/{int:pipeline_id}", response={204: None})
def delete_pipeline(request: HttpRequest, pipeline_id: int):
    """Only a pipeline no ticket uses (422 says how many do), never the default one."""
    _require_admin(request)
    configuration.delete_pipeline(pipeline=_get_pipeline(pipeline_id), by=request.user)
    return Status(204, None)


@router.post("/pipelines/{int:pipeline_id}/stages", response={201: StageSettingsOut})
def create_stage(request: HttpRequest, pipeline_id: int, payload: StageIn):
    _require_admin(request)
    pipeline = _get_pipeline(pipeline_id)
    stage = configuration.save_stage(by=request.user, pipeline=pipeline, **payload.dict())
    return Status(201, _get_stage(stage.pk))


# --- stages -------------------------------------------------------------------------------------


@router.patch("/stages/{int:stage_id}", response=StageSettingsOut)
def update_stage(request: HttpRequest, stage_id: int, payload: StagePatch):
    """Edit a stage; `position` moves it (0 = first) and renumbers the others."""
    _require_admin(request)
    stage = _get_stage(stage_id)
    values = {f: getattr(stage, f) for f in configuration.STAGE_FIELDS if f != "position"}
    values["position"] = None
    values.update({k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None})
    configuration.save_stage(by=request.user, stage=stage, **values)
    return _get_stage(stage.pk)


@router.delete("/stages/{int:stage_id}", response={204: None})
def delete_stage(request: HttpRequest, stage_id: int):
    """Only a stage without tickets (422 says how many are in it)."""
    _require_admin(request)
    configuration.delete_stage(stage=_get_stage(stage_id), by=request.user)
    return Status(204, None)


# --- SLA policies -------------------------------------------------------------------------------


@router.get("/sla-policies", response=list[PolicyOut])
def list_policies(request: HttpRequest, pipeline: str = ""):
    """Every policy (a handful per pipeline), by pipeline and priority."""
    if not request.user.has_perm("tickets.view_ticket"):
        raise HttpError(403, _("No tienes permiso para realizar esta acción."))
    policies = SlaPolicy.objects.order_by("pipeline__position", "pipeline_id", "priority", "id")
    if pipeline:
        policies = policies.filter(pipeline=_pipeline_ref(pipeline))
    return list(policies[:500])


@router.get("/sla-policies/{int:policy_id}", response=PolicyOut)
def get_policy(request: HttpRequest, policy_id: int):
    if not request.user.has_perm("tickets.view_ticket"):
        raise HttpError(403, _("No tienes permiso para realizar esta acción."))
    return _get_policy(policy_id)


@router.post("/sla-policies", response={201: PolicyOut})
def create_policy(request: HttpRequest, payload: PolicyIn):
    """Targets in hours; the pipeline's tickets are re-timed by the next SLA tick."""
    _require_admin(request)
    policy = configuration.save_sla_policy(by=request.user, **_policy_kwargs(payload.dict()))
    return Status(201, policy)


@router.patch("/sla-policies/{int:policy_id}", response=PolicyOut)
def update_policy(request: HttpRequest, policy_id: int, payload: PolicyPatch):
    """Only the fields sent change; a target sent as null is removed."""
    _require_admin(request)
    policy = _get_policy(policy_id)
    values = _policy_values(policy)
    nullable = {"first_response_hours", "customer_update_hours", "resolution_hours"}
    sent = payload.dict(exclude_unset=True)
    values.update(_policy_kwargs({k: v for k, v in sent.items() if v is not None or k in nullable}))
    return configuration.save_sla_policy(by=request.user, policy=policy, **values)


@router.delete("/sla-policies/{int:policy_id}", response={204: None})
def delete_policy(request: HttpRequest, policy_id: int):
    _require_admin(request)
    configuration.delete_sla_policy(policy=_get_policy(policy_id), by=request.user)
    return Status(204, None)
