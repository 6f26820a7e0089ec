"""Ajustes > Pipelines y SLA: the writes that configure the service desk (admins only).

Pipelines (name, key, team, order, default), their stages (order, colour, meaning, closed,
pauses the SLA, escalation to Tech) and the SLA policies (targets per pipeline and priority,
business hours, time zone, the country's holidays plus extra dates). Every function checks
`tickets.manage_pipelines`, validates with Spanish messages (nothing changes on bad input),
records the change in the audit history, and asks the SLA job to look again at the tickets whose
clocks the change moves.
"""

import datetime
import itertools
import re
import zoneinfo
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from atiende.core.audit import record, snapshot
from atiende.core.permissions import require
from atiende.tickets import sla
from atiende.tickets.models import Pipeline, Priority, SlaPause, SlaPolicy, Stage, Ticket
from atiende.users.models import Team, User

PERM = "tickets.manage_pipelines"
HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
KEY = re.compile(r"^[a-z0-9]+(?:[_-][a-z0-9]+)*$")
TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")
PIPELINE_FIELDS = ["name", "key", "team", "position", "is_default"]
STAGE_FIELDS = [
    "name",
    "key",
    "help_text",
    "position",
    "color",
    "is_closed",
    "pauses_sla",
    "is_escalation",
]
POLICY_FIELDS = [
    "name",
    "pipeline",
    "priority",
    "first_response_minutes",
    "customer_update_minutes",
    "resolution_minutes",
    "at_risk_percent",
    "business_hours",
    "time_zone",
    "holiday_country",
    "holidays",
    "is_active",
]
MAX_TARGET_HOURS = 24 * 365
# A new pipeline starts with an open and a closed stage, so tickets can be created and closed.
NEW_PIPELINE_STAGES = [
    ("new", gettext_noop("Nuevo"), "#0d6efd", False),
    ("closed", gettext_noop("Cerrado"), "#198754", True),
]


def _name(value: str, limit: int, field: str = "name") -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: _("Indica el nombre.")})
    if len(value) > limit:
        raise ValidationError({field: _("Máximo %(limit)s caracteres.") % {"limit": limit}})
    return value


def _key(value: str, name: str) -> str:
    key = (value or "").strip() or slugify(name).replace("-", "_")
    if not KEY.match(key) or len(key) > 60:
        raise ValidationError(
            {
                "key": _(
                    "El identificador lleva minúsculas sin acentos, números y guiones bajos "
                    "(p. ej. soporte_vip)."
                )
            }
        )
    return key


def _position(value: Any) -> int:
    try:
        position = int(value)
    except (TypeError, ValueError):
        raise ValidationError({"position": _("La posición debe ser un número.")}) from None
    if not 0 <= position <= 1000:
        raise ValidationError({"position": _("La posición va de 0 a 1000.")})
    return position


# --- pipelines ----------------------------------------------------------------------------------


@transaction.atomic
def save_pipeline(
    *,
    by: User,
    name: str,
    key: str = "",
    team: Team | None = None,
    position: int | None = None,
    is_default: bool = False,
    pipeline: Pipeline | None = None,
) -> Pipeline:
    """Create a pipeline (with a "Nuevo" and a "Cerrado" stage) or edit one. Exactly one pipeline
    is the default: marking one unmarks the others; the default cannot be unmarked by itself."""
    require(by, PERM)
    name = _name(name, 80)
    key = _key(key or (pipeline.key if pipeline is not None else ""), name)
    if Pipeline.objects.filter(key=key).exclude(pk=getattr(pipeline, "pk", None)).exists():
        raise ValidationError({"key": _("Ya existe un pipeline con ese identificador.")})
    if team is not None and not Team.objects.filter(pk=team.pk).exists():
        raise ValidationError({"team": _("El equipo no existe.")})
    if position is None:
        position = pipeline.position if pipeline else _next_position(Pipeline.objects.all())
    position = _position(position)
    if pipeline is not None and pipeline.is_default and not is_default:
        raise ValidationError(
            {"is_default": _("Marca otro pipeline como predeterminado en lugar de desmarcar este.")}
        )
    is_default = (
        is_default
        or not Pipeline.objects.exclude(pk=getattr(pipeline, "pk", None))
        .filter(is_default=True)
        .exists()
    )
    creating = pipeline is None
    pipeline = pipeline or Pipeline()
    before = {} if creating else snapshot(pipeline, PIPELINE_FIELDS)
    pipeline.name, pipeline.key, pipeline.team = name, key, team
    pipeline.position, pipeline.is_default = position, is_default
    pipeline.save()
    if is_default:
        Pipeline.objects.exclude(pk=pipeline.pk).filter(is_default=True).update(is_default=False)
    if creating:
        for index, (stage_key, stage_name, color, closed) in enumerate(NEW_PIPELINE_STAGES):
            Stage.objects.create(
                pipeline=pipeline,
                key=stage_key,
                name=stage_name,
                color=color,
                is_closed=closed,
                position=index,
            )
    record(
        actor=by,
        action="create" if creating else "update",
        obj=pipeline,
        before=before,
        after=snapshot(pipeline, PIPELINE_FIELDS),
    )
    return pipeline


