"""Forms of the contact screens. They parse what people type; the rules live in the services."""

import datetime
import re
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from atiende.activities.models import Call
from atiende.contacts.models import (
    Account,
    ContactGroup,
    ContactPoint,
    CustomField,
    IdentificationType,
    Label,
)
from atiende.users.selectors import assignable_users


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.name


class ContactForm(forms.Form):
    """The basic data of a contact; on create it also takes one phone and one e-mail."""

    first_name = forms.CharField(label=_("Nombres"), max_length=120, required=False)
    last_name = forms.CharField(label=_("Apellidos"), max_length=120, required=False)
    identification_type = forms.ChoiceField(
        label=_("Tipo de identificación"),
        choices=[("", _("Sin identificación")), *IdentificationType.choices],
        required=False,
    )
    identification_number = forms.CharField(
        label=_("Número de identificación"), max_length=40, required=False
    )
    birth_date = forms.DateField(label=_("Fecha de nacimiento"), required=False, widget=DateInput())
    company = forms.CharField(label=_("Empresa"), max_length=160, required=False)
    notes = forms.CharField(
        label=_("Observaciones"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    CONTACT_FIELDS = (
        "first_name",
        "last_name",
        "identification_type",
        "identification_number",
        "birth_date",
        "company",
        "notes",
    )

    def contact_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.CONTACT_FIELDS}


class NewContactForm(ContactForm):
    phone = forms.CharField(
        label=_("Teléfono"),
        max_length=40,
        required=False,
        help_text=_("Con o sin código de país: 0991 651351, +595 991 651351."),
    )
    email = forms.CharField(label=_("Correo electrónico"), max_length=254, required=False)


class EditContactForm(ContactForm):
    """Basic data, labels, groups and the custom fields an admin defined."""

    labels = forms.ModelMultipleChoiceField(
        label=_("Etiquetas"),
        queryset=Label.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    groups = forms.ModelMultipleChoiceField(
        label=_("Grupos"),
        queryset=ContactGroup.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, custom_fields=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.custom_fields = list(custom_fields)
        for field in self.custom_fields:
            name = f"custom_{field.key}"
            if field.kind == CustomField.Kind.CHOICE:
                self.fields[name] = forms.ChoiceField(
                    label=field.label,
                    required=False,
                    choices=[("", "—"), *[(c, c) for c in field.choices]],
                )
            elif field.kind == CustomField.Kind.DATE:
                self.fields[name] = forms.DateField(
                    label=field.label, required=False, widget=DateInput()
                )
            elif field.kind == CustomField.Kind.NUMBER:
                self.fields[name] = forms.DecimalField(
                    label=field.label,
                    required=False,
                    max_digits=30,
                    widget=forms.NumberInput(attrs={"step": "any"}),
                )
            else:
                self.fields[name] = forms.CharField(
                    label=field.label, required=False, max_length=300
                )

    def custom_bound_fields(self):
        return [self[f"custom_{field.key}"] for field in self.custom_fields]

    def custom_values(self) -> dict:
        """Key → value as the service stores it: text, ISO dates, plain numbers."""
        values = {}
        for field in self.custom_fields:
            value = self.cleaned_data.get(f"custom_{field.key}")
            if isinstance(value, datetime.date):
                value = value.isoformat()
            elif isinstance(value, Decimal):
                value = format(value, "f")
            values[field.key] = "" if value is None else value
        return values


class AssignForm(forms.Form):
    assignee = UserChoiceField(
        label=_("Usuario asignado"),
        queryset=assignable_users(),
        required=False,
        empty_label=_("Sin usuario asignado"),
    )


class BulkActionForm(forms.Form):
    ACTIONS = (
        ("assign", _("Asignar")),
        ("unassign", _("Quitar asignación")),
        ("label", _("Agregar etiqueta")),
        ("group", _("Agregar a grupo")),
    )

    action = forms.ChoiceField(choices=ACTIONS)
    ids = forms.CharField()
    assignee = UserChoiceField(queryset=assignable_users(), required=False)
    label = forms.ModelChoiceField(queryset=Label.objects.all(), required=False)
    group = forms.ModelChoiceField(queryset=ContactGroup.objects.all(), required=False)

    def __init__(self, data=None, **kwargs):
        if data is not None and hasattr(data, "getlist"):
            data = data.copy()
            data["ids"] = ",".join(data.getlist("ids"))
        super().__init__(data, **kwargs)

    def clean_ids(self) -> list[int]:
        ids = [int(part) for part in self.cleaned_data["ids"].split(",") if part.strip().isdigit()]
        if not ids:
            raise forms.ValidationError(_("Selecciona al menos un contacto."))
        return ids[:500]

    def clean(self):
        data = super().clean()
        action = data.get("action")
        needs = {"assign": "assignee", "label": "label", "group": "group"}.get(action)
        if needs and not data.get(needs):
            messages = {
                "assignee": _("Elige a quién asignar."),
                "label": _("Elige una etiqueta."),
                "group": _("Elige un grupo."),
            }
            raise forms.ValidationError(messages[needs])
        return data


class PointForm(forms.Form):
    kind = forms.ChoiceField(label=_("Tipo"), choices=ContactPoint.Kind.choices)
    value = forms.CharField(label=_("Valor"), max_length=300)
    label = forms.CharField(
        label=_("Etiqueta"),
        max_length=40,
        required=False,
        help_text=_("Por ejemplo: casa, trabajo."),
    )
    primary = forms.BooleanField(label=_("Principal"), required=False)


class NoteForm(forms.Form):
    body = forms.CharField(
        label=_("Nota"),
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": _("Escribe una nota sobre el cliente…")}
        ),
        max_length=10_000,
    )


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Tarea"), max_length=200)
    due_at = forms.DateTimeField(
        label=_("Vence"),
        required=False,
        input_formats=DATETIME_FORMATS,
        widget=DateTimeInput(),
    )
    assignee = UserChoiceField(
        label=_("Responsable"),
        queryset=assignable_users(),
        required=False,
        empty_label=_("Yo"),
    )
    description = forms.CharField(
        label=_("Detalle"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


_DURATION = re.compile(r"^\s*(?:(\d{1,3}):)?(\d{1,5})\s*$")


class CallForm(forms.Form):
    direction = forms.ChoiceField(
        label=_("Dirección"), choices=Call.Direction.choices, initial=Call.Direction.OUTBOUND
    )
    outcome = forms.ChoiceField(label=_("Resultado"), choices=Call.Outcome.choices)
    duration = forms.CharField(
        label=_("Duración"),
        required=False,
        max_length=10,
        help_text=_("Minutos:segundos, por ejemplo 3:25."),
        widget=forms.TextInput(attrs={"placeholder": "0:00", "inputmode": "numeric"}),
    )
    at = forms.DateTimeField(
        label=_("Fecha y hora"),
        required=False,
        input_formats=DATETIME_FORMATS,
        widget=DateTimeInput(),
        help_text=_("Vacío: ahora."),
    )
    note = forms.CharField(
        label=_("Nota"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean_duration(self) -> int:
        raw = self.cleaned_data.get("duration") or ""
        if not raw.strip():
            return 0
        match = _DURATION.match(raw)
        if not match:
            raise forms.ValidationError(
                _("Escribe la duración como minutos:segundos, por ejemplo 3:25.")
            )
        minutes, seconds = match.groups()
        if minutes is None:
            return int(seconds)
        if int(seconds) >= 60:
            raise forms.ValidationError(_("Los segundos van de 0 a 59."))
        return int(minutes) * 60 + int(seconds)


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("Archivo"))


class RelationForm(forms.Form):
    labels = forms.CharField(
        label=_("Relación"),
        max_length=120,
        widget=forms.TextInput(attrs={"placeholder": _("cónyuge, titular, beneficiario…")}),
    )


class AccountForm(forms.Form):
    number = forms.CharField(label=_("Número"), max_length=60)
    product = forms.CharField(label=_("Producto"), max_length=120, required=False)
    status = forms.ChoiceField(label=_("Estado"), choices=Account.Status.choices)

    def __init__(self, data=None, *args, extra=None, **kwargs):
        super().__init__(data, *args, **kwargs)
        if data is not None:
            keys = data.getlist("extra_key") if hasattr(data, "getlist") else []
            values = data.getlist("extra_value") if hasattr(data, "getlist") else []
            self.extra_rows = list(
                zip(keys, values + [""] * (len(keys) - len(values)), strict=False)
            )
        else:
            self.extra_rows = list((extra or {}).items())

    def extra(self) -> dict[str, str]:
        return {key.strip(): value for key, value in self.extra_rows if key.strip()}

    def rows_for_display(self, blank: int = 2) -> list[tuple[str, str]]:
        rows = [(k, v) for k, v in self.extra_rows if k.strip() or v.strip()]
        return rows + [("", "")] * blank


class MergeForm(forms.Form):
    survivor = forms.ChoiceField(label=_("Cliente a mantener"), widget=forms.RadioSelect)
    move = forms.MultipleChoiceField(
        label=_("Qué se mueve al cliente que se mantiene"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, contact, other, parts: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["survivor"].choices = [
            (str(contact.pk), str(contact)),
            (str(other.pk), str(other)),
        ]
        self.fields["survivor"].initial = str(contact.pk)
        self.fields["move"].choices = list(parts.items())
        self.fields["move"].initial = list(parts)


# --- settings: labels, groups, custom fields ------------------------------------------------


class ColorInput(forms.TextInput):
    input_type = "color"


# Suggested label colours, offered by the colour picker (brand teal first).
LABEL_COLORS = (
    "#0e7c86",
    "#0d6efd",
    "#6f42c1",
    "#d63384",
    "#dc3545",
    "#fd7e14",
    "#ffc107",
    "#198754",
    "#20c997",
    "#6c757d",
)


class LabelForm(forms.Form):
    name = forms.CharField(label=_("Nombre"), max_length=60)
    color = forms.CharField(
        label=_("Color"),
        max_length=7,
        initial=LABEL_COLORS[0],
        widget=ColorInput(),
    )


class GroupForm(forms.Form):
    name = forms.CharField(label=_("Nombre"), max_length=80)
    description = forms.CharField(
        label=_("Descripción"),
        max_length=200,
        required=False,
        help_text=_("Para qué sirve el grupo, por ejemplo: clientes del seguro automotor."),
    )


class CustomFieldForm(forms.Form):
    label = forms.CharField(label=_("Nombre"), max_length=80)
    key = forms.CharField(
        label=_("Clave"),
        max_length=40,
        required=False,
        help_text=_(
            "Identifica el campo en la API y en las importaciones. Vacía: se forma con el "
            "nombre. No se puede cambiar después."
        ),
    )
    kind = forms.ChoiceField(label=_("Tipo"), choices=CustomField.Kind.choices)
    choices = forms.CharField(
        label=_("Opciones"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Una por línea. Solo para «Lista de opciones»."),
    )
    position = forms.IntegerField(
        label=_("Orden"),
        required=False,
        min_value=0,
        max_value=32767,
        help_text=_("Los campos se muestran de menor a mayor. Vacío: al final."),
    )

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["key"].disabled = True
            self.fields["key"].help_text = _(
                "Identifica el campo en la API y en las importaciones; no se puede cambiar."
            )

    def choice_list(self) -> list[str]:
        return self.cleaned_data.get("choices", "").splitlines()


def parse_date(value: str | None) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat((value or "").strip())
    except ValueError:
        return None
