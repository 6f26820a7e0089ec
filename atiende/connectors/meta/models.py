"""Raw Messenger/Instagram webhook deliveries, stored before anything is parsed.

The dedupe key is the SHA-256 of the raw body: Meta retries a failed delivery for up to 36 hours
with the same bytes, so a retry is recognised and never processed twice.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class MetaWebhookEvent(models.Model):
    channel = models.ForeignKey(
        "inbox.Channel", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    dedupe_key = models.CharField(max_length=64, unique=True)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("evento de webhook de Meta")
        verbose_name_plural = _("eventos de webhook de Meta")
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return self.dedupe_key[:12]
