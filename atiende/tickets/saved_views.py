"""Advanced ticket filters and saved views ("vistas guardadas").

A filter is plain JSON so it can be stored, sent by the API and put in a URL:

    {"match": "all" | "any", "conditions": [{"field": "priority", "op": "in", "value": [...]}, …]}

Only the fields and operators of `FIELDS` are accepted (a whitelist: nobody filters on a column we
did not mean to expose), values are checked and normalised with Spanish messages, and
`compile_filters` turns the result into one `Q`. Labels (many-to-many) compile to sub-queries so a
ticket with two matching labels is never listed twice. Dates are whole days in the user's time
zone: "antes del" = before that day, "después del" = after that day, "entre" = both days included.

Permission: a private view is seen only by its owner, a shared view by everyone; only the owner
or an admin edits or deletes it.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from atiende.contacts.models import Account, Contact, Label
from atiende.core.audit import record
from atiende.core.dates import day_start
from atiende.tickets.models import Pipeline, Priority, SavedView, SlaState, Source, Stage, Ticket
from atiende.users.models import Team, User

MAX_CONDITIONS = 20
MAX_IN_VALUES = 100
MAX_TEXT = 200
VIEWS_LIMIT = 100

# Operators: key → label shown in the panel.
OPERATORS: dict[str, Promise] = {
    "eq": gettext_lazy("es igual a"),
    "ne": gettext_lazy("no es igual a"),
    "in": gettext_lazy("es alguno de"),
    "contains": gettext_lazy("contiene"),
    "before": gettext_lazy("antes del"),
    "after": gettext_lazy("después del"),
    "between": gettext_lazy("entre"),
    "empty": gettext_lazy("está vacío"),
    "not_empty": gettext_lazy("no está vacío"),
}
NO_VALUE_OPS = {"empty", "not_empty"}

TEXT_OPS = ("eq", "ne", "contains", "empty", "not_empty")
CHOICE_OPS = ("eq", "ne", "in")
FK_OPS = ("eq", "ne", "in")
NULLABLE_FK_OPS = ("eq", "ne", "in", "empty", "not_empty")
LABEL_OPS = ("eq", "ne", "in", "contains", "empty", "not_empty")
DATE_OPS = ("eq", "before", "after", "between")
NULLABLE_DATE_OPS = ("eq", "before", "after", "between", "empty", "not_empty")
BOOL_OPS = ("eq",)


@dataclass(frozen=True)
class FieldSpec:
    """One filterable field: its kind decides the operators, the value check and the lookup."""

    key: str
    label: Promise
    kind: str  # text | choice | fk | label | date | bool
    ops: tuple[str, ...]
    column: str = ""
    model: Any = None
    choices: tuple[tuple[str, Any], ...] = ()

    @property
    def nullable(self) -> bool:
        return "empty" in self.ops


FIELDS: dict[str, FieldSpec] = {
    spec.key: spec
    for spec in (
        FieldSpec("name", gettext_lazy("Nombre"), "text", TEXT_OPS, "name"),
        FieldSpec("description", gettext_lazy("Descripción"), "text", TEXT_OPS, "description"),
        FieldSpec("stage", gettext_lazy("Estado"), "fk", FK_OPS, "stage_id", Stage),
        FieldSpec("pipeline", gettext_lazy("Pipeline"), "fk", FK_OPS, "pipeline_id", Pipeline),
        FieldSpec(
            "priority",
            gettext_lazy("Prioridad"),
            "choice",
            CHOICE_OPS,
            "priority",
            choices=tuple(Priority.choices),
        ),
        FieldSpec("owner", gettext_lazy("Propietario"), "fk", NULLABLE_FK_OPS, "owner_id", User),
        FieldSpec("team", gettext_lazy("Equipo"), "fk", NULLABLE_FK_OPS, "team_id", Team),
        FieldSpec(
            "contact", gettext_lazy("Contacto"), "fk", NULLABLE_FK_OPS, "contact_id", Contact
        ),
        FieldSpec(
            "account", gettext_lazy("Póliza / cuenta"), "fk", NULLABLE_FK_OPS, "account_id", Account
        ),
        FieldSpec("label", gettext_lazy("Etiqueta"), "label", LABEL_OPS, "labels", Label),
        FieldSpec(
            "source",
            gettext_lazy("Origen"),
            "choice",
            CHOICE_OPS,
            "source",
            choices=tuple(Source.choices),
        ),
        FieldSpec("created_at", gettext_lazy("Fecha de creación"), "date", DATE_OPS, "created_at"),
        FieldSpec(
            "last_activity_at",
            gettext_lazy("Última actividad"),
            "date",
            DATE_OPS,
            "last_activity_at",
        ),
        FieldSpec(
            "closed_at", gettext_lazy("Fecha de cierre"), "date", NULLABLE_DATE_OPS, "closed_at"
        ),
        FieldSpec(
            "escalated_at",
            gettext_lazy("Fecha de escalación"),
            "date",
            NULLABLE_DATE_OPS,
            "escalated_at",
        ),
        FieldSpec(
            "sla_state",
            gettext_lazy("Estado del SLA"),
            "choice",
            ("eq", "ne", "in", "empty", "not_empty"),
            "sla_state",
            choices=tuple(SlaState.choices),
        ),
        FieldSpec(
            "customer_update_overdue",
            gettext_lazy("Actualización al cliente vencida"),
            "bool",
            BOOL_OPS,
            "customer_update_overdue",
        ),
    )
}


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def empty_filters() -> dict[str, Any]:
    return {"match": "all", "conditions": []}


# --- validation -------------------------------------------------------------------------


def _condition_error(index: int, message: str) -> ValidationError:
    return ValidationError(
        {"filters": _("Condición %(n)s: %(message)s") % {"n": index + 1, "message": message}}
    )


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 12:
        return int(value.strip()) or None
    return None


def _date(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.date.fromisoformat(value.strip()[:10]).isoformat()
    except ValueError:
        return None


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "si", "sí", "yes"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "0", "no"):
        return False
    return None


def _scalar(spec: FieldSpec, value: Any, index: int) -> Any:
    """One value of `spec`'s kind, normalised; a Spanish error when it is not one."""
    if spec.kind == "text":
        text = value.strip() if isinstance(value, str) else ""
        if not text:
            raise _condition_error(index, _("escribe el texto a buscar."))
        return text[:MAX_TEXT]
    if spec.kind == "choice":
        allowed = [key for key, _label in spec.choices]
        if value not in allowed:
            raise _condition_error(
                index,
                _("valor desconocido para «%(field)s»; usa uno de: %(allowed)s.")
                % {"field": spec.label, "allowed": ", ".join(allowed)},
            )
        return value
    if spec.kind in ("fk", "label"):
        if spec.key == "owner" and value == "me":
            return "me"
        number = _int(value)
        if number is None:
            raise _condition_error(
                index, _("«%(field)s» necesita un identificador.") % {"field": spec.label}
            )
        return number
    if spec.kind == "date":
        day = _date(value)
        if day is None:
            raise _condition_error(index, _("fecha no válida; usa AAAA-MM-DD."))
        return day
    if spec.kind == "bool":
        flag = _bool(value)
        if flag is None:
            raise _condition_error(index, _("elige sí o no."))
        return flag
    raise _condition_error(index, _("campo no filtrable."))  # pragma: no cover


