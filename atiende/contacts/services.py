"""Every write about contacts: the contact, its points, accounts, relations, files, and merges."""

import datetime
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Func, JSONField, Max, Q
from django.db.models.fields.json import KeyTransform
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from atiende.contacts.models import (
    Account,
    Contact,
    ContactGroup,
    ContactPoint,
    ContactRelation,
    CustomField,
    IdentificationType,
    Label,
)
from atiende.core import audit
from atiende.core.attachments import store_attachment
from atiende.core.models import Attachment
from atiende.core.normalize import (
    fold,
    identification_key,
    normalize_email,
    normalize_phone,
    phone_key,
)
from atiende.core.permissions import require
from atiende.users.models import User

CONTACT_FIELDS = [
    "first_name",
    "last_name",
    "identification_type",
    "identification_number",
    "birth_date",
    "company",
    "notes",
]
AUDITED_FIELDS = [*CONTACT_FIELDS, "assigned_to", "custom"]


@dataclass(frozen=True)
class PointInput:
    kind: str
    value: str
    label: str = ""
    primary: bool = False


# --- normalisation -------------------------------------------------------------------


def clean_point_value(kind: str, value: str) -> tuple[str, str]:
    """(stored value, search key) for a contact point, or a ValidationError on `value`."""
    if kind not in ContactPoint.Kind.values:
        raise ValidationError({"kind": _("Tipo de dato de contacto desconocido.")})
    text = (value or "").strip()
    if not text:
        raise ValidationError({"value": _("El valor es obligatorio.")})
    if kind in ContactPoint.PHONE_KINDS:
        try:
            stored = normalize_phone(text)
        except ValidationError as exc:
            raise ValidationError({"value": exc.messages}) from exc
        return stored, phone_key(stored)
    if kind == ContactPoint.Kind.EMAIL:
        try:
            stored = normalize_email(text)
        except ValidationError as exc:
            raise ValidationError({"value": exc.messages}) from exc
        return stored, stored
    if len(text) > 300:
        raise ValidationError({"value": _("El valor es demasiado largo.")})
    return text, fold(text)[:300]


MAX_CUSTOM_TEXT = 300


def _custom_value(field: CustomField, raw: Any) -> str:
    """One custom value as stored (text), checked against its field's kind; "" when empty."""
    if isinstance(raw, dict | list):
        raise ValidationError({"custom": _("%(field)s: valor no válido.") % {"field": field.label}})
    value = "" if raw is None else str(raw).strip()
    if value == "":
        return ""
    if field.kind == CustomField.Kind.NUMBER:
        try:
            number = Decimal(value)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            raise ValidationError(
                {"custom": _("%(field)s debe ser un número.") % {"field": field.label}}
            )
    elif field.kind == CustomField.Kind.DATE:
        try:
            value = datetime.date.fromisoformat(value).isoformat()
        except ValueError as exc:
            raise ValidationError(
                {"custom": _("%(field)s debe ser una fecha (AAAA-MM-DD).") % {"field": field.label}}
            ) from exc
    elif field.kind == CustomField.Kind.CHOICE:
        if value not in field.choices:
            raise ValidationError(
                {"custom": _("%(field)s: opción no válida.") % {"field": field.label}}
            )
    elif len(value) > MAX_CUSTOM_TEXT:
        raise ValidationError(
            {
                "custom": _("%(field)s: máximo %(limit)s caracteres.")
                % {"field": field.label, "limit": MAX_CUSTOM_TEXT}
            }
        )
    return value


def _clean_custom(values: dict[str, Any]) -> dict[str, Any]:
    """Keep only the admin-defined fields, each checked against its kind."""
    fields = {field.key: field for field in CustomField.objects.all()}
    cleaned: dict[str, Any] = {}
    for key, raw in (values or {}).items():
        field = fields.get(key)
        if field is None:
            raise ValidationError(
                {"custom": _("Campo personalizado desconocido: %(key)s") % {"key": key}}
            )
        value = _custom_value(field, raw)
        if value != "":
            cleaned[key] = value
    return cleaned


