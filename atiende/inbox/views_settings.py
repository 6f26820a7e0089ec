"""Ajustes → Atención: channels (admins), canned responses (admins and supervisors) and message
templates (admins). Thin like every view: a form parses the request, a service saves (and checks
the permission again), bad input is shown in Spanish and nothing changes.

Channel credentials are write-only: password inputs that are never filled back in; a blank one
keeps what is stored.
"""

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from atiende.core.forms import add_service_errors
from atiende.core.permissions import require
from atiende.inbox import selectors, services
from atiende.inbox.models import CannedResponse, Channel, ChannelKind, MessageTemplate
from atiende.users.models import Team

SETTINGS_PAGE = 50
WEEKDAYS = (
    (1, gettext_lazy("Lunes")),
    (2, gettext_lazy("Martes")),
    (3, gettext_lazy("Miércoles")),
    (4, gettext_lazy("Jueves")),
    (5, gettext_lazy("Viernes")),
    (6, gettext_lazy("Sábado")),
    (7, gettext_lazy("Domingo")),
)
PRECHAT_CHOICES = (
    ("name", gettext_lazy("Nombre")),
    ("phone", gettext_lazy("Teléfono")),
    ("email", gettext_lazy("Correo electrónico")),
)
DEFAULT_PRECHAT = ["name", "phone"]

# Per kind: what the provider needs. ("config", key, label) is shown and stored as typed;
# ("secret", key, label) is a credential: encrypted, never shown again.
PROVIDER_FIELDS: dict[str, tuple[tuple[str, str, Any], ...]] = {
    ChannelKind.WHATSAPP: (
        ("config", "phone_number_id", gettext_lazy("Id del número de teléfono")),
        ("config", "waba_id", gettext_lazy("Id de la cuenta de WhatsApp Business")),
        ("secret", "access_token", gettext_lazy("Token de acceso")),
        ("secret", "app_secret", gettext_lazy("Clave secreta de la app")),
        ("secret", "verify_token", gettext_lazy("Token de verificación del webhook")),
        ("config", "graph_version", gettext_lazy("Versión de la Graph API")),
        ("config", "graph_base_url", gettext_lazy("Dirección de la Graph API")),
        ("config", "max_per_second", gettext_lazy("Mensajes por segundo como máximo")),
    ),
    ChannelKind.MESSENGER: (
        ("config", "page_id", gettext_lazy("Id de la página")),
        ("secret", "page_access_token", gettext_lazy("Token de acceso de la página")),
        ("secret", "app_secret", gettext_lazy("Clave secreta de la app")),
        ("secret", "verify_token", gettext_lazy("Token de verificación del webhook")),
        ("config", "graph_version", gettext_lazy("Versión de la Graph API")),
        ("config", "graph_base_url", gettext_lazy("Dirección de la Graph API")),
    ),
    ChannelKind.INSTAGRAM: (
        ("config", "instagram_account_id", gettext_lazy("Id de la cuenta de Instagram")),
        ("config", "page_id", gettext_lazy("Id de la página de Facebook vinculada")),
        ("secret", "page_access_token", gettext_lazy("Token de acceso de la página")),
        ("secret", "app_secret", gettext_lazy("Clave secreta de la app")),
        ("secret", "verify_token", gettext_lazy("Token de verificación del webhook")),
        ("config", "graph_version", gettext_lazy("Versión de la Graph API")),
        ("config", "graph_base_url", gettext_lazy("Dirección de la Graph API")),
    ),
    ChannelKind.SMS: (
        ("config", "from_number", gettext_lazy("Número de envío")),
        ("secret", "account_sid", gettext_lazy("Account SID")),
        ("secret", "auth_token", gettext_lazy("Auth token")),
    ),
    ChannelKind.EMAIL: (
        ("config", "address", gettext_lazy("Dirección de correo")),
        ("config", "imap_host", gettext_lazy("Servidor IMAP (entrada)")),
        ("config", "smtp_host", gettext_lazy("Servidor SMTP (salida)")),
        ("secret", "username", gettext_lazy("Usuario")),
        ("secret", "password", gettext_lazy("Contraseña")),
    ),
}
# Meta's Graph API settings (Messenger, Instagram): filled in when left empty.
META_CONFIG_DEFAULTS = {"graph_version": "v21.0", "graph_base_url": "https://graph.facebook.com"}
META_KINDS = (ChannelKind.MESSENGER, ChannelKind.INSTAGRAM)
TEMPLATE_LANGUAGES = (
    ("es", gettext_lazy("Español")),
    ("es_AR", gettext_lazy("Español (Argentina)")),
    ("es_MX", gettext_lazy("Español (México)")),
    ("es_ES", gettext_lazy("Español (España)")),
    ("en", gettext_lazy("Inglés")),
    ("en_US", gettext_lazy("Inglés (EE. UU.)")),
    ("pt_BR", gettext_lazy("Portugués (Brasil)")),
)
TEMPLATE_CATEGORIES = (
    ("", gettext_lazy("Sin categoría")),
    ("UTILITY", gettext_lazy("Servicio (utility)")),
    ("MARKETING", gettext_lazy("Marketing")),
    ("AUTHENTICATION", gettext_lazy("Autenticación")),
)
# The variables a canned response may use (services.fill_variables fills them).
CANNED_VARIABLES = (
    ("{{contacto.nombre}}", gettext_lazy("Nombre del cliente")),
    ("{{contacto.apellido}}", gettext_lazy("Apellido del cliente")),
    ("{{contacto.nombre_completo}}", gettext_lazy("Nombre y apellido")),
    ("{{contacto.telefono}}", gettext_lazy("Teléfono principal")),
    ("{{contacto.correo}}", gettext_lazy("Correo principal")),
    ("{{agente.nombre}}", gettext_lazy("Tu nombre")),
    ("{{canal.nombre}}", gettext_lazy("Nombre del canal")),
)


