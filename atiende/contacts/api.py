"""/api/v1/contacts: the customer 360 over HTTP. Thin: the same services and selectors as the UI."""

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import prefetch_related_objects
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import PageNumberPagination, paginate

from atiende.activities import selectors as activity_selectors
from atiende.activities import services as activity_services
from atiende.activities import timeline
from atiende.activities.models import Call, Note, Task
from atiende.contacts import selectors, services
from atiende.contacts.models import Contact, ContactGroup, ContactPoint, CustomField, Label
from atiende.core.dates import day_start
from atiende.core.permissions import require
from atiende.users.models import User

router = Router(tags=["contacts"])

PAGE_SIZE = 25
MAX_PAGE_SIZE = 100


# --- schemas ----------------------------------------------------------------------------


class UserRef(Schema):
    id: int
    name: str


class LabelOut(Schema):
    id: int
    name: str
    color: str


class GroupOut(Schema):
    id: int
    name: str


class LabelDetailOut(LabelOut):
    contacts: int = Field(description="Cuántos contactos tienen la etiqueta.")


class LabelIn(Schema):
    name: str
    color: str = Field("#6c757d", description="Color en formato #RRGGBB.")


class LabelPatch(Schema):
    name: str | None = None
    color: str | None = Field(None, description="Color en formato #RRGGBB.")


class GroupDetailOut(GroupOut):
    description: str
    contacts: int = Field(description="Cuántos contactos hay en el grupo.")


class GroupIn(Schema):
    name: str
    description: str = ""


class GroupPatch(Schema):
    name: str | None = None
    description: str | None = None


class CustomFieldOut(Schema):
    id: int
    key: str = Field(description="Clave en `custom` de cada contacto.")
    label: str
    kind: str = Field(description="text | number | date | choice")
    choices: list[str]
    position: int


class CustomFieldIn(Schema):
    label: str
    kind: str = Field("text", description="text | number | date | choice")
    key: str = Field("", description="Vacía: se forma con el nombre. No se puede cambiar después.")
    choices: list[str] = Field([], description="Opciones de un campo `choice` (al menos una).")
    position: int | None = Field(None, description="Orden en el formulario; vacío: al final.")


class CustomFieldPatch(Schema):
    label: str | None = None
    kind: str | None = Field(None, description="text | number | date | choice")
    choices: list[str] | None = None
    position: int | None = None


class PointIn(Schema):
    kind: str = Field(description="phone | mobile | whatsapp | email | address | messenger | …")
    value: str = Field(description="Teléfonos en cualquier formato; se guardan en E.164.")
    label: str = Field("", description='Etiqueta libre: "casa", "trabajo".')
    primary: bool = False


class PointPatch(Schema):
    value: str | None = None
    label: str | None = None
    primary: bool | None = Field(None, description="true hace principal a este dato.")


class PointOut(Schema):
    id: int
    kind: str
    value: str
    display_value: str
    label: str
    primary: bool

    @staticmethod
    def resolve_primary(obj: ContactPoint) -> bool:
        return obj.is_primary


class ContactSummaryOut(Schema):
    id: int
    full_name: str
    first_name: str
    last_name: str
    company: str
    identification_type: str
    identification_number: str
    primary_phone: str
    primary_email: str
    assigned_to: UserRef | None
    labels: list[LabelOut]
    last_interaction_at: datetime.datetime | None
    created_at: datetime.datetime
    updated_at: datetime.datetime

    @staticmethod
    def resolve_labels(obj: Contact) -> list[Label]:
        return list(obj.labels.all())


class ContactOut(ContactSummaryOut):
    birth_date: datetime.date | None
    notes: str
    custom: dict[str, Any]
    groups: list[GroupOut]
    points: list[PointOut]
    created_by: UserRef | None
    updated_by: UserRef | None

    @staticmethod
    def resolve_groups(obj: Contact) -> list[ContactGroup]:
        return list(obj.groups.all())

    @staticmethod
    def resolve_points(obj: Contact) -> list[ContactPoint]:
        return list(obj.points.all())


class ContactIn(Schema):
    first_name: str = ""
    last_name: str = ""
    identification_type: str = Field("", description="ci | ruc | dni | nit | cc | ce | passport …")
    identification_number: str = ""
    birth_date: datetime.date | None = None
    company: str = ""
    notes: str = ""
    assigned_to: int | None = Field(None, description="Id del usuario asignado.")
    labels: list[int] = Field([], description="Ids de etiquetas.")
    groups: list[int] = Field([], description="Ids de grupos.")
    points: list[PointIn] = []
    custom: dict[str, Any] = Field({}, description="Campos personalizados: clave → valor.")