def _clean_condition(raw: Any, index: int) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _condition_error(index, _("debe tener campo, operador y valor."))
    spec = FIELDS.get(raw.get("field")) if isinstance(raw.get("field"), str) else None
    if spec is None:
        raise _condition_error(
            index, _("campo desconocido «%(field)s».") % {"field": raw.get("field")}
        )
    op = raw.get("op")
    if op not in spec.ops:
        raise _condition_error(
            index,
            _("el operador «%(op)s» no sirve para «%(field)s»; usa: %(ops)s.")
            % {
                "op": op,
                "field": spec.label,
                "ops": ", ".join(str(OPERATORS[o]) for o in spec.ops),
            },
        )
    value = raw.get("value")
    if op in NO_VALUE_OPS:
        value = None
    elif op == "contains" and spec.kind == "label":
        text = value.strip() if isinstance(value, str) else ""
        if not text:
            raise _condition_error(index, _("escribe el texto a buscar."))
        value = text[:MAX_TEXT]
    elif op == "in":
        if isinstance(value, str | int):
            value = [v for v in str(value).split(",") if v.strip()]
        if not isinstance(value, list) or not value:
            raise _condition_error(index, _("elige al menos un valor."))
        if len(value) > MAX_IN_VALUES:
            raise _condition_error(index, _("como máximo %(n)s valores.") % {"n": MAX_IN_VALUES})
        value = list(dict.fromkeys(_scalar(spec, v, index) for v in value))
    elif op == "between":
        if not isinstance(value, list) or len(value) != 2:
            raise _condition_error(index, _("«entre» necesita dos fechas."))
        start, end = (_scalar(spec, v, index) for v in value)
        if start > end:
            raise _condition_error(index, _("la primera fecha es posterior a la segunda."))
        value = [start, end]
    else:
        value = _scalar(spec, value, index)
    return {"field": spec.key, "op": op, "value": value}


