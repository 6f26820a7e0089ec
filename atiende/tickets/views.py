"""Tickets UI: the list, the board (kanban), bulk actions, advanced filters and saved views.

Thin views: the URL's GET parameters become a `TicketFilters` (the same selectors as the API),
writes go through `services` / `saved_views`, which check permissions. Both screens share one
filter form, so a filter or a saved view means the same thing on the list and on the board.

Advanced filter in the URL: `adv=1` and, per condition i, `c<i>_field`, `c<i>_op`, `c<i>_value`
(repeated for "es alguno de"), `c<i>_value2` (end of "entre"); `match=all|any`. `view=<id>` opens
a saved view; with `adv=1` the rows in the URL replace its conditions (unsaved changes).
"""

import datetime
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from atiende.contacts.models import Account, Contact, Label
from atiende.core.dates import day_start
from atiende.tickets import saved_views, selectors, services
from atiende.tickets.models import Pipeline, Priority, SavedView, SlaState, Stage, Ticket
from atiende.users.models import Team, User
from atiende.users.selectors import assignable_users

PAGE_SIZES = (25, 50, 100)
STATES = {
    "": gettext_lazy("Todos"),
    "open": gettext_lazy("Abiertos"),
    "closed": gettext_lazy("Cerrados"),
}
SLA_STATES = [*SlaState.choices, ("none", gettext_lazy("Sin SLA"))]
# The list's sortable columns: (sort key, label). "priority" sorts the most urgent first.
COLUMNS = [
    ("number", gettext_lazy("Número")),
    ("name", gettext_lazy("Nombre")),
    ("stage", gettext_lazy("Estado")),
    ("priority", gettext_lazy("Prioridad")),
    ("owner", gettext_lazy("Propietario")),
    ("contact", gettext_lazy("Contacto")),
    ("created", gettext_lazy("Creado")),
    ("last_activity", gettext_lazy("Actividad")),
    ("sla", gettext_lazy("SLA")),
]
BASIC_PARAMS = (
    "q",
    "owner",
    "stage",
    "priority",
    "pipeline",
    "label",
    "contact",
    "sla",
    "state",
    "created_from",
    "created_to",
    "activity_from",
    "activity_to",
)


# --- parsing the URL --------------------------------------------------------------------


@dataclass
class ListState:
    """What the GET parameters asked for: the selector's filters plus what the screen shows."""

    filters: selectors.TicketFilters
    advanced: dict[str, Any]
    view: SavedView | None = None
    modified: bool = False  # the URL's conditions differ from the open view's
    errors: list[str] = field(default_factory=list)
    advanced_error: str = ""
    contact: Contact | None = None

    @property
    def filtered(self) -> bool:
        return self.view is not None or bool(self.advanced["conditions"])


def _id(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) <= 12 and int(value) > 0 else None


def _day(value: str | None) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat((value or "").strip())
    except ValueError:
        return None


def advanced_from_query(query: QueryDict) -> dict[str, Any]:
    """The condition rows of the advanced panel as a raw filter (cleaned by saved_views)."""
    conditions = []
    for i in range(saved_views.MAX_CONDITIONS * 2):
        field_key = query.get(f"c{i}_field", "").strip()
        if not field_key:
            continue
        op = query.get(f"c{i}_op", "").strip()
        values = [v for v in query.getlist(f"c{i}_value") if v.strip()]
        if op == "in":
            value: Any = [part.strip() for v in values for part in v.split(",") if part.strip()]
        elif op == "between":
            ends = [values[0] if values else "", query.get(f"c{i}_value2", "").strip()]
            value = [end for end in ends if end]
        elif op in saved_views.NO_VALUE_OPS:
            value = None
        else:
            value = values[0] if values else ""
        conditions.append({"field": field_key, "op": op, "value": value})
    return {"match": query.get("match") or "all", "conditions": conditions}


