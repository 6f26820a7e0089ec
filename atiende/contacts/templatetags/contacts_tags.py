"""Small display helpers for the contact screens."""

import ast
import contextlib

from django import template
from django.utils.translation import gettext_lazy as _

from atiende.contacts.models import Account, IdentificationType
from atiende.core.normalize import format_phone

register = template.Library()

POINT_ICONS = {
    "phone": "telephone",
    "mobile": "phone",
    "whatsapp": "whatsapp",
    "email": "envelope",
    "address": "geo-alt",
    "messenger": "messenger",
    "instagram": "instagram",
}
TIMELINE_ICONS = {
    "note": "sticky",
    "task": "check2-square",
    "call": "telephone",
    "conversation": "chat-dots",
    "ticket": "ticket-detailed",
    "email": "envelope",
}
FILE_ICONS = {
    "image/": "file-earmark-image",
    "application/pdf": "file-earmark-pdf",
    "audio/": "file-earmark-music",
    "video/": "file-earmark-play",
    "text/": "file-earmark-text",
    "application/vnd.openxmlformats-officedocument.spreadsheetml": "file-earmark-spreadsheet",
    "application/vnd.ms-excel": "file-earmark-spreadsheet",
    "application/vnd.openxmlformats-officedocument.wordprocessingml": "file-earmark-word",
    "application/msword": "file-earmark-word",
}

# How the audit history names what changed.
AUDIT_FIELDS = {
    "first_name": _("Nombres"),
    "last_name": _("Apellidos"),
    "identification_type": _("Tipo de identificación"),
    "identification_number": _("Número de identificación"),
    "birth_date": _("Fecha de nacimiento"),
    "company": _("Empresa"),
    "notes": _("Observaciones"),
    "assigned_to": _("Usuario asignado"),
    "custom": _("Campos personalizados"),
    "labels": _("Etiquetas"),
    "groups": _("Grupos"),
    "title": _("Tarea"),
    "description": _("Detalle"),
    "due_at": _("Vence"),
    "assignee": _("Responsable"),
    "number": _("Número"),
    "product": _("Producto"),
    "status": _("Estado"),
    "extra": _("Datos adicionales"),
}
AUDIT_CHOICES = {
    "identification_type": dict(IdentificationType.choices),
    "status": dict(Account.Status.choices),
}
AUDIT_ACTIONS = {
    "create": _("Creó el contacto"),
    "update": _("Editó"),
    "assign": _("Cambió el usuario asignado"),
    "delete": _("Eliminó el contacto"),
    "point_added": _("Agregó un dato de contacto"),
    "point_changed": _("Editó un dato de contacto"),
    "point_removed": _("Eliminó un dato de contacto"),
    "label_added": _("Agregó una etiqueta"),
    "group_added": _("Agregó a un grupo"),
    "account_added": _("Agregó una cuenta"),
    "account_changed": _("Editó una cuenta"),
    "account_removed": _("Eliminó una cuenta"),
    "relation_saved": _("Guardó un cliente relacionado"),
    "relation_removed": _("Quitó un cliente relacionado"),
    "attachment_added": _("Subió un adjunto"),
    "attachment_removed": _("Eliminó un adjunto"),
    "merge": _("Combinó clientes"),
    "note_added": _("Agregó una nota"),
    "note_changed": _("Editó una nota"),
    "note_removed": _("Eliminó una nota"),
    "task_added": _("Creó una tarea"),
    "task_changed": _("Editó una tarea"),
    "task_done": _("Completó una tarea"),
    "task_reopened": _("Reabrió una tarea"),
    "call_logged": _("Registró una llamada"),
}


@register.filter
def phone(value: str) -> str:
    return format_phone(value) if value else ""


@register.filter
def point_icon(kind: str) -> str:
    return POINT_ICONS.get(kind, "dot")


@register.filter
def timeline_icon(kind: str) -> str:
    return TIMELINE_ICONS.get(kind, "circle")


@register.filter
def file_icon(mime_type: str) -> str:
    for prefix, icon in FILE_ICONS.items():
        if (mime_type or "").startswith(prefix):
            return icon
    return "file-earmark"


@register.filter
def duration(seconds: int | None) -> str:
    seconds = int(seconds or 0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.filter
def audit_field(name: str) -> str:
    return AUDIT_FIELDS.get(name, name)


@register.filter
def audit_action(action: str) -> str:
    return AUDIT_ACTIONS.get(action, action)


def _readable(value, field: str = "") -> str:
    """An audit value as people read it: choices by name, stored dicts as "key: value"."""
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        with contextlib.suppress(ValueError, SyntaxError):
            value = ast.literal_eval(value)
    if value in (None, "", {}, []):
        return "—"
    if isinstance(value, bool):
        return str(_("Sí") if value else _("No"))
    if isinstance(value, dict):
        return ", ".join(f"{AUDIT_FIELDS.get(k, k)}: {_readable(v, k)}" for k, v in value.items())
    if field in AUDIT_CHOICES:
        return str(AUDIT_CHOICES[field].get(value, value))
    return str(value)


@register.filter
def audit_value(value, field: str = "") -> str:
    return _readable(value, field)


@register.filter
def audit_changes(entry) -> list[tuple[str, str, str]]:
    """(field label, before, after) of an audit entry, leaving out fields that did not change."""
    rows = []
    for name, change in (entry.changes or {}).items():
        before, after = [*change, None, None][:2]
        before, after = _readable(before, name), _readable(after, name)
        if before != after:
            rows.append((str(AUDIT_FIELDS.get(name, name)), before, after))
    return rows


@register.filter
def get_item(mapping, key):
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def control(field, extra: str = ""):
    """A bound field's widget with Bootstrap's classes (and `is-invalid` when it has errors)."""
    from django import forms

    widget = field.field.widget
    if isinstance(widget, forms.CheckboxInput):
        css = "form-check-input"
    elif isinstance(widget, forms.Select) and not getattr(widget, "allow_multiple_selected", False):
        css = "form-select"
    else:
        css = "form-control"
    if field.errors:
        css += " is-invalid"
    attrs = {"class": f"{css} {extra}".strip()}
    if field.help_text:
        attrs["aria-describedby"] = f"{field.auto_id}_help"
    return field.as_widget(attrs=attrs)