@transaction.atomic
def delete_pipeline(*, pipeline: Pipeline, by: User) -> None:
    """Only a pipeline no ticket uses, and never the default one."""
    require(by, PERM)
    used = Ticket.objects.filter(pipeline=pipeline).count()
    if used:
        raise ValidationError(
            ngettext(
                "No se puede eliminar: %(n)s ticket usa este pipeline.",
                "No se puede eliminar: %(n)s tickets usan este pipeline.",
                used,
            )
            % {"n": used}
        )
    if pipeline.is_default:
        raise ValidationError(
            _("No se puede eliminar el pipeline predeterminado: marca otro como predeterminado.")
        )
    record(actor=by, action="delete", obj=pipeline, before=snapshot(pipeline, PIPELINE_FIELDS))
    pipeline.delete()


def _next_position(queryset) -> int:
    top = queryset.aggregate(top=Max("position"))["top"]
    return 0 if top is None else min(top + 1, 1000)


# --- stages -------------------------------------------------------------------------------------


@transaction.atomic
def save_stage(
    *,
    by: User,
    pipeline: Pipeline | None = None,
    stage: Stage | None = None,
    name: str,
    key: str = "",
    help_text: str = "",
    color: str = "#6c757d",
    is_closed: bool = False,
    pauses_sla: bool = False,
    is_escalation: bool = False,
    position: int | None = None,
) -> Stage:
    """Add a stage to `pipeline` or edit `stage`. A closed stage neither pauses the SLA nor
    escalates; one escalation stage per pipeline; "closed" cannot flip while tickets sit in the
    stage (their closing dates would lie). Turning the SLA pause on or off pauses or resumes the
    clocks of the tickets in it from now."""
    require(by, PERM)
    pipeline = stage.pipeline if stage is not None else pipeline
    if pipeline is None:
        raise ValidationError({"pipeline": _("Indica el pipeline.")})
    errors: dict[str, str] = {}
    name = _name(name, 80)
    key = _key(key or (stage.key if stage is not None else ""), name)
    help_text = (help_text or "").strip()
    if len(help_text) > 255:
        errors["help_text"] = _("Máximo %(limit)s caracteres.") % {"limit": 255}
    color = (color or "").strip() or "#6c757d"
    if not HEX_COLOR.match(color):
        errors["color"] = _("Color no válido: usa el formato #RRGGBB.")
    others = pipeline.stages.exclude(pk=getattr(stage, "pk", None))
    if others.filter(key=key).exists():
        errors["key"] = _("Ya hay un estado con ese identificador en este pipeline.")
    if is_closed and (pauses_sla or is_escalation):
        errors["is_closed"] = _(
            "Un estado cerrado no puede pausar el SLA ni ser la escalación a Tech."
        )
    if is_escalation and others.filter(is_escalation=True).exists():
        errors["is_escalation"] = _("Este pipeline ya tiene un estado de escalación a Tech.")
    in_stage = stage.tickets.count() if stage is not None else 0
    if stage is not None and in_stage and bool(is_closed) != stage.is_closed:
        errors["is_closed"] = ngettext(
            "No puedes cambiar «cerrado»: %(n)s ticket está en este estado.",
            "No puedes cambiar «cerrado»: %(n)s tickets están en este estado.",
            in_stage,
        ) % {"n": in_stage}
    closed_left = others.filter(is_closed=True).exists() or is_closed
    open_left = others.filter(is_closed=False).exists() or not is_closed
    if stage is not None and not (closed_left and open_left):
        errors["is_closed"] = _("El pipeline necesita al menos un estado abierto y uno cerrado.")
    if errors:
        raise ValidationError(errors)
    creating = stage is None
    stage = stage or Stage(pipeline=pipeline, position=_next_position(pipeline.stages.all()))
    before = {} if creating else snapshot(stage, STAGE_FIELDS)
    pause_changed = not creating and stage.pauses_sla != bool(pauses_sla)
    stage.name, stage.key, stage.help_text, stage.color = name, key, help_text, color.lower()
    stage.is_closed, stage.pauses_sla = bool(is_closed), bool(pauses_sla)
    stage.is_escalation = bool(is_escalation)
    stage.save()
    if position is not None:
        _place(stage, _position(position))
    if pause_changed:
        _repause(stage)
    record(
        actor=by,
        action="create" if creating else "update",
        obj=stage,
        before=before,
        after=snapshot(stage, STAGE_FIELDS),
    )
    return stage