class ContactPatch(Schema):
    """Only the fields sent change. `assigned_to: null` removes the assigned user."""

    first_name: str | None = None
    last_name: str | None = None
    identification_type: str | None = None
    identification_number: str | None = None
    birth_date: datetime.date | None = None
    company: str | None = None
    notes: str | None = None
    assigned_to: int | None = None
    labels: list[int] | None = None
    groups: list[int] | None = None
    custom: dict[str, Any] | None = None


class TimelineItemOut(Schema):
    kind: str
    at: datetime.datetime
    id: int
    summary: str


class NoteIn(Schema):
    body: str


class NoteOut(Schema):
    id: int
    body: str
    author: UserRef | None
    created_at: datetime.datetime


class TaskIn(Schema):
    title: str
    description: str = ""
    due_at: datetime.datetime | None = None
    assignee: int | None = Field(
        None, description="Id del responsable; por defecto, quien la crea."
    )


class TaskOut(Schema):
    id: int
    title: str
    description: str
    due_at: datetime.datetime | None
    assignee: UserRef | None
    done: bool
    done_at: datetime.datetime | None
    created_at: datetime.datetime

    @staticmethod
    def resolve_done(obj: Task) -> bool:
        return obj.is_done


class AccountIn(Schema):
    number: str
    product: str = ""
    status: str = Field(
        "active", description="active | suspended | delinquent | cancelled | closed"
    )
    extra: dict[str, Any] = Field({}, description="Datos adicionales: clave → valor.")


class AccountOut(Schema):
    id: int
    number: str
    product: str
    status: str
    extra: dict[str, Any]
    created_at: datetime.datetime
    updated_at: datetime.datetime


class MergeIn(Schema):
    survivor: int = Field(description="Id del contacto que queda.")
    duplicate: int = Field(description="Id del contacto que se elimina.")
    move: list[str] = Field(
        [],
        description="Qué pasa al que queda: points, accounts, relations, attachments, labels, "
        "notes, tasks, calls (y lo que registren otras apps).",
    )


class HistoryOut(Schema):
    id: int
    at: datetime.datetime
    actor: UserRef | None
    action: str
    changes: dict[str, Any]


# --- helpers ----------------------------------------------------------------------------


def _contact(request: HttpRequest, contact_id: int) -> Contact:
    try:
        return selectors.contact_detail(user=request.user, contact_id=contact_id)
    except Contact.DoesNotExist:
        raise HttpError(404, _("El contacto no existe.")) from None


def _point(contact: Contact, point_id: int) -> ContactPoint:
    point = ContactPoint.objects.filter(contact=contact, pk=point_id).first()
    if point is None:
        raise HttpError(404, _("El dato de contacto no existe."))
    point.contact = contact
    return point


def _existing(model, ids: list[int], field: str) -> list:
    """The rows for `ids`, refusing the whole request when any is missing."""
    rows = list(model.objects.filter(pk__in=ids))
    if len(rows) != len(set(ids)):
        raise ValidationError({field: _("Alguno de los elementos indicados no existe.")})
    return rows


def _active_user(user_id: int | None, field: str) -> User | None:
    if user_id is None:
        return None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise ValidationError({field: _("El usuario no existe o no está activo.")})
    return user


def _aware(value: datetime.datetime | None) -> datetime.datetime | None:
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