def _apply_fields(contact: Contact, fields: dict[str, Any]) -> None:
    unknown = set(fields) - {*CONTACT_FIELDS, "custom"}
    if unknown:
        raise ValidationError(
            _("Campos desconocidos: %(fields)s") % {"fields": ", ".join(sorted(unknown))}
        )
    for name, value in fields.items():
        if name == "custom":
            contact.custom = _clean_custom(value)
        elif name == "birth_date":
            contact.birth_date = value or None
        else:
            setattr(
                contact,
                name,
                (value or "").strip() if isinstance(value, str) or value is None else value,
            )
    errors: dict[str, str] = {}
    for name in CONTACT_FIELDS:
        limit = Contact._meta.get_field(name).max_length
        if limit and len(getattr(contact, name) or "") > limit:
            errors[name] = _("Máximo %(limit)s caracteres.") % {"limit": limit}
    if contact.identification_type and contact.identification_type not in IdentificationType.values:
        errors["identification_type"] = _("Tipo de identificación desconocido.")
    if contact.identification_number and not contact.identification_type:
        errors["identification_type"] = _("Indica el tipo de identificación.")
    if contact.birth_date and contact.birth_date > timezone.localdate():
        errors["birth_date"] = _("La fecha de nacimiento no puede ser futura.")
    if errors:
        raise ValidationError(errors)
    contact.identification_key = identification_key(contact.identification_number)
    contact.search_name = fold(f"{contact.first_name} {contact.last_name}")[:250]
    if contact.identification_key:
        clash = Contact.objects.filter(
            identification_type=contact.identification_type,
            identification_key=contact.identification_key,
        )
        if contact.pk:
            clash = clash.exclude(pk=contact.pk)
        if clash.exists():
            raise ValidationError(
                {"identification_number": _("Ya existe un contacto con esa identificación.")}
            )


def _refresh_primaries(contact: Contact) -> None:
    """Keep the denormalised primary phone and e-mail in step with the points."""
    phone = email = ""
    for point in contact.points.filter(
        kind__in=[*ContactPoint.PHONE_KINDS, ContactPoint.Kind.EMAIL]
    ).order_by("-is_primary", "id"):
        if point.kind == ContactPoint.Kind.EMAIL:
            email = email or point.value
        else:
            phone = phone or point.value
    if (contact.primary_phone, contact.primary_email) != (phone, email):
        contact.primary_phone, contact.primary_email = phone, email
        Contact.objects.filter(pk=contact.pk).update(primary_phone=phone, primary_email=email)


# --- the contact -----------------------------------------------------------------------


@transaction.atomic
def create_contact(
    *,
    by: User | None,
    points: Iterable[PointInput] = (),
    assigned_to: User | None = None,
    labels: Iterable[Label] = (),
    groups: Iterable[ContactGroup] = (),
    last_interaction_at: datetime.datetime | None = None,
    **fields: Any,
) -> Contact:
    """A new contact with its points. `by=None` only for imports and inbound messages, which
    pass `last_interaction_at` so the row is written once rather than updated straight after."""
    if by is not None:
        require(by, "contacts.change_contact")
    points = list(points)
    contact = Contact(
        created_by=by,
        updated_by=by,
        assigned_to=assigned_to,
        last_interaction_at=last_interaction_at,
    )
    _apply_fields(contact, fields)
    cleaned_points = []
    seen: set[tuple[str, str]] = set()
    for index, point in enumerate(points):
        try:
            value, key = clean_point_value(point.kind, point.value)
        except ValidationError as exc:
            raise ValidationError(
                {f"points.{index}.{key}": msgs for key, msgs in exc.message_dict.items()}
            ) from exc
        if (point.kind, key) not in seen:
            seen.add((point.kind, key))
            cleaned_points.append((point, value, key))
    if not (contact.first_name or contact.last_name or contact.company or cleaned_points):
        raise ValidationError(
            {"first_name": _("Indica al menos un nombre, una empresa o un dato de contacto.")}
        )
    # One primary per kind: the first marked primary, else the first of its kind.
    primary_index: dict[str, int] = {}
    for index, (point, _value, _key) in enumerate(cleaned_points):
        if point.kind not in primary_index or (
            point.primary and not cleaned_points[primary_index[point.kind]][0].primary
        ):
            primary_index[point.kind] = index
    # The denormalised primaries are known before the insert (what `_refresh_primaries` would
    # read back): the first primary phone-like point and the primary e-mail, in input order.
    for index in sorted(primary_index.values()):
        point, value, _key = cleaned_points[index]
        if point.kind == ContactPoint.Kind.EMAIL:
            contact.primary_email = contact.primary_email or value
        elif point.kind in ContactPoint.PHONE_KINDS:
            contact.primary_phone = contact.primary_phone or value
    try:
        contact.save()
    except IntegrityError as exc:
        raise ValidationError(
            {"identification_number": _("Ya existe un contacto con esa identificación.")}
        ) from exc
    ContactPoint.objects.bulk_create(
        ContactPoint(
            contact=contact,
            kind=point.kind,
            value=value,
            search_value=key,
            label=point.label.strip()[:40],
            is_primary=primary_index[point.kind] == index,
        )
        for index, (point, value, key) in enumerate(cleaned_points)
    )
    if labels:
        contact.labels.set(labels)
    if groups:
        contact.groups.set(groups)
    audit.record(
        actor=by, action="create", obj=contact, after=audit.snapshot(contact, AUDITED_FIELDS)
    )
    return contact