def _place(stage: Stage, position: int) -> None:
    """Put the stage at `position` (0 = first) and number the pipeline's stages 0, 1, 2…"""
    stages = [s for s in stage.pipeline.stages.order_by("position", "id") if s.pk != stage.pk]
    stages.insert(min(position, len(stages)), stage)
    for index, item in enumerate(stages):
        if item.position != index:
            item.position = index
            Stage.objects.filter(pk=item.pk).update(position=index)


def _repause(stage: Stage) -> None:
    """The stage started or stopped pausing the SLA: open or close the pauses of its open
    tickets from now, and have the SLA job refresh them."""
    now = timezone.now()
    open_tickets = Ticket.objects.filter(stage=stage, closed_at__isnull=True)
    if stage.pauses_sla:
        already = SlaPause.objects.filter(ticket__stage=stage, ended_at__isnull=True)
        waiting = open_tickets.exclude(pk__in=already.values("ticket_id"))
        SlaPause.objects.bulk_create(
            [SlaPause(ticket_id=pk, started_at=now) for pk in waiting.values_list("pk", flat=True)]
        )
    else:
        SlaPause.objects.filter(ticket__stage=stage, ended_at__isnull=True).update(ended_at=now)
    open_tickets.update(sla_check_at=now)


@transaction.atomic
def move_stage(*, stage: Stage, by: User, offset: int) -> Stage:
    """One place earlier (offset -1) or later (+1) on the board."""
    require(by, PERM)
    ordered = list(stage.pipeline.stages.order_by("position", "id").values_list("pk", flat=True))
    index = ordered.index(stage.pk)
    target = max(0, min(len(ordered) - 1, index + offset))
    if target != index:
        before = snapshot(stage, ["position"])
        _place(stage, target)
        stage.refresh_from_db()
        record(actor=by, action="update", obj=stage, before=before, after={"position": target})
    return stage


@transaction.atomic
def delete_stage(*, stage: Stage, by: User) -> None:
    """Only a stage no ticket is in; the pipeline keeps at least one open and one closed stage."""
    require(by, PERM)
    used = stage.tickets.count()
    if used:
        raise ValidationError(
            ngettext(
                "No se puede eliminar: %(n)s ticket está en este estado. Muévelo antes a otro.",
                "No se puede eliminar: %(n)s tickets están en este estado. Muévelos antes a otro.",
                used,
            )
            % {"n": used}
        )
    others = stage.pipeline.stages.exclude(pk=stage.pk)
    if not others.filter(is_closed=stage.is_closed).exists():
        raise ValidationError(_("El pipeline necesita al menos un estado abierto y uno cerrado."))
    pipeline = stage.pipeline
    record(actor=by, action="delete", obj=stage, before=snapshot(stage, STAGE_FIELDS))
    stage.delete()
    for index, pk in enumerate(
        pipeline.stages.order_by("position", "id").values_list("pk", flat=True)
    ):
        Stage.objects.filter(pk=pk).update(position=index)


