"""Who may do what in Ajustes: agents, supervisors and admins, in the UI and the API."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from atiende.core.models import AuditEntry
from atiende.users import services
from atiende.users.models import AgentStatus, Role, Team, User
from atiende.users.tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

DENIED = "No tienes permiso para realizar esta acción."


def _audit_for(obj, action: str) -> AuditEntry:
    entries = AuditEntry.objects.filter(object_id=str(obj.pk), action=action)
    entries = [e for e in entries if e.content_type.model_class() is type(obj)]
    assert len(entries) == 1, entries
    return entries[0]


# --- agents are kept out of the organisation settings ------------------------------------


@pytest.mark.parametrize(
    "url_name, args",
    [
        ("users:list", []),
        ("users:create", []),
        ("users:edit", ["target"]),
        ("users:teams", []),
        ("users:team_create", []),
        ("users:team_edit", ["team"]),
        ("users:online", []),
    ],
)
def test_agent_gets_403_on_admin_pages(client, agent, url_name, args):
    target = UserFactory(username="otra")
    team = TeamFactory(name="Servicio")
    objects = {"target": target.pk, "team": team.pk}
    client.force_login(agent)
    url = reverse(url_name, args=[objects[a] for a in args])
    response = client.get(url)
    assert response.status_code == 403
    assert DENIED in response.content.decode()


def test_agent_post_to_admin_pages_changes_nothing(client, agent):
    target = UserFactory(username="otra", role=Role.AGENT)
    team = TeamFactory(name="Servicio")
    client.force_login(agent)
    data = {"display_name": "Hackeada", "email": "", "role": Role.ADMIN, "is_active": "on"}
    assert client.post(reverse("users:edit", args=[target.pk]), data).status_code == 403
    assert client.post(reverse("users:edit", args=[agent.pk]), data).status_code == 403
    new_user = {**data, "username": "nuevo", "password": "clave-nueva-789"}
    assert client.post(reverse("users:create"), new_user).status_code == 403
    assert client.post(reverse("users:team_edit", args=[team.pk]), {"name": "X"}).status_code == 403
    assert client.post(reverse("users:team_create"), {"name": "Nuevo"}).status_code == 403

    target.refresh_from_db()
    agent.refresh_from_db()
    team.refresh_from_db()
    assert (target.role, target.display_name) == (Role.AGENT, target.display_name)
    assert target.display_name != "Hackeada"
    assert agent.role == Role.AGENT
    assert team.name == "Servicio"
    assert not User.objects.filter(username="nuevo").exists()
    assert not Team.objects.filter(name="Nuevo").exists()
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize(
    "method, path, payload",
    [
        ("get", "/api/v1/users", None),
        ("get", "/api/v1/teams", None),
        ("get", "/api/v1/presence", None),
        ("post", "/api/v1/users", {"username": "nuevo", "password": "clave-nueva-789"}),
        ("patch", "/api/v1/users/{target}", {"role": "admin"}),
        ("patch", "/api/v1/users/{me}", {"role": "admin"}),
        ("put", "/api/v1/users/{target}/status", {"status": "paused"}),
        ("post", "/api/v1/teams", {"name": "Nuevo"}),
        ("put", "/api/v1/teams/{team}", {"name": "Renombrado"}),
    ],
)
def test_agent_gets_403_json_on_admin_api(client, agent, api_token, method, path, payload):
    target = UserFactory(username="otra")
    team = TeamFactory(name="Servicio")
    url = path.format(target=target.pk, me=agent.pk, team=team.pk)
    kwargs = {"headers": api_token(agent)}
    if payload is not None:
        kwargs.update(data=payload, content_type="application/json")
    response = getattr(client, method)(url, **kwargs)
    assert response.status_code == 403
    assert response.json() == {"detail": DENIED}
    target.refresh_from_db()
    agent.refresh_from_db()
    assert target.agent_status == AgentStatus.OFFLINE
    assert agent.role == Role.AGENT
    assert not User.objects.filter(username="nuevo").exists()
    assert list(Team.objects.values_list("name", flat=True)) == ["Servicio"]


def test_agent_may_still_use_own_settings(client, agent):
    client.force_login(agent)
    for name in ("users:profile", "users:password_change", "users:api_tokens"):
        assert client.get(reverse(name)).status_code == 200
    body = client.get(reverse("users:profile")).content.decode()
    # The organisation section is not offered to an agent.
    assert reverse("users:list") not in body


# --- supervisors see, but do not edit -------------------------------------------------------


def test_supervisor_sees_users_list_and_who_is_online(client, supervisor, agent):
    client.force_login(supervisor)
    response = client.get(reverse("users:list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "María González" in body
    assert reverse("users:edit", args=[agent.pk]) not in body
    assert reverse("users:create") not in body
    assert client.get(reverse("users:online")).status_code == 200
    assert client.get(reverse("users:teams")).status_code == 200


def test_supervisor_cannot_edit_users_or_teams(client, supervisor, agent):
    team = TeamFactory(name="Servicio")
    client.force_login(supervisor)
    assert client.get(reverse("users:edit", args=[agent.pk])).status_code == 403
    response = client.post(
        reverse("users:edit", args=[agent.pk]),
        {"display_name": "Cambiada", "role": Role.ADMIN, "is_active": "on"},
    )
    assert response.status_code == 403
    assert client.get(reverse("users:create")).status_code == 403
    assert client.get(reverse("users:team_edit", args=[team.pk])).status_code == 403
    agent.refresh_from_db()
    assert agent.role == Role.AGENT
    assert agent.display_name == "María González"


def test_supervisor_api_can_list_but_not_edit(client, supervisor, agent, api_token):
    headers = api_token(supervisor)
    listed = client.get("/api/v1/users", headers=headers)
    assert listed.status_code == 200
    assert {u["username"] for u in listed.json()["items"]} == {"super", "agente"}
    response = client.patch(
        f"/api/v1/users/{agent.pk}",
        data={"role": "admin"},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 403
    agent.refresh_from_db()
    assert agent.role == Role.AGENT


def test_supervisor_may_pause_an_agent_through_api(client, supervisor, agent, api_token):
    response = client.put(
        f"/api/v1/users/{agent.pk}/status",
        data={"status": "paused"},
        content_type="application/json",
        headers=api_token(supervisor),
    )
    assert response.status_code == 200
    agent.refresh_from_db()
    assert agent.agent_status == AgentStatus.PAUSED


# --- admins manage people and teams, with an audit trail ---------------------------------


def test_admin_creates_user_via_ui_with_audit(client, admin_user):
    servicio = TeamFactory(name="Servicio")
    client.force_login(admin_user)
    assert client.get(reverse("users:create")).status_code == 200
    response = client.post(
        reverse("users:create"),
        {
            "username": "lucia",
            "display_name": "Lucía Ramírez",
            "email": "Lucia@Ejemplo.com",
            "role": Role.AGENT,
            "teams": [servicio.pk],
            "password": "clave-nueva-789",
        },
    )
    assert response.status_code == 302
    assert response.url == reverse("users:list")
    lucia = User.objects.get(username="lucia")
    assert lucia.display_name == "Lucía Ramírez"
    assert lucia.email == "lucia@ejemplo.com"
    assert lucia.check_password("clave-nueva-789")
    assert list(lucia.teams.all()) == [servicio]

    entry = _audit_for(lucia, "create")
    assert entry.actor == admin_user
    assert entry.changes["username"] == [None, "lucia"]
    assert entry.changes["role"] == [None, "agent"]
    assert entry.changes["email"] == [None, "lucia@ejemplo.com"]
    assert "password" not in entry.changes

    listed = client.get(reverse("users:list")).content.decode()
    assert "Lucía Ramírez" in listed


def test_admin_edits_user_via_ui_with_audit_before_after(client, admin_user, agent):
    servicio = TeamFactory(name="Servicio")
    cobranza = TeamFactory(name="Cobranza")
    agent.teams.set([servicio])
    client.force_login(admin_user)
    page = client.get(reverse("users:edit", args=[agent.pk]))
    assert page.status_code == 200
    assert "María González" in page.content.decode()

    response = client.post(
        reverse("users:edit", args=[agent.pk]),
        {
            "username": "cambiado",  # disabled field: ignored
            "display_name": "María G. Benítez",
            "email": "maria@ejemplo.com",
            "role": Role.SUPERVISOR,
            "teams": [cobranza.pk],
            # is_active unchecked: access removed
        },
    )
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.username == "agente"
    assert agent.display_name == "María G. Benítez"
    assert agent.role == Role.SUPERVISOR
    assert agent.is_active is False
    assert list(agent.teams.all()) == [cobranza]

    entry = _audit_for(agent, "update")
    assert entry.actor == admin_user
    assert entry.changes == {
        "display_name": ["María González", "María G. Benítez"],
        "email": ["agente@example.com", "maria@ejemplo.com"],
        "role": ["agent", "supervisor"],
        "is_active": [True, False],
        "teams": [["Servicio"], ["Cobranza"]],
    }


def test_saving_user_without_changes_leaves_no_audit(client, admin_user, agent):
    client.force_login(admin_user)
    data = {
        "display_name": agent.display_name,
        "email": agent.email,
        "role": agent.role,
        "is_active": "on",
    }
    assert client.post(reverse("users:edit", args=[agent.pk]), data).status_code == 302
    assert not AuditEntry.objects.filter(object_id=str(agent.pk), action="update").exists()


def test_admin_creates_and_edits_team_via_ui_with_audit(client, admin_user, agent):
    other = UserFactory(username="carlos")
    client.force_login(admin_user)
    response = client.post(
        reverse("users:team_create"),
        {"name": " Cobranza ", "description": "Mora temprana", "members": [agent.pk]},
    )
    assert response.status_code == 302
    assert response.url == reverse("users:teams")
    team = Team.objects.get(name="Cobranza")
    assert list(team.members.all()) == [agent]
    created = _audit_for(team, "create")
    assert created.actor == admin_user
    assert created.changes == {
        "name": [None, "Cobranza"],
        "description": [None, "Mora temprana"],
        "members": [None, ["agente"]],
    }

    response = client.post(
        reverse("users:team_edit", args=[team.pk]),
        {"name": "Cobranza temprana", "description": "Mora temprana", "members": [other.pk]},
    )
    assert response.status_code == 302
    team.refresh_from_db()
    assert team.name == "Cobranza temprana"
    assert list(team.members.all()) == [other]
    updated = _audit_for(team, "update")
    assert updated.changes == {
        "name": ["Cobranza", "Cobranza temprana"],
        "members": [["agente"], ["carlos"]],
    }


# --- an admin cannot lock themselves out ---------------------------------------------------


def _self_edit(client, admin, **overrides):
    data = {"display_name": admin.display_name, "email": admin.email, "role": Role.ADMIN}
    data["is_active"] = "on"
    data.update(overrides)
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(reverse("users:edit", args=[admin.pk]), data)


SELF_LOCKOUT = "No puedes quitarte a ti mismo el rol de administrador ni desactivarte."


@pytest.mark.parametrize(
    "overrides",
    [{"role": Role.AGENT}, {"role": Role.SUPERVISOR}, {"is_active": None}],
    ids=["to-agent", "to-supervisor", "deactivate"],
)
def test_admin_cannot_demote_or_deactivate_self_in_ui(client, admin_user, overrides):
    client.force_login(admin_user)
    response = _self_edit(client, admin_user, display_name="Otro nombre", **overrides)
    assert response.status_code == 200
    assert SELF_LOCKOUT in response.content.decode()
    admin_user.refresh_from_db()
    assert admin_user.role == Role.ADMIN
    assert admin_user.is_active is True
    assert admin_user.display_name == "Ana Martínez"
    assert not AuditEntry.objects.filter(object_id=str(admin_user.pk)).exists()


@pytest.mark.parametrize(
    "overrides", [{"is_active": None}, {"role": Role.AGENT}], ids=["deactivate", "to-agent"]
)
def test_superuser_admin_cannot_deactivate_or_demote_self(client, admin_user, overrides):
    """The demo admin is a superuser: deactivating themselves would lock them out too."""
    admin_user.is_superuser = True
    admin_user.save(update_fields=["is_superuser"])
    client.force_login(admin_user)
    response = _self_edit(client, admin_user, **overrides)
    assert response.status_code == 200
    assert SELF_LOCKOUT in response.content.decode()
    admin_user.refresh_from_db()
    assert admin_user.is_active is True
    assert admin_user.role == Role.ADMIN
    with pytest.raises(ValidationError):
        services.update_user(
            by=admin_user,
            user=admin_user,
            display_name="x",
            email="",
            role=Role.ADMIN,
            is_active=False,
            teams=[],
        )


def test_admin_cannot_demote_self_via_api(client, admin_user, api_token):
    response = client.patch(
        f"/api/v1/users/{admin_user.pk}",
        data={"role": "agent"},
        content_type="application/json",
        headers=api_token(admin_user),
    )
    assert response.status_code == 422
    assert response.json() == {"detail": {"role": [SELF_LOCKOUT]}}
    admin_user.refresh_from_db()
    assert admin_user.role == Role.ADMIN


def test_admin_may_demote_another_admin(client, admin_user):
    other = UserFactory(username="otra_admin", role=Role.ADMIN)
    client.force_login(admin_user)
    response = client.post(
        reverse("users:edit", args=[other.pk]),
        {"display_name": "Otra", "email": "", "role": Role.AGENT, "is_active": "on"},
    )
    assert response.status_code == 302
    other.refresh_from_db()
    assert other.role == Role.AGENT


# --- invalid input: Spanish message, nothing changed ------------------------------------------


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"email": "no-es-correo"}, "Introduzca una dirección de correo electrónico válida."),
        ({"username": "AGENTE"}, "Ya existe un usuario con ese nombre de usuario."),
        ({"password": "12345678"}, "Esta contraseña es completamente numérica."),
        ({"password": "corta"}, "La contraseña es demasiado corta."),
        ({"role": "jefe"}, "Escoja una opción válida."),
        ({"display_name": ""}, "Este campo es obligatorio."),
    ],
)
def test_invalid_new_user_shows_spanish_error_and_creates_nothing(
    client, admin_user, agent, overrides, message
):
    client.force_login(admin_user)
    data = {
        "username": "lucia",
        "display_name": "Lucía Ramírez",
        "email": "lucia@ejemplo.com",
        "role": Role.AGENT,
        "password": "clave-nueva-789",
        **overrides,
    }
    users_before = User.objects.count()
    response = client.post(reverse("users:create"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert User.objects.count() == users_before
    assert not AuditEntry.objects.exists()


def test_invalid_user_edit_changes_nothing(client, admin_user, agent):
    client.force_login(admin_user)
    response = client.post(
        reverse("users:edit", args=[agent.pk]),
        {"display_name": "Nuevo", "email": "no-es-correo", "role": Role.ADMIN, "is_active": "on"},
    )
    assert response.status_code == 200
    assert "Introduzca una dirección de correo electrónico válida." in response.content.decode()
    agent.refresh_from_db()
    assert (agent.display_name, agent.role) == ("María González", Role.AGENT)


def test_duplicate_team_name_shows_spanish_error(client, admin_user):
    TeamFactory(name="Ventas")
    servicio = TeamFactory(name="Servicio")
    client.force_login(admin_user)
    response = client.post(reverse("users:team_create"), {"name": "ventas"})
    assert response.status_code == 200
    assert "Ya existe un equipo con ese nombre." in response.content.decode()
    response = client.post(reverse("users:team_edit", args=[servicio.pk]), {"name": "VENTAS"})
    assert "Ya existe un equipo con ese nombre." in response.content.decode()
    response = client.post(reverse("users:team_create"), {"name": "   "})
    assert response.status_code == 200
    assert "Este campo es obligatorio." in response.content.decode()
    assert sorted(Team.objects.values_list("name", flat=True)) == ["Servicio", "Ventas"]
    assert not AuditEntry.objects.exists()


# --- the agent status toggle in the top bar ------------------------------------------------------


def test_status_toggle_plain_post_redirects_and_changes(client, agent):
    client.force_login(agent)
    response = client.post(
        reverse("users:agent_status"), {"status": "active", "next": reverse("users:profile")}
    )
    assert response.status_code == 302
    assert response.url == reverse("users:profile")
    agent.refresh_from_db()
    assert agent.agent_status == AgentStatus.ACTIVE
    entry = _audit_for(agent, "update")
    assert entry.changes == {"agent_status": ["offline", "active"]}


def test_status_toggle_next_to_another_site_is_not_followed(client, agent):
    client.force_login(agent)
    response = client.post(
        reverse("users:agent_status"), {"status": "paused", "next": "https://evil.example/x"}
    )
    assert response.status_code == 302
    assert response.url == reverse("core:home")
    agent.refresh_from_db()
    assert agent.agent_status == AgentStatus.PAUSED


def test_status_toggle_htmx_returns_partial(client, agent):
    client.force_login(agent)
    response = client.post(
        reverse("users:agent_status"), {"status": "paused"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="agent-status"' in body
    assert 'data-status="paused"' in body
    assert "En pausa" in body
    assert "<html" not in body
    agent.refresh_from_db()
    assert agent.agent_status == AgentStatus.PAUSED


def test_status_toggle_get_renders_current_state(client, agent):
    services.set_agent_status(user=agent, status=AgentStatus.ACTIVE, by=agent)
    client.force_login(agent)
    response = client.get(reverse("users:agent_status"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'data-status="active"' in response.content.decode()


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize("status", ["", "ocupado", "ACTIVE"])
def test_status_toggle_invalid_value_is_400_and_unchanged(client, agent, htmx, status):
    client.force_login(agent)
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = client.post(reverse("users:agent_status"), {"status": status}, **extra)
    assert response.status_code == 400
    assert "Estado desconocido." in response.content.decode()
    agent.refresh_from_db()
    assert agent.agent_status == AgentStatus.OFFLINE
    assert not AuditEntry.objects.exists()


def test_status_toggle_needs_login(client, db):
    response = client.post(reverse("users:agent_status"), {"status": "active"})
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


# --- list views run a bounded number of queries --------------------------------------------------


def _people(n: int, teams: list[Team]) -> None:
    for _ in range(n):
        person = UserFactory()
        person.teams.set(teams)


def _teams(n: int, members: list[User]) -> None:
    for _ in range(n):
        TeamFactory().members.set(members)


def _count(request) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = request()
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_users_list_ui_query_count_does_not_grow(client, admin_user):
    teams = [TeamFactory(name="Servicio"), TeamFactory(name="Ventas")]
    client.force_login(admin_user)
    _people(3, teams)
    few = _count(lambda: client.get(reverse("users:list")))
    _people(30, teams)
    many = _count(lambda: client.get(reverse("users:list")))
    assert few == many
    assert many <= 12


def test_users_api_query_count_does_not_grow(client, admin_user, api_token):
    teams = [TeamFactory(name="Servicio"), TeamFactory(name="Ventas")]
    headers = api_token(admin_user)
    client.get("/api/v1/me", headers=headers)  # the token's first use is recorded once
    _people(3, teams)
    few = _count(lambda: client.get("/api/v1/users", headers=headers))
    _people(30, teams)
    response = client.get("/api/v1/users", headers=headers)
    assert response.json()["count"] == 34
    many = _count(lambda: client.get("/api/v1/users", headers=headers))
    assert few == many
    assert many <= 8


def test_teams_list_ui_and_api_query_count_does_not_grow(client, admin_user, api_token):
    members = [UserFactory(), UserFactory(), UserFactory()]
    headers = api_token(admin_user)
    client.get("/api/v1/me", headers=headers)
    client.force_login(admin_user)
    _teams(3, members)
    few_ui = _count(lambda: client.get(reverse("users:teams")))
    few_api = _count(lambda: client.get("/api/v1/teams", headers=headers))
    _teams(30, members)
    many_ui = _count(lambda: client.get(reverse("users:teams")))
    many_api = _count(lambda: client.get("/api/v1/teams", headers=headers))
    assert few_ui == many_ui
    assert few_api == many_api
    assert client.get("/api/v1/teams", headers=headers).json()["count"] == 33


def test_online_list_query_count_does_not_grow(client, supervisor):
    def connect(n: int) -> None:
        for _ in range(n):
            services.register_connection(
                user=UserFactory(), channel_name=f"c.{User.objects.count()}"
            )

    client.force_login(supervisor)
    connect(3)
    few = _count(lambda: client.get(reverse("users:online")))
    connect(30)
    response = client.get(reverse("users:online"))
    assert response.content.decode().count("data-user-id=") >= 33
    many = _count(lambda: client.get(reverse("users:online")))
    assert few == many