def _check_exists(conditions: list[dict[str, Any]]) -> None:
    """Ids in the conditions name existing rows (one query per condition that holds ids)."""
    for index, condition in enumerate(conditions):
        spec = FIELDS[condition["field"]]
        if spec.model is None or condition["op"] in NO_VALUE_OPS or condition["op"] == "contains":
            continue
        ids = {v for v in as_list(condition["value"]) if v != "me"}
        if ids and spec.model.objects.filter(pk__in=ids).count() != len(ids):
            raise _condition_error(
                index, _("«%(field)s»: alguno de los valores no existe.") % {"field": spec.label}
            )


def clean_filters(data: Any, *, check_exists: bool = False) -> dict[str, Any]:
    """The filter normalised, or ValidationError({"filters": "<mensaje en español>"})."""
    if data in (None, ""):
        return empty_filters()
    if not isinstance(data, dict):
        raise ValidationError({"filters": _("El filtro debe ser un objeto con sus condiciones.")})
    unknown = set(data) - {"match", "conditions"}
    if unknown:
        raise ValidationError(
            {"filters": _("Claves desconocidas: %s.") % ", ".join(sorted(map(str, unknown)))}
        )
    match = data.get("match") or "all"
    if match not in ("all", "any"):
        raise ValidationError(
            {"filters": _('«match» debe ser "all" (todas) o "any" (cualquiera).')}
        )
    raw_conditions = data.get("conditions")
    raw_conditions = [] if raw_conditions is None else raw_conditions
    if not isinstance(raw_conditions, list):
        raise ValidationError({"filters": _("Las condiciones deben ser una lista.")})
    if len(raw_conditions) > MAX_CONDITIONS:
        raise ValidationError(
            {"filters": _("Como máximo %(n)s condiciones.") % {"n": MAX_CONDITIONS}}
        )
    conditions = [_clean_condition(raw, i) for i, raw in enumerate(raw_conditions)]
    if check_exists:
        _check_exists(conditions)
    return {"match": match, "conditions": conditions}


# --- compilation ------------------------------------------------------------------------


def _label_tickets(**lookup: Any) -> QuerySet:
    """Ids of tickets having a label that matches: a sub-query, so no duplicate rows."""
    return Ticket.labels.through.objects.filter(**lookup).values("ticket_id")


def _condition_q(condition: dict[str, Any], user: User | None) -> Q:
    spec = FIELDS[condition["field"]]
    op, value = condition["op"], condition["value"]

    def me(v: Any) -> Any:
        if v != "me":
            return v
        if user is None:
            raise ValidationError({"filters": _("«Yo» solo vale para un usuario conectado.")})
        return user.pk

    if spec.kind == "label":
        if op == "eq":
            return Q(pk__in=_label_tickets(label_id=value))
        if op == "ne":
            return ~Q(pk__in=_label_tickets(label_id=value))
        if op == "in":
            return Q(pk__in=_label_tickets(label_id__in=value))
        if op == "contains":
            return Q(pk__in=_label_tickets(label__name__icontains=value))
        if op == "empty":
            return ~Q(pk__in=_label_tickets())
        return Q(pk__in=_label_tickets())
    column = spec.column
    if spec.kind == "date":
        if op in NO_VALUE_OPS:
            return Q(**{f"{column}__isnull": op == "empty"})
        if op == "between":
            start, end = (datetime.date.fromisoformat(v) for v in value)
        else:
            start = end = datetime.date.fromisoformat(value)
        if op == "before":
            return Q(**{f"{column}__lt": day_start(start)})
        if op == "after":
            return Q(**{f"{column}__gte": day_start(end, 1)})
        return Q(**{f"{column}__gte": day_start(start), f"{column}__lt": day_start(end, 1)})
    if spec.kind == "text":
        if op == "eq":
            return Q(**{f"{column}__iexact": value})
        if op == "ne":
            return ~Q(**{f"{column}__iexact": value})
        if op == "contains":
            return Q(**{f"{column}__icontains": value})
        return Q(**{column: ""}) if op == "empty" else ~Q(**{column: ""})
    if op in NO_VALUE_OPS:
        if spec.kind == "choice":  # sla_state: "" means no SLA policy applies
            return Q(**{column: ""}) if op == "empty" else ~Q(**{column: ""})
        return Q(**{f"{column}__isnull": op == "empty"})
    if op == "eq":
        return Q(**{column: me(value)})
    if op == "ne":
        return ~Q(**{column: me(value)})
    return Q(**{f"{column}__in": [me(v) for v in value]})