# --- SLA policies -------------------------------------------------------------------------------


def hours_to_minutes(value: Any, field: str) -> int | None:
    """ "48", "1.5", 0.25 → minutes; blank → None (no target)."""
    if value in (None, ""):
        return None
    try:
        hours = Decimal(str(value).replace(",", "."))
    except InvalidOperation:
        raise ValidationError(
            {field: _("Indica las horas con un número (p. ej. 48 o 1,5).")}
        ) from None
    if not hours.is_finite() or hours <= 0 or hours > MAX_TARGET_HOURS:
        raise ValidationError(
            {
                field: _("Las horas deben ser mayores que 0 y como mucho %(max)s.")
                % {"max": MAX_TARGET_HOURS}
            }
        )
    minutes = int((hours * 60).to_integral_value())
    if minutes < 1:
        raise ValidationError({field: _("El objetivo mínimo es 1 minuto.")})
    return minutes


def clean_business_hours(value: Any) -> dict[str, list[list[str]]]:
    """{"1": [["08:00", "12:00"], ["14:00", "18:00"]], …} by ISO weekday; {} = around the clock."""
    if value in (None, ""):
        return {}
    message = _(
        "Horario no válido: por día de la semana (1 = lunes … 7 = domingo), tramos "
        "«HH:MM» a «HH:MM» con el inicio antes del fin y sin solaparse."
    )
    if not isinstance(value, dict):
        raise ValidationError({"business_hours": message})
    clean: dict[str, list[list[str]]] = {}
    for day, spans in value.items():
        if str(day) not in {str(d) for d in range(1, 8)} or not isinstance(spans, list | tuple):
            raise ValidationError({"business_hours": message})
        day_spans: list[list[str]] = []
        for span in spans:
            if not isinstance(span, list | tuple) or len(span) != 2:
                raise ValidationError({"business_hours": message})
            start, end = (str(s).strip() for s in span)
            if not (TIME.match(start) and TIME.match(end)) or start >= end or start == "24:00":
                raise ValidationError({"business_hours": message})
            day_spans.append([start, end])
        day_spans.sort()
        if any(a[1] > b[0] for a, b in itertools.pairwise(day_spans)):
            raise ValidationError({"business_hours": message})
        if day_spans:
            clean[str(day)] = day_spans
    if value and not clean:
        raise ValidationError(
            {"business_hours": _("Indica al menos un día con horario o elige «las 24 horas».")}
        )
    return dict(sorted(clean.items()))


def clean_holidays(values: Iterable[Any] | str | None) -> list[str]:
    """Extra non-working dates: ISO (2026-12-31) or dd/mm/aaaa, one per line or a list."""
    if values in (None, ""):
        return []
    if isinstance(values, str):
        values = [v for v in re.split(r"[\s,;]+", values) if v]
    dates: set[datetime.date] = set()
    for raw in values:
        text = str(raw).strip()
        day = None
        for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
            try:
                day = datetime.datetime.strptime(text, fmt).date()
                break
            except ValueError:
                continue
        if day is None:
            raise ValidationError(
                {
                    "holidays": _("Fecha no válida: «%(value)s». Usa dd/mm/aaaa.")
                    % {"value": text[:20]}
                }
            )
        dates.add(day)
    if len(dates) > 400:
        raise ValidationError({"holidays": _("Como mucho 400 feriados adicionales.")})
    return [d.isoformat() for d in sorted(dates)]


