"""Chromium on the comments tray: from the inbox to "Comentarios", a public reply swapped in place
by htmx, and the reply reaching the local Graph server."""

import datetime
import struct
import zlib

import pytest
from django.utils import timezone

from atiende.connectors.tests.meta_graph import meta_channel, start_graph
from atiende.contacts.models import ContactPoint
from atiende.contacts.services import PointInput, create_contact
from atiende.core.tests.test_browser import _shot, page  # noqa: F401  (fixtures)
from atiende.inbox import comments
from atiende.inbox.tests.test_browser_inbox import inproc_server  # noqa: F401  (fixture)
from atiende.users.tests.factories import PASSWORD, TeamFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    rows = b"".join(
        b"\x00" + bytes((rgb[0], (rgb[1] + y * 2) % 256, rgb[2]) * width) for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def graph():
    graph, http = start_graph()
    yield graph
    http.shutdown()
    http.server_close()


def test_comments_tray_reply_in_place(inproc_server, page, agent, graph):  # noqa: F811
    from playwright.sync_api import expect

    server = inproc_server

    graph.reply("GET", "/media/post-fb.png", 200, _png(72, 72, (13, 124, 134)), "image/png")
    graph.reply("GET", "/media/post-ig.png", 200, _png(72, 72, (193, 53, 132)), "image/png")
    team = TeamFactory(name="Redes")
    team.members.add(agent)
    fb = meta_channel("messenger", graph, team=team)
    fb.name, fb.color = "Facebook Seguros Sigo", "#1877f2"
    fb.save()
    ig = meta_channel("instagram", graph, team=team)
    ig.name, ig.color = "Instagram @sigoseguros", "#c13584"
    ig.save()
    create_contact(
        by=None,
        first_name="Carla",
        last_name="Ruiz",
        points=[PointInput(ContactPoint.Kind.INSTAGRAM, "carla.ruiz", primary=True)],
    )
    now = timezone.now()
    graph.reply(
        "GET",
        "/1001_456",
        200,
        {
            "message": "¡Promo de verano! 20 % de descuento en seguros de auto hasta el viernes.",
            "permalink_url": "https://www.facebook.com/1001/posts/456",
            "full_picture": f"{graph.base_url}/media/post-fb.png",
        },
    )
    graph.reply(
        "GET",
        "/1790",
        200,
        {
            "caption": "Nuevo seguro de hogar: protegé lo que más querés 🏡",
            "permalink": "https://www.instagram.com/p/abc/",
            "thumbnail_url": f"{graph.base_url}/media/post-ig.png",
        },
    )
    comments.receive_comment(
        channel=fb,
        external_id="456_1",
        post_id="1001_456",
        author_id="2400000000000001",
        author_name="Lucía Benítez",
        body="¿El descuento vale también para motos?",
        created_at=now - datetime.timedelta(minutes=42),
    )
    comments.receive_comment(
        channel=ig,
        external_id="1786",
        post_id="1790",
        author_id="1780000000000099",
        author_name="carla.ruiz",
        body="¿Cubre daños por tormenta? Me interesa 🙌",
        created_at=now - datetime.timedelta(minutes=7),
    )

    page.goto(f"{server}/cuenta/ingresar/")
    page.get_by_label("Usuario").fill("agente")
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()
    page.goto(f"{server}/inbox/")
    page.locator("#comments-link").click()
    expect(page.get_by_role("heading", name="Comentarios")).to_be_visible()
    cards = page.locator("article.comment-card")
    expect(cards).to_have_count(2)
    expect(cards.first).to_contain_text("Cubre daños por tormenta")
    expect(cards.first.get_by_role("link", name="Carla Ruiz")).to_be_visible()
    _shot(page, "comments-tray")
    page.screenshot(path="/tmp/at-meta/comments-tray.png", full_page=True)

    card = page.locator("article.comment-card", has_text="motos")
    card.get_by_label("Respuesta").fill("¡Hola Lucía! Sí, también para motos. Te escribimos.")
    card.get_by_role("button", name="Responder público").click()
    expect(page.locator("article.comment-card", has_text="motos")).to_contain_text(
        "Respuesta pública"
    )
    call = graph.calls("POST", "/456_1/comments")[0]
    assert call.json == {"message": "¡Hola Lucía! Sí, también para motos. Te escribimos."}
    page.screenshot(path="/tmp/at-meta/comments-tray-replied.png", full_page=True)
