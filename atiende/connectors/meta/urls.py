from django.urls import path

from atiende.connectors.meta import webhooks

app_name = "meta"

urlpatterns = [
    path("webhooks/meta", webhooks.webhook, name="webhook"),
]