@transaction.atomic
def save_sla_policy(
    *,
    by: User,
    pipeline: Pipeline | None,
    name: str,
    priority: str = "",
    first_response_minutes: int | None = None,
    customer_update_minutes: int | None = 48 * 60,
    resolution_minutes: int | None = None,
    at_risk_percent: int = 80,
    business_hours: Any = None,
    time_zone: str = "",
    holiday_country: str | None = None,
    holidays: Any = None,
    is_active: bool = True,
    policy: SlaPolicy | None = None,
) -> SlaPolicy:
    """Create or edit a policy. One active policy per pipeline and priority ("any priority" is
    its own slot); at least one target; the holidays of `holiday_country` (the installation's
    country when not given, "" for none) plus the extra dates. The tickets of the pipeline are
    looked at again by the next SLA tick."""
    require(by, PERM)
    errors: dict[str, Any] = {}
    try:
        name = _name(name, 80)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if pipeline is None:
        errors["pipeline"] = _("Indica el pipeline.")
    priority = priority or ""
    if priority and priority not in Priority.values:
        errors["priority"] = _("Prioridad desconocida.")
    targets = {
        "first_response_minutes": first_response_minutes,
        "customer_update_minutes": customer_update_minutes,
        "resolution_minutes": resolution_minutes,
    }
    for field, minutes in targets.items():
        if minutes is not None and (
            not isinstance(minutes, int) or not 1 <= minutes <= MAX_TARGET_HOURS * 60
        ):
            errors[field] = _("Objetivo no válido.")
    if not any(targets.values()):
        errors["__all__"] = _(
            "Indica al menos un objetivo: primera respuesta, actualización o resolución."
        )
    try:
        at_risk_percent = int(at_risk_percent)
    except (TypeError, ValueError):
        at_risk_percent = -1
    if not 1 <= at_risk_percent <= 100:
        errors["at_risk_percent"] = _("El aviso «en riesgo» va de 1 % a 100 %.")
    try:
        business_hours = clean_business_hours(business_hours)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    time_zone = (time_zone or "").strip() or timezone.get_default_timezone_name()
    try:
        zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        errors["time_zone"] = _("Zona horaria desconocida (p. ej. America/Asuncion).")
    country = sla.default_holiday_country() if holiday_country is None else holiday_country
    country = (country or "").strip().upper()
    if country and country not in sla.supported_countries():
        errors["holiday_country"] = _("País sin calendario de feriados: %(code)s.") % {
            "code": country[:8]
        }
    try:
        holidays = clean_holidays(holidays)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if is_active and pipeline is not None and "priority" not in errors:
        clash = SlaPolicy.objects.filter(pipeline=pipeline, priority=priority, is_active=True)
        if clash.exclude(pk=getattr(policy, "pk", None)).exists():
            errors["priority"] = _(
                "Ya hay una política activa para este pipeline y prioridad: desactívala o edítala."
            )
    if errors:
        raise ValidationError(errors)
    creating = policy is None
    policy = policy or SlaPolicy()
    before = {} if creating else snapshot(policy, POLICY_FIELDS)
    old_pipeline_id = policy.pipeline_id
    values = {
        "name": name,
        "pipeline": pipeline,
        "priority": priority,
        **targets,
        "at_risk_percent": at_risk_percent,
        "business_hours": business_hours,
        "time_zone": time_zone,
        "holiday_country": country,
        "holidays": holidays,
        "is_active": bool(is_active),
    }
    for field, value in values.items():
        setattr(policy, field, value)
    policy.save()
    record(
        actor=by,
        action="create" if creating else "update",
        obj=policy,
        before=before,
        after=snapshot(policy, POLICY_FIELDS),
    )
    for pipeline_id in {old_pipeline_id, policy.pipeline_id} - {None}:
        sla.recheck_pipeline(pipeline_id)
    return policy


@transaction.atomic
def delete_sla_policy(*, policy: SlaPolicy, by: User) -> None:
    """The pipeline's tickets fall back to another policy (or none) at the next SLA tick."""
    require(by, PERM)
    record(actor=by, action="delete", obj=policy, before=snapshot(policy, POLICY_FIELDS))
    pipeline_id = policy.pipeline_id
    policy.delete()
    sla.recheck_pipeline(pipeline_id)
