"""Two people, two browsers: a visitor on the demo site's chat widget and an agent in the inbox.

Runs the real embedded server (HTTP, both sockets and the job threads in one process) and Debian's
Chromium. Set ATIENDE_SCREENSHOTS=<dir> to keep screenshots of each step.
"""

import os
import shutil
from pathlib import Path

import pytest

from atiende.connectors.webchat.services import ensure_public_key
from atiende.core.tests.live import atiende_process, free_port, process_env, wait_until_serving
from atiende.inbox.models import (
    CannedResponse,
    Channel,
    ChannelKind,
    Conversation,
    ConversationStatus,
    Message,
)
from atiende.users.models import AgentStatus
from atiende.users.tests.factories import PASSWORD, TeamFactory

CHROMIUM = os.environ.get("ATIENDE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = (
    Path(os.environ["ATIENDE_SCREENSHOTS"]) if os.environ.get("ATIENDE_SCREENSHOTS") else None
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server(tmp_path):
    port = free_port()
    with atiende_process("run", process_env(tmp_path), "--port", str(port)) as process:
        wait_until_serving(port, process)
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def browser(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; our ORM calls here are plain sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's `chromium` package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def webchat(agent):
    """An active agent of the Servicio team, its website chat channel and a canned response."""
    agent.agent_status = AgentStatus.ACTIVE
    agent.save(update_fields=["agent_status"])
    team = TeamFactory(name="Servicio")
    team.members.add(agent)
    channel = Channel.objects.create(
        name="Chat web", kind=ChannelKind.WEBCHAT, team=team, color="#0d7c86", auto_assign=False
    )
    ensure_public_key(channel)
    CannedResponse.objects.create(
        shortcut="poliza",
        title="Consulta de póliza",
        body="Hola {{contacto.nombre}}, con gusto te ayudo con tu póliza. ¿Me indicas el número?",
    )
    return channel


def _shot(page, name: str) -> None:
    if ARTIFACTS:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.wait_for_timeout(400)  # let the newest bubble finish fading in
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def _count(page, tray: str) -> int:
    return int(page.locator(f'a[data-tray="{tray}"] [data-count]').get_attribute("data-count"))


def _open_widget_and_introduce(page, server: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{server}/widget/demo/")
    page.locator("#atiende-widget-button").click()
    page.locator("#atiende-prechat-name").fill("Laura Benítez")
    page.locator("#atiende-prechat-phone").fill("0981 123456")
    page.locator("#atiende-prechat-submit").click()
    expect(page.locator("#atiende-widget-input")).to_be_visible()


def test_visitor_and_agent_hold_a_live_conversation(server, browser, webchat, agent):
    from playwright.sync_api import expect

    visitor = browser.new_context(locale="es-PY", viewport={"width": 1366, "height": 860})
    inbox = browser.new_context(locale="es-PY", viewport={"width": 1440, "height": 900})
    customer, desk = visitor.new_page(), inbox.new_page()

    # The agent logs in and waits on the inbox, socket open.
    desk.goto(f"{server}/cuenta/ingresar/?next=/inbox/")
    desk.get_by_label("Usuario").fill(agent.username)
    desk.get_by_label("Contraseña").fill(PASSWORD)
    desk.get_by_role("button", name="Ingresar").click()
    expect(desk.locator("#conversation-list")).to_be_attached()
    expect(desk.locator("#socket-state")).to_have_attribute("data-state", "open")
    pending_before = _count(desk, "pending")

    # The visitor opens the bubble, introduces themselves and writes.
    _open_widget_and_introduce(customer, server)
    customer.locator("#atiende-widget-input").fill("Hola, necesito ayuda con mi póliza")
    customer.locator("#atiende-widget-input").press("Enter")
    expect(customer.locator(".atiende-msg-out")).to_contain_text("necesito ayuda con mi póliza")

    # It appears live in the agent's Pendiente tray.
    expect(desk.locator('a[data-tray="pending"] [data-count]')).to_have_attribute(
        "data-count", str(pending_before + 1)
    )
    conversation = Conversation.objects.get(channel=webchat)
    row = desk.locator(f'#conversation-list [data-conversation-id="{conversation.pk}"]')
    expect(row).to_be_visible()
    expect(row).to_contain_text("Laura Benítez")
    _shot(desk, "widget-inbox-pending")

    # The agent opens it and takes it: En curso.
    row.locator("a").first.click()
    desk.locator('button[data-action="take"]').click()
    expect(desk.locator("#chat-header")).to_have_attribute("data-status", "open")
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.OPEN
    assert conversation.assignee_id == agent.pk

    # Answers with a canned response picked with "/" and Enter, sent with Enter.
    composer = desk.locator("#composer")
    composer.click()
    composer.press("/")
    expect(desk.locator(".canned-item").first).to_be_visible()
    composer.press("Enter")
    expect(composer).to_have_value(
        "Hola Laura, con gusto te ayudo con tu póliza. ¿Me indicas el número?"
    )
    composer.press("Enter")

    # The visitor sees the answer live.
    answer = customer.locator(".atiende-msg-in")
    expect(answer).to_contain_text("Hola Laura, con gusto te ayudo con tu póliza.")
    _shot(customer, "widget-demo-conversation")
    _shot(desk, "widget-inbox-answered")
    reply = Message.objects.get(conversation=conversation, direction="out")
    assert reply.external_id == f"wc-out-{reply.pk}"

    # The agent resolves it: Atendidos.
    desk.locator('button[data-action="resolve"]').click()
    expect(desk.locator("#chat-header")).to_have_attribute("data-status", "resolved")
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.RESOLVED
    desk.locator('a[data-tray="resolved"]').click()
    expect(
        desk.locator(f'#conversation-list [data-conversation-id="{conversation.pk}"]')
    ).to_be_visible()
    assert Message.objects.filter(conversation=conversation, direction="in").count() == 1
    visitor.close()
    inbox.close()


def test_returning_visitor_on_a_phone_finds_their_conversation(server, browser, webchat):
    from playwright.sync_api import expect

    phone = browser.new_context(
        locale="es-PY", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = phone.new_page()
    _open_widget_and_introduce(page, server)
    # On a phone the panel takes the whole screen.
    panel = page.locator("#atiende-widget-panel")
    box = panel.bounding_box()
    assert box["width"] == 390 and box["height"] == 844
    page.locator("#atiende-widget-input").fill("¿Cubre granizo mi póliza de auto?")
    page.locator("#atiende-widget-input").press("Enter")
    expect(page.locator(".atiende-msg-out")).to_contain_text("granizo")
    expect(page.locator(".atiende-msg-out .aw-meta")).to_contain_text("✓")
    _shot(page, "widget-phone")

    # Back the next day: the signed cookie brings the same conversation, no form.
    page.reload()
    expect(page.locator("#atiende-widget-panel")).to_be_visible()  # it was left open
    expect(page.locator(".atiende-msg-out")).to_have_count(1)
    expect(page.locator(".atiende-msg-out")).to_contain_text("granizo")
    expect(page.locator("#atiende-prechat-name")).to_be_hidden()
    assert Conversation.objects.filter(channel=webchat).count() == 1
    phone.close()


def test_a_visitor_who_goes_straight_to_the_phone_field_keeps_it(server, browser, webchat):
    """Opening the panel focuses its first field a moment later: not if the visitor is already in
    another one (their typing once landed in the name field)."""
    from playwright.sync_api import expect

    page = browser.new_context(locale="es-PY").new_page()
    page.goto(f"{server}/widget/demo/")
    page.locator("#atiende-widget-button").click()
    page.locator("#atiende-prechat-phone").focus()
    page.wait_for_timeout(200)  # past the panel's own focus
    page.keyboard.type("0981 123456")
    expect(page.locator("#atiende-prechat-phone")).to_have_value("0981 123456")
    expect(page.locator("#atiende-prechat-name")).to_have_value("")
