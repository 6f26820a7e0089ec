from django.urls import path

from atiende.inbox import views, views_comments

app_name = "inbox"

C = "inbox/<int:conversation_id>/"

urlpatterns = [
    path("inbox/", views.inbox, name="index"),
    path("inbox/lista/", views.conversation_list, name="list"),
    path("inbox/contadores/", views.counts, name="counts"),
    path("inbox/en-linea/", views.online, name="online"),
    path("inbox/menciones/", views.mentions, name="mentions"),
    path("inbox/nuevo/", views.start, name="start"),
    path("inbox/comentarios/", views_comments.tray, name="comments"),
    path("inbox/comentarios/<int:comment_id>/", views_comments.row, name="comment_row"),
    path(
        "inbox/comentarios/<int:comment_id>/<slug:action>/",
        views_comments.act,
        name="comment_action",
    ),
    path(C, views.conversation, name="conversation"),
    path(C + "fila/", views.row, name="row"),
    path(C + "cabecera/", views.header, name="header"),
    path(C + "mensajes/", views.thread_messages, name="messages"),
    path(C + "mensajes/<int:message_id>/", views.message, name="message"),
    path(C + "mensajes/<int:message_id>/reintentar/", views.retry, name="retry"),
    path(C + "adjuntos/<int:attachment_id>/", views.attachment, name="attachment"),
    path(C + "tomar/", views.take, name="take"),
    path(C + "transferir/", views.transfer, name="transfer"),
    path(C + "bandeja/", views.move, name="move"),
    path(C + "etiquetas/", views.labels, name="labels"),
    path(C + "leido/", views.mark_read, name="mark_read"),
    path(C + "enviar/", views.send, name="send"),
    path(C + "plantilla/", views.send_template, name="send_template"),
    path(C + "atajos/", views.canned, name="canned"),
    path(C + "plantillas/", views.templates, name="templates"),
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
