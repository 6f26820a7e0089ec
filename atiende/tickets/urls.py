from django.urls import path

from atiende.tickets import views, views_settings, views_ticket

app_name = "tickets"

# The list, the board, bulk actions and saved views (views.py).
list_urls: list = [
    path("tickets/", views.ticket_list, name="list"),
    path("tickets/lote/", views.ticket_bulk, name="bulk"),
    path("tickets/tablero/", views.ticket_board, name="board"),
    path("tickets/tablero/<int:pk>/mover/", views.board_move, name="board_move"),
    path("tickets/filtros/condicion/", views.filter_row, name="filter_row"),
    path("tickets/vistas/guardar/", views.view_save, name="view_save"),
    path("tickets/vistas/<int:pk>/eliminar/", views.view_delete, name="view_delete"),
]

# One ticket: create, page, properties, notes, escalation, follow (views_ticket.py).
T = "tickets/<int:pk>/"
ticket_urls: list = [
    path("tickets/nuevo/", views_ticket.ticket_create, name="create"),
    path(T, views_ticket.ticket_detail, name="detail"),
    path(T + "propiedades/<slug:field>/", views_ticket.ticket_property, name="property"),
    path(T + "seguir/", views_ticket.ticket_follow, name="follow"),
    path(T + "estado/", views_ticket.ticket_state, name="state"),
    path(T + "cliente-actualizado/", views_ticket.ticket_customer_update, name="customer_update"),
    path(T + "notas/", views_ticket.ticket_note, name="note"),
    path(T + "conversaciones/", views_ticket.ticket_link, name="link"),
    path(T + "adjuntos/<int:attachment_id>/", views_ticket.ticket_attachment, name="attachment"),
    path(T + "escalar/", views_ticket.ticket_escalate, name="escalate"),
]

# Ajustes > Pipelines, estados y SLA (views_settings.py).
S = "ajustes/pipelines/"
settings_urls: list = [
    path(S, views_settings.settings_pipelines, name="settings_pipelines"),
    path(S + "nuevo/", views_settings.settings_pipeline_edit, name="settings_pipeline_create"),
    path(
        S + "<int:pipeline_id>/",
        views_settings.settings_pipeline_edit,
        name="settings_pipeline_edit",
    ),
    path(
        S + "<int:pipeline_id>/eliminar/",
        views_settings.settings_pipeline_delete,
        name="settings_pipeline_delete",
    ),
    path(
        S + "<int:pipeline_id>/estados/nuevo/",
        views_settings.settings_stage_edit,
        name="settings_stage_create",
    ),
    path(
        S + "estados/<int:stage_id>/",
        views_settings.settings_stage_edit,
        name="settings_stage_edit",
    ),
    path(
        S + "estados/<int:stage_id>/mover/",
        views_settings.settings_stage_move,
        name="settings_stage_move",
    ),
    path(
        S + "estados/<int:stage_id>/eliminar/",
        views_settings.settings_stage_delete,
        name="settings_stage_delete",
    ),
    path(S + "sla/nueva/", views_settings.settings_policy_edit, name="settings_policy_create"),
    path(
        S + "sla/<int:policy_id>/", views_settings.settings_policy_edit, name="settings_policy_edit"
    ),
    path(
        S + "sla/<int:policy_id>/eliminar/",
        views_settings.settings_policy_delete,
        name="settings_policy_delete",
    ),
]

urlpatterns = list_urls + ticket_urls + settings_urls
