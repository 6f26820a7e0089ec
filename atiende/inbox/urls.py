from django.urls import path

from atiende.inbox import views

app_name = "inbox"

C = "inbox/<int:conversation_id>/"

urlpatterns = [
    path("inbox/", views.inbox, name="index"),
]

# --- settings (canales, respuestas rápidas, plantillas) ---
urlpatterns += []
