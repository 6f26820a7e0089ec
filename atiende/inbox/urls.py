from django.urls import path

from atiende.inbox import views

app_name = "inbox"

C = "inbox/<int:conversation_id>/"

urlpatterns = [
    path("inbox/", views.inbox, name="index"),
]

# --- settings (canales, respuestas rápidas, plantillas) ---
from atiende.inbox import views_settings  # noqa: E402

urlpatterns += [
    path("ajustes/canales/", views_settings.channels, name="settings_channels"),
    path("ajustes/canales/nuevo/", views_settings.channel_edit, name="settings_channel_create"),
    path(
        "ajustes/canales/<int:channel_id>/",
        views_settings.channel_edit,
        name="settings_channel_edit",
    ),
    path("ajustes/respuestas-rapidas/", views_settings.canned_responses, name="settings_canned"),
    path(
        "ajustes/respuestas-rapidas/nueva/",
        views_settings.canned_edit,
        name="settings_canned_create",
    ),
    path(
        "ajustes/respuestas-rapidas/<int:canned_id>/",
        views_settings.canned_edit,
        name="settings_canned_edit",
    ),
    path(
        "ajustes/respuestas-rapidas/<int:canned_id>/eliminar/",
        views_settings.canned_delete,
        name="settings_canned_delete",
    ),
    path("ajustes/plantillas/", views_settings.templates, name="settings_templates"),
    path(
        "ajustes/plantillas/nueva/",
        views_settings.template_edit,
        name="settings_template_create",
    ),
    path(
        "ajustes/plantillas/<int:template_id>/",
        views_settings.template_edit,
        name="settings_template_edit",
    ),
]