@transaction.atomic
def update_contact(*, contact: Contact, by: User, **fields: Any) -> Contact:
    require(by, "contacts.change_contact", contact)
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    before = audit.snapshot(contact, AUDITED_FIELDS)
    _apply_fields(contact, fields)
    contact.updated_by = by
    contact.save()
    audit.record(
        actor=by,
        action="update",
        obj=contact,
        before=before,
        after=audit.snapshot(contact, AUDITED_FIELDS),
    )
    return contact


@transaction.atomic
def assign_contact(*, contact: Contact, assignee: User | None, by: User) -> Contact:
    """Change or remove the assigned user: only an admin or the currently assigned user may."""
    require(by, "contacts.assign_contact", contact)
    if assignee is not None and not assignee.is_active:
        raise ValidationError({"assigned_to": _("El usuario no está activo.")})
    before = audit.snapshot(contact, ["assigned_to"])
    contact.assigned_to = assignee
    contact.updated_by = by
    contact.save(update_fields=["assigned_to", "updated_by", "updated_at"])
    audit.record(
        actor=by,
        action="assign",
        obj=contact,
        before=before,
        after=audit.snapshot(contact, ["assigned_to"]),
    )
    return contact


@transaction.atomic
def delete_contact(*, contact: Contact, by: User) -> None:
    require(by, "contacts.delete_contact", contact)
    audit.record(
        actor=by, action="delete", obj=contact, before=audit.snapshot(contact, AUDITED_FIELDS)
    )
    contact.delete()


def record_interaction(
    *,
    contact: Contact | None = None,
    contact_id: int | None = None,
    at: datetime.datetime | None = None,
) -> None:
    """Move `last_interaction_at` forward (never back): called by calls, messages, e-mails.
    `contact_id` alone is enough (the inbox knows it from the conversation without the row)."""
    at = at or timezone.now()
    Contact.objects.filter(pk=contact.pk if contact is not None else contact_id).filter(
        Q(last_interaction_at__isnull=True) | Q(last_interaction_at__lt=at)
    ).update(last_interaction_at=at)


# --- contact points ----------------------------------------------------------------------


def _point_label(point: ContactPoint) -> str:
    return f"{point.get_kind_display()}"


@transaction.atomic
def add_point(
    *,
    contact: Contact,
    by: User | None,
    kind: str,
    value: str,
    label: str = "",
    primary: bool = False,
) -> ContactPoint:
    if by is not None:
        require(by, "contacts.change_contact", contact)
    stored, key = clean_point_value(kind, value)
    if contact.points.filter(kind=kind, search_value=key).exists():
        raise ValidationError({"value": _("El contacto ya tiene ese dato.")})
    has_primary = contact.points.filter(kind=kind, is_primary=True).exists()
    if primary and has_primary:
        contact.points.filter(kind=kind, is_primary=True).update(is_primary=False)
    point = ContactPoint.objects.create(
        contact=contact,
        kind=kind,
        value=stored,
        search_value=key,
        label=(label or "").strip()[:40],
        is_primary=primary or not has_primary,
    )
    _refresh_primaries(contact)
    audit.record(
        actor=by, action="point_added", obj=contact, after={_point_label(point): point.value}
    )
    return point


@transaction.atomic
def update_point(
    *, point: ContactPoint, by: User, value: str, label: str = "", primary: bool = False
) -> ContactPoint:
    contact = point.contact
    require(by, "contacts.change_contact", contact)
    stored, key = clean_point_value(point.kind, value)
    if contact.points.filter(kind=point.kind, search_value=key).exclude(pk=point.pk).exists():
        raise ValidationError({"value": _("El contacto ya tiene ese dato.")})
    before = {_point_label(point): point.value}
    if primary and not point.is_primary:
        contact.points.filter(kind=point.kind, is_primary=True).update(is_primary=False)
        point.is_primary = True
    point.value, point.search_value, point.label = stored, key, (label or "").strip()[:40]
    point.save()
    _refresh_primaries(contact)
    audit.record(
        actor=by,
        action="point_changed",
        obj=contact,
        before=before,
        after={_point_label(point): point.value},
    )
    return point


