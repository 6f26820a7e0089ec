from django.db import models
from django.utils.translation import gettext_lazy as _


class WebhookEvent(models.Model):
    """One verified POST from Meta, stored as received before it is processed (once)."""

    channel = models.ForeignKey(
        "inbox.Channel", on_delete=models.CASCADE, related_name="whatsapp_events"
    )
    key = models.CharField(max_length=64, unique=True)  # sha256 of the raw body
    raw = models.JSONField(default=dict)
    received_at = models.DateTimeField(_("recibido"), auto_now_add=True)
    processed_at = models.DateTimeField(_("procesado"), null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("evento de WhatsApp")
        verbose_name_plural = _("eventos de WhatsApp")
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.key[:12]} ({self.received_at:%Y-%m-%d %H:%M})"
