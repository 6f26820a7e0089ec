"""Pipelines, stages and tickets: the service desk, with escalation to Tech."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from atiende.contacts.models import Account, Contact, Label
from atiende.users.models import Team


class Pipeline(models.Model):
    """A board of stages. `key` is the English identifier; `name` what people read."""

    key = models.SlugField(_("identificador"), max_length=60, unique=True)
    name = models.CharField(_("nombre"), max_length=80)
    team = models.ForeignKey(
        Team,
        verbose_name=_("equipo responsable"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="pipelines",
    )
    position = models.PositiveSmallIntegerField(_("posición"), default=0)
    is_default = models.BooleanField(_("por defecto"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return gettext(self.name)


class Stage(models.Model):
    """Estado del ticket. `key` stays English ("tech_issues"); `name` is shown in Spanish."""

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    key = models.SlugField(_("identificador"), max_length=60)
    name = models.CharField(_("nombre"), max_length=80)
    help_text = models.CharField(_("significado"), max_length=255, blank=True)
    position = models.PositiveSmallIntegerField(_("posición"), default=0)
    color = models.CharField(_("color"), max_length=7, default="#6c757d")
    is_closed = models.BooleanField(_("cerrado"), default=False)
    # "Waiting on customer": SLA timers stop while the ticket sits here.
    pauses_sla = models.BooleanField(_("pausa el SLA"), default=False)
    # "Tech Issues": entering requires a complete escalation (qué / cómo / dónde / prioridad).
    is_escalation = models.BooleanField(_("escalación a Tech"), default=False)

    class Meta:
        verbose_name = _("estado")
        verbose_name_plural = _("estados")
        ordering = ["pipeline", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "key"], name="stage_key_per_pipeline")
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The name in the reader's language: stored Spanish names are catalogue msgids."""
        return gettext(self.name)

    @property
    def meaning(self) -> str:
        return gettext(self.help_text) if self.help_text else ""


class Priority(models.TextChoices):
    LOW = "low", _("Baja 🟢")
    MEDIUM = "medium", _("Media 🟡")
    HIGH = "high", _("Alta 🟠")
    URGENT = "urgent", _("Urgente 🔴")


PRIORITY_RANK = {Priority.LOW: 0, Priority.MEDIUM: 1, Priority.HIGH: 2, Priority.URGENT: 3}


class Source(models.TextChoices):
    EMAIL = "email", _("Correo electrónico")
    CHAT = "chat", _("Chat")
    WHATSAPP = "whatsapp", _("WhatsApp")
    PHONE = "phone", _("Teléfono")
    INTERNAL = "internal", _("Interno")


class SlaState(models.TextChoices):
    OK = "ok", _("En plazo")
    AT_RISK = "at_risk", _("En riesgo")
    BREACHED = "breached", _("Incumplido")
    PAUSED = "paused", _("En pausa")


