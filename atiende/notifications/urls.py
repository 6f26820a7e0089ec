from django.urls import path

from atiende.notifications import views

app_name = "notifications"

urlpatterns = [
    path("notificaciones/", views.notification_list, name="list"),
    path("notificaciones/panel/", views.panel, name="panel"),
    path("notificaciones/leidas/", views.mark_read, name="mark_read"),
    path("notificaciones/<int:pk>/abrir/", views.open_notification, name="open"),
    path("ajustes/notificaciones/", views.preferences, name="preferences"),
]
