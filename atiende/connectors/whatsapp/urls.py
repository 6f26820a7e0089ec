from django.urls import path

from atiende.connectors.whatsapp import webhooks

app_name = "whatsapp"

urlpatterns = [
    path("webhooks/whatsapp", webhooks.webhook, name="webhook"),
]