def list_state(request: HttpRequest) -> ListState:
    """Parse the filters of the list and the board; a bad value is dropped with a message."""
    q = request.GET
    errors: list[str] = []
    f = selectors.TicketFilters(q=q.get("q", "").strip()[:200])
    owner = q.get("owner", "").strip()
    if owner in ("me", "none"):
        f.owner = owner
    elif owner:
        f.owner = _id(owner)
        if f.owner is None:
            errors.append(_("Propietario no válido: se ignoró ese filtro."))
    for name in ("stage", "pipeline", "label", "contact"):
        raw = q.get(name, "").strip()
        if raw:
            setattr(f, name, _id(raw))
            if getattr(f, name) is None:
                errors.append(_("Valor no válido en «%(name)s»: se ignoró.") % {"name": name})
    priority = q.get("priority", "").strip()
    if priority in Priority.values:
        f.priority = priority
    elif priority:
        errors.append(_("Prioridad desconocida: se ignoró ese filtro."))
    sla = q.get("sla", "").strip()
    if sla in dict(SLA_STATES):
        f.sla_state = sla
    elif sla:
        errors.append(_("Estado de SLA desconocido: se ignoró ese filtro."))
    state = q.get("state", "").strip()
    f.state = state if state in STATES else ""
    for prefix, after, before in (
        ("created", "created_after", "created_before"),
        ("activity", "last_activity_after", "last_activity_before"),
    ):
        start, end = _day(q.get(f"{prefix}_from")), _day(q.get(f"{prefix}_to"))
        if (q.get(f"{prefix}_from") and start is None) or (q.get(f"{prefix}_to") and end is None):
            errors.append(_("Fecha no válida: usa el selector de fecha."))
        if start and end and start > end:
            errors.append(_("El rango de fechas está invertido: se ignoró."))
            continue
        if start:
            setattr(f, after, day_start(start))
        if end:
            setattr(f, before, day_start(end, 1))
    sort = q.get("sort", "")
    f.sort = sort if sort in selectors.SORTS else "-last_activity"

    view = None
    view_id = _id(q.get("view"))
    if q.get("view"):
        try:
            view = saved_views.get_view(user=request.user, view_id=view_id or 0)
        except SavedView.DoesNotExist:
            errors.append(_("La vista no existe o no es tuya."))
    stored = None  # the open view's conditions, cleaned
    if view is not None:
        try:
            stored = saved_views.clean_filters(view.filters)
        except ValidationError as exc:
            errors.append(
                _("La vista «%(name)s» tiene una condición que ya no vale: %(reason)s")
                % {"name": view.name, "reason": " ".join(exc.messages)}
            )
    advanced = stored or saved_views.empty_filters()
    advanced_error = ""
    modified = False
    if q.get("adv"):
        raw = advanced_from_query(q)
        try:
            cleaned = saved_views.clean_filters(raw)
        except ValidationError as exc:
            advanced_error = " ".join(exc.messages)
            # Shown in the panel as typed, not applied: nothing is filtered on a broken condition.
            advanced = raw
            f.advanced = stored
        else:
            modified = view is not None and cleaned != stored
            advanced = cleaned
            f.advanced = cleaned if cleaned["conditions"] else None
    else:
        f.advanced = stored
    contact = Contact.objects.filter(pk=f.contact).first() if f.contact else None
    return ListState(f, advanced, view, modified, errors, advanced_error, contact)


# --- shared context ---------------------------------------------------------------------


def _stage_options() -> list[tuple[str, list[Stage]]]:
    """Stages grouped by pipeline, for the selects (one query)."""
    groups: dict[int, tuple[str, list[Stage]]] = {}
    for stage in Stage.objects.select_related("pipeline").order_by(
        "pipeline__position", "pipeline_id", "position", "id"
    ):
        groups.setdefault(stage.pipeline_id, (str(stage.pipeline), []))[1].append(stage)
    return list(groups.values())


