from django.urls import path

from atiende.contacts import views

app_name = "contacts"

# Contact list, profile and its tabs, merge, search.
urlpatterns = [
    path("contactos/", views.contact_list, name="list"),
]

# Import and export.
urlpatterns += []
