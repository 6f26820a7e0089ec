from django.urls import path

from atiende.users import views

app_name = "users"

urlpatterns = [
    path("cuenta/salir/", views.logout_view, name="logout"),
    path("cuenta/idioma/", views.set_language_view, name="set_language"),
    path("cuenta/estado/", views.agent_status_view, name="agent_status"),
    path("ajustes/perfil/", views.profile_view, name="profile"),
    path("ajustes/contrasena/", views.PasswordChangeView.as_view(), name="password_change"),
    path("ajustes/tokens/", views.api_tokens_view, name="api_tokens"),
    path("ajustes/tokens/<int:pk>/revocar/", views.api_token_revoke_view, name="api_token_revoke"),
    path("ajustes/usuarios/", views.users_list_view, name="list"),
    path("ajustes/usuarios/nuevo/", views.user_edit_view, name="create"),
    path("ajustes/usuarios/<int:pk>/", views.user_edit_view, name="edit"),
    path("ajustes/equipos/", views.teams_list_view, name="teams"),
    path("ajustes/equipos/nuevo/", views.team_edit_view, name="team_create"),
    path("ajustes/equipos/<int:pk>/", views.team_edit_view, name="team_edit"),
    path("ajustes/en-linea/", views.online_view, name="online"),
]
