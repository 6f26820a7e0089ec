"""/api/v1: bearer tokens (hashed, revocable, shown once); users, teams and status endpoints."""

import hashlib
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from atiende.core.models import AuditEntry
from atiende.users import services
from atiende.users.models import AgentStatus, ApiToken, Role, User
from atiende.users.tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

UNAUTHORIZED = {"detail": "Token ausente o inválido."}
TOKEN_RE = re.compile(r"atk_[0-9a-f]{8}_[A-Za-z0-9_-]{43}")


def _bearer(plain: str) -> dict:
    return {"Authorization": f"Bearer {plain}"}


# --- authentication -----------------------------------------------------------------------


def test_missing_token_is_401_json(client, agent):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == UNAUTHORIZED


def test_session_login_alone_does_not_open_the_api(client, agent):
    client.force_login(agent)
    assert client.get("/api/v1/me").status_code == 401


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Token {plain}",
        "Basic YWdlbnRlOmNsYXZl",
        "{plain}",
        "Bearer nada",
        "Bearer atk_",
        "Bearer atk__",
        "Bearer xyz_{prefix}_{secret}",
    ],
)
def test_malformed_authorization_is_401_json(client, agent, header):
    _token, plain = services.issue_api_token(user=agent, name="pruebas", by=None)
    _atk, prefix, secret = plain.split("_", 2)
    value = header.format(plain=plain, prefix=prefix, secret=secret)
    response = client.get("/api/v1/me", HTTP_AUTHORIZATION=value)
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


def test_invalid_token_is_401_json(client, agent):
    token, plain = services.issue_api_token(user=agent, name="pruebas", by=None)
    # Right prefix, wrong secret; and an unknown prefix.
    wrong_secret = plain[:-4] + ("aaaa" if not plain.endswith("aaaa") else "bbbb")
    unknown_prefix = plain.replace(token.prefix, "00000000" if token.prefix != "00000000" else "1")
    for value in (wrong_secret, unknown_prefix):
        response = client.get("/api/v1/me", headers=_bearer(value))
        assert response.status_code == 401
        assert response.json() == UNAUTHORIZED
    token.refresh_from_db()
    assert token.last_used_at is None


def test_revoked_token_is_401_json(client, agent):
    token, plain = services.issue_api_token(user=agent, name="pruebas", by=None)
    assert client.get("/api/v1/me", headers=_bearer(plain)).status_code == 200
    services.revoke_api_token(token=token, by=agent)
    response = client.get("/api/v1/me", headers=_bearer(plain))
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


def test_token_of_deactivated_user_is_401(client, agent):
    _token, plain = services.issue_api_token(user=agent, name="pruebas", by=None)
    agent.is_active = False
    agent.save(update_fields=["is_active"])
    assert client.get("/api/v1/me", headers=_bearer(plain)).status_code == 401


def test_token_is_stored_hashed_only(client, agent):
    token, plain = services.issue_api_token(user=agent, name="pruebas", by=None)
    assert TOKEN_RE.fullmatch(plain)
    secret = plain.split("_", 2)[2]
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    stored = " ".join(str(value) for value in row.values())
    assert plain not in stored
    assert secret not in stored
    assert row["key_hash"] == hashlib.sha256(plain.encode()).hexdigest()
    assert row["prefix"] == plain.split("_")[1]
    # Nor is it written to the audit trail.
    assert not any(plain in str(e.changes) for e in AuditEntry.objects.all())


def test_token_use_is_recorded(client, agent):
    token, plain = services.issue_api_token(user=agent, name="pruebas", by=None)
    assert client.get("/api/v1/me", headers=_bearer(plain)).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_create_api_token_command_prints_a_working_token(client, agent):
    out = StringIO()
    call_command("create_api_token", "agente", "--name", "Core de pólizas", stdout=out)
    plain = out.getvalue().strip()
    assert TOKEN_RE.fullmatch(plain)
    token = ApiToken.objects.get(user=agent)
    assert token.name == "Core de pólizas"
    response = client.get("/api/v1/me", headers=_bearer(plain))
    assert response.status_code == 200
    assert response.json()["username"] == "agente"


def test_create_api_token_command_refuses_unknown_or_inactive_user(agent):
    with pytest.raises(CommandError, match="nadie"):
        call_command("create_api_token", "nadie", stdout=StringIO())
    agent.is_active = False
    agent.save(update_fields=["is_active"])
    with pytest.raises(CommandError):
        call_command("create_api_token", "agente", stdout=StringIO())
    assert not ApiToken.objects.exists()


# --- tokens in the UI: shown exactly once ---------------------------------------------------


