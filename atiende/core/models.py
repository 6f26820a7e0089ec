from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    """Who changed what, when: before → after per field. Written only by `core.audit`."""

    at = models.DateTimeField(_("fecha"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("usuario"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(_("acción"), max_length=40)
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(_("objeto"), max_length=200)
    changes = models.JSONField(_("cambios"), default=dict, blank=True)

    class Meta:
        verbose_name = _("entrada de historial")
        verbose_name_plural = _("historial")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id", "-at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_repr}"


class Attachment(models.Model):
    """A stored file. `contact` gathers every file of a client (from cases and interactions too);
    `owner` is the thing it was attached to (the contact itself, a ticket, a message)."""

    file = models.FileField(_("archivo"), upload_to="attachments/%Y/%m/", max_length=300)
    name = models.CharField(_("nombre"), max_length=200)
    mime_type = models.CharField(_("tipo"), max_length=100)
    size = models.PositiveBigIntegerField(_("tamaño"))
    contact = models.ForeignKey(
        "contacts.Contact",
        verbose_name=_("contacto"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    owner_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    owner_id = models.CharField(max_length=64, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("subido por"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("fecha"), auto_now_add=True)

    class Meta:
        verbose_name = _("adjunto")
        verbose_name_plural = _("adjuntos")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["contact", "-created_at"], name="attachment_contact"),
            models.Index(fields=["owner_type", "owner_id"], name="attachment_owner"),
        ]

    def __str__(self) -> str:
        return self.name
