"""Chromium drives the real embedded server: find a client by phone, add a note, see it on the
timeline."""

import pytest

from atiende.activities.models import Note
from atiende.contacts.tests.factories import make_contact
from atiende.core.tests.test_browser import _shot, page, server  # noqa: F401  (fixtures)
from atiende.users.tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page, server) -> None:  # noqa: F811
    page.goto(f"{server}/cuenta/ingresar/")
    page.get_by_label("Usuario").fill("agente")
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()


def test_search_by_phone_open_profile_add_note_and_see_it_on_the_timeline(
    server,  # noqa: F811
    page,  # noqa: F811
    agent,
):
    from playwright.sync_api import expect

    ana = make_contact(
        first_name="Ana",
        last_name="Núñez",
        phone="+595 991 651351",
        email="ana@example.com",
        assigned_to=agent,
    )
    make_contact(first_name="Beto", last_name="Rojas", phone="0981 000111")
    _log_in(page, server)

    # The top-bar search finds her with the number typed the local way.
    search = page.get_by_role("searchbox", name="Buscar")
    search.fill("0991-651351")
    search.press("Enter")
    expect(page.get_by_role("heading", name="Resultados para «0991-651351»")).to_be_visible()
    results = page.locator(".search-results")
    expect(results.get_by_role("link", name="Ana Núñez")).to_be_visible()
    expect(results).not_to_contain_text("Beto Rojas")
    _shot(page, "contacts-search")
    results.get_by_role("link", name="Ana Núñez").click()

    expect(page).to_have_url(f"{server}/contactos/{ana.pk}/")
    expect(page.get_by_role("heading", name="Ana Núñez", level=1)).to_be_visible()
    expect(page.locator("#contact-header")).to_contain_text("+595 991 651351")
    expect(page.locator("#contact-header")).to_contain_text("María González")

    tabs = page.get_by_role("navigation", name="Pestañas del contacto")
    tabs.get_by_role("link", name="Notas").click()
    expect(page).to_have_url(f"{server}/contactos/{ana.pk}/notas/")
    page.get_by_label("Nota").fill("Pidió cotización de renovación por WhatsApp.")
    page.get_by_role("button", name="Agregar nota").click()
    expect(page.locator("#tab-pane")).to_contain_text("Nota agregada.")
    assert Note.objects.get().body == "Pidió cotización de renovación por WhatsApp."

    tabs.get_by_role("link", name="Actividad").click()
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Pidió cotización de renovación por WhatsApp.")
    expect(timeline.locator(".timeline-item").first).to_contain_text("María González")
    expect(tabs.get_by_role("link", name="Actividad")).to_have_class("nav-link text-nowrap active")
    _shot(page, "contacts-profile-activity")

    # The tab is its own page too: a reload shows the same timeline.
    page.reload()
    expect(page.locator("#timeline")).to_contain_text("Pidió cotización de renovación")