class Choices:
    """The options of each filterable field, loaded once per request and only when used."""

    def __init__(self, user: User):
        self.user = user
        self._cache: dict[str, list[tuple[str, str]]] = {}

    def __call__(self, key: str) -> list[tuple[str, str]] | None:
        spec = saved_views.FIELDS[key]
        if spec.kind == "choice":
            return [(k, str(label)) for k, label in spec.choices]
        if spec.kind == "bool":
            return [("true", _("Sí")), ("false", _("No"))]
        if key in ("contact", "account"):
            return None  # too many to list: typed as an id
        if key not in self._cache:
            self._cache[key] = self._load(key)
        return self._cache[key]

    def _load(self, key: str) -> list[tuple[str, str]]:
        if key == "stage":
            return [
                (str(s.pk), f"{pipeline} · {s.label}")
                for pipeline, stages in _stage_options()
                for s in stages
            ]
        if key == "pipeline":
            return [(str(p.pk), str(p)) for p in Pipeline.objects.order_by("position", "id")]
        if key == "owner":
            users = assignable_users()[:500]
            return [("me", _("Yo (quien mira la vista)"))] + [(str(u.pk), u.name) for u in users]
        if key == "team":
            return [(str(t.pk), t.name) for t in Team.objects.order_by("name")[:200]]
        if key == "label":
            return [(str(lb.pk), lb.name) for lb in Label.objects.order_by("name")[:500]]
        return []  # pragma: no cover


def _names(advanced: dict[str, Any], choices: Choices) -> dict[tuple[str, Any], str]:
    """Display names of the ids in the conditions (for the chips of the active filter)."""
    names: dict[tuple[str, Any], str] = {}
    for condition in advanced.get("conditions", []):
        key = condition.get("field")
        if key not in saved_views.FIELDS:
            continue
        values = saved_views.as_list(condition["value"])
        options = choices(key)
        if options is not None:
            labels = dict(options)
            for v in values:
                names[(key, v)] = labels.get(str(v), str(v))
        elif key == "contact":
            for c in Contact.objects.filter(pk__in=[v for v in values if isinstance(v, int)]):
                names[(key, c.pk)] = c.full_name
        elif key == "account":
            for a in Account.objects.filter(pk__in=[v for v in values if isinstance(v, int)]):
                names[(key, a.pk)] = a.number
    return names


@dataclass
class Row:
    """One condition row of the advanced panel, ready for `_filters_row.html`."""

    index: int
    field: str
    op: str
    values: list[str]
    value2: str
    ops: list[tuple[str, str]]
    widget: str  # text | select | multi | number | date | between | none
    options: list[tuple[str, str]] | None


def make_row(index: int, condition: dict[str, Any], choices: Choices) -> Row:
    key = condition.get("field") if condition.get("field") in saved_views.FIELDS else "name"
    spec = saved_views.FIELDS[key]
    op = condition.get("op") if condition.get("op") in spec.ops else spec.ops[0]
    value = condition.get("value")
    values = [
        str(v).lower() if isinstance(v, bool) else str(v)
        for v in saved_views.as_list(value)
        if v is not None
    ]
    options = choices(key)
    if op in saved_views.NO_VALUE_OPS:
        widget = "none"
    elif spec.kind == "date":
        widget = "between" if op == "between" else "date"
    elif spec.kind == "text" or op == "contains":
        widget = "text"
    elif options is None:
        widget = "number" if op != "in" else "text"
    else:
        widget = "multi" if op == "in" else "select"
    value2 = values[1] if op == "between" and len(values) > 1 else ""
    return Row(
        index=index,
        field=key,
        op=op,
        values=values[:1] if op == "between" else values,
        value2=value2,
        ops=[(o, str(saved_views.OPERATORS[o])) for o in spec.ops],
        widget=widget,
        options=options,
    )


def with_sla_text(tickets: Any, now: datetime.datetime) -> Any:
    """Each ticket's SLA due time as a short phrase ("en 3 horas", "hace 2 días")."""
    for ticket in tickets:
        ticket.sla_when = ""
        if ticket.sla_due_at is None or ticket.sla_state == "paused":
            continue
        if ticket.sla_state == "breached" and ticket.sla_due_at > now:
            continue  # breached on another clock: the next deadline is not what matters
        if ticket.sla_due_at <= now:
            ticket.sla_when = _("venció hace %s") % timesince(ticket.sla_due_at, now, depth=1)
        else:
            ticket.sla_when = _("vence en %s") % timeuntil(ticket.sla_due_at, now, depth=1)
    return tickets