def test_tokens_page_shows_new_token_once_then_only_prefix(client, agent):
    client.force_login(agent)
    response = client.post(reverse("users:api_tokens"), {"name": "Integración"})
    assert response.status_code == 200
    body = response.content.decode()
    shown = TOKEN_RE.findall(body)
    assert len(set(shown)) == 1
    plain = shown[0]
    assert "no volverá a mostrarse" in body

    token = ApiToken.objects.get(user=agent)
    assert token.name == "Integración"
    assert client.get("/api/v1/me", headers=_bearer(plain)).status_code == 200

    again = client.get(reverse("users:api_tokens")).content.decode()
    assert plain not in again
    assert plain.split("_", 2)[2] not in again
    assert f"atk_{token.prefix}_…" in again
    assert "Integración" in again


def test_tokens_page_requires_a_name(client, agent):
    client.force_login(agent)
    response = client.post(reverse("users:api_tokens"), {"name": "  "})
    assert response.status_code == 200
    assert "Este campo es obligatorio." in response.content.decode()
    assert not ApiToken.objects.exists()


def test_revoke_from_ui_stops_the_token(client, agent):
    token, plain = services.issue_api_token(user=agent, name="pruebas", by=None)
    client.force_login(agent)
    response = client.post(reverse("users:api_token_revoke", args=[token.pk]))
    assert response.status_code == 302
    assert Client().get("/api/v1/me", headers=_bearer(plain)).status_code == 401


def test_cannot_revoke_someone_elses_token_in_ui(client, agent):
    other = UserFactory(username="otra")
    token, plain = services.issue_api_token(user=other, name="suyo", by=None)
    client.force_login(agent)
    assert client.post(reverse("users:api_token_revoke", args=[token.pk])).status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is None
    assert client.get("/api/v1/me", headers=_bearer(plain)).status_code == 200


def test_tokens_api_shows_secret_only_on_creation(client, agent, api_token):
    headers = api_token(agent)
    created = client.post(
        "/api/v1/tokens", data={"name": "Script"}, content_type="application/json", headers=headers
    )
    assert created.status_code == 201
    plain = created.json()["token"]
    assert TOKEN_RE.fullmatch(plain)
    listed = client.get("/api/v1/tokens", headers=headers)
    assert listed.status_code == 200
    assert plain not in listed.content.decode()
    assert all("token" not in item for item in listed.json())
    assert {item["name"] for item in listed.json()} == {"pruebas", "Script"}

    token_id = created.json()["id"]
    revoked = client.delete(f"/api/v1/tokens/{token_id}", headers=headers)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert client.get("/api/v1/me", headers=_bearer(plain)).status_code == 401


# --- users, teams, status ----------------------------------------------------------------------


def test_me(client, agent, api_token):
    team = TeamFactory(name="Servicio")
    agent.teams.set([team])
    response = client.get("/api/v1/me", headers=api_token(agent))
    assert response.status_code == 200
    assert response.json() == {
        "id": agent.pk,
        "username": "agente",
        "name": "María González",
        "initials": "MG",
        "email": "agente@example.com",
        "role": "agent",
        "agent_status": "offline",
        "time_zone": agent.time_zone,
        "language": "es",
        "is_active": True,
        "teams": [{"id": team.pk, "name": "Servicio"}],
    }


def test_users_list_filters_and_paginates(client, admin_user, agent, supervisor, api_token):
    headers = api_token(admin_user)
    cobranza = TeamFactory(name="Cobranza")
    agent.teams.set([cobranza])
    response = client.get("/api/v1/users", headers=headers)
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 3
    assert {u["username"] for u in data["items"]} == {"jefa", "agente", "super"}

    by_role = client.get("/api/v1/users", {"role": "supervisor"}, headers=headers).json()
    assert [u["username"] for u in by_role["items"]] == ["super"]
    by_team = client.get("/api/v1/users", {"team": cobranza.pk}, headers=headers).json()
    assert [u["username"] for u in by_team["items"]] == ["agente"]
    by_text = client.get("/api/v1/users", {"q": "gonzález"}, headers=headers).json()
    assert [u["username"] for u in by_text["items"]] == ["agente"]


def test_user_detail_and_404_json(client, supervisor, agent, api_token):
    headers = api_token(supervisor)
    response = client.get(f"/api/v1/users/{agent.pk}", headers=headers)
    assert response.status_code == 200
    assert response.json()["username"] == "agente"

    missing = client.get("/api/v1/users/999999", headers=headers)
    assert missing.status_code == 404
    assert missing["Content-Type"].startswith("application/json")
    assert "detail" in missing.json()

    patch_missing = client.patch(
        "/api/v1/users/999999",
        data={"role": "agent"},
        content_type="application/json",
        headers=api_token(UserFactory(role=Role.ADMIN)),
    )
    assert patch_missing.status_code == 404
    assert "detail" in patch_missing.json()


def test_agent_cannot_read_another_user_through_api(client, agent, supervisor, api_token):
    response = client.get(f"/api/v1/users/{supervisor.pk}", headers=api_token(agent))
    assert response.status_code == 403
    assert response.json() == {"detail": "No tienes permiso para realizar esta acción."}


