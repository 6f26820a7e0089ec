"""Forms of the ticket screens: they parse and shape input; the services decide what is allowed."""

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import escape, linebreaks
from django.utils.translation import gettext_lazy as _

from atiende.contacts.models import Account, Contact, Label
from atiende.tickets.models import Pipeline, Priority, Source, Stage
from atiende.users.models import Team, User
from atiende.users.selectors import assignable_users

_TAG = re.compile(r"<[a-zA-Z/][^>]*>")
_DIV_OPEN = re.compile(r"<div(\s[^>]*)?>", re.IGNORECASE)
_DIV_CLOSE = re.compile(r"</div\s*>", re.IGNORECASE)
MAX_SCREENSHOTS = 10


def as_html(text: str) -> str:
    """Plain text from a textarea becomes paragraphs; HTML from the rich editor stays as it is
    (the service sanitises both)."""
    text = (text or "").strip()
    if not text:
        return text
    if _TAG.search(text):
        # Browsers' editors wrap new lines in <div>: keep them as paragraphs, not run-on text.
        return _DIV_OPEN.sub("<p>", _DIV_CLOSE.sub("</p>", text))
    return linebreaks(escape(text))


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (uploads, pasted screenshots); the service checks each."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list:
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(files) > MAX_SCREENSHOTS:
            raise ValidationError(
                _("Puedes adjuntar como máximo %(n)s archivos a la vez.") % {"n": MAX_SCREENSHOTS}
            )
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.name


class StageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Stage) -> str:
        return obj.label


class AccountChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Account) -> str:
        return f"{obj.number} · {obj.product}" if obj.product else obj.number


def _datetime_widget() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class EscalationFields(forms.Form):
    """Guide 001: ¿Qué? / ¿Cómo? / ¿Dónde?, the changes asked for, and screenshots. The service
    names what is missing; the form only carries it."""

    what = forms.CharField(
        label=_("¿Qué ocurre?"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": _("Qué está ocurriendo: el error o el problema.")}
        ),
    )
    how = forms.CharField(
        label=_("¿Cómo ocurrió?"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(
            attrs={
                "rows": 3,
                "placeholder": _(
                    "Qué se estaba intentando hacer cuando surgió el error, paso a paso."
                ),
            }
        ),
    )
    where = forms.CharField(
        label=_("¿Dónde ocurrió?"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(
            attrs={"rows": 2, "placeholder": _("La página web o la pantalla de la app.")}
        ),
    )
    requested_changes = forms.CharField(
        label=_("Cambios solicitados"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(
            attrs={
                "rows": 2,
                "placeholder": _(
                    "En errores de endoso: todo lo que se desea modificar "
                    "(vehículo, datos del asegurado…)."
                ),
            }
        ),
    )
    screenshots = MultipleFileField(
        label=_("Capturas de pantalla"),
        widget=MultipleFileInput(attrs={"accept": "image/*"}),
    )


class EscalationForm(EscalationFields):
    """The escalation of an existing ticket (its page, or a card dropped on Tech Issues)."""

    name = forms.CharField(label=_("Nombre del ticket"), max_length=200, required=False)
    priority = forms.ChoiceField(
        label=_("Prioridad"),
        choices=[("", _("Elige la prioridad…")), *Priority.choices],
        required=False,
    )
    field_order = ["name", "priority", "what", "how", "where", "requested_changes", "screenshots"]


class TicketCreateForm(EscalationFields):
    """A new ticket; the escalation fields count only when the stage is Tech Issues."""

    name = forms.CharField(label=_("Nombre del ticket"), max_length=200, required=False)
    description = forms.CharField(
        label=_("Descripción"),
        required=False,
        max_length=50_000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    pipeline = forms.ModelChoiceField(
        label=_("Pipeline"), queryset=Pipeline.objects.order_by("position", "id"), required=False
    )
    stage = StageChoiceField(
        label=_("Estado del ticket"),
        queryset=Stage.objects.select_related("pipeline").order_by(
            "pipeline__position", "pipeline", "position", "id"
        ),
        required=False,
    )
    priority = forms.ChoiceField(
        label=_("Prioridad"),
        choices=[("", _("Elige la prioridad…")), *Priority.choices],
        required=False,
    )
    owner = UserChoiceField(
        label=_("Propietario"),
        queryset=assignable_users(),
        required=False,
        empty_label=_("Sin propietario"),
    )
    team = forms.ModelChoiceField(
        label=_("Equipo"),
        queryset=Team.objects.order_by("name"),
        required=False,
        empty_label=_("Sin equipo"),
    )
    contact = forms.ModelChoiceField(
        label=_("Contacto"),
        queryset=Contact.objects.all(),
        required=False,
        widget=forms.HiddenInput,
    )
    account = AccountChoiceField(
        label=_("Póliza / cuenta"),
        queryset=Account.objects.all(),
        required=False,
        empty_label=_("Sin póliza"),
    )
    source = forms.ChoiceField(label=_("Origen"), choices=Source.choices, initial=Source.INTERNAL)
    created_at = forms.DateTimeField(
        label=_("Fecha de creación"),
        required=False,
        widget=_datetime_widget(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    )
    labels = forms.ModelMultipleChoiceField(
        label=_("Etiquetas"),
        queryset=Label.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    conversation = forms.IntegerField(required=False, widget=forms.HiddenInput)

    field_order = [
        "name", "pipeline", "stage", "priority", "created_at", "description", "owner", "team",
        "contact", "account", "source", "labels",
    ]  # fmt: skip

    def __init__(self, *args: Any, contact: Contact | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        accounts = Account.objects.filter(contact=contact) if contact else Account.objects.none()
        self.fields["account"].queryset = accounts.order_by("number")


class NoteForm(forms.Form):
    body = forms.CharField(
        label=_("Nota"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(
            attrs={
                "rows": 3,
                "placeholder": _(
                    "Escribe una nota… Usa @usuario para mencionar y pega capturas con Ctrl+V."
                ),
            }
        ),
    )
    files = MultipleFileField(label=_("Adjuntos"))
    customer_updated = forms.BooleanField(
        label=_("Esta nota registra una actualización dada al cliente"), required=False
    )


# One property at a time, for the inline edits of the properties panel.
PROPERTY_FIELDS: dict[str, forms.Field] = {
    "name": forms.CharField(label=_("Nombre"), max_length=200, required=False),
    "description": forms.CharField(label=_("Descripción"), max_length=50_000, required=False),
    "priority": forms.ChoiceField(label=_("Prioridad"), choices=Priority.choices),
    "source": forms.ChoiceField(label=_("Origen"), choices=Source.choices),
    "created_at": forms.DateTimeField(
        label=_("Fecha de creación"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    ),
}


def property_field(name: str) -> forms.Field | None:
    """The form field that parses one inline property (the model-bound ones built on demand)."""
    if name in PROPERTY_FIELDS:
        return PROPERTY_FIELDS[name]
    if name == "owner":
        return UserChoiceField(queryset=assignable_users(), required=False)
    if name == "team":
        return forms.ModelChoiceField(queryset=Team.objects.all(), required=False)
    if name == "contact":
        return forms.ModelChoiceField(queryset=Contact.objects.all(), required=False)
    if name == "account":
        return forms.ModelChoiceField(queryset=Account.objects.all(), required=False)
    if name == "stage":
        return forms.ModelChoiceField(queryset=Stage.objects.select_related("pipeline"))
    if name == "labels":
        return forms.ModelMultipleChoiceField(queryset=Label.objects.all(), required=False)
    return None