def _bound(value: str, field: str, *, end: bool) -> datetime.datetime | None:
    """A range bound: a day (AAAA-MM-DD, `until` inclusive of that day) or a date-time."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        if len(value) == 10:
            return day_start(datetime.date.fromisoformat(value), days=1 if end else 0)
        return _aware(datetime.datetime.fromisoformat(value))
    except ValueError:
        raise ValidationError({field: _("Fecha no válida (AAAA-MM-DD).")}) from None


def _duration(seconds: int) -> str:
    return f"{seconds // 60}:{seconds % 60:02d}"


def _summary(item: timeline.TimelineItem) -> str:
    obj = item.obj
    if isinstance(obj, Note):
        return obj.body[:300]
    if isinstance(obj, Task):
        state = _("completada") if obj.is_done else _("pendiente")
        return f"{obj.title} ({state})"
    if isinstance(obj, Call):
        text = f"{obj.get_direction_display()} · {obj.get_outcome_display()}"
        if obj.duration_seconds:
            text += f" · {_duration(obj.duration_seconds)}"
        return f"{text}: {obj.note[:200]}" if obj.note else text
    return str(obj)[:300]


# --- contacts ---------------------------------------------------------------------------


@router.get("/contacts", response=list[ContactSummaryOut])
@paginate(PageNumberPagination, page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
def list_contacts(
    request: HttpRequest,
    q: str = Query(
        "", description="Nombre, correo, identificación o teléfono en cualquier formato."
    ),
    label: int | None = Query(None, description="Id de etiqueta."),
    assigned_to: str = Query("", description="Id del usuario asignado, o `none`."),
    group: int | None = Query(None, description="Id de grupo."),
    sort: str = Query("-created", description="created, name, last_interaction (- = desc)."),
):
    """Paginated (`page`, `page_size` ≤ 100): `{"items": [...], "count": N}`."""
    filters = selectors.filters_from_query(request.GET)
    return selectors.contacts_for_list(user=request.user, filters=filters)


@router.post("/contacts", response={201: ContactOut})
def create_contact(request: HttpRequest, payload: ContactIn):
    data = payload.dict()
    contact = services.create_contact(
        by=request.user,
        points=[services.PointInput(**point) for point in data.pop("points")],
        assigned_to=_active_user(data.pop("assigned_to"), "assigned_to"),
        labels=_existing(Label, data.pop("labels"), "labels"),
        groups=_existing(ContactGroup, data.pop("groups"), "groups"),
        **data,
    )
    return Status(201, _contact(request, contact.pk))


@router.post("/contacts/merge", response=ContactOut)
def merge_contacts(request: HttpRequest, payload: MergeIn):
    """Moves what `move` names to the survivor and deletes the duplicate, all or nothing."""
    survivor = _contact(request, payload.survivor)
    duplicate = _contact(request, payload.duplicate)
    services.merge_contacts(
        survivor=survivor, duplicate=duplicate, move=set(payload.move), by=request.user
    )
    return _contact(request, survivor.pk)


# --- labels, groups and custom fields (declared before /contacts/{id}; ids are typed int) ---
#
# Everyone may read them (to label contacts or fill `custom`); only an admin may change them.


def _label(label_id: int) -> Label:
    label = selectors.labels_with_counts().filter(pk=label_id).first()
    if label is None:
        raise HttpError(404, _("La etiqueta no existe."))
    return label


def _group(group_id: int) -> ContactGroup:
    group = selectors.groups_with_counts().filter(pk=group_id).first()
    if group is None:
        raise HttpError(404, _("El grupo no existe."))
    return group


def _custom_field(field_id: int) -> CustomField:
    field = CustomField.objects.filter(pk=field_id).first()
    if field is None:
        raise HttpError(404, _("El campo personalizado no existe."))
    return field


def _can_read_settings(request: HttpRequest) -> None:
    require(request.user, "contacts.view_contact")


@router.get("/contacts/labels", response=list[LabelDetailOut])
@paginate(PageNumberPagination, page_size=MAX_PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
def list_labels(request: HttpRequest):
    """Every label, by name, with how many contacts carry it."""
    _can_read_settings(request)
    return selectors.labels_with_counts()


@router.post("/contacts/labels", response={201: LabelDetailOut})
def create_label(request: HttpRequest, payload: LabelIn):
    label = services.save_label(by=request.user, name=payload.name, color=payload.color)
    return Status(201, _label(label.pk))


@router.patch("/contacts/labels/{int:label_id}", response=LabelDetailOut)
def update_label(request: HttpRequest, label_id: int, payload: LabelPatch):
    label = _label(label_id)
    services.save_label(
        by=request.user,
        label=label,
        name=label.name if payload.name is None else payload.name,
        color=label.color if payload.color is None else payload.color,
    )
    return _label(label_id)


@router.delete("/contacts/labels/{int:label_id}", response={204: None})
def delete_label(request: HttpRequest, label_id: int):
    """Takes the label off every contact that has it."""
    services.delete_label(label=_label(label_id), by=request.user)
    return Status(204, None)


@router.get("/contacts/groups", response=list[GroupDetailOut])
@paginate(PageNumberPagination, page_size=MAX_PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
def list_groups(request: HttpRequest):
    """Every group, by name, with how many contacts are in it."""
    _can_read_settings(request)
    return selectors.groups_with_counts()


@router.post("/contacts/groups", response={201: GroupDetailOut})
def create_group(request: HttpRequest, payload: GroupIn):
    group = services.save_group(by=request.user, name=payload.name, description=payload.description)
    return Status(201, _group(group.pk))


@router.patch("/contacts/groups/{int:group_id}", response=GroupDetailOut)
def update_group(request: HttpRequest, group_id: int, payload: GroupPatch):
    group = _group(group_id)
    services.save_group(
        by=request.user,
        group=group,
        name=group.name if payload.name is None else payload.name,
        description=group.description if payload.description is None else payload.description,
    )
    return _group(group_id)


@router.delete("/contacts/groups/{int:group_id}", response={204: None})
def delete_group(request: HttpRequest, group_id: int):
    """Deletes the group; its contacts stay."""
    services.delete_group(group=_group(group_id), by=request.user)
    return Status(204, None)


@router.get("/contacts/fields", response=list[CustomFieldOut])
@paginate(PageNumberPagination, page_size=MAX_PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
def list_custom_fields(request: HttpRequest):
    """The custom fields in form order; a contact's values are in its `custom` by `key`."""
    _can_read_settings(request)
    return selectors.custom_fields()