@transaction.atomic
def delete_point(*, point: ContactPoint, by: User) -> None:
    contact = point.contact
    require(by, "contacts.change_contact", contact)
    was_primary = point.is_primary
    point.delete()
    if was_primary:
        successor = contact.points.filter(kind=point.kind).order_by("id").first()
        if successor:
            successor.is_primary = True
            successor.save(update_fields=["is_primary"])
    _refresh_primaries(contact)
    audit.record(
        actor=by, action="point_removed", obj=contact, before={_point_label(point): point.value}
    )


# --- labels, groups, custom fields ---------------------------------------------------------
#
# Only an admin defines them (`contacts.manage_fields`). Deleting a label or a group takes it off
# every contact (the many-to-many rows go with it); deleting a custom field also removes its key
# from every contact's `custom` in one UPDATE, so no hidden values linger in the API or exports.
# Each of these writes is one entry in the audit history of the label, group or field itself,
# with the number of contacts it touched, rather than one entry per contact.

HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
DEFAULT_LABEL_COLOR = "#6c757d"
CUSTOM_KEY = re.compile(r"^[a-z0-9]+(?:[_-][a-z0-9]+)*$")
MAX_CHOICES = 100
MAX_CHOICE_LENGTH = 100
LABEL_AUDIT = ["name", "color"]
GROUP_AUDIT = ["name", "description"]
FIELD_AUDIT = ["key", "label", "kind", "choices", "position"]


def _required_name(value: str, model, field: str = "name") -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: _("El nombre es obligatorio.")})
    limit = model._meta.get_field(field).max_length
    if len(value) > limit:
        raise ValidationError({field: _("Máximo %(limit)s caracteres.") % {"limit": limit}})
    return value


def _snapshot(obj, fields: list[str]) -> dict[str, Any]:
    """Like `audit.snapshot`, but keeps the list of choices readable."""
    values = audit.snapshot(obj, [name for name in fields if name != "choices"])
    if "choices" in fields:
        values["choices"] = ", ".join(obj.choices or [])
    return values


@transaction.atomic
def save_label(
    *, by: User, name: str, color: str = DEFAULT_LABEL_COLOR, label: Label | None = None
) -> Label:
    """Create a label, or rename / recolour `label`. Names are unique whatever the case."""
    require(by, "contacts.manage_fields")
    name = _required_name(name, Label)
    color = (color or "").strip() or DEFAULT_LABEL_COLOR
    if not HEX_COLOR.match(color):
        raise ValidationError({"color": _("Color no válido: usa el formato #RRGGBB.")})
    if Label.objects.filter(name__iexact=name).exclude(pk=getattr(label, "pk", None)).exists():
        raise ValidationError({"name": _("Ya existe una etiqueta con ese nombre.")})
    action = "update" if label else "create"
    label = label or Label()
    before = _snapshot(label, LABEL_AUDIT) if label.pk else {}
    label.name, label.color = name, color.lower()
    label.save()
    audit.record(
        actor=by, action=action, obj=label, before=before, after=_snapshot(label, LABEL_AUDIT)
    )
    return label


@transaction.atomic
def delete_label(*, label: Label, by: User) -> int:
    """Delete the label and take it off every contact; returns how many contacts had it."""
    require(by, "contacts.manage_fields")
    contacts = label.contact_set.count()
    audit.record(
        actor=by,
        action="delete",
        obj=label,
        before={**_snapshot(label, LABEL_AUDIT), "contacts": contacts},
    )
    label.delete()
    return contacts


@transaction.atomic
def save_group(
    *, by: User, name: str, description: str = "", group: ContactGroup | None = None
) -> ContactGroup:
    """Create a group of contacts, or rename / redescribe `group`."""
    require(by, "contacts.manage_fields")
    name = _required_name(name, ContactGroup)
    description = (description or "").strip()
    limit = ContactGroup._meta.get_field("description").max_length
    if len(description) > limit:
        raise ValidationError({"description": _("Máximo %(limit)s caracteres.") % {"limit": limit}})
    if (
        ContactGroup.objects.filter(name__iexact=name)
        .exclude(pk=getattr(group, "pk", None))
        .exists()
    ):
        raise ValidationError({"name": _("Ya existe un grupo con ese nombre.")})
    action = "update" if group else "create"
    group = group or ContactGroup()
    before = _snapshot(group, GROUP_AUDIT) if group.pk else {}
    group.name, group.description = name, description
    group.save()
    audit.record(
        actor=by, action=action, obj=group, before=before, after=_snapshot(group, GROUP_AUDIT)
    )
    return group


@transaction.atomic
def delete_group(*, group: ContactGroup, by: User) -> int:
    """Delete the group (its contacts stay); returns how many contacts were in it."""
    require(by, "contacts.manage_fields")
    contacts = group.contact_set.count()
    audit.record(
        actor=by,
        action="delete",
        obj=group,
        before={**_snapshot(group, GROUP_AUDIT), "contacts": contacts},
    )
    group.delete()
    return contacts


