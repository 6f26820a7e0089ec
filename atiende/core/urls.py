from django.urls import path
from django.views.generic import RedirectView

from atiende.core import views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("buscar/", views.search, name="search"),
    # Served by contacts.urls (included first); the name stays for old links to the section.
    path("contactos/", RedirectView.as_view(pattern_name="contacts:list"), name="contacts"),
    path("cobranza/", views.section, {"name": "collections"}, name="collections"),
    path("reportes/", views.section, {"name": "reports"}, name="reports"),
]
