"""Chromium, guide 001 step by step: from the contact profile's Tickets card "Agregar", choose
Tech Issues, answer qué / cómo / dónde, paste a screenshot from the clipboard, choose the priority
and create; the ticket page shows the escalation and the engineer's bell lights up live in a
second browser; the engineer then moves the ticket on the board and the agent who owns it hears of
it live."""

import base64
import struct
import zlib

import pytest

from atiende.contacts.tests.factories import AccountFactory, make_contact
from atiende.core.tests.test_browser import _shot, page  # noqa: F401  (fixtures)
from atiende.inbox.tests.test_browser_inbox import inproc_server  # noqa: F401  (fixture)
from atiende.tickets.models import Ticket
from atiende.users.tests.factories import PASSWORD, TeamFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _png(width: int = 40, height: int = 30) -> bytes:
    """A real (red) PNG, handed to the page as if copied to the clipboard."""
    row = b"\x00" + bytes((220, 53, 69)) * width
    raw = zlib.compress(row * height)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


PNG = base64.b64encode(_png()).decode()
PASTE = (
    """(selector) => {
  const bytes = Uint8Array.from(atob('PNG_BASE64'), (c) => c.charCodeAt(0));
  const data = new DataTransfer();
  data.items.add(new File([bytes], 'image.png', {type: 'image/png'}));
  document.querySelector(selector).dispatchEvent(
    new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true}));
}"""
).replace("PNG_BASE64", PNG)


def _login(tab, server, username):
    tab.goto(f"{server}/cuenta/ingresar/")
    tab.get_by_label("Usuario").fill(username)
    tab.get_by_label("Contraseña").fill(PASSWORD)
    tab.get_by_role("button", name="Ingresar").click()
    tab.wait_for_url(f"{server}/**")


def test_escalation_from_the_contact_profile_reaches_the_engineer(
    inproc_server,  # noqa: F811
    page,  # noqa: F811
    agent,
):
    from playwright.sync_api import expect

    server = inproc_server
    engineer = UserFactory(username="ingeniero", display_name="Iván Ingeniero")
    TeamFactory(name="Tech").members.add(engineer)
    contact = make_contact(first_name="Lucía", last_name="Ramírez")
    AccountFactory(contact=contact, number="POL-4455", product="Seguro automotor")

    # The engineer is signed in elsewhere, bell dark.
    other = page.context.browser.new_context(viewport={"width": 1366, "height": 860})
    engineer_page = other.new_page()
    _login(engineer_page, server, "ingeniero")
    expect(engineer_page.locator("#socket-state")).to_have_attribute("data-state", "open")
    expect(engineer_page.locator("#bell-count")).to_be_hidden()

    _login(page, server, "agente")
    page.goto(f"{server}/contactos/{contact.pk}/")
    page.locator("#contact-tickets [data-action=add-ticket]").click()
    expect(page.locator("#ticket-create")).to_be_visible()
    expect(page.locator("#escalation-section")).to_be_hidden()

    page.select_option("#id_account", label="POL-4455 · Seguro automotor")
    tech = page.locator("#id_stage option[data-escalation]").get_attribute("value")
    page.select_option("#id_stage", tech)
    expect(page.locator("#escalation-section")).to_be_visible()
    expect(page.locator("#id_name")).to_have_value("POL-4455 \u2013 Lucía Ramírez")

    # Forgetting ¿Dónde? and the priority is refused, naming them; nothing is created.
    page.select_option("#id_priority", "")
    page.fill("#id_what", "El endoso no guarda la nueva placa")
    page.fill("#id_how", "Al pulsar Guardar en el endoso de vehículo")
    page.locator("[data-action=create]").click()
    expect(page.locator("#form-errors")).to_contain_text("¿Dónde ocurrió?")
    expect(page.locator("#form-errors")).to_contain_text("Falta la prioridad")
    assert not Ticket.objects.exists()

    page.fill("#id_where", "Portal web, Mis pólizas, Endosos")
    page.select_option("#id_priority", "high")
    page.evaluate(PASTE, "[data-paste-area]")
    expect(page.locator("#escalation-section .paste-preview img")).to_have_count(1)
    _shot(page, "ticket-create-escalation")
    page.locator("[data-action=create]").click()

    page.wait_for_url(f"{server}/tickets/*/")
    expect(page.locator(".messages")).to_contain_text("escalado a Tech")
    expect(page.locator("#ticket-escalation")).to_contain_text("El endoso no guarda la nueva placa")
    expect(page.locator("#ticket-escalation .file-thumb img")).to_have_count(1)
    expect(page.locator("#ticket-header [data-stage]")).to_have_attribute(
        "data-stage", "tech_issues"
    )
    _shot(page, "ticket-page-escalated")

    ticket = Ticket.objects.get()
    assert ticket.name == "POL-4455 \u2013 Lucía Ramírez" and ticket.priority == "high"

    # The engineer's bell lights up without reloading, and the notification opens the ticket.
    expect(engineer_page.locator("#bell-count")).to_have_attribute("data-unread", "1")
    engineer_page.locator("#bell").click()
    item = engineer_page.locator("#bell-panel .notif-item").first
    expect(item).to_contain_text("Escalación a Tech")
    item.click()
    expect(engineer_page).to_have_url(f"{server}/tickets/{ticket.pk}/")

    # Fixed: the engineer drags the card from Tech Issues to "Esperando por nosotros".
    assert ticket.owner == agent
    waiting = ticket.pipeline.stages.get(key="waiting_on_us")
    engineer_page.goto(f"{server}/tickets/tablero/")
    card = engineer_page.locator(f'.ticket-card[data-ticket="{ticket.pk}"]')
    column = engineer_page.locator(f'.board-col[data-stage="{waiting.pk}"]')
    card.drag_to(column.locator("[data-dropzone]"))
    expect(column.locator(f'.ticket-card[data-ticket="{ticket.pk}"]')).to_be_visible()
    expect(engineer_page.locator("#board-status")).to_contain_text("Esperando por nosotros")
    _shot(engineer_page, "board-after-engineer-move")
    expect(page.locator("#bell-count")).to_have_attribute("data-unread", "1")
    ticket.refresh_from_db()
    assert ticket.stage == waiting
    other.close()
