"""Logging in and out: Spanish errors, throttling, password change, CSRF and cookie settings."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from atiende.users import services
from atiende.users.models import AgentStatus, LoginAttempt
from atiende.users.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN_URL = reverse("login")
WRONG_LOGIN = "Usuario o contraseña incorrectos"
LOCKED = "Demasiados intentos fallidos"


def _login(client, username: str, password: str):
    return client.post(LOGIN_URL, {"username": username, "password": password})


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def _fail(client, username: str, times: int) -> None:
    for _ in range(times):
        response = _login(client, username, "no-es-la-clave")
        assert response.status_code == 200
        assert WRONG_LOGIN in response.content.decode()


def _age_attempts(minutes: int) -> None:
    """Move every recorded attempt `minutes` into the past instead of sleeping."""
    for attempt in LoginAttempt.objects.all():
        LoginAttempt.objects.filter(pk=attempt.pk).update(
            at=attempt.at - timedelta(minutes=minutes)
        )


# --- login -----------------------------------------------------------------------------


def test_login_page_is_spanish(client):
    response = client.get(LOGIN_URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Ingresar" in body
    assert "Contraseña" in body


def test_login_with_right_password_logs_in_and_redirects_home(client, agent):
    response = _login(client, "agente", PASSWORD)
    assert response.status_code == 302
    assert response.url == reverse("core:home")
    assert _logged_in(client)
    assert int(client.session["_auth_user_id"]) == agent.pk
    assert LoginAttempt.objects.filter(username="agente", succeeded=True).count() == 1


def test_login_with_wrong_password_shows_spanish_error(client, agent):
    response = _login(client, "agente", "otra-clave")
    assert response.status_code == 200
    body = response.content.decode()
    assert WRONG_LOGIN in body
    assert "distinguen mayúsculas y minúsculas" in body
    assert not _logged_in(client)
    assert LoginAttempt.objects.filter(username="agente", succeeded=False).count() == 1


def test_login_of_unknown_user_shows_same_error(client, db):
    response = _login(client, "nadie", PASSWORD)
    assert WRONG_LOGIN in response.content.decode()
    assert not _logged_in(client)


def test_inactive_user_cannot_log_in(client, agent):
    agent.is_active = False
    agent.save(update_fields=["is_active"])
    response = _login(client, "agente", PASSWORD)
    assert response.status_code == 200
    assert not _logged_in(client)


# --- throttling ------------------------------------------------------------------------


@pytest.fixture
def limit() -> int:
    return settings.ATIENDE_LOGIN_MAX_FAILURES


def test_lockout_after_configured_failures_refuses_even_right_password(client, agent, limit):
    _fail(client, "agente", limit - 1)
    # One below the limit: the right password still works.
    assert services.login_lockout_minutes(username="agente", ip_address="127.0.0.1") == 0
    _fail(Client(), "agente", 1)

    minutes = services.login_lockout_minutes(username="agente", ip_address="127.0.0.1")
    assert 1 <= minutes <= settings.ATIENDE_LOGIN_LOCKOUT_MINUTES + 1

    response = _login(client, "agente", PASSWORD)
    body = response.content.decode()
    assert response.status_code == 200
    assert LOCKED in body
    assert f"espera {minutes} minutos" in body
    assert not _logged_in(client)
    # A refused try while locked is not counted as a new failure nor as a success.
    assert LoginAttempt.objects.filter(username="agente").count() == limit


def test_lockout_is_per_username_and_case_insensitive(client, agent, limit):
    UserFactory(username="otro")
    _fail(client, "AGENTE", limit)
    assert LOCKED in _login(client, "agente", PASSWORD).content.decode()
    # Another person behind the same address may still log in.
    assert _login(client, "otro", PASSWORD).status_code == 302


def test_lockout_expires_after_the_window(client, agent, limit):
    _fail(client, "agente", limit)
    assert LOCKED in _login(client, "agente", PASSWORD).content.decode()

    _age_attempts(settings.ATIENDE_LOGIN_LOCKOUT_MINUTES - 1)
    assert services.login_lockout_minutes(username="agente", ip_address="127.0.0.1") >= 1
    assert LOCKED in _login(client, "agente", PASSWORD).content.decode()

    _age_attempts(2)
    assert services.login_lockout_minutes(username="agente", ip_address="127.0.0.1") == 0
    response = _login(client, "agente", PASSWORD)
    assert response.status_code == 302
    assert _logged_in(client)


def test_success_resets_the_failure_counter(client, agent, limit):
    _fail(client, "agente", limit - 1)
    assert _login(Client(), "agente", PASSWORD).status_code == 302

    _fail(client, "agente", limit - 1)
    # limit - 1 failures since the success: not locked although 2 * (limit - 1) in the window.
    assert services.login_lockout_minutes(username="agente", ip_address="127.0.0.1") == 0
    assert _login(Client(), "agente", PASSWORD).status_code == 302

    _fail(client, "agente", limit)
    assert LOCKED in _login(client, "agente", PASSWORD).content.decode()


def test_lockout_by_address_after_four_times_the_limit(client, db, limit):
    UserFactory(username="victima")
    for n in range(limit * 4):
        _login(client, f"intruso{n}", "x")
    # Each username failed once, but the address is now locked for everyone behind it.
    assert services.login_lockout_minutes(username="victima", ip_address="127.0.0.1") >= 1
    assert LOCKED in _login(client, "victima", PASSWORD).content.decode()
    # From another address the same person logs in.
    other = Client(REMOTE_ADDR="10.0.0.9")
    assert other.post(LOGIN_URL, {"username": "victima", "password": PASSWORD}).status_code == 302


def test_old_failures_outside_window_do_not_count(db, limit):
    old = timezone.now() - timedelta(minutes=settings.ATIENDE_LOGIN_LOCKOUT_MINUTES + 1)
    LoginAttempt.objects.bulk_create(
        LoginAttempt(username="agente", ip_address="127.0.0.1", at=old) for _ in range(limit)
    )
    assert services.login_lockout_minutes(username="agente", ip_address="127.0.0.1") == 0


# --- logout ----------------------------------------------------------------------------


def test_logout_by_get_is_refused(client, agent):
    client.force_login(agent)
    response = client.get(reverse("users:logout"))
    assert response.status_code == 405
    assert _logged_in(client)


def test_logout_sets_agent_offline_and_ends_session(client, agent):
    services.set_agent_status(user=agent, status=AgentStatus.ACTIVE, by=agent)
    client.force_login(agent)
    response = client.post(reverse("users:logout"))
    assert response.status_code == 302
    assert response.url == reverse("login")
    assert not _logged_in(client)
    agent.refresh_from_db()
    assert agent.agent_status == AgentStatus.OFFLINE
    # The home page now asks to log in.
    home = client.get(reverse("core:home"))
    assert home.status_code == 302
    assert home.url.startswith(LOGIN_URL)


# --- password change ---------------------------------------------------------------------


def test_password_change_wrong_old_password_spanish_error(client, agent):
    client.force_login(agent)
    response = client.post(
        reverse("users:password_change"),
        {
            "old_password": "no-es-la-clave",
            "new_password1": "otra-clave-larga-456",
            "new_password2": "otra-clave-larga-456",
        },
    )
    assert response.status_code == 200
    assert "Su contraseña antigua es incorrecta" in response.content.decode()
    agent.refresh_from_db()
    assert agent.check_password(PASSWORD)


def test_password_change_then_new_password_works(client, agent):
    client.force_login(agent)
    new = "otra-clave-larga-456"
    response = client.post(
        reverse("users:password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    assert response.url == reverse("users:profile")
    # The session survives the change (Django updates the session hash).
    assert client.get(reverse("users:profile")).status_code == 200

    fresh = Client()
    assert WRONG_LOGIN in _login(fresh, "agente", PASSWORD).content.decode()
    assert _login(fresh, "agente", new).status_code == 302


def test_password_change_requires_login(client, db):
    response = client.get(reverse("users:password_change"))
    assert response.status_code == 302
    assert response.url.startswith(LOGIN_URL)


# --- CSRF and cookies ---------------------------------------------------------------------


def test_login_post_without_csrf_token_is_refused(agent):
    csrf_client = Client(enforce_csrf_checks=True)
    response = csrf_client.post(LOGIN_URL, {"username": "agente", "password": PASSWORD})
    assert response.status_code == 403
    assert not _logged_in(csrf_client)


def test_login_post_with_csrf_token_is_accepted(agent):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.get(LOGIN_URL)
    token = csrf_client.cookies[settings.CSRF_COOKIE_NAME].value
    response = csrf_client.post(
        LOGIN_URL, {"username": "agente", "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert _logged_in(csrf_client)


def test_state_changing_post_without_csrf_is_refused(agent):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(agent)
    response = csrf_client.post(reverse("users:agent_status"), {"status": "paused"})
    assert response.status_code == 403
    agent.refresh_from_db()
    assert agent.agent_status == AgentStatus.OFFLINE
    assert csrf_client.post(reverse("users:logout")).status_code == 403


def test_session_and_csrf_cookie_flags(client, agent):
    page = client.get(LOGIN_URL)
    csrf_cookie = page.cookies[settings.CSRF_COOKIE_NAME]
    assert csrf_cookie["samesite"] == "Lax"

    response = _login(client, "agente", PASSWORD)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) == settings.SESSION_COOKIE_AGE


# --- a person's language stays within their request -----------------------------------------------


def test_english_user_request_does_not_leave_english_active(client, agent):
    from django.utils import translation

    agent.language = "en"
    agent.save(update_fields=["language"])
    client.force_login(agent)
    response = client.get(reverse("users:profile"))
    assert response["Content-Language"] == "en"
    # Code that runs after the request in the same thread (jobs, events) is back to Spanish.
    assert translation.get_language() == settings.LANGUAGE_CODE
    assert str(AgentStatus.PAUSED.label) == "En pausa"