@router.post("/contacts/fields", response={201: CustomFieldOut})
def create_custom_field(request: HttpRequest, payload: CustomFieldIn):
    field = services.save_custom_field(by=request.user, **payload.dict())
    return Status(201, field)


@router.patch("/contacts/fields/{int:field_id}", response=CustomFieldOut)
def update_custom_field(request: HttpRequest, field_id: int, payload: CustomFieldPatch):
    """The key cannot change. A new kind or fewer options are refused while values need them."""
    field = _custom_field(field_id)
    data = payload.dict(exclude_unset=True)
    return services.save_custom_field(
        by=request.user,
        field=field,
        label=data.get("label") if data.get("label") is not None else field.label,
        kind=data.get("kind") if data.get("kind") is not None else field.kind,
        choices=data["choices"] if data.get("choices") is not None else field.choices,
        position=data.get("position"),
    )


@router.delete("/contacts/fields/{int:field_id}", response={204: None})
def delete_custom_field(request: HttpRequest, field_id: int):
    """Deletes the field and its value on every contact."""
    services.delete_custom_field(field=_custom_field(field_id), by=request.user)
    return Status(204, None)


@router.get("/contacts/{int:contact_id}", response=ContactOut)
def get_contact(request: HttpRequest, contact_id: int):
    return _contact(request, contact_id)


@router.patch("/contacts/{int:contact_id}", response=ContactOut)
def update_contact(request: HttpRequest, contact_id: int, payload: ContactPatch):
    contact = _contact(request, contact_id)
    data = payload.dict(exclude_unset=True)
    with transaction.atomic():
        labels, groups = data.pop("labels", None), data.pop("groups", None)
        assign = "assigned_to" in data
        assignee = _active_user(data.pop("assigned_to", None), "assigned_to")
        if data:
            contact = services.update_contact(contact=contact, by=request.user, **data)
        if labels is not None:
            labels = _existing(Label, labels, "labels")
            services.set_labels(contact=contact, labels=labels, by=request.user)
        if groups is not None:
            groups = _existing(ContactGroup, groups, "groups")
            services.set_groups(contact=contact, groups=groups, by=request.user)
        if assign and getattr(assignee, "pk", None) != contact.assigned_to_id:
            services.assign_contact(contact=contact, assignee=assignee, by=request.user)
    return _contact(request, contact_id)


@router.delete("/contacts/{int:contact_id}", response={204: None})
def delete_contact(request: HttpRequest, contact_id: int):
    services.delete_contact(contact=_contact(request, contact_id), by=request.user)
    return Status(204, None)


# --- contact points ---------------------------------------------------------------------


@router.get("/contacts/{int:contact_id}/points", response=list[PointOut])
def list_points(request: HttpRequest, contact_id: int):
    return list(_contact(request, contact_id).points.all())


@router.post("/contacts/{int:contact_id}/points", response={201: PointOut})
def add_point(request: HttpRequest, contact_id: int, payload: PointIn):
    point = services.add_point(
        contact=_contact(request, contact_id),
        by=request.user,
        kind=payload.kind,
        value=payload.value,
        label=payload.label,
        primary=payload.primary,
    )
    return Status(201, point)


