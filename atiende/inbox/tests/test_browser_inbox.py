"""Chromium on the inbox while a customer writes: the message appears live in Pendiente with the
red dot and the unread badge; the agent opens it, takes it, answers with a `/` canned response
and resolves it, and the tray counts follow.

The server runs in this process (uvicorn in a thread, the same in-memory channel layer), so a
message received here through `inbox.services.receive_message` reaches the agent's socket exactly
as one from a connector would.
"""

import threading
import time

import pytest

from atiende.core.tests.live import free_port
from atiende.core.tests.test_browser import _shot, page  # noqa: F401  (fixtures)
from atiende.inbox import services
from atiende.inbox.models import CannedResponse, Conversation, ConversationStatus, Message
from atiende.inbox.tests.inbox_data import make_channel, receive
from atiende.users.tests.factories import PASSWORD, TeamFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def inproc_server():
    import uvicorn

    from atiende.asgi import application

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the in-process server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _in_thread(function, *args, **kwargs):
    """Run outside Playwright's event loop (as a connector's job would), so the realtime publish
    is handed to the server's loop."""
    result = {}
    worker = threading.Thread(target=lambda: result.setdefault("value", function(*args, **kwargs)))
    worker.start()
    worker.join(timeout=20)
    return result.get("value")


def test_live_message_take_canned_answer_and_resolve(inproc_server, page, agent):  # noqa: F811
    from playwright.sync_api import expect

    server = inproc_server
    team = TeamFactory(name="Servicio")
    team.members.add(agent)
    channel = make_channel(name="Chat web", team=team)
    CannedResponse.objects.create(
        shortcut="saludo", title="Saludo", body="Hola {{contacto.nombre}}, gracias por escribirnos."
    )
    CannedResponse.objects.create(shortcut="horario", title="Horario", body="De 8 a 18.")

    page.goto(f"{server}/cuenta/ingresar/")
    page.get_by_label("Usuario").fill("agente")
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()
    page.goto(f"{server}/inbox/")
    expect(page.locator("#socket-state")).to_have_attribute("data-state", "open")
    pending = page.locator('a[data-tray="pending"] [data-count]')
    expect(pending).to_have_text("0")

    message = _in_thread(
        receive, channel, "visitante-1", "Hola, necesito ayuda con mi póliza", name="Lucía Benítez"
    )
    conversation = Conversation.objects.get(pk=message.conversation_id)
    row = page.locator(f'#conversation-list [data-conversation-id="{conversation.pk}"]')
    expect(row).to_be_visible(timeout=3000)
    expect(row).to_contain_text("Lucía Benítez")
    expect(row.locator(".first-response-dot")).to_be_visible()
    expect(row.locator(".unread-badge")).to_contain_text("1")
    expect(pending).to_have_text("1")
    _shot(page, "inbox-live-pending")

    row.locator("a").click()
    expect(page.locator("#thread .message-in")).to_contain_text("necesito ayuda con mi póliza")
    expect(page).to_have_url(f"{server}/inbox/{conversation.pk}/?bandeja=pending")

    page.locator('button[data-action="take"]').click()
    expect(page.locator("#chat-header")).to_contain_text("En curso")
    expect(page.locator("#chat-header")).to_contain_text("María González")
    expect(page.locator('a[data-tray="open"] [data-count]')).to_have_text("1")
    expect(pending).to_have_text("0")
    expect(row).to_have_count(0)  # it left the Pendiente list

    composer = page.locator("#composer")
    composer.click()
    composer.press_sequentially("/sal")
    item = page.locator(".canned-item").first
    expect(item).to_be_visible()
    expect(item).to_have_class("canned-item active")
    expect(page.locator(".canned-item")).to_have_count(1)
    composer.press("Enter")
    expect(composer).to_have_value("Hola Lucía, gracias por escribirnos.")
    composer.press("Enter")
    out = page.locator("#thread .message-out")
    expect(out).to_contain_text("Hola Lucía, gracias por escribirnos.")
    expect(composer).to_have_value("")
    sent = Message.objects.filter(conversation=conversation, direction="out").get()
    assert sent.body == "Hola Lucía, gracias por escribirnos."
    expect(out.locator(".tick")).to_have_attribute("title", "Enviado")
    _shot(page, "inbox-chat")

    # The customer answers while the chat is open: it appears without reload.
    typing = page.locator("#typing span")
    expect(typing).to_be_hidden()
    _in_thread(services.notify_typing, conversation)
    expect(typing).to_be_visible()
    expect(typing).to_have_text("Lucía Benítez está escribiendo…")
    _in_thread(receive, channel, "visitante-1", "¡Gracias!")
    expect(page.locator("#thread .message-in")).to_have_count(2)
    expect(typing).to_be_hidden()  # the message ends the typing hint

    # A dropped socket: what arrives meanwhile is fetched when it reconnects.
    page.evaluate("window.atiende.socket.close()")
    expect(page.locator("#socket-state")).to_have_attribute("data-state", "closed")
    _in_thread(receive, channel, "visitante-1", "¿Siguen ahí?")
    expect(page.locator("#socket-state")).to_have_attribute("data-state", "open", timeout=5000)
    expect(page.locator("#thread .message-in")).to_have_count(3)
    expect(page.locator("#thread .message-in").last).to_contain_text("¿Siguen ahí?")

    page.locator('button[data-action="resolve"]').click()
    expect(page.locator("#chat-header")).to_contain_text("Atendidos")
    expect(page.locator('a[data-tray="resolved"] [data-count]')).to_have_text("1")
    expect(page.locator('a[data-tray="open"] [data-count]')).to_have_text("0")
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.RESOLVED
    assert conversation.assignee_id == agent.pk
