"""The bell: one row per notification a user receives, and which kinds also go by e-mail."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    ASSIGNMENT = "assignment", _("Asignación")
    MENTION = "mention", _("Mención")
    CUSTOMER_REPLY = "customer_reply", _("Respuesta del cliente")
    STAGE_CHANGE = "stage_change", _("Cambio de etapa")
    SLA_WARNING = "sla_warning", _("Aviso de SLA")
    SLA_BREACH = "sla_breach", _("SLA incumplido")
    ESCALATION = "escalation", _("Escalamiento")
    TASK_DUE = "task_due", _("Tarea por vencer")


KIND_ICONS = {
    Kind.ASSIGNMENT: "person-check",
    Kind.MENTION: "at",
    Kind.CUSTOMER_REPLY: "chat-left-text",
    Kind.STAGE_CHANGE: "arrow-right-circle",
    Kind.SLA_WARNING: "hourglass-split",
    Kind.SLA_BREACH: "exclamation-octagon",
    Kind.ESCALATION: "bug",
    Kind.TASK_DUE: "alarm",
}


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("destinatario"),
    )
    kind = models.CharField(_("tipo"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("título"), max_length=200)
    body = models.TextField(_("detalle"), blank=True)
    url = models.CharField(_("enlace"), max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("autor"),
    )
    target_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    target_id = models.PositiveBigIntegerField(null=True, blank=True)
    dedupe_key = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(_("fecha"), auto_now_add=True, db_index=False)
    read_at = models.DateTimeField(_("leída"), null=True, blank=True)

    class Meta:
        verbose_name = _("notificación")
        verbose_name_plural = _("notificaciones")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at", "-created_at"], name="notif_unread"),
            models.Index(fields=["recipient", "-created_at"], name="notif_recent"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "kind", "dedupe_key"],
                condition=~Q(dedupe_key=""),
                name="notif_dedupe_once",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    @property
    def icon(self) -> str:
        return KIND_ICONS.get(self.kind, "bell")


class NotificationPreference(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(_("tipo"), max_length=20, choices=Kind.choices)
    by_email = models.BooleanField(_("también por correo"), default=False)

    class Meta:
        verbose_name = _("preferencia de notificación")
        verbose_name_plural = _("preferencias de notificación")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notif_pref_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.kind}"
