from django.urls import path

from atiende.connectors.whatsapp import views, webhooks

app_name = "whatsapp"

urlpatterns = [
    path("webhooks/whatsapp", webhooks.webhook, name="webhook"),
    path(
        "ajustes/canales/<int:channel_id>/sincronizar-plantillas/",
        views.sync_templates,
        name="sync_templates",
    ),
]
