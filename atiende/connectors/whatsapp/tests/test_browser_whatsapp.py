"""Chromium on the inbox while a WhatsApp customer sends a photo: the signed webhook POST makes it
appear live with its image (fetched from the local Graph server), the agent answers, and the
reply reaches the Graph server with Meta's JSON.

The server runs in this process (uvicorn in a thread, the in-memory channel layer, jobs run at
once), as in atiende/inbox/tests/test_browser_inbox.py.
"""

import json
import struct
import time
import urllib.request
import zlib

import pytest

from atiende.connectors.whatsapp.tests.wa_data import (
    NUMBER_ID,
    VERSION,
    envelope,
    make_whatsapp_channel,
    message,
    sign,
)
from atiende.core.tests.test_browser import _shot, page  # noqa: F401  (fixtures)
from atiende.inbox.models import Conversation
from atiende.inbox.tests.test_browser_inbox import inproc_server  # noqa: F401  (fixture)
from atiende.users.tests.factories import PASSWORD, TeamFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x0d\x7c\x86" * 8 for _ in range(8))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def post_signed(server: str, data: dict) -> int:
    raw = json.dumps(data).encode()
    request = urllib.request.Request(
        f"{server}/webhooks/whatsapp",
        data=raw,
        method="POST",
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign(raw)},
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        return response.status


def test_whatsapp_photo_arrives_live_and_the_reply_reaches_meta(
    inproc_server,  # noqa: F811
    page,  # noqa: F811
    agent,
    graph,
):
    from playwright.sync_api import expect

    server = inproc_server
    team = TeamFactory(name="Ventas")
    team.members.add(agent)
    make_whatsapp_channel(graph.url, team=team)
    png = tiny_png()
    graph.answer(
        "GET",
        f"/{VERSION}/media-foto-1",
        (
            200,
            {
                "messaging_product": "whatsapp",
                "url": f"{graph.url}/files/foto-1",
                "mime_type": "image/png",
                "file_size": str(len(png)),
                "id": "media-foto-1",
            },
            "application/json",
        ),
    )
    graph.answer("GET", "/files/foto-1", (200, png, "image/png"))
    send_path = f"/{VERSION}/{NUMBER_ID}/messages"
    graph.answer(
        "POST",
        send_path,
        (
            200,
            {"messaging_product": "whatsapp", "messages": [{"id": "wamid.RESPUESTA"}]},
            "application/json",
        ),
    )

    page.goto(f"{server}/cuenta/ingresar/")
    page.get_by_label("Usuario").fill("agente")
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()
    page.goto(f"{server}/inbox/")
    expect(page.locator("#socket-state")).to_have_attribute("data-state", "open")

    photo = message("image", id="media-foto-1", mime_type="image/png", caption="Así llegó la caja")
    assert post_signed(server, envelope([photo])) == 200

    conversation = Conversation.objects.get()
    row = page.locator(f'#conversation-list [data-conversation-id="{conversation.pk}"]')
    expect(row).to_be_visible(timeout=5000)
    expect(row).to_contain_text("Lucía Benítez")
    row.locator("a").click()
    incoming = page.locator("#thread .message-in")
    expect(incoming).to_contain_text("Así llegó la caja")
    expect(incoming.locator("img.media-image")).to_be_visible(timeout=5000)
    _shot(page, "inbox-whatsapp-photo")

    page.locator('button[data-action="take"]').click()
    expect(page.locator("#chat-header")).to_contain_text("María González")
    composer = page.locator("#composer")
    composer.click()
    composer.fill("Gracias, Lucía: ya lo revisamos.")
    composer.press("Enter")
    expect(page.locator("#thread .message-out")).to_contain_text("ya lo revisamos")

    deadline = time.monotonic() + 10
    replies = []
    while time.monotonic() < deadline and not replies:
        replies = [r.json for r in graph.sent("POST", send_path) if r.json.get("type") == "text"]
        time.sleep(0.05)
    assert replies == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "595981123456",
            "type": "text",
            "text": {"preview_url": False, "body": "Gracias, Lucía: ya lo revisamos."},
        }
    ]
    receipts = [r.json for r in graph.sent("POST", send_path) if r.json.get("status") == "read"]
    assert receipts == [
        {"messaging_product": "whatsapp", "status": "read", "message_id": photo["id"]}
    ]
    expect(page.locator("#thread .message-out .tick")).to_have_attribute("title", "Enviado")