def compile_filters(filters: Any, *, user: User | None = None) -> Q:
    """One Q for the whole filter: AND ("all") or OR ("any") of its conditions; none → all rows.
    Invalid input raises ValidationError with a Spanish message (the filter is cleaned first)."""
    cleaned = clean_filters(filters)
    parts = [_condition_q(c, user) for c in cleaned["conditions"]]
    if not parts:
        return Q()
    combined = parts[0]
    for part in parts[1:]:
        combined = (combined & part) if cleaned["match"] == "all" else (combined | part)
    return combined


# --- permissions, selectors, services -----------------------------------------------------


def can_see(user: User, view: SavedView) -> bool:
    return bool(user and user.is_active) and (view.shared or view.owner_id == user.pk)


def can_edit(user: User, view: SavedView) -> bool:
    return bool(user and user.is_active) and (view.owner_id == user.pk or user.is_admin)


def views_for(user: User) -> QuerySet[SavedView]:
    """The views a user may open: their own and the shared ones, by name (bounded)."""
    if not (user and user.is_active):
        return SavedView.objects.none()
    return (
        SavedView.objects.filter(Q(owner=user) | Q(shared=True))
        .select_related("owner")
        .order_by("name", "id")[:VIEWS_LIMIT]
    )


def get_view(*, user: User, view_id: int) -> SavedView:
    """One view the user may see; SavedView.DoesNotExist otherwise (a private view of someone
    else does not exist for them)."""
    view = SavedView.objects.select_related("owner").get(pk=view_id)
    if not can_see(user, view):
        raise SavedView.DoesNotExist
    return view


def _snapshot(view: SavedView) -> dict[str, Any]:
    return {"name": view.name, "shared": view.shared, "filters": view.filters}


@transaction.atomic
def save_view(
    *,
    owner: User,
    name: str,
    shared: bool,
    filters: Any,
    view: SavedView | None = None,
) -> SavedView:
    """Create a view for `owner`, or change `view` (only its owner or an admin may). `owner` is
    the person acting; an admin editing someone's view leaves its owner as it was."""
    if view is not None and not can_edit(owner, view):
        raise PermissionDenied(_("Solo quien creó la vista o un administrador puede cambiarla."))
    if not (owner and owner.is_active):
        raise PermissionDenied(_("No tienes permiso para realizar esta acción."))
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = _("Indica el nombre de la vista.")
    elif len(name) > 80:
        errors["name"] = _("El nombre admite como máximo 80 caracteres.")
    else:
        view_owner = view.owner if view is not None else owner
        clash = SavedView.objects.filter(owner=view_owner, name__iexact=name)
        if view is not None:
            clash = clash.exclude(pk=view.pk)
        if clash.exists():
            errors["name"] = _("Ya tienes una vista con ese nombre.")
    try:
        cleaned = clean_filters(filters, check_exists=True)
    except ValidationError as exc:
        errors["filters"] = " ".join(exc.messages)
    if errors:
        raise ValidationError(errors)
    before = _snapshot(view) if view is not None else {}
    if view is None:
        view = SavedView(owner=owner)
    view.name = name
    view.shared = bool(shared)
    view.filters = cleaned
    view.save()
    record(
        actor=owner,
        action="create" if not before else "update",
        obj=view,
        before=before,
        after=_snapshot(view),
    )
    return view


@transaction.atomic
def delete_view(*, view: SavedView, by: User) -> None:
    if not can_edit(by, view):
        raise PermissionDenied(_("Solo quien creó la vista o un administrador puede eliminarla."))
    record(actor=by, action="delete", obj=view, before=_snapshot(view))
    view.delete()


def describe(filters: dict[str, Any], names: dict[tuple[str, Any], str] | None = None) -> list[str]:
    """Human-readable conditions ("Prioridad es alguno de Alta, Urgente") for chips and titles."""
    names = names or {}
    lines = []
    for condition in filters.get("conditions", []):
        spec = FIELDS[condition["field"]]
        op = condition["op"]
        value = condition["value"]
        values: Iterable = as_list(value)
        choices = dict(spec.choices)

        def show(v: Any, spec: FieldSpec = spec, choices: dict = choices) -> str:
            if spec.kind == "bool":
                return str(_("sí") if v else _("no"))
            if spec.kind == "date" and isinstance(v, str):
                return date_format(datetime.date.fromisoformat(v), "SHORT_DATE_FORMAT")
            if v == "me":
                return str(_("yo"))
            if v in choices:
                return str(choices[v])
            return names.get((spec.key, v), str(v))

        text = f"{spec.label} {OPERATORS[op]}"
        if op not in NO_VALUE_OPS:
            joiner = f" {_('y')} " if op == "between" else ", "
            text += " " + joiner.join(show(v) for v in values)
        lines.append(text)
    return lines