def basic_conditions(request: HttpRequest, state: ListState, *, mode: str) -> list[dict]:
    """The simple filters in force, as conditions of a saved view (the text search is not one)."""
    f = state.filters
    out: list[dict[str, Any]] = []
    if f.owner == "none":
        out.append({"field": "owner", "op": "empty", "value": None})
    elif f.owner:
        out.append({"field": "owner", "op": "eq", "value": f.owner})
    for key in ("stage", "priority", "label", "contact"):
        if getattr(f, key):
            out.append({"field": key, "op": "eq", "value": getattr(f, key)})
    if f.pipeline and mode == "list":
        out.append({"field": "pipeline", "op": "eq", "value": f.pipeline})
    if f.sla_state == "none":
        out.append({"field": "sla_state", "op": "empty", "value": None})
    elif f.sla_state:
        out.append({"field": "sla_state", "op": "eq", "value": f.sla_state})
    if f.state:
        op = "empty" if f.state == "open" else "not_empty"
        out.append({"field": "closed_at", "op": op, "value": None})
    for prefix, key in (("created", "created_at"), ("activity", "last_activity_at")):
        start, end = _day(request.GET.get(f"{prefix}_from")), _day(request.GET.get(f"{prefix}_to"))
        if start and end and start <= end:
            out.append({"field": key, "op": "between", "value": [str(start), str(end)]})
        elif start and not end:
            day_before = start - datetime.timedelta(days=1)
            out.append({"field": key, "op": "after", "value": str(day_before)})
        elif end and not start:
            day_after = end + datetime.timedelta(days=1)
            out.append({"field": key, "op": "before", "value": str(day_after)})
    return out


def _to_save(request: HttpRequest, state: ListState, *, mode: str) -> tuple[dict[str, Any], str]:
    """What "Guardar vista" stores: the advanced conditions plus the simple filters in force."""
    applied = state.filters.advanced or saved_views.empty_filters()
    basic = basic_conditions(request, state, mode=mode)
    notes = []
    if state.filters.q:
        notes.append(_("La búsqueda de texto no se guarda en la vista."))
    if basic and applied["match"] == "any" and len(applied["conditions"]) > 1:
        notes.append(
            _("Con «Cualquiera» solo se guardan las condiciones avanzadas, no los filtros simples.")
        )
        return applied, " ".join(notes)
    match = applied["match"] if not basic else "all"
    return {"match": match, "conditions": basic + applied["conditions"]}, " ".join(notes)


def _filter_context(request: HttpRequest, state: ListState, *, mode: str) -> dict[str, Any]:
    choices = Choices(request.user)
    conditions = state.advanced.get("conditions", []) if isinstance(state.advanced, dict) else []
    rows = [make_row(i, c, choices) for i, c in enumerate(conditions)]
    applied = state.filters.advanced or saved_views.empty_filters()
    try:
        to_save, save_note = _to_save(request, state, mode=mode)
        to_save = saved_views.clean_filters(to_save)
    except ValidationError as exc:
        to_save, save_note = applied, " ".join(exc.messages)
    owner_rows = selectors.owner_counts(user=request.user, filters=state.filters)
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "state": state,
        # A missing key reads "" instead of failing over to QueryDict attributes: each miss
        # cost a dir(QueryDict), 200 of them per page in the owner options (~80 ms).
        "f": defaultdict(str, request.GET.items()),
        "mode": mode,
        "rows": rows,
        "next_index": len(rows),
        "match": state.advanced.get("match", "all") if isinstance(state.advanced, dict) else "all",
        "fields": [(k, str(s.label)) for k, s in saved_views.FIELDS.items()],
        "applied_chips": saved_views.describe(applied, _names(applied, choices))
        if applied["conditions"]
        else [],
        "save_json": json.dumps(to_save),
        "save_chips": saved_views.describe(to_save, _names(to_save, choices)),
        "save_note": save_note,
        "my_count": sum(r["count"] for r in owner_rows if r["owner_id"] == request.user.pk),
        "unassigned_count": sum(r["count"] for r in owner_rows if r["owner_id"] is None),
        "now": timezone.now(),
        "saved_views": list(saved_views.views_for(request.user)),
        "can_edit_view": state.view is not None and saved_views.can_edit(request.user, state.view),
        "stage_groups": _stage_options(),
        "priorities": Priority.choices,
        "pipelines": list(Pipeline.objects.order_by("position", "id")),
        "labels": list(Label.objects.order_by("name")[:500]),
        "sla_states": SLA_STATES,
        "states": list(STATES.items()),
        "owner_rows": owner_rows,
        "query_string": query.urlencode(),
        # Open while the user works on conditions; a saved view shows them as chips instead.
        "advanced_open": bool(request.GET.get("panel")) or bool(state.advanced_error),
        "section": "tickets",
    }