def test_teams_list(client, supervisor, agent, api_token):
    ventas = TeamFactory(name="Ventas", description="Cotizaciones")
    servicio = TeamFactory(name="Servicio")
    ventas.members.set([agent, supervisor])
    response = client.get("/api/v1/teams", headers=api_token(supervisor))
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 2
    assert data["items"] == [
        {"id": servicio.pk, "name": "Servicio", "description": "", "member_ids": []},
        {
            "id": ventas.pk,
            "name": "Ventas",
            "description": "Cotizaciones",
            # ordered by display name: Jorge Benítez, María González
            "member_ids": [supervisor.pk, agent.pk],
        },
    ]


def test_admin_creates_user_and_team_through_api(client, admin_user, agent, api_token):
    headers = api_token(admin_user)
    team = client.post(
        "/api/v1/teams",
        data={"name": "Cobranza", "member_ids": [agent.pk]},
        content_type="application/json",
        headers=headers,
    )
    assert team.status_code == 201
    assert team.json()["member_ids"] == [agent.pk]
    created = client.post(
        "/api/v1/users",
        data={
            "username": "lucia",
            "password": "clave-nueva-789",
            "display_name": "Lucía Ramírez",
            "team_ids": [team.json()["id"]],
        },
        content_type="application/json",
        headers=headers,
    )
    assert created.status_code == 201
    assert created.json()["teams"] == [{"id": team.json()["id"], "name": "Cobranza"}]
    assert User.objects.get(username="lucia").check_password("clave-nueva-789")


def test_api_user_creation_with_bad_input_is_422_and_creates_nothing(client, admin_user, api_token):
    headers = api_token(admin_user)
    cases = [
        ({"username": "jefa", "password": "clave-nueva-789"}, "username"),
        ({"username": "lucia", "password": "123"}, "password"),
        ({"username": "lucia", "password": "clave-nueva-789", "role": "jefe"}, "role"),
        ({"username": "lucia", "password": "clave-nueva-789", "team_ids": [9999]}, "team_ids"),
    ]
    for payload, field in cases:
        response = client.post(
            "/api/v1/users", data=payload, content_type="application/json", headers=headers
        )
        assert response.status_code == 422, payload
        assert field in response.json()["detail"], response.json()
    assert list(User.objects.values_list("username", flat=True)) == ["jefa"]


def test_status_change_through_api(client, agent, api_token):
    headers = api_token(agent)
    response = client.put(
        "/api/v1/me/status",
        data={"status": "active"},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 200
    assert response.json()["agent_status"] == "active"
    agent.refresh_from_db()
    assert agent.agent_status == AgentStatus.ACTIVE


@pytest.mark.parametrize(
    "body, content_type",
    [
        ('{"status": "ocupado"}', "application/json"),
        ('{"status": ""}', "application/json"),
        ('{"status": 3}', "application/json"),
        ('{"estado": "paused"}', "application/json"),
        ("{}", "application/json"),
        ("no es json", "application/json"),
    ],
)
def test_bad_status_through_api_is_4xx_json_and_changes_nothing(
    client, agent, api_token, body, content_type
):
    response = client.put(
        "/api/v1/me/status", data=body, content_type=content_type, headers=api_token(agent)
    )
    assert 400 <= response.status_code < 500
    assert response.status_code in (400, 422)
    assert response["Content-Type"].startswith("application/json")
    assert "detail" in response.json()
    agent.refresh_from_db()
    assert agent.agent_status == AgentStatus.OFFLINE
    assert not AuditEntry.objects.filter(object_id=str(agent.pk), action="update").exists()


def test_unknown_status_names_the_field_in_spanish(client, agent, api_token):
    response = client.put(
        "/api/v1/me/status",
        data={"status": "ocupado"},
        content_type="application/json",
        headers=api_token(agent),
    )
    assert response.status_code == 422
    assert response.json() == {"detail": {"status": ["Estado desconocido."]}}


def test_agent_cannot_change_someone_elses_status(client, agent, api_token):
    other = UserFactory(username="otra")
    response = client.put(
        f"/api/v1/users/{other.pk}/status",
        data={"status": "active"},
        content_type="application/json",
        headers=api_token(agent),
    )
    assert response.status_code == 403
    other.refresh_from_db()
    assert other.agent_status == AgentStatus.OFFLINE


# --- documentation -------------------------------------------------------------------------------


def test_docs_and_openapi_are_served(client, db):
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    assert b"openapi.json" in docs.content
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    data = schema.json()
    assert data["info"]["title"] == "Atiende API"
    assert "/api/v1/me" in data["paths"]
    assert "/api/v1/users/{user_id}" in data["paths"]
    assert "get" in data["paths"]["/api/v1/users/{user_id}"]