def _page(request: HttpRequest, queryset) -> Any:
    return Paginator(queryset, SETTINGS_PAGE).get_page(request.GET.get("page"))


def _teams():
    return Team.objects.order_by("name")


class ColorInput(forms.TextInput):
    input_type = "color"


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self) -> None:
        super().__init__(format="%H:%M")


# --- canales ---------------------------------------------------------------------------


class ChannelForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Nombre"), max_length=80)
    kind = forms.ChoiceField(label=gettext_lazy("Tipo"), choices=ChannelKind.choices)
    color = forms.CharField(
        label=gettext_lazy("Color"), max_length=7, initial="#0d7c86", widget=ColorInput()
    )
    team = forms.ModelChoiceField(
        label=gettext_lazy("Equipo por defecto"),
        queryset=Team.objects.none(),
        required=False,
        empty_label=gettext_lazy("Sin equipo"),
        help_text=gettext_lazy(
            "Las conversaciones nuevas del canal van a este equipo y se reparten entre sus agentes."
        ),
    )
    is_active = forms.BooleanField(label=gettext_lazy("Activo"), required=False, initial=True)
    auto_assign = forms.BooleanField(
        label=gettext_lazy("Asignación automática (por turnos entre los agentes activos)"),
        required=False,
        initial=True,
    )
    out_of_hours_message = forms.CharField(
        label=gettext_lazy("Mensaje fuera de horario"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy(
            "Se envía una vez al día a quien escribe fuera del horario de atención."
        ),
    )
    # Website chat.
    title = forms.CharField(
        label=gettext_lazy("Título del chat"),
        required=False,
        max_length=80,
        help_text=gettext_lazy("Lo que ve el visitante arriba del chat. Vacío: el nombre."),
    )
    greeting = forms.CharField(
        label=gettext_lazy("Saludo"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("El primer mensaje que ve el visitante al abrir el chat."),
    )
    prechat = forms.MultipleChoiceField(
        label=gettext_lazy("Datos que se piden antes de chatear"),
        choices=PRECHAT_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    allowed_origins = forms.CharField(
        label=gettext_lazy("Sitios autorizados"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy(
            "Uno por línea, por ejemplo https://www.ejemplo.com. Vacío: cualquier sitio."
        ),
    )

    def __init__(self, *args: Any, channel: Channel | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.channel = channel
        self.fields["team"].queryset = _teams()
        self.fields["greeting"].widget.attrs["placeholder"] = _(
            "¡Hola! ¿En qué podemos ayudarte hoy?"
        )
        if channel is not None:
            self.fields["title"].widget.attrs["placeholder"] = channel.name
            self.fields["kind"].disabled = True
            self.fields["kind"].help_text = _("El tipo de un canal no se cambia.")
        for day, _label in WEEKDAYS:
            self.fields[f"from_{day}"] = forms.TimeField(required=False, widget=TimeInput())
            self.fields[f"to_{day}"] = forms.TimeField(required=False, widget=TimeInput())
        stored = channel.credentials if channel is not None else {}
        for kind, specs in PROVIDER_FIELDS.items():
            for where, key, label in specs:
                name = f"{kind}__{key}"
                if where == "secret":
                    self.fields[name] = forms.CharField(
                        label=label,
                        required=False,
                        max_length=500,
                        strip=True,
                        widget=forms.PasswordInput(
                            render_value=False, attrs={"autocomplete": "new-password"}
                        ),
                        help_text=_("Guardado. Déjalo vacío para conservarlo.")
                        if stored.get(key) and channel.kind == kind
                        else "",
                    )
                else:
                    self.fields[name] = forms.CharField(label=label, required=False, max_length=200)
                    if kind in META_KINDS and key in META_CONFIG_DEFAULTS:
                        self.fields[name].initial = META_CONFIG_DEFAULTS[key]

    @classmethod
    def initial_for(cls, channel: Channel) -> dict:
        config = channel.config or {}
        initial = {
            "name": channel.name,
            "kind": channel.kind,
            "color": channel.color,
            "team": channel.team_id,
            "is_active": channel.is_active,
            "auto_assign": channel.auto_assign,
            "out_of_hours_message": channel.out_of_hours_message,
            "title": config.get("title", ""),
            "greeting": config.get("greeting", ""),
            "prechat": config.get("prechat", DEFAULT_PRECHAT),
            "allowed_origins": "\n".join(config.get("allowed_origins") or []),
        }
        for day, ranges in (channel.business_hours or {}).items():
            if ranges:
                initial[f"from_{day}"], initial[f"to_{day}"] = ranges[0]
        for where, key, _label in PROVIDER_FIELDS.get(channel.kind, ()):
            if where == "config":
                initial[f"{channel.kind}__{key}"] = config.get(key, "")
        return initial

    def hours_rows(self) -> list[dict]:
        return [
            {"label": label, "start": self[f"from_{day}"], "end": self[f"to_{day}"]}
            for day, label in WEEKDAYS
        ]

    def provider_sections(self) -> list[dict]:
        sections = []
        for kind, specs in PROVIDER_FIELDS.items():
            sections.append(
                {
                    "kind": kind,
                    "label": ChannelKind(kind).label,
                    "fields": [self[f"{kind}__{key}"] for _where, key, _label in specs],
                }
            )
        return sections

    def clean(self) -> dict:
        data = super().clean()
        hours = {}
        for day, _label in WEEKDAYS:
            start, end = data.get(f"from_{day}"), data.get(f"to_{day}")
            if f"from_{day}" in self.errors or f"to_{day}" in self.errors:
                continue
            if start is None and end is None:
                continue
            if start is None or end is None:
                self.add_error(f"from_{day}", _("Indica la hora de inicio y la de fin."))
            elif start >= end:
                self.add_error(f"from_{day}", _("La hora de inicio debe ser anterior a la de fin."))
            else:
                hours[str(day)] = [[start.strftime("%H:%M"), end.strftime("%H:%M")]]
        data["business_hours"] = hours
        origins = []
        for line in (data.get("allowed_origins") or "").splitlines():
            line = line.strip().rstrip("/")
            if not line:
                continue
            if not line.startswith(("https://", "http://")) or " " in line:
                self.add_error(
                    "allowed_origins",
                    _("«%(value)s» no es una dirección válida (https://…).") % {"value": line},
                )
            origins.append(line.lower())
        data["origins"] = origins
        kind = self.channel.kind if self.channel is not None else data.get("kind")
        if kind in META_KINDS:
            url = (data.get(f"{kind}__graph_base_url") or "").strip()
            if url and not url.startswith(("https://", "http://")):
                self.add_error(
                    f"{kind}__graph_base_url", _("Escribe una dirección completa (https://…).")
                )
        return data

    def save_kwargs(self) -> dict:
        data = self.cleaned_data
        kind = self.channel.kind if self.channel is not None else data["kind"]
        config: dict[str, Any] = {}
        credentials: dict[str, str] = {}
        if kind == ChannelKind.WEBCHAT:
            config.update(
                title=data["title"].strip(),
                greeting=data["greeting"].strip(),
                prechat=[value for value, _label in PRECHAT_CHOICES if value in data["prechat"]],
                allowed_origins=data["origins"],
            )
        for where, key, _label in PROVIDER_FIELDS.get(kind, ()):
            value = (data.get(f"{kind}__{key}") or "").strip()
            if where == "config":
                if kind in META_KINDS and key in META_CONFIG_DEFAULTS:
                    value = value.rstrip("/") or META_CONFIG_DEFAULTS[key]
                config[key] = value
            elif value:
                credentials[key] = value
        return {
            "name": data["name"],
            "kind": kind,
            "color": data["color"],
            "team": data["team"],
            "is_active": data["is_active"],
            "auto_assign": data["auto_assign"],
            "business_hours": data["business_hours"],
            "out_of_hours_message": data["out_of_hours_message"],
            "config": config,
            "credentials": credentials or None,
        }


def _hours_summary(channel: Channel) -> str:
    """Like "Lun-Vie 08:00-18:00, Sáb 08:00-12:00" (en dashes): equal consecutive days joined."""
    hours = channel.business_hours or {}
    if not hours:
        return _("Siempre abierto")
    dash = "\u2013"
    short = {day: str(label)[:3] for day, label in WEEKDAYS}
    groups: list[list] = []  # [first day, last day, ranges]
    for day in range(1, 8):
        ranges = hours.get(str(day))
        if not ranges:
            continue
        if groups and groups[-1][1] == day - 1 and groups[-1][2] == ranges:
            groups[-1][1] = day
        else:
            groups.append([day, day, ranges])
    parts = []
    for first, last, ranges in groups:
        days = short[first] if first == last else f"{short[first]}{dash}{short[last]}"
        times = " ".join(f"{start}{dash}{end}" for start, end in ranges)
        parts.append(f"{days} {times}")
    return ", ".join(parts)


def _embed_snippet(channel: Channel | None, request: HttpRequest) -> str:
    """The website chat's `<script>` (from the widget's module, when it is installed)."""
    if channel is None or channel.kind != ChannelKind.WEBCHAT:
        return ""
    try:
        from atiende.connectors.webchat.services import embed_snippet
    except ImportError:
        return ""
    return embed_snippet(channel, request)


@login_required
def channels(request: HttpRequest) -> HttpResponse:
    require(request.user, "inbox.manage_channels")
    page = _page(request, selectors.channels_for(user=request.user))
    for channel in page:
        channel.hours_summary = _hours_summary(channel)
    return render(request, "inbox/settings_channels.html", {"page": page, "section": "channels"})


@login_required
def channel_edit(request: HttpRequest, channel_id: int | None = None) -> HttpResponse:
    require(request.user, "inbox.manage_channels")
    channel = get_object_or_404(Channel, pk=channel_id) if channel_id else None
    initial = (
        ChannelForm.initial_for(channel)
        if channel
        else {"prechat": DEFAULT_PRECHAT, "kind": ChannelKind.WEBCHAT}
    )
    form = ChannelForm(request.POST or None, initial=initial, channel=channel)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.save_channel(by=request.user, channel=channel, **form.save_kwargs())
        except ValidationError as exc:
            add_service_errors(form, exc)
            if channel is not None:
                channel.refresh_from_db()
        else:
            messages.success(request, _("Canal guardado: %(name)s.") % {"name": saved.name})
            if channel is None and saved.kind == ChannelKind.WEBCHAT:
                return redirect("inbox:settings_channel_edit", saved.pk)  # to copy the snippet
            return redirect("inbox:settings_channels")
    kind = channel.kind if channel else (form["kind"].value() or ChannelKind.WEBCHAT)
    return render(
        request,
        "inbox/settings_channel_form.html",
        {
            "form": form,
            "channel": channel,
            "kind": kind,
            "snippet": _embed_snippet(channel, request),
            "section": "channels",
        },
    )


# --- respuestas rápidas ----------------------------------------------------------------


class CannedForm(forms.Form):
    shortcut = forms.CharField(
        label=gettext_lazy("Atajo"),
        max_length=41,
        help_text=gettext_lazy(
            "Se escribe /atajo en el chat. Letras minúsculas, números, guiones y guion bajo."
        ),
    )
    title = forms.CharField(label=gettext_lazy("Título"), max_length=120)
    body = forms.CharField(
        label=gettext_lazy("Texto"),
        max_length=4096,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    team = forms.ModelChoiceField(
        label=gettext_lazy("Equipo"),
        queryset=Team.objects.none(),
        required=False,
        empty_label=gettext_lazy("Todos los equipos"),
        help_text=gettext_lazy("Vacío: disponible para todos."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = _teams()


def _team_filter(request: HttpRequest) -> str:
    value = request.GET.get("equipo", "").strip()
    return value if value == "global" or value.isdigit() else ""


@login_required
def canned_responses(request: HttpRequest) -> HttpResponse:
    require(request.user, "inbox.manage_canned_responses")
    team = _team_filter(request)
    query = request.GET.get("q", "").strip()
    page = _page(
        request,
        selectors.canned_responses(
            team=int(team) if team.isdigit() else None,
            only_global=team == "global",
            query=query,
        ),
    )
    params = urlencode({key: value for key, value in (("equipo", team), ("q", query)) if value})
    return render(
        request,
        "inbox/settings_canned.html",
        {
            "page": page,
            "teams": _teams(),
            "team": team,
            "q": query,
            "query": params,
            "section": "canned",
        },
    )


@login_required
def canned_edit(request: HttpRequest, canned_id: int | None = None) -> HttpResponse:
    require(request.user, "inbox.manage_canned_responses")
    canned = get_object_or_404(CannedResponse, pk=canned_id) if canned_id else None
    initial = None
    if canned:
        initial = {
            "shortcut": canned.shortcut,
            "title": canned.title,
            "body": canned.body,
            "team": canned.team_id,
        }
    form = CannedForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            canned = services.save_canned_response(
                by=request.user, canned=canned, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Respuesta rápida guardada: /%(shortcut)s.") % {"shortcut": canned.shortcut},
            )
            return redirect("inbox:settings_canned")
    return render(
        request,
        "inbox/settings_canned_form.html",
        {"form": form, "canned": canned, "variables": CANNED_VARIABLES, "section": "canned"},
    )


@login_required
@require_POST
def canned_delete(request: HttpRequest, canned_id: int) -> HttpResponse:
    canned = get_object_or_404(CannedResponse, pk=canned_id)
    services.delete_canned_response(canned=canned, by=request.user)
    messages.success(
        request, _("Respuesta rápida eliminada: /%(shortcut)s.") % {"shortcut": canned.shortcut}
    )
    return redirect("inbox:settings_canned")


# --- plantillas -------------------------------------------------------------------------


class TemplateForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Nombre"),
        max_length=120,
        help_text=gettext_lazy(
            "Como está registrada en el proveedor: minúsculas, números y guion bajo."
        ),
    )
    language = forms.ChoiceField(label=gettext_lazy("Idioma"), choices=TEMPLATE_LANGUAGES)
    category = forms.ChoiceField(
        label=gettext_lazy("Categoría"), choices=TEMPLATE_CATEGORIES, required=False
    )
    status = forms.ChoiceField(
        label=gettext_lazy("Estado"),
        choices=MessageTemplate.Status.choices,
        help_text=gettext_lazy("Solo las aprobadas se pueden enviar."),
    )
    channel = forms.ModelChoiceField(
        label=gettext_lazy("Canal"),
        queryset=Channel.objects.none(),
        required=False,
        empty_label=gettext_lazy("Todos los canales"),
    )
    body = forms.CharField(
        label=gettext_lazy("Texto"),
        max_length=4096,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy(
            "Las variables se escriben {{1}}, {{2}}… y el agente las completa al enviar."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["channel"].queryset = Channel.objects.order_by("name")
        # One select per {{n}} in the text (the posted one, else the saved one): which contact
        # field pre-fills it in the composer. A CharField, so the service words the refusal.
        body = self.data.get("body") if self.is_bound else self.initial.get("body")
        choices = [("", gettext_lazy("— la escribe el agente —"))]
        choices += list(services.VARIABLE_FIELDS.items())
        self.variable_numbers = services.template_variable_numbers(body or "")
        for n in self.variable_numbers:
            self.fields[f"var_{n}"] = forms.CharField(
                label=f"{{{{{n}}}}}",
                required=False,
                widget=forms.Select(choices=choices),
            )

    def variable_fields(self) -> list[forms.BoundField]:
        return [self[f"var_{n}"] for n in self.variable_numbers]

    def service_data(self) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if not k.startswith("var_")}
        data["variable_map"] = {
            str(n): self.cleaned_data.get(f"var_{n}", "") for n in self.variable_numbers
        }
        return data


@login_required
def templates(request: HttpRequest) -> HttpResponse:
    require(request.user, "inbox.manage_channels")
    status = request.GET.get("estado", "")
    if status not in MessageTemplate.Status.values:
        status = ""
    page = _page(request, selectors.message_templates(status=status))
    return render(
        request,
        "inbox/settings_templates.html",
        {
            "page": page,
            "status": status,
            "statuses": MessageTemplate.Status.choices,
            "query": f"estado={status}" if status else "",
            "section": "templates",
        },
    )


@login_required
def template_edit(request: HttpRequest, template_id: int | None = None) -> HttpResponse:
    require(request.user, "inbox.manage_channels")
    template = get_object_or_404(MessageTemplate, pk=template_id) if template_id else None
    initial = {"status": MessageTemplate.Status.APPROVED, "language": "es"}
    if template:
        initial = {
            "name": template.name,
            "language": template.language,
            "category": template.category,
            "status": template.status,
            "channel": template.channel_id,
            "body": template.body,
        }
        initial.update({f"var_{n}": f for n, f in (template.variable_map or {}).items()})
    form = TemplateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            template = services.save_template(
                by=request.user, template=template, **form.service_data()
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Plantilla guardada: %(name)s.") % {"name": template.name})
            return redirect("inbox:settings_templates")
    return render(
        request,
        "inbox/settings_template_form.html",
        {"form": form, "template": template, "section": "templates"},
    )
