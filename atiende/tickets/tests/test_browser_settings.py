"""Chromium: an admin opens Ajustes > Pipelines y SLA, moves a stage with htmx (the table swaps in
place, the order is saved), adds a stage, and a refused delete says why in Spanish."""

import pytest

from atiende.core.tests.test_browser import _shot, page  # noqa: F401  (fixtures)
from atiende.inbox.tests.test_browser_inbox import inproc_server  # noqa: F401
from atiende.tickets import services
from atiende.users.tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_reorders_and_adds_stages(inproc_server, page, admin_user):  # noqa: F811
    from playwright.sync_api import expect

    from atiende.tickets.tests.factories import make_ticket

    pipeline = services.default_pipeline()
    make_ticket(by=admin_user)  # in «Nuevo»: that stage cannot be deleted
    page.goto(f"{inproc_server}/cuenta/ingresar/")
    page.get_by_label("Usuario").fill(admin_user.username)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()
    page.get_by_role("link", name="Ajustes").first.click()
    page.get_by_role("link", name="Pipelines y SLA").click()
    page.get_by_role("link", name="Pipeline de soporte", exact=True).click()

    rows = page.locator("#stages tbody tr")
    expect(rows).to_have_count(8)
    expect(rows.nth(1)).to_contain_text("Seguimiento")
    page.get_by_role("button", name="Subir Seguimiento", exact=True).click()
    expect(rows.nth(0)).to_contain_text("Seguimiento")
    expect(rows.nth(0)).to_have_class("table-active")
    keys = list(pipeline.stages.order_by("position").values_list("key", flat=True))
    assert keys[:2] == ["follow_up", "new"]
    _shot(page, "settings-stages-moved")

    page.get_by_role("link", name="Añadir estado").click()
    page.get_by_label("Nombre").fill("Revisión legal")
    page.get_by_label("Pausa el SLA (esperando al cliente)").check()
    page.get_by_role("button", name="Guardar").click()
    expect(page.locator(".alert")).to_contain_text("Estado guardado: Revisión legal.")
    expect(rows).to_have_count(9)
    expect(rows.last).to_contain_text("Revisión legal")
    expect(rows.last).to_contain_text("Pausa el SLA")

    page.get_by_role("link", name="Editar Nuevo", exact=True).click()
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Eliminar").click()
    expect(page.locator(".alert")).to_contain_text(
        "No se puede eliminar: 1 ticket está en este estado."
    )
    assert pipeline.stages.filter(key="new").exists()
