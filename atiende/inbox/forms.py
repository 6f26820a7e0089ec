"""The inbox's URL filters (kept in the query string, so lists can be shared) and small forms."""

from urllib.parse import urlencode

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from atiende.contacts.models import ContactGroup, Label
from atiende.inbox.models import Channel, ConversationStatus, MessageTemplate
from atiende.inbox.selectors import SORTS, InboxFilters
from atiende.users.models import Team
from atiende.users.selectors import assignable_users

# URL parameter → InboxFilters field. Spanish names, because people read and share these URLs.
FILTER_PARAMS = ("q", "equipo", "agente", "canal", "etiqueta", "grupo", "atencion", "mias", "orden")
SORT_CHOICES = [
    ("-last", _("Último mensaje: más reciente primero")),
    ("last", _("Último mensaje: más antiguo primero")),
    ("-created", _("Creación: más reciente primero")),
    ("created", _("Creación: más antigua primero")),
    ("waiting", _("Tiempo de espera: mayor primero")),
    ("-waiting", _("Tiempo de espera: menor primero")),
]
UNASSIGNED = "sin"


def _int(value: str | None) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if number > 0 else None


def tray_from_query(query: QueryDict) -> str:
    tray = query.get("bandeja", "")
    return tray if tray in ConversationStatus.values else ConversationStatus.PENDING


def filters_from_query(query: QueryDict) -> InboxFilters:
    """Unknown or malformed values are ignored: a shared link never errors, it just filters less."""
    sort = query.get("orden", "-last")
    agent = query.get("agente", "")
    return InboxFilters(
        query=query.get("q", "").strip()[:100],
        team=_int(query.get("equipo")),
        assignee=_int(agent),
        unassigned=agent == UNASSIGNED,
        channel=_int(query.get("canal")),
        label=_int(query.get("etiqueta")),
        group=_int(query.get("grupo")),
        needs_attention=query.get("atencion") == "1",
        mine=query.get("mias") == "1",
        sort=sort if sort in SORTS else "-last",
    )


def filter_querystring(query: QueryDict, *, tray: str | None = None, **overrides: str) -> str:
    """The query string that keeps the list's tray and filters (for links between panes)."""
    params = {key: query.get(key, "") for key in FILTER_PARAMS}
    params["bandeja"] = tray if tray is not None else tray_from_query(query)
    params.update(overrides)
    return urlencode({key: value for key, value in params.items() if value})


def active_filter_count(filters: InboxFilters) -> int:
    return sum(
        bool(value)
        for value in (
            filters.team,
            filters.assignee or filters.unassigned,
            filters.channel,
            filters.label,
            filters.group,
            filters.needs_attention,
            filters.mine,
        )
    )


def filter_options() -> dict:
    """The choices of the filter panel: teams, agents, channels, labels, groups."""
    return {
        "teams": Team.objects.order_by("name"),
        "agents": assignable_users(),
        "channels": Channel.objects.order_by("name"),
        "labels": Label.objects.order_by("name"),
        "groups": ContactGroup.objects.order_by("name"),
        "sorts": SORT_CHOICES,
    }


class TransferForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("Agente"),
        queryset=assignable_users(),
        required=False,
        empty_label=_("Sin agente"),
    )
    team = forms.ModelChoiceField(
        label=_("Equipo"),
        queryset=Team.objects.order_by("name"),
        required=False,
        empty_label=_("Mismo equipo"),
    )


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Bandeja"), choices=ConversationStatus.choices)


class LabelsForm(forms.Form):
    labels = forms.ModelMultipleChoiceField(
        label=_("Etiquetas"), queryset=Label.objects.order_by("name"), required=False
    )


class LocationForm(forms.Form):
    latitude = forms.FloatField(label=_("Latitud"), min_value=-90, max_value=90)
    longitude = forms.FloatField(label=_("Longitud"), min_value=-180, max_value=180)
    name = forms.CharField(label=_("Nombre del lugar"), max_length=120, required=False)


class StartConversationForm(forms.Form):
    """ "Enviar mensaje a número": a channel, a phone in any format, and a text or a template."""

    channel = forms.ModelChoiceField(
        label=_("Canal"), queryset=Channel.objects.none(), empty_label=None
    )
    phone = forms.CharField(
        label=_("Número de teléfono"),
        max_length=40,
        help_text=_("Con o sin código de país, espacios o guiones: 595991651351, 0991 651351."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    body = forms.CharField(
        label=_("Mensaje"),
        required=False,
        max_length=4096,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    template = forms.ModelChoiceField(
        label=_("Plantilla"),
        queryset=MessageTemplate.objects.none(),
        required=False,
        empty_label=_("Sin plantilla (mensaje de texto)"),
    )
    variables = forms.CharField(
        label=_("Variables de la plantilla"),
        required=False,
        help_text=_("Una por línea, en orden: {{1}}, {{2}}…"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, channels, templates, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["channel"].queryset = channels
        self.fields["template"].queryset = templates
        for name in ("phone", "body", "variables"):
            self.fields[name].widget.attrs["class"] = "form-control"

    def clean(self):
        data = super().clean()
        if not data.get("template") and not (data.get("body") or "").strip():
            self.add_error("body", _("Escribe un mensaje o elige una plantilla."))
        template = data.get("template")
        channel = data.get("channel")
        if template and channel and template.channel_id not in (None, channel.pk):
            self.add_error("template", _("La plantilla no es de este canal."))
        return data

    @property
    def variable_list(self) -> list[str]:
        raw = self.cleaned_data.get("variables") or ""
        return [line.strip() for line in raw.splitlines() if line.strip()]
