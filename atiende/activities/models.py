"""Notes, tasks and calls: the timeline shared by contacts (and later tickets and conversations)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from atiende.contacts.models import Contact


class Note(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="notes_set")
    body = models.TextField(_("nota"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("fecha"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("nota")
        verbose_name_plural = _("notas")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["contact", "-created_at"], name="note_contact")]

    def __str__(self) -> str:
        return self.body[:60]


class Task(models.Model):
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    title = models.CharField(_("tarea"), max_length=200)
    description = models.TextField(_("detalle"), blank=True)
    due_at = models.DateTimeField(_("vence"), null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsable"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
    )
    done_at = models.DateTimeField(_("completada"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("creada"), auto_now_add=True)

    class Meta:
        verbose_name = _("tarea")
        verbose_name_plural = _("tareas")
        ordering = ["done_at", "due_at", "-id"]
        indexes = [
            models.Index(fields=["contact", "-created_at"], name="task_contact"),
            models.Index(fields=["assignee", "done_at", "due_at"], name="task_assignee_open"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_done(self) -> bool:
        return self.done_at is not None


class Call(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Entrante")
        OUTBOUND = "outbound", _("Saliente")

    class Outcome(models.TextChoices):
        ANSWERED = "answered", _("Contestada")
        NO_ANSWER = "no_answer", _("No contesta")
        BUSY = "busy", _("Ocupado")
        VOICEMAIL = "voicemail", _("Buzón de voz")
        WRONG_NUMBER = "wrong_number", _("Número equivocado")
        CALLBACK = "callback", _("Volver a llamar")

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="calls")
    direction = models.CharField(_("dirección"), max_length=10, choices=Direction.choices)
    outcome = models.CharField(_("resultado"), max_length=14, choices=Outcome.choices)
    duration_seconds = models.PositiveIntegerField(_("duración (segundos)"), default=0)
    note = models.TextField(_("nota"), blank=True)
    at = models.DateTimeField(_("fecha"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agente"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("llamada")
        verbose_name_plural = _("llamadas")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["contact", "-at"], name="call_contact")]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.at:%Y-%m-%d %H:%M}"