def _clean_choices(choices: Iterable[str] | None) -> list[str]:
    """Trimmed options, blanks and repeats dropped, in the order given."""
    cleaned: list[str] = []
    for choice in choices or []:
        text = str(choice or "").strip()
        if not text or text in cleaned:
            continue
        if len(text) > MAX_CHOICE_LENGTH:
            raise ValidationError(
                {
                    "choices": _("Cada opción admite hasta %(limit)s caracteres.")
                    % {"limit": MAX_CHOICE_LENGTH}
                }
            )
        cleaned.append(text)
    if len(cleaned) > MAX_CHOICES:
        raise ValidationError({"choices": _("Máximo %(limit)s opciones.") % {"limit": MAX_CHOICES}})
    return cleaned


def _custom_key(key: str, label: str) -> str:
    """The key as given, or one made from the name: "Canal de origen" → "canal_de_origen"."""
    key = (key or "").strip().lower()
    if not key:
        key = re.sub(r"[^a-z0-9]+", "_", fold(label)).strip("_")[:40].strip("_")
        if not key:
            raise ValidationError(
                {"key": _("Indica una clave: letras sin tildes, números y guiones bajos.")}
            )
    if len(key) > 40 or not CUSTOM_KEY.match(key):
        raise ValidationError(
            {
                "key": _(
                    "La clave admite hasta 40 letras sin tildes, números, guiones y guiones "
                    "bajos, sin espacios."
                )
            }
        )
    return key


def _values_in_use(key: str) -> Iterable[Any]:
    """The values contacts hold for a custom field, read without loading whole contacts."""
    return (
        Contact.objects.filter(custom__has_key=key)
        .annotate(value=KeyTransform(key, "custom"))
        .values_list("value", flat=True)
        .iterator(chunk_size=2000)
    )


def _check_values_fit(field: CustomField, error_field: str) -> None:
    """Refuse a change of kind or options that would leave contacts with invalid values."""
    bad = 0
    for value in _values_in_use(field.key):
        try:
            _custom_value(field, value)
        except ValidationError:
            bad += 1
    if bad:
        raise ValidationError(
            {
                error_field: ngettext(
                    "%(n)s contacto tiene un valor que no sería válido con este cambio: "
                    "corrígelo antes.",
                    "%(n)s contactos tienen valores que no serían válidos con este cambio: "
                    "corrígelos antes.",
                    bad,
                )
                % {"n": bad}
            }
        )


@transaction.atomic
def save_custom_field(
    *,
    by: User,
    label: str,
    kind: str,
    key: str = "",
    choices: list[str] | None = None,
    position: int | None = None,
    field: CustomField | None = None,
) -> CustomField:
    """Create a custom field (the key is made from the name when not given), or edit `field`.

    The key names the values stored on every contact, so it cannot change once created. A new
    kind or a shorter list of options is refused while some contact holds a value it would not
    accept. `position` orders the fields on the contact form; new fields go last by default.
    """
    require(by, "contacts.manage_fields")
    label = _required_name(label, CustomField, "label")
    if kind not in CustomField.Kind.values:
        raise ValidationError({"kind": _("Tipo de campo desconocido.")})
    if (
        CustomField.objects.filter(label__iexact=label)
        .exclude(pk=getattr(field, "pk", None))
        .exists()
    ):
        raise ValidationError({"label": _("Ya existe un campo con ese nombre.")})
    if field is not None:
        if (key or "").strip() and key.strip().lower() != field.key:
            raise ValidationError(
                {
                    "key": _(
                        "La clave no se puede cambiar: los contactos guardan sus valores con ella."
                    )
                }
            )
        key = field.key
    else:
        key = _custom_key(key, label)
        if CustomField.objects.filter(key=key).exists():
            raise ValidationError(
                {"key": _("Ya existe un campo con la clave «%(key)s».") % {"key": key}}
            )
    choices = _clean_choices(choices) if kind == CustomField.Kind.CHOICE else []
    if kind == CustomField.Kind.CHOICE and not choices:
        raise ValidationError({"choices": _("Indica al menos una opción.")})
    if position is not None and not 0 <= position <= 32767:
        raise ValidationError({"position": _("El orden va de 0 a 32767.")})

    action = "update" if field else "create"
    field = field or CustomField()
    before = _snapshot(field, FIELD_AUDIT) if field.pk else {}
    narrowed = field.pk and (
        kind != field.kind
        or (kind == CustomField.Kind.CHOICE and not set(field.choices) <= set(choices))
    )
    if narrowed:
        candidate = CustomField(key=key, label=label, kind=kind, choices=choices)
        _check_values_fit(candidate, "choices" if kind == field.kind else "kind")
    field.key, field.label, field.kind, field.choices = key, label, kind, choices
    if position is not None:
        field.position = position
    elif not field.pk:
        last = CustomField.objects.aggregate(last=Max("position"))["last"]
        field.position = 0 if last is None else min(last + 1, 32767)
    field.save()
    audit.record(
        actor=by, action=action, obj=field, before=before, after=_snapshot(field, FIELD_AUDIT)
    )
    return field


