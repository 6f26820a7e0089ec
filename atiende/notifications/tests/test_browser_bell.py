"""Chromium: a notification lights the bell live (badge and toast), the dropdown lists it with
filters, "Marcar todas como leídas" clears the badge, and opening one goes to its page."""

import pytest

from atiende.core.tests.test_browser import _shot, page  # noqa: F401  (fixtures)
from atiende.inbox.tests.test_browser_inbox import _in_thread, inproc_server  # noqa: F401
from atiende.notifications import services
from atiende.users.tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_bell_lights_up_live_and_marks_read(inproc_server, page, agent, supervisor):  # noqa: F811
    from playwright.sync_api import expect

    server = inproc_server
    _in_thread(
        services.notify, recipients=[agent], kind="task_due", title="Llamar a Ana Pérez", url="/x/"
    )

    def settled():
        """htmx has swapped and wired the panel (a person never acts within those milliseconds)."""
        page.wait_for_function(
            "!document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
        )
        page.wait_for_timeout(150)

    page.goto(f"{server}/cuenta/ingresar/")
    page.get_by_label("Usuario").fill("agente")
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()
    expect(page.locator("#socket-state")).to_have_attribute("data-state", "open")
    badge = page.locator("#bell-count")
    expect(badge).to_have_attribute("data-unread", "1")

    _in_thread(
        services.notify,
        recipients=[agent],
        kind="escalation",
        title="Escalamiento a Tecnología: T-000124",
        body="La app no muestra la póliza renovada.",
        url="/notificaciones/",
        actor=supervisor,
    )
    expect(badge).to_have_attribute("data-unread", "2")
    expect(badge).to_be_visible()
    expect(page.locator(".toast")).to_contain_text("Escalamiento a Tecnología: T-000124")

    page.locator("#bell").click()
    items = page.locator("#bell-panel .notif-item")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("Escalamiento a Tecnología")
    settled()
    _shot(page, "bell-open")
    page.locator("#bell-tipo").select_option("task_due")
    expect(items).to_have_count(1)
    settled()
    page.locator("#bell-tipo").select_option("")
    expect(items).to_have_count(2)
    settled()
    page.get_by_role("button", name="Marcar todas como leídas").click()
    expect(badge).to_be_hidden()
    expect(page.locator("#bell-panel .is-unread")).to_have_count(0)
    settled()

    items.first.click()
    expect(page).to_have_url(f"{server}/notificaciones/")