@router.patch("/contacts/{int:contact_id}/points/{int:point_id}", response=PointOut)
def update_point(request: HttpRequest, contact_id: int, point_id: int, payload: PointPatch):
    point = _point(_contact(request, contact_id), point_id)
    return services.update_point(
        point=point,
        by=request.user,
        value=point.value if payload.value is None else payload.value,
        label=point.label if payload.label is None else payload.label,
        primary=point.is_primary if payload.primary is None else payload.primary,
    )


@router.delete("/contacts/{int:contact_id}/points/{int:point_id}", response={204: None})
def delete_point(request: HttpRequest, contact_id: int, point_id: int):
    point = _point(_contact(request, contact_id), point_id)
    services.delete_point(point=point, by=request.user)
    return Status(204, None)


# --- timeline, notes, tasks ---------------------------------------------------------------


@router.get("/contacts/{int:contact_id}/timeline", response=list[TimelineItemOut])
def contact_timeline(
    request: HttpRequest,
    contact_id: int,
    kinds: str = Query("", description="Tipos separados por coma: note,task,call,…"),
    since: str = Query("", description="Desde (AAAA-MM-DD o fecha y hora ISO 8601)."),
    until: str = Query("", description="Hasta (AAAA-MM-DD inclusive, o fecha y hora exclusiva)."),
    limit: int = Query(activity_selectors.TIMELINE_PAGE, ge=1, le=MAX_PAGE_SIZE),
):
    """Everything that happened with the contact, newest first. Page back with `until`."""
    contact = _contact(request, contact_id)
    wanted = {
        kind.strip()
        for chunk in request.GET.getlist("kinds") or [kinds]
        for kind in chunk.split(",")
        if kind.strip()
    }
    unknown = wanted - set(timeline.kinds())
    if unknown:
        raise ValidationError(
            {"kinds": _("Tipo desconocido: %(kinds)s") % {"kinds": ", ".join(sorted(unknown))}}
        )
    items = activity_selectors.contact_timeline(
        contact=contact,
        kinds=wanted or None,
        since=_bound(since, "since", end=False),
        until=_bound(until, "until", end=True),
        limit=limit,
    )
    return [
        {"kind": item.kind, "at": item.at, "id": item.obj.pk, "summary": _summary(item)}
        for item in items
    ]


@router.post("/contacts/{int:contact_id}/notes", response={201: NoteOut})
def add_note(request: HttpRequest, contact_id: int, payload: NoteIn):
    contact = _contact(request, contact_id)
    return Status(
        201, activity_services.add_note(contact=contact, body=payload.body, by=request.user)
    )


@router.post("/contacts/{int:contact_id}/tasks", response={201: TaskOut})
def add_task(request: HttpRequest, contact_id: int, payload: TaskIn):
    contact = _contact(request, contact_id)
    task = activity_services.create_task(
        by=request.user,
        contact=contact,
        title=payload.title,
        description=payload.description,
        due_at=_aware(payload.due_at),
        assignee=_active_user(payload.assignee, "assignee"),
    )
    return Status(201, task)


# --- accounts ---------------------------------------------------------------------------


@router.get("/contacts/{int:contact_id}/accounts", response=list[AccountOut])
def list_accounts(request: HttpRequest, contact_id: int):
    return list(_contact(request, contact_id).accounts.all())


@router.post("/contacts/{int:contact_id}/accounts", response={201: AccountOut})
def add_account(request: HttpRequest, contact_id: int, payload: AccountIn):
    account = services.save_account(
        contact=_contact(request, contact_id),
        by=request.user,
        number=payload.number,
        product=payload.product,
        status=payload.status,
        extra=payload.extra,
    )
    return Status(201, account)


# --- history and duplicates ---------------------------------------------------------------


@router.get("/contacts/{int:contact_id}/history", response=list[HistoryOut])
@paginate(PageNumberPagination, page_size=50, max_page_size=MAX_PAGE_SIZE)
def contact_history(request: HttpRequest, contact_id: int):
    """Who changed what and when, newest first: `changes` is field → [before, after]."""
    return selectors.contact_history(contact=_contact(request, contact_id))


@router.get("/contacts/{int:contact_id}/duplicates", response=list[ContactSummaryOut])
def possible_duplicates(request: HttpRequest, contact_id: int):
    """Other contacts sharing a phone, e-mail or identification, or with the same full name."""
    duplicates = list(selectors.possible_duplicates(contact=_contact(request, contact_id)))
    prefetch_related_objects(duplicates, "labels")
    return duplicates