class _WithoutKey(Func):
    """`custom` minus one top-level key, computed by the database."""

    output_field = JSONField()

    def __init__(self, expression, key: str):
        super().__init__(expression)
        self.key = key

    def as_sqlite(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"JSON_REMOVE({sql}, %s)", [*params, f'$."{self.key}"']

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"({sql} - %s::text)", [*params, self.key]


def _drop_custom_key(key: str) -> int:
    """Remove `key` from the contacts that have it: one UPDATE on SQLite and PostgreSQL."""
    contacts = Contact.objects.filter(custom__has_key=key)
    if connection.vendor in {"sqlite", "postgresql"}:
        return contacts.update(custom=_WithoutKey("custom", key))
    changed = []
    for contact in contacts.only("pk", "custom").iterator(chunk_size=1000):
        contact.custom.pop(key, None)
        changed.append(contact)
    Contact.objects.bulk_update(changed, ["custom"], batch_size=1000)
    return len(changed)


@transaction.atomic
def delete_custom_field(*, field: CustomField, by: User) -> int:
    """Delete the field and its value on every contact; returns how many contacts had one."""
    require(by, "contacts.manage_fields")
    CustomField.objects.filter(pk=field.pk).delete()
    contacts = _drop_custom_key(field.key)
    audit.record(
        actor=by,
        action="delete",
        obj=field,
        before={**_snapshot(field, FIELD_AUDIT), "contacts": contacts},
    )
    return contacts


@transaction.atomic
def set_labels(*, contact: Contact, labels: Iterable[Label], by: User) -> Contact:
    require(by, "contacts.change_contact", contact)
    before = sorted(contact.labels.values_list("name", flat=True))
    contact.labels.set(labels)
    after = sorted(contact.labels.values_list("name", flat=True))
    audit.record(
        actor=by,
        action="update",
        obj=contact,
        before={"labels": ", ".join(before)},
        after={"labels": ", ".join(after)},
    )
    return contact


@transaction.atomic
def set_groups(*, contact: Contact, groups: Iterable[ContactGroup], by: User) -> Contact:
    require(by, "contacts.change_contact", contact)
    before = sorted(contact.groups.values_list("name", flat=True))
    contact.groups.set(groups)
    after = sorted(contact.groups.values_list("name", flat=True))
    audit.record(
        actor=by,
        action="update",
        obj=contact,
        before={"groups": ", ".join(before)},
        after={"groups": ", ".join(after)},
    )
    return contact


# --- bulk actions from the list ----------------------------------------------------------


@transaction.atomic
def bulk_assign(*, contacts: Iterable[Contact], assignee: User | None, by: User) -> int:
    """Assign many at once; refused as a whole if any one is not the user's to reassign."""
    contacts = list(contacts)
    for contact in contacts:
        assign_contact(contact=contact, assignee=assignee, by=by)
    return len(contacts)


@transaction.atomic
def bulk_add_label(*, contacts: Iterable[Contact], label: Label, by: User) -> int:
    contacts = list(contacts)
    for contact in contacts:
        require(by, "contacts.change_contact", contact)
    label.contact_set.add(*contacts)
    for contact in contacts:
        audit.record(actor=by, action="label_added", obj=contact, after={"labels": label.name})
    return len(contacts)


@transaction.atomic
def bulk_add_to_group(*, contacts: Iterable[Contact], group: ContactGroup, by: User) -> int:
    contacts = list(contacts)
    for contact in contacts:
        require(by, "contacts.change_contact", contact)
    group.contact_set.add(*contacts)
    for contact in contacts:
        audit.record(actor=by, action="group_added", obj=contact, after={"groups": group.name})
    return len(contacts)


# --- accounts ---------------------------------------------------------------------------


def _clean_extra(extra: dict[str, Any] | None) -> dict[str, str]:
    cleaned = {}
    for key, value in (extra or {}).items():
        key = str(key).strip()
        if key:
            cleaned[key[:60]] = "" if value is None else str(value).strip()[:300]
    return cleaned


@transaction.atomic
def save_account(
    *,
    contact: Contact,
    by: User,
    number: str,
    product: str = "",
    status: str = Account.Status.ACTIVE,
    extra: dict[str, Any] | None = None,
    account: Account | None = None,
) -> Account:
    require(by, "contacts.change_contact", contact)
    number = (number or "").strip()
    errors = {}
    if not number:
        errors["number"] = _("El número de cuenta es obligatorio.")
    if status not in Account.Status.values:
        errors["status"] = _("Estado de cuenta desconocido.")
    if errors:
        raise ValidationError(errors)
    fields = ["number", "product", "status", "extra"]
    before = audit.snapshot(account, fields) if account else {}
    account = account or Account(contact=contact)
    if account.contact_id != contact.pk:
        raise ValidationError(_("La cuenta no pertenece a este contacto."))
    account.number, account.product, account.status = number, (product or "").strip(), status
    account.extra = _clean_extra(extra)
    account.save()
    after = audit.snapshot(account, fields)
    audit.record(
        actor=by,
        action="account_changed" if before else "account_added",
        obj=contact,
        before={f"cuenta {number}": str(before)} if before else None,
        after={f"cuenta {number}": str(after)},
    )
    return account


@transaction.atomic
def delete_account(*, account: Account, by: User) -> None:
    contact = account.contact
    require(by, "contacts.change_contact", contact)
    audit.record(actor=by, action="account_removed", obj=contact, before={"cuenta": str(account)})
    account.delete()


# --- related clients ---------------------------------------------------------------------


@transaction.atomic
def relate_contacts(*, contact: Contact, other: Contact, labels: str, by: User) -> ContactRelation:
    """Relate two clients ("cónyuge"); relating an existing pair again changes its labels."""
    require(by, "contacts.change_contact", contact)
    if other.pk == contact.pk:
        raise ValidationError({"other": _("Un cliente no puede relacionarse consigo mismo.")})
    labels = (labels or "").strip()
    if not labels:
        raise ValidationError({"labels": _("Describe la relación.")})
    relation = ContactRelation.objects.filter(
        Q(from_contact=contact, to_contact=other) | Q(from_contact=other, to_contact=contact)
    ).first()
    before = {"relación": f"{other}: {relation.labels}"} if relation else None
    if relation is None:
        relation = ContactRelation(from_contact=contact, to_contact=other)
    relation.labels = labels[:120]
    relation.save()
    audit.record(
        actor=by,
        action="relation_saved",
        obj=contact,
        before=before,
        after={"relación": f"{other}: {relation.labels}"},
    )
    return relation


@transaction.atomic
def remove_relation(*, relation: ContactRelation, contact: Contact, by: User) -> None:
    require(by, "contacts.change_contact", contact)
    if contact.pk not in (relation.from_contact_id, relation.to_contact_id):
        raise ValidationError(_("La relación no pertenece a este contacto."))
    audit.record(
        actor=by, action="relation_removed", obj=contact, before={"relación": relation.labels}
    )
    relation.delete()


# --- attachments ------------------------------------------------------------------------


@transaction.atomic
def add_attachment(*, contact: Contact, upload: UploadedFile, by: User) -> Attachment:
    require(by, "contacts.change_contact", contact)
    attachment = store_attachment(upload=upload, by=by, contact=contact, owner=contact)
    audit.record(
        actor=by, action="attachment_added", obj=contact, after={"adjunto": attachment.name}
    )
    return attachment


@transaction.atomic
def delete_attachment(*, attachment: Attachment, by: User) -> None:
    contact = attachment.contact
    require(by, "contacts.change_contact", contact)
    audit.record(
        actor=by, action="attachment_removed", obj=contact, before={"adjunto": attachment.name}
    )
    file = attachment.file
    attachment.delete()
    transaction.on_commit(lambda: file.storage.delete(file.name))


# --- merge ------------------------------------------------------------------------------


MergePart = Callable[[Contact, Contact], int]
_MERGE_PARTS: dict[str, tuple[str, MergePart]] = {}


def register_merge_part(name: str, label: str, move: MergePart) -> None:
    """Other apps (activities, inbox, tickets) say how their rows move to the survivor."""
    _MERGE_PARTS[name] = (label, move)


def unregister_merge_part(name: str) -> None:
    _MERGE_PARTS.pop(name, None)


def merge_parts() -> dict[str, str]:
    """Name → label of everything a merge can move, in the order it is shown."""
    return {name: label for name, (label, _move) in _MERGE_PARTS.items()}


def _move_points(survivor: Contact, duplicate: Contact) -> int:
    have = set(survivor.points.values_list("kind", "search_value"))
    primary_kinds = set(survivor.points.filter(is_primary=True).values_list("kind", flat=True))
    moved = 0
    for point in duplicate.points.order_by("-is_primary", "id"):
        if (point.kind, point.search_value) in have:
            continue
        point.contact = survivor
        point.is_primary = point.kind not in primary_kinds
        primary_kinds.add(point.kind)
        point.save(update_fields=["contact", "is_primary"])
        have.add((point.kind, point.search_value))
        moved += 1
    return moved


def _move_accounts(survivor: Contact, duplicate: Contact) -> int:
    return Account.objects.filter(contact=duplicate).update(contact=survivor)


def _move_attachments(survivor: Contact, duplicate: Contact) -> int:
    return Attachment.objects.filter(contact=duplicate).update(contact=survivor)


def _move_relations(survivor: Contact, duplicate: Contact) -> int:
    moved = 0
    related = ContactRelation.objects.filter(Q(from_contact=duplicate) | Q(to_contact=duplicate))
    for relation in related:
        other_id = (
            relation.to_contact_id
            if relation.from_contact_id == duplicate.pk
            else relation.from_contact_id
        )
        if other_id == survivor.pk:
            continue
        exists = ContactRelation.objects.filter(
            Q(from_contact=survivor, to_contact_id=other_id)
            | Q(from_contact_id=other_id, to_contact=survivor)
        ).exists()
        if exists:
            continue
        if relation.from_contact_id == duplicate.pk:
            relation.from_contact = survivor
        else:
            relation.to_contact = survivor
        relation.save(update_fields=["from_contact", "to_contact"])
        moved += 1
    return moved


def _move_labels_and_groups(survivor: Contact, duplicate: Contact) -> int:
    labels = list(duplicate.labels.all())
    groups = list(duplicate.groups.all())
    survivor.labels.add(*labels)
    survivor.groups.add(*groups)
    return len(labels) + len(groups)


register_merge_part("points", gettext_lazy("Datos de contacto"), _move_points)
register_merge_part("accounts", gettext_lazy("Cuentas"), _move_accounts)
register_merge_part("relations", gettext_lazy("Clientes relacionados"), _move_relations)
register_merge_part("attachments", gettext_lazy("Adjuntos"), _move_attachments)
register_merge_part("labels", gettext_lazy("Etiquetas y grupos"), _move_labels_and_groups)


@transaction.atomic
def merge_contacts(*, survivor: Contact, duplicate: Contact, move: set[str], by: User) -> Contact:
    """Re-point what was chosen to the survivor and delete the duplicate, all or nothing."""
    require(by, "contacts.merge_contacts", survivor)
    if survivor.pk == duplicate.pk:
        raise ValidationError({"duplicate": _("Elige dos contactos distintos.")})
    unknown = set(move) - set(_MERGE_PARTS)
    if unknown:
        raise ValidationError(
            {"move": _("No se puede combinar: %(parts)s") % {"parts": ", ".join(sorted(unknown))}}
        )
    survivor = Contact.objects.select_for_update().get(pk=survivor.pk)
    duplicate = Contact.objects.select_for_update().get(pk=duplicate.pk)
    moved = {}
    for name, (_label, move_part) in _MERGE_PARTS.items():
        if name in move:
            moved[name] = move_part(survivor, duplicate)
    if duplicate.last_interaction_at and (
        not survivor.last_interaction_at
        or duplicate.last_interaction_at > survivor.last_interaction_at
    ):
        survivor.last_interaction_at = duplicate.last_interaction_at
    survivor.updated_by = by
    survivor.save()
    audit.record(
        actor=by,
        action="merge",
        obj=survivor,
        before={"combinado": f"{duplicate} (#{duplicate.pk})"},
        after={"movido": ", ".join(f"{name}: {count}" for name, count in moved.items()) or "-"},
    )
    duplicate.delete()
    _refresh_primaries(survivor)
    return survivor


@transaction.atomic
def edit_contact(
    *,
    contact: Contact,
    by: User,
    labels: Iterable[Label] | None = None,
    groups: Iterable[ContactGroup] | None = None,
    **fields: Any,
) -> Contact:
    """The profile's edit form: basic data, custom fields, labels and groups, all or nothing."""
    contact = update_contact(contact=contact, by=by, **fields)
    if labels is not None and {x.pk for x in labels} != set(
        contact.labels.values_list("pk", flat=True)
    ):
        set_labels(contact=contact, labels=labels, by=by)
    if groups is not None and {x.pk for x in groups} != set(
        contact.groups.values_list("pk", flat=True)
    ):
        set_groups(contact=contact, groups=groups, by=by)
    return contact