# --- the list ---------------------------------------------------------------------------


class KnownCountPaginator(Paginator):
    """A paginator told its total instead of counting the rows again."""

    def __init__(self, object_list: Any, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self.__dict__["count"] = count  # Paginator.count is a cached_property


def _per_page(request: HttpRequest) -> int:
    size = _id(request.GET.get("per_page"))
    return size if size in PAGE_SIZES else PAGE_SIZES[0]


@login_required
@require_GET
def ticket_list(request: HttpRequest) -> HttpResponse:
    state = list_state(request)
    tickets = selectors.tickets_for_list(user=request.user, filters=state.filters)
    context = _filter_context(request, state, mode="list")
    total = selectors.total_from_owner_counts(
        context["owner_rows"], user=request.user, owner=state.filters.owner
    )
    page = KnownCountPaginator(tickets, _per_page(request), count=total).get_page(
        request.GET.get("page")
    )
    with_sla_text(page.object_list, context["now"])
    context.update(
        page=page,
        per_page=_per_page(request),
        page_sizes=PAGE_SIZES,
        columns=COLUMNS,
        filtered=state.filtered or any(request.GET.get(p) for p in BASIC_PARAMS),
        users=list(assignable_users()[:500]),
        bulk_priorities=Priority.choices,
    )
    for message in state.errors:
        messages.warning(request, message)
    return render(request, "tickets/list.html", context)


def _back(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@login_required
@require_POST
def ticket_bulk(request: HttpRequest) -> HttpResponse:
    """Assign, move, prioritise, label or close the chosen tickets: all of them or none."""
    back = _back(request, reverse("tickets:list"))
    ids = [i for i in (_id(v) for v in request.POST.getlist("ids")) if i][:100]
    action = request.POST.get("action", "")
    if not ids:
        messages.error(request, _("Elige al menos un ticket."))
        return redirect(back)
    value: Any = None
    error = ""
    if action == "assign":
        owner = request.POST.get("owner", "")
        if owner and owner != "none":
            value = User.objects.filter(pk=_id(owner) or 0, is_active=True).first()
            error = "" if value else _("Elige a quién asignar los tickets.")
        elif not owner:
            error = _("Elige a quién asignar los tickets.")
    elif action == "stage":
        value = (
            Stage.objects.select_related("pipeline")
            .filter(pk=_id(request.POST.get("stage")) or 0)
            .first()
        )
        error = "" if value else _("Elige el estado.")
    elif action == "priority":
        value = request.POST.get("priority", "")
        error = "" if value in Priority.values else _("Elige la prioridad.")
    elif action == "label":
        value = Label.objects.filter(pk=_id(request.POST.get("label")) or 0).first()
        error = "" if value else _("Elige la etiqueta.")
    elif action != "close":
        error = _("Acción desconocida.")
    if error:
        messages.error(request, error)
        return redirect(back)
    tickets = list(Ticket.objects.select_related("stage", "pipeline").filter(pk__in=ids))
    try:
        count = services.bulk_update(tickets=tickets, by=request.user, action=action, value=value)
    except PermissionDenied as exc:
        messages.error(request, _("No se aplicó ningún cambio. %(reason)s") % {"reason": exc})
    except ValidationError as exc:
        messages.error(
            request,
            _("No se aplicó ningún cambio. %(reason)s") % {"reason": " ".join(exc.messages)},
        )
    else:
        done = {
            "assign": ngettext(
                "%(n)s ticket asignado a %(name)s.",
                "%(n)s tickets asignados a %(name)s.",
                count,
            ),
            "stage": ngettext(
                "%(n)s ticket movido a %(name)s.", "%(n)s tickets movidos a %(name)s.", count
            ),
            "priority": ngettext(
                "%(n)s ticket con prioridad %(name)s.",
                "%(n)s tickets con prioridad %(name)s.",
                count,
            ),
            "label": ngettext(
                "%(n)s ticket etiquetado «%(name)s».",
                "%(n)s tickets etiquetados «%(name)s».",
                count,
            ),
            "close": ngettext("%(n)s ticket cerrado.", "%(n)s tickets cerrados.", count),
        }[action]
        name = ""
        if action == "assign":
            name = value.name if value else _("nadie (sin propietario)")
        elif action == "stage":
            name = value.label
        elif action == "priority":
            name = Priority(value).label
        elif action == "label":
            name = value.name
        messages.success(request, _("Listo: ") + done % {"n": count, "name": name})
    return redirect(back)


# --- the board --------------------------------------------------------------------------


def _escalate_url(ticket: Ticket, stage: Stage) -> str:
    try:
        base = reverse("tickets:escalate", args=[ticket.pk])
    except NoReverseMatch:
        base = f"/tickets/{ticket.pk}/escalar/"
    return f"{base}?stage={stage.pk}"


@login_required
@require_GET
def ticket_board(request: HttpRequest) -> HttpResponse:
    state = list_state(request)
    pipelines = list(Pipeline.objects.order_by("position", "id"))
    chosen = _id(request.GET.get("pipeline"))
    pipeline = next((p for p in pipelines if p.pk == chosen), None)
    if pipeline is None:
        pipeline = next((p for p in pipelines if p.is_default), None) or (
            pipelines[0] if pipelines else None
        )
    if pipeline is None:
        raise Http404(_("No hay ningún pipeline configurado."))
    state.filters.pipeline = pipeline.pk
    columns = selectors.board_columns(
        user=request.user,
        pipeline=pipeline,
        filters=state.filters,
        per_column=selectors.BOARD_COLUMN_LIMIT,
    )
    context = _filter_context(request, state, mode="board")
    for column in columns:
        with_sla_text(column.tickets, context["now"])
    context.update(
        pipeline=pipeline,
        board_pipelines=pipelines,
        columns=columns,
        total=sum(c.count for c in columns),
        filtered=state.filtered or any(request.GET.get(p) for p in BASIC_PARAMS if p != "pipeline"),
    )
    for message in state.errors:
        messages.warning(request, message)
    return render(request, "tickets/board.html", context)


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@login_required
@require_POST
def board_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Drag-and-drop and the "Mover a…" menu: services.change_stage. A refusal to enter the
    escalation stage answers where the escalation form is, so the user can complete it."""
    back = _back(request, reverse("tickets:board"))
    ticket = Ticket.objects.select_related("stage", "pipeline").filter(pk=pk).first()
    stage = Stage.objects.filter(pk=_id(request.POST.get("stage")) or 0).first()
    if ticket is None or stage is None:
        detail = _("El ticket no existe.") if ticket is None else _("El estado no existe.")
        if _wants_json(request):
            return JsonResponse({"detail": detail}, status=404)
        messages.error(request, detail)
        return redirect(back)
    try:
        services.change_stage(ticket=ticket, stage=stage, by=request.user)
    except PermissionDenied as exc:
        detail = str(exc) or _("No tienes permiso para realizar esta acción.")
        if _wants_json(request):
            return JsonResponse({"detail": detail}, status=403)
        messages.error(request, detail)
        return redirect(back)
    except ValidationError as exc:
        escalation = stage.is_escalation and stage.pipeline_id == ticket.pipeline_id
        detail = " ".join(exc.messages)
        if escalation:
            detail = _("Para pasar a «%(stage)s» completa la escalación: %(missing)s") % {
                "stage": stage.label,
                "missing": detail,
            }
        payload: dict[str, Any] = {"detail": detail}
        if escalation:
            payload["escalate_url"] = _escalate_url(ticket, stage)
        if _wants_json(request):
            return JsonResponse(payload, status=422)
        messages.error(request, detail)
        return redirect(payload.get("escalate_url") or back)
    detail = _("%(number)s movido a «%(stage)s».") % {
        "number": ticket.number,
        "stage": stage.label,
    }
    if _wants_json(request):
        return JsonResponse(
            {
                "detail": detail,
                "ticket": ticket.pk,
                "stage": stage.pk,
                "closed": ticket.is_closed,
            }
        )
    messages.success(request, detail)
    return redirect(back)


# --- advanced filter rows and saved views -----------------------------------------------


@login_required
@require_GET
def filter_row(request: HttpRequest) -> HttpResponse:
    """One condition row (htmx): a new one, or the same row redrawn for its field / operator."""
    index = min(_id(request.GET.get("i")) or 0, saved_views.MAX_CONDITIONS * 2 - 1)
    condition = {
        "field": request.GET.get(f"c{index}_field", "name"),
        "op": request.GET.get(f"c{index}_op", ""),
        "value": request.GET.getlist(f"c{index}_value"),
    }
    if request.GET.get("changed") == "field":
        condition["op"] = ""
        condition["value"] = []
    elif request.GET.get(f"c{index}_value2"):
        condition["value"] = [*condition["value"][:1], request.GET[f"c{index}_value2"]]
    row = make_row(index, condition, Choices(request.user))
    fields = [(k, str(s.label)) for k, s in saved_views.FIELDS.items()]
    return render(request, "tickets/_filters_row.html", {"row": row, "fields": fields})


def _filters_json(request: HttpRequest) -> Any:
    try:
        return json.loads(request.POST.get("filters") or "{}")
    except ValueError:
        raise ValidationError({"filters": _("El filtro no es JSON válido.")}) from None


def _view_url(request: HttpRequest, view: SavedView) -> str:
    screen = "tickets:board" if request.POST.get("screen") == "board" else "tickets:list"
    return f"{reverse(screen)}?view={view.pk}"


@login_required
@require_POST
def view_save(request: HttpRequest) -> HttpResponse:
    """Guardar vista (a new one) or Actualizar vista (`view`: the id of one the user edits)."""
    back = _back(request, reverse("tickets:list"))
    view = None
    if request.POST.get("view"):
        try:
            view = saved_views.get_view(user=request.user, view_id=_id(request.POST["view"]) or 0)
        except SavedView.DoesNotExist:
            messages.error(request, _("La vista no existe o no es tuya."))
            return redirect(back)
    try:
        view = saved_views.save_view(
            owner=request.user,
            name=request.POST.get("name", view.name if view else ""),
            shared=bool(request.POST.get("shared")),
            filters=_filters_json(request),
            view=view,
        )
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return redirect(back)
    except ValidationError as exc:
        messages.error(request, _("No se guardó la vista: %s") % " ".join(exc.messages))
        return redirect(back)
    messages.success(request, _("Vista guardada: %(name)s.") % {"name": view.name})
    return redirect(_view_url(request, view))


@login_required
@require_POST
def view_delete(request: HttpRequest, pk: int) -> HttpResponse:
    back = _back(request, reverse("tickets:list"))
    try:
        view = saved_views.get_view(user=request.user, view_id=pk)
        name = view.name
        saved_views.delete_view(view=view, by=request.user)
    except SavedView.DoesNotExist:
        messages.error(request, _("La vista no existe o no es tuya."))
        return redirect(back)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return redirect(back)
    messages.success(request, _("Vista eliminada: %(name)s.") % {"name": name})
    screen = "tickets:board" if request.POST.get("screen") == "board" else "tickets:list"
    return redirect(screen)
