"""Chromium: drag a card to another column (saved through the change-stage service), try the
"Mover a…" menu into Tech Issues without an escalation (the card goes back and the escalation form
is offered), then build an advanced filter on the list with htmx rows and save it as a view."""

import re
import time

import pytest

from atiende.core.tests.test_browser import _htmx_settled, _shot, page  # noqa: F401  (fixtures)
from atiende.inbox.tests.test_browser_inbox import inproc_server  # noqa: F401
from atiende.tickets.models import SavedView, Ticket
from atiende.tickets.tests.factories import make_ticket, stage
from atiende.users.tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _wait_for(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_drag_move_menu_escalation_offer_and_saved_view(inproc_server, page, agent):  # noqa: F811
    from playwright.sync_api import expect

    server = inproc_server
    ticket = make_ticket(by=agent, name="Póliza no aparece en la app", priority="high")
    other = make_ticket(by=agent, name="Consulta de saldo", priority="low")
    follow_up, tech = stage("follow_up"), stage("tech_issues")

    page.goto(f"{server}/cuenta/ingresar/")
    page.get_by_label("Usuario").fill("agente")
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()
    page.get_by_role("navigation", name="Navegación principal").get_by_role(
        "link", name="Tickets"
    ).click()
    expect(page.get_by_role("heading", name="Tickets")).to_be_visible()
    page.get_by_role("link", name="Tablero").click()
    expect(page).to_have_url(re.compile(r"/tickets/tablero/"))

    card = page.locator(f'.ticket-card[data-ticket="{ticket.pk}"]')
    target = page.locator(f'.board-col[data-stage="{follow_up.pk}"]')
    expect(card).to_be_visible()
    card.drag_to(target.locator("[data-dropzone]"))
    expect(target.locator(f'.ticket-card[data-ticket="{ticket.pk}"]')).to_be_visible()
    expect(page.locator("#board-status")).to_contain_text("movido a «Seguimiento»")
    expect(target.locator("[data-count]")).to_have_text("1")
    assert _wait_for(lambda: Ticket.objects.get(pk=ticket.pk).stage_id == follow_up.pk)
    _shot(page, "board-after-drag")

    # The keyboard way: "Mover a…" → Tech Issues, refused without the escalation.
    card.get_by_role("button", name=f"Mover {ticket.number} a…").click()
    card.get_by_role("button", name=tech.label).click()
    modal = page.locator("#escalate-modal")
    expect(modal).to_be_visible()
    expect(modal).to_contain_text("¿Qué ocurre?")
    expect(modal.get_by_role("link", name="Completar la escalación")).to_have_attribute(
        "href", f"/tickets/{ticket.pk}/escalar/?stage={tech.pk}"
    )
    expect(target.locator(f'.ticket-card[data-ticket="{ticket.pk}"]')).to_be_visible()
    assert Ticket.objects.get(pk=ticket.pk).stage_id == follow_up.pk
    _shot(page, "board-escalation-offer")
    modal.get_by_role("button", name="Cancelar").click()

    # The list: an advanced condition built with htmx rows, applied, then saved as a view.
    page.get_by_role("link", name="Lista").click()
    page.get_by_role("button", name="Filtros avanzados").click()
    expect(page.locator("#advanced-panel")).to_have_class("collapse show")  # opened, not moving
    page.get_by_role("button", name="Agregar condición").click()
    row = page.locator(".cond-row").first
    expect(row).to_be_visible()
    _htmx_settled(page)
    row.get_by_label("Campo").select_option("priority")
    value = page.locator('.cond-row select[name="c0_value"]')  # redrawn for the field
    expect(value).to_be_visible()
    _htmx_settled(page)
    value.select_option("high")
    page.get_by_role("button", name="Aplicar").click()
    expect(page).to_have_url(re.compile(r"c0_field=priority"))
    rows = page.locator("tbody tr[data-ticket]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(ticket.number)
    expect(page.locator(f'tr[data-ticket="{other.pk}"]')).to_have_count(0)

    page.get_by_role("button", name="Guardar vista").click()
    page.get_by_label("Nombre de la vista").fill("Altas")
    page.get_by_role("button", name="Guardar", exact=True).click()
    expect(page.get_by_role("link", name="Altas")).to_have_attribute("aria-current", "page")
    expect(page.locator("tbody tr[data-ticket]")).to_have_count(1)
    view = SavedView.objects.get()
    assert view.owner == agent and view.filters["conditions"] == [
        {"field": "priority", "op": "eq", "value": "high"}
    ]
    _shot(page, "list-saved-view")
