"""Chromium drives the real embedded server: log in, Spanish layout, toggle status, log out."""

import os
import shutil
from pathlib import Path

import pytest

from atiende.core.tests.live import atiende_process, free_port, process_env, wait_until_serving
from atiende.users.models import AgentStatus, User
from atiende.users.tests.factories import PASSWORD

CHROMIUM = os.environ.get("ATIENDE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = (
    Path(os.environ.get("ATIENDE_SCREENSHOTS", ""))
    if os.environ.get("ATIENDE_SCREENSHOTS")
    else None
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server(tmp_path):
    port = free_port()
    with atiende_process("run", process_env(tmp_path), "--port", str(port)) as process:
        wait_until_serving(port, process)
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def page(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; our ORM calls here are plain sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's `chromium` package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        context = browser.new_context(locale="en-US", viewport={"width": 1366, "height": 860})
        yield context.new_page()
        context.close()
        browser.close()


def _shot(page, name: str) -> None:
    if ARTIFACTS:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _htmx_settled(page) -> None:
    """htmx wires up swapped-in content only when it settles (20 ms later): an event fired on a
    new element before that is lost, so wait until nothing is swapping or settling."""
    from playwright.sync_api import expect

    expect(
        page.locator(".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added")
    ).to_have_count(0)


def test_login_spanish_layout_toggle_status_and_logout(server, page, agent):
    from playwright.sync_api import expect

    page.goto(f"{server}/")
    # An English browser still gets Spanish: Atiende is Spanish first.
    expect(page.get_by_role("heading", name="Ingresar")).to_be_visible()
    _shot(page, "login")
    page.get_by_label("Usuario").fill("agente")
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()

    expect(page.get_by_role("heading", name="Hola, María González")).to_be_visible()
    nav = page.get_by_role("navigation", name="Navegación principal")
    for item in ["Inicio", "Inbox", "Contactos", "Tickets", "Cobranza", "Reportes", "Ajustes"]:
        expect(nav.get_by_role("link", name=item)).to_be_visible()
    expect(page.get_by_role("searchbox", name="Buscar")).to_be_visible()
    expect(page.get_by_role("button", name="Notificaciones")).to_be_visible()
    expect(page.locator("#socket-state")).to_have_attribute("data-state", "open")
    _shot(page, "home")

    status = page.locator("#agent-status")
    expect(status).to_have_attribute("data-status", "offline")
    status.get_by_role("button").click()
    page.locator("[data-status-option=paused]").click()
    expect(page.locator("#agent-status")).to_have_attribute("data-status", "paused")
    expect(page.locator("#agent-status .status-label")).to_have_text("En pausa")
    assert User.objects.get(pk=agent.pk).agent_status == AgentStatus.PAUSED

    page.get_by_role("button", name="Menú de usuario").click()
    page.get_by_role("button", name="Cerrar sesión").click()
    expect(page.get_by_role("heading", name="Ingresar")).to_be_visible()
    assert User.objects.get(pk=agent.pk).agent_status == AgentStatus.OFFLINE
    page.goto(f"{server}/")
    expect(page).to_have_url(f"{server}/cuenta/ingresar/?next=/")


def test_wrong_password_shows_spanish_error(server, page, agent):
    from playwright.sync_api import expect

    page.goto(f"{server}/cuenta/ingresar/")
    page.get_by_label("Usuario").fill("agente")
    page.get_by_label("Contraseña").fill("incorrecta")
    page.get_by_role("button", name="Ingresar").click()
    expect(page.get_by_role("alert")).to_contain_text("Usuario o contraseña incorrectos")
