from django.urls import path

from atiende.contacts import views

app_name = "contacts"

# Contact list, profile and its tabs, merge, search.
P = "contactos/<int:pk>/"

urlpatterns = [
    path("contactos/", views.contact_list, name="list"),
    path("contactos/nuevo/", views.contact_create, name="create"),
    path("contactos/acciones/", views.contact_bulk, name="bulk"),
    path(P, views.contact_detail, name="detail"),
    path(P + "cabecera/", views.contact_header, name="header"),
    path(P + "asignar/", views.contact_assign, name="assign"),
    path(P + "eliminar/", views.contact_delete, name="delete"),
    path(P + "combinar/", views.contact_merge, name="merge"),
    path(P + "informacion/", views.tab_info, name="info"),
    path(P + "informacion/editar/", views.info_edit, name="info_edit"),
    path(P + "datos/", views.tab_points, name="points"),
    path(P + "datos/<int:point_id>/editar/", views.point_edit, name="point_edit"),
    path(P + "datos/<int:point_id>/eliminar/", views.point_delete, name="point_delete"),
    path(P + "actividad/", views.tab_activity, name="activity"),
    path(P + "notas/", views.tab_notes, name="notes"),
    path(P + "notas/<int:note_id>/editar/", views.note_edit, name="note_edit"),
    path(P + "notas/<int:note_id>/eliminar/", views.note_delete, name="note_delete"),
    path(P + "tareas/", views.tab_tasks, name="tasks"),
    path(P + "tareas/<int:task_id>/estado/", views.task_status, name="task_status"),
    path(P + "llamadas/", views.tab_calls, name="calls"),
    path(P + "adjuntos/", views.tab_attachments, name="attachments"),
    path(
        P + "adjuntos/<int:attachment_id>/descargar/",
        views.attachment_download,
        name="attachment_download",
    ),
    path(
        P + "adjuntos/<int:attachment_id>/eliminar/",
        views.attachment_delete,
        name="attachment_delete",
    ),
    path(P + "relacionados/", views.tab_related, name="related"),
    path(P + "relacionados/buscar/", views.related_search, name="related_search"),
    path(P + "relacionados/<int:relation_id>/editar/", views.relation_edit, name="relation_edit"),
    path(
        P + "relacionados/<int:relation_id>/eliminar/",
        views.relation_delete,
        name="relation_delete",
    ),
    path(P + "cuentas/", views.tab_accounts, name="accounts"),
    path(P + "cuentas/<int:account_id>/editar/", views.account_edit, name="account_edit"),
    path(P + "cuentas/<int:account_id>/eliminar/", views.account_delete, name="account_delete"),
    path(P + "historial/", views.tab_history, name="history"),
    path(P + "dashboard/", views.tab_dashboard, name="dashboard"),
    # Ajustes → Contactos (admins): labels, groups and custom fields.
    path("ajustes/etiquetas/", views.settings_labels, name="settings_labels"),
    path("ajustes/etiquetas/nueva/", views.settings_label_edit, name="settings_label_create"),
    path(
        "ajustes/etiquetas/<int:label_id>/", views.settings_label_edit, name="settings_label_edit"
    ),
    path(
        "ajustes/etiquetas/<int:label_id>/eliminar/",
        views.settings_label_delete,
        name="settings_label_delete",
    ),
    path("ajustes/grupos/", views.settings_groups, name="settings_groups"),
    path("ajustes/grupos/nuevo/", views.settings_group_edit, name="settings_group_create"),
    path("ajustes/grupos/<int:group_id>/", views.settings_group_edit, name="settings_group_edit"),
    path(
        "ajustes/grupos/<int:group_id>/eliminar/",
        views.settings_group_delete,
        name="settings_group_delete",
    ),
    path("ajustes/campos/", views.settings_fields, name="settings_fields"),
    path("ajustes/campos/nuevo/", views.settings_field_edit, name="settings_field_create"),
    path("ajustes/campos/<int:field_id>/", views.settings_field_edit, name="settings_field_edit"),
    path(
        "ajustes/campos/<int:field_id>/eliminar/",
        views.settings_field_delete,
        name="settings_field_delete",
    ),
]

# Import and export.
urlpatterns += [
    path("contactos/importar/", views.import_list, name="import"),
    path("contactos/importar/<int:pk>/", views.import_detail, name="import_detail"),
    path("contactos/importar/<int:pk>/vista-previa/", views.import_preview, name="import_preview"),
    path("contactos/importar/<int:pk>/progreso/", views.import_progress, name="import_progress"),
    path("contactos/importar/<int:pk>/reanudar/", views.import_resume, name="import_resume"),
    path(
        "contactos/importar/<int:pk>/rechazadas.csv",
        views.import_rejected,
        name="import_rejected",
    ),
    path("contactos/exportar/", views.contact_export, name="export"),
]
