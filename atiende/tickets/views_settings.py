"""Ajustes > Pipelines y SLA (admins): pipelines, their stages and the SLA policies.

Thin: forms parse, `tickets.configuration` validates and writes, a refusal shows its Spanish
message on the form (or as a flash message for deletes) and changes nothing.
"""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from atiende.core.forms import add_service_errors
from atiende.core.permissions import require
from atiende.tickets import configuration, sla
from atiende.tickets.models import Pipeline, Priority, SlaPolicy, Stage, Ticket
from atiende.users.models import Team

SECTION = "pipelines"
PAGE_SIZE = 25
WEEKDAYS = [
    (1, gettext_lazy("Lunes")),
    (2, gettext_lazy("Martes")),
    (3, gettext_lazy("Miércoles")),
    (4, gettext_lazy("Jueves")),
    (5, gettext_lazy("Viernes")),
    (6, gettext_lazy("Sábado")),
    (7, gettext_lazy("Domingo")),
]
COMMON_ZONES = [
    "America/Asuncion",
    "America/Argentina/Buenos_Aires",
    "America/Bogota",
    "America/Caracas",
    "America/Guatemala",
    "America/La_Paz",
    "America/Lima",
    "America/Mexico_City",
    "America/Montevideo",
    "America/Panama",
    "America/Santiago",
    "America/Santo_Domingo",
    "America/Sao_Paulo",
    "Europe/Madrid",
    "UTC",
]


# --- forms --------------------------------------------------------------------------------------


class PipelineForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Nombre"), max_length=80)
    key = forms.CharField(
        label=gettext_lazy("Identificador"),
        max_length=60,
        required=False,
        help_text=gettext_lazy(
            "Para la API y los filtros: minúsculas y guiones bajos. Vacío: se deriva del nombre."
        ),
    )
    team = forms.ModelChoiceField(
        label=gettext_lazy("Equipo responsable"),
        queryset=Team.objects.order_by("name"),
        required=False,
        empty_label=gettext_lazy("Sin equipo"),
        help_text=gettext_lazy("Los tickets nuevos del pipeline quedan en este equipo."),
    )
    position = forms.IntegerField(
        label=gettext_lazy("Orden"), min_value=0, max_value=1000, required=False
    )
    is_default = forms.BooleanField(
        label=gettext_lazy("Pipeline predeterminado (para tickets nuevos)"), required=False
    )


class StageForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Nombre"), max_length=80)
    key = forms.CharField(
        label=gettext_lazy("Identificador"),
        max_length=60,
        required=False,
        help_text=gettext_lazy("En inglés o sin acentos (p. ej. waiting_on_us)."),
    )
    help_text = forms.CharField(
        label=gettext_lazy("Significado"),
        max_length=255,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Se muestra como ayuda al elegir el estado."),
    )
    color = forms.CharField(label=gettext_lazy("Color"), max_length=7, initial="#6c757d")
    is_closed = forms.BooleanField(
        label=gettext_lazy("Cerrado: el ticket queda resuelto"), required=False
    )
    pauses_sla = forms.BooleanField(
        label=gettext_lazy("Pausa el SLA (esperando al cliente)"), required=False
    )
    is_escalation = forms.BooleanField(
        label=gettext_lazy("Escalación a Tech (pide qué, cómo, dónde y prioridad)"), required=False
    )


class PolicyForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Nombre"), max_length=80)
    pipeline = forms.ModelChoiceField(
        label=gettext_lazy("Pipeline"), queryset=Pipeline.objects.order_by("position", "id")
    )
    priority = forms.ChoiceField(
        label=gettext_lazy("Prioridad"),
        required=False,
        choices=[("", gettext_lazy("Cualquiera")), *Priority.choices],
        help_text=gettext_lazy(
            "Una política de una prioridad concreta gana a la de «cualquiera» del mismo pipeline."
        ),
    )
    first_response_hours = forms.CharField(
        label=gettext_lazy("Primera respuesta (horas)"), required=False, max_length=12
    )
    customer_update_hours = forms.CharField(
        label=gettext_lazy("Actualización al cliente (horas)"),
        required=False,
        max_length=12,
        initial="48",
        help_text=gettext_lazy(
            "La regla de las 48 horas: si el cliente no recibe novedades en este plazo, el "
            "ticket se marca y se avisa a su propietario."
        ),
    )
    resolution_hours = forms.CharField(
        label=gettext_lazy("Resolución (horas)"), required=False, max_length=12
    )
    at_risk_percent = forms.IntegerField(
        label=gettext_lazy("«En riesgo» desde (%)"),
        help_text=gettext_lazy("Porcentaje del plazo consumido que dispara el aviso."),
        min_value=1,
        max_value=100,
        initial=80,
    )
    around_the_clock = forms.BooleanField(
        label=gettext_lazy("Las 24 horas, todos los días"), required=False
    )
    time_zone = forms.CharField(label=gettext_lazy("Zona horaria"), max_length=64)
    holiday_country = forms.ChoiceField(label=gettext_lazy("Feriados del país"), required=False)
    holidays = forms.CharField(
        label=gettext_lazy("Feriados adicionales"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "Una fecha por línea (dd/mm/aaaa), p. ej. el aniversario de la empresa."
        ),
    )
    is_active = forms.BooleanField(label=gettext_lazy("Activa"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["holiday_country"].choices = [("", _("Sin feriados nacionales"))] + [
            (code, f"{name} ({code})") for code, name in sla.supported_countries().items()
        ]
        for day, _label in WEEKDAYS:
            self.fields[f"d{day}_open"] = forms.BooleanField(required=False)
            for part in ("start1", "end1", "start2", "end2"):
                self.fields[f"d{day}_{part}"] = forms.CharField(required=False, max_length=5)

    def days(self) -> list[dict]:
        """One row per weekday for the template: its checkbox and up to two time windows."""
        return [
            {
                "label": label,
                "open": self[f"d{day}_open"],
                "spans": [
                    (self[f"d{day}_start1"], self[f"d{day}_end1"]),
                    (self[f"d{day}_start2"], self[f"d{day}_end2"]),
                ],
            }
            for day, label in WEEKDAYS
        ]

    def business_hours(self) -> dict[str, list[list[str]]]:
        if self.cleaned_data.get("around_the_clock"):
            return {}
        hours: dict[str, list[list[str]]] = {}
        for day, _label in WEEKDAYS:
            if not self.cleaned_data.get(f"d{day}_open"):
                continue
            spans = []
            for n in ("1", "2"):
                start = (self.cleaned_data.get(f"d{day}_start{n}") or "").strip()
                end = (self.cleaned_data.get(f"d{day}_end{n}") or "").strip()
                if start or end:
                    spans.append([start, end])
            hours[str(day)] = spans
        if not hours:
            # No day ticked and not around the clock: refused by the service with its message.
            return {"1": []}
        return hours


def _policy_initial(policy: SlaPolicy | None, pipeline: Pipeline | None) -> dict[str, Any]:
    def hours(minutes: int | None) -> str:
        if minutes is None:
            return ""
        value = minutes / 60
        return f"{value:g}".replace(".", ",")

    if policy is None:
        initial: dict[str, Any] = {
            "pipeline": pipeline,
            "customer_update_hours": "48",
            "at_risk_percent": 80,
            "time_zone": timezone.get_default_timezone_name(),
            "holiday_country": sla.default_holiday_country(),
            "is_active": True,
        }
        for day in range(1, 6):
            initial |= {f"d{day}_open": True, f"d{day}_start1": "08:00", f"d{day}_end1": "18:00"}
        return initial
    initial = {
        "name": policy.name,
        "pipeline": policy.pipeline,
        "priority": policy.priority,
        "first_response_hours": hours(policy.first_response_minutes),
        "customer_update_hours": hours(policy.customer_update_minutes),
        "resolution_hours": hours(policy.resolution_minutes),
        "at_risk_percent": policy.at_risk_percent,
        "around_the_clock": not policy.business_hours,
        "time_zone": policy.time_zone,
        "holiday_country": policy.holiday_country,
        "holidays": "\n".join(
            f"{d[8:10]}/{d[5:7]}/{d[0:4]}" for d in policy.holidays if len(d) == 10
        ),
        "is_active": policy.is_active,
    }
    for day, spans in (policy.business_hours or {}).items():
        initial[f"d{day}_open"] = True
        for n, (start, end) in enumerate(spans[:2], start=1):
            initial[f"d{day}_start{n}"], initial[f"d{day}_end{n}"] = start, end
    return initial


# --- helpers ------------------------------------------------------------------------------------


def _admin(request: HttpRequest) -> None:
    require(request.user, configuration.PERM)


def _stages(pipeline: Pipeline) -> list[Stage]:
    return list(pipeline.stages.annotate(ticket_count=Count("tickets")).order_by("position", "id"))


SHORT_DAYS = {
    1: gettext_lazy("lun"),
    2: gettext_lazy("mar"),
    3: gettext_lazy("mié"),
    4: gettext_lazy("jue"),
    5: gettext_lazy("vie"),
    6: gettext_lazy("sáb"),
    7: gettext_lazy("dom"),
}


def hours_summary(business_hours: dict) -> str:
    """Business hours for the policies table: "lun a vie 08:00-18:00" (with an en dash)."""
    if not business_hours:
        return str(_("Las 24 horas, todos los días"))
    groups: list[tuple[list[int], str]] = []
    for day in range(1, 8):
        spans = business_hours.get(str(day))
        if not spans:
            continue
        text = ", ".join(f"{a}\u2013{b}" for a, b in spans)
        if groups and groups[-1][1] == text and groups[-1][0][-1] == day - 1:
            groups[-1][0].append(day)
        else:
            groups.append(([day], text))
    parts = []
    for days, text in groups:
        if len(days) == 1:
            label = str(SHORT_DAYS[days[0]])
        else:
            label = _("%(first)s a %(last)s") % {
                "first": SHORT_DAYS[days[0]],
                "last": SHORT_DAYS[days[-1]],
            }
        parts.append(f"{label} {text}")
    return " · ".join(parts)


def _hours(minutes: int | None) -> str:
    if minutes is None:
        return "—"
    return (_("%(h)s h") % {"h": f"{minutes / 60:g}"}).replace(".", ",")


def _policies(pipeline: Pipeline) -> list[dict]:
    countries = sla.supported_countries()
    return [
        {
            "policy": policy,
            "first_response": _hours(policy.first_response_minutes),
            "customer_update": _hours(policy.customer_update_minutes),
            "resolution": _hours(policy.resolution_minutes),
            "hours": hours_summary(policy.business_hours),
            "country": countries.get(policy.holiday_country, "") if policy.holiday_country else "",
        }
        for policy in pipeline.sla_policies.order_by("priority", "id")
    ]


def _refusal(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


# --- pipelines ----------------------------------------------------------------------------------


@login_required
def settings_pipelines(request: HttpRequest) -> HttpResponse:
    _admin(request)
    tickets = (
        Ticket.objects.filter(pipeline=OuterRef("pk"))
        .order_by()
        .values("pipeline")
        .annotate(n=Count("pk"))
        .values("n")
    )
    open_tickets = tickets.filter(closed_at__isnull=True)
    pipelines = (
        Pipeline.objects.select_related("team")
        .annotate(
            stage_count=Count("stages", distinct=True),
            policy_count=Count("sla_policies", distinct=True),
            ticket_count=Coalesce(Subquery(tickets), 0),
            open_count=Coalesce(Subquery(open_tickets), 0),
        )
        .order_by("position", "id")
    )
    page = Paginator(pipelines, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "tickets/settings/pipelines.html",
        {
            "page": page,
            "section": SECTION,
            "holiday_country": sla.default_holiday_country(),
        },
    )


@login_required
def settings_pipeline_edit(request: HttpRequest, pipeline_id: int | None = None) -> HttpResponse:
    _admin(request)
    pipeline = (
        get_object_or_404(Pipeline.objects.select_related("team"), pk=pipeline_id)
        if pipeline_id
        else None
    )
    initial = (
        {
            "name": pipeline.name,
            "key": pipeline.key,
            "team": pipeline.team,
            "position": pipeline.position,
            "is_default": pipeline.is_default,
        }
        if pipeline
        else None
    )
    form = PipelineForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = configuration.save_pipeline(
                by=request.user, pipeline=pipeline, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Pipeline guardado: %(name)s.") % {"name": saved})
            return redirect("tickets:settings_pipeline_edit", saved.pk)
    context = {"form": form, "pipeline": pipeline, "section": SECTION}
    if pipeline is not None:
        context |= {
            "stages": _stages(pipeline),
            "policies": _policies(pipeline),
            "ticket_count": pipeline.tickets.count(),
        }
    return render(request, "tickets/settings/pipeline_form.html", context)


@login_required
@require_POST
def settings_pipeline_delete(request: HttpRequest, pipeline_id: int) -> HttpResponse:
    pipeline = get_object_or_404(Pipeline, pk=pipeline_id)
    try:
        configuration.delete_pipeline(pipeline=pipeline, by=request.user)
    except ValidationError as exc:
        _refusal(request, exc)
        return redirect("tickets:settings_pipeline_edit", pipeline.pk)
    messages.success(request, _("Pipeline eliminado: %(name)s.") % {"name": pipeline})
    return redirect("tickets:settings_pipelines")


# --- stages -------------------------------------------------------------------------------------


@login_required
def settings_stage_edit(
    request: HttpRequest, pipeline_id: int | None = None, stage_id: int | None = None
) -> HttpResponse:
    _admin(request)
    stage = (
        get_object_or_404(Stage.objects.select_related("pipeline"), pk=stage_id)
        if stage_id
        else None
    )
    pipeline = stage.pipeline if stage else get_object_or_404(Pipeline, pk=pipeline_id)
    initial = (
        {
            "name": stage.name,
            "key": stage.key,
            "help_text": stage.help_text,
            "color": stage.color,
            "is_closed": stage.is_closed,
            "pauses_sla": stage.pauses_sla,
            "is_escalation": stage.is_escalation,
        }
        if stage
        else {"color": "#6c757d"}
    )
    form = StageForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = configuration.save_stage(
                by=request.user, pipeline=pipeline, stage=stage, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Estado guardado: %(name)s.") % {"name": saved.label})
            return redirect("tickets:settings_pipeline_edit", pipeline.pk)
    return render(
        request,
        "tickets/settings/stage_form.html",
        {
            "form": form,
            "stage": stage,
            "pipeline": pipeline,
            "usage": stage.tickets.count() if stage else 0,
            "section": SECTION,
        },
    )


@login_required
@require_POST
def settings_stage_move(request: HttpRequest, stage_id: int) -> HttpResponse:
    """Up or down one place; htmx swaps the stages table, a plain form goes back to the page."""
    stage = get_object_or_404(Stage.objects.select_related("pipeline"), pk=stage_id)
    offset = -1 if request.POST.get("direction") == "up" else 1
    configuration.move_stage(stage=stage, by=request.user, offset=offset)
    if getattr(request, "htmx", False):
        return render(
            request,
            "tickets/settings/_stages.html",
            {"pipeline": stage.pipeline, "stages": _stages(stage.pipeline), "moved": stage.pk},
        )
    return redirect("tickets:settings_pipeline_edit", stage.pipeline_id)


@login_required
@require_POST
def settings_stage_delete(request: HttpRequest, stage_id: int) -> HttpResponse:
    stage = get_object_or_404(Stage.objects.select_related("pipeline"), pk=stage_id)
    try:
        configuration.delete_stage(stage=stage, by=request.user)
    except ValidationError as exc:
        _refusal(request, exc)
    else:
        messages.success(request, _("Estado eliminado: %(name)s.") % {"name": stage.label})
    return redirect("tickets:settings_pipeline_edit", stage.pipeline_id)


# --- SLA policies -------------------------------------------------------------------------------


@login_required
def settings_policy_edit(request: HttpRequest, policy_id: int | None = None) -> HttpResponse:
    _admin(request)
    policy = (
        get_object_or_404(SlaPolicy.objects.select_related("pipeline"), pk=policy_id)
        if policy_id
        else None
    )
    pipeline = None
    if policy is None and str(request.GET.get("pipeline", "")).isdigit():
        pipeline = Pipeline.objects.filter(pk=int(request.GET["pipeline"])).first()
    form = PolicyForm(request.POST or None, initial=_policy_initial(policy, pipeline))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = configuration.save_sla_policy(
                by=request.user,
                policy=policy,
                name=data["name"],
                pipeline=data["pipeline"],
                priority=data["priority"],
                first_response_minutes=configuration.hours_to_minutes(
                    data["first_response_hours"], "first_response_hours"
                ),
                customer_update_minutes=configuration.hours_to_minutes(
                    data["customer_update_hours"], "customer_update_hours"
                ),
                resolution_minutes=configuration.hours_to_minutes(
                    data["resolution_hours"], "resolution_hours"
                ),
                at_risk_percent=data["at_risk_percent"],
                business_hours=form.business_hours(),
                time_zone=data["time_zone"],
                holiday_country=data["holiday_country"],
                holidays=data["holidays"],
                is_active=data["is_active"],
            )
        except ValidationError as exc:
            add_service_errors(form, _minutes_to_hours_errors(exc))
        else:
            messages.success(request, _("Política de SLA guardada: %(name)s.") % {"name": saved})
            return redirect("tickets:settings_pipeline_edit", saved.pipeline_id)
    return render(
        request,
        "tickets/settings/policy_form.html",
        {
            "form": form,
            "policy": policy,
            "zones": COMMON_ZONES,
            "section": SECTION,
        },
    )


def _minutes_to_hours_errors(exc: ValidationError) -> ValidationError:
    """The service names targets in minutes; the form shows them in hours."""
    if not hasattr(exc, "error_dict"):
        return exc
    renamed = {key.replace("_minutes", "_hours"): value for key, value in exc.error_dict.items()}
    return ValidationError(renamed)


@login_required
@require_POST
def settings_policy_delete(request: HttpRequest, policy_id: int) -> HttpResponse:
    policy = get_object_or_404(SlaPolicy, pk=policy_id)
    configuration.delete_sla_policy(policy=policy, by=request.user)
    messages.success(request, _("Política de SLA eliminada: %(name)s.") % {"name": policy.name})
    return redirect("tickets:settings_pipeline_edit", policy.pipeline_id)
