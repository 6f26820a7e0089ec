from django.urls import path

from atiende.core import views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("buscar/", views.search, name="search"),
    path("inbox/", views.section, {"name": "inbox"}, name="inbox"),
    path("contactos/", views.section, {"name": "contacts"}, name="contacts"),
    path("tickets/", views.section, {"name": "tickets"}, name="tickets"),
    path("cobranza/", views.section, {"name": "collections"}, name="collections"),
    path("reportes/", views.section, {"name": "reports"}, name="reports"),
]