class Ticket(models.Model):
    """Ticket / caso. The human number is the primary key formatted: T-000123."""

    name = models.CharField(_("nombre"), max_length=200)
    description = models.TextField(_("descripción"), blank=True)
    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="tickets"
    )
    stage = models.ForeignKey(
        Stage, verbose_name=_("estado"), on_delete=models.PROTECT, related_name="tickets"
    )
    priority = models.CharField(
        _("prioridad"), max_length=8, choices=Priority.choices, default=Priority.MEDIUM
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("propietario"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_tickets",
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("equipo"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contacto"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    account = models.ForeignKey(
        Account,
        verbose_name=_("póliza / cuenta"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    source = models.CharField(
        _("origen"), max_length=10, choices=Source.choices, default=Source.INTERNAL
    )
    # The guide asks agents to set the create date themselves: editable, defaults to now.
    created_at = models.DateTimeField(_("fecha de creación"), default=timezone.now)
    last_activity_at = models.DateTimeField(_("última actividad"), default=timezone.now)
    closed_at = models.DateTimeField(_("fecha de cierre"), null=True, blank=True)
    labels = models.ManyToManyField(
        Label, verbose_name=_("etiquetas"), blank=True, related_name="tickets"
    )
    followers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("seguidores"),
        blank=True,
        related_name="followed_tickets",
    )
    conversations = models.ManyToManyField(
        "inbox.Conversation",
        verbose_name=_("conversaciones"),
        blank=True,
        related_name="tickets",
    )
    # Escalation to Tech (guide 001): qué / cómo / dónde, plus the changes asked for.
    escalation_what = models.TextField(_("¿Qué ocurre?"), blank=True)
    escalation_how = models.TextField(_("¿Cómo ocurrió?"), blank=True)
    escalation_where = models.TextField(_("¿Dónde ocurrió?"), blank=True)
    requested_changes = models.TextField(_("cambios solicitados"), blank=True)
    escalated_at = models.DateTimeField(_("escalado"), null=True, blank=True)
    # SLA clocks: the first reply to the customer and the latest update given to them (48 h rule).
    first_response_at = models.DateTimeField(_("primera respuesta"), null=True, blank=True)
    last_customer_update_at = models.DateTimeField(
        _("última actualización al cliente"), null=True, blank=True
    )
    # The SLA state kept by the SLA job and every change (so lists filter on an index):
    # "" (no policy) | ok | at_risk | breached | paused; sla_due_at: the nearest running deadline.
    sla_state = models.CharField(
        _("estado del SLA"), max_length=8, choices=SlaState.choices, blank=True, default=""
    )
    sla_due_at = models.DateTimeField(_("vence el SLA"), null=True, blank=True)
    # The 48-hour rule: set while the customer is owed an update, cleared when they get one.
    customer_update_overdue = models.BooleanField(
        _("actualización al cliente vencida"), default=False
    )
    # When the SLA job must look at the ticket again (the next at-risk or breach moment; "now" for
    # a warning still to raise; null when nothing can change without an edit): an indexed scan.
    sla_check_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("creado por"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-last_activity_at", "-id"]
        indexes = [
            models.Index(fields=["stage", "-last_activity_at", "-id"], name="ticket_stage"),
            models.Index(fields=["owner", "-last_activity_at", "-id"], name="ticket_owner"),
            models.Index(fields=["pipeline", "stage"], name="ticket_pipeline"),
            models.Index(fields=["priority", "-last_activity_at", "-id"], name="ticket_priority"),
            models.Index(fields=["-last_activity_at", "-id"], name="ticket_last_activity"),
            models.Index(fields=["-created_at"], name="ticket_created"),
            models.Index(fields=["contact", "-created_at"], name="ticket_contact"),
            models.Index(fields=["team", "-last_activity_at", "-id"], name="ticket_team"),
            models.Index(fields=["sla_state", "-last_activity_at", "-id"], name="ticket_sla_state"),
            models.Index(fields=["sla_due_at"], name="ticket_sla_due"),
            models.Index(fields=["sla_check_at"], name="ticket_sla_check"),
            # The list's "Ticket owner" counts look at open tickets only (partial index).
            models.Index(
                fields=["owner"], condition=Q(closed_at__isnull=True), name="ticket_open_owner"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"

    @property
    def number(self) -> str:
        return format_number(self.pk)

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


def format_number(pk: int | None) -> str:
    return f"T-{pk:06d}" if pk else "T-"


def parse_number(text: str) -> int | None:
    """'T-000123', 't-123', '#123' or '123' → 123; anything else → None."""
    text = text.strip().upper().removeprefix("#").removeprefix("T-").removeprefix("T")
    return int(text) if text.isdigit() and len(text) <= 12 else None


class TicketNote(models.Model):
    """A note on a ticket (sanitised HTML); files are core.Attachments owned by the note."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="notes")
    body = models.TextField(_("nota"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("autor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("fecha"), auto_now_add=True)

    class Meta:
        verbose_name = _("nota del ticket")
        verbose_name_plural = _("notas del ticket")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["ticket", "-created_at"], name="ticketnote_ticket")]

    def __str__(self) -> str:
        return f"{self.ticket.number}: {self.body[:40]}"


class SavedView(models.Model):
    """A named advanced filter: {"match": "all"|"any", "conditions": [{field, op, value}, …]}."""

    name = models.CharField(_("nombre"), max_length=80)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("propietario"),
        on_delete=models.CASCADE,
        related_name="ticket_views",
    )
    shared = models.BooleanField(_("compartida"), default=False)
    filters = models.JSONField(_("filtros"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("vista guardada")
        verbose_name_plural = _("vistas guardadas")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class SlaPolicy(models.Model):
    """Targets per pipeline and priority (blank priority = any), measured in business time.

    `business_hours`: {"1": [["08:00", "18:00"]], …} by ISO weekday (1 = Monday); empty means
    around the clock. Holidays: the `holidays` package's calendar for `holiday_country` when the
    package is installed, plus the extra dates in `holidays` ("YYYY-MM-DD")."""

    name = models.CharField(_("nombre"), max_length=80)
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="sla_policies")
    priority = models.CharField(_("prioridad"), max_length=8, choices=Priority.choices, blank=True)
    first_response_minutes = models.PositiveIntegerField(
        _("primera respuesta (minutos)"), null=True, blank=True
    )
    customer_update_minutes = models.PositiveIntegerField(
        _("actualización al cliente (minutos)"), null=True, blank=True, default=48 * 60
    )
    resolution_minutes = models.PositiveIntegerField(
        _("resolución (minutos)"), null=True, blank=True
    )
    at_risk_percent = models.PositiveSmallIntegerField(_("en riesgo desde (%)"), default=80)
    business_hours = models.JSONField(_("horario laboral"), default=dict, blank=True)
    time_zone = models.CharField(_("zona horaria"), max_length=64, default=settings.TIME_ZONE)
    holiday_country = models.CharField(_("país de feriados"), max_length=2, blank=True)
    holidays = models.JSONField(_("feriados adicionales"), default=list, blank=True)
    is_active = models.BooleanField(_("activa"), default=True)

    class Meta:
        verbose_name = _("política de SLA")
        verbose_name_plural = _("políticas de SLA")
        ordering = ["pipeline", "priority", "id"]

    def __str__(self) -> str:
        return self.name


class SlaPause(models.Model):
    """A time the ticket sat in a stage that pauses the SLA (waiting on the customer)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_pauses")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["started_at", "id"]
        indexes = [models.Index(fields=["ticket", "started_at"], name="slapause_ticket")]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.started_at:%Y-%m-%d %H:%M} → {self.ended_at or '…'}"
