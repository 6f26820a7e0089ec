"""A notification reaches its recipient's browser over the real socket, and nobody else's."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from atiende.asgi import application
from atiende.notifications import services
from atiende.users.tests.factories import UserFactory

ORIGIN = (b"origin", b"http://127.0.0.1")


def _headers(user) -> list:
    client = Client()
    client.force_login(user)
    value = client.cookies[settings.SESSION_COOKIE_NAME].value
    return [ORIGIN, (b"cookie", f"{settings.SESSION_COOKIE_NAME}={value}".encode())]


async def _next_notification(communicator, timeout: float = 3) -> dict:
    async def loop():
        while True:
            event = await communicator.receive_json_from(timeout=timeout)
            if event["type"] == "notification":
                return event

    return await asyncio.wait_for(loop(), timeout)


async def _drain(communicator) -> list[dict]:
    """What this socket already got, without a timeout (a timeout kills the communicator)."""
    received = []
    while not await communicator.receive_nothing(timeout=0.3):
        received.append(await communicator.receive_json_from())
    return received


@pytest.mark.django_db(transaction=True)
def test_the_recipient_socket_gets_it_and_another_user_does_not(agent, supervisor):
    other = UserFactory(username="otro", display_name="Pedro Gómez")
    mine, theirs = _headers(agent), _headers(other)

    async def scenario():
        me = WebsocketCommunicator(application, "/ws/", headers=mine)
        them = WebsocketCommunicator(application, "/ws/", headers=theirs)
        assert (await me.connect())[0] and (await them.connect())[0]
        await database_sync_to_async(services.notify)(
            recipients=[agent],
            kind="escalation",
            title="Escalamiento T-000123 a Tecnología",
            url="/tickets/123/",
            actor=supervisor,
        )
        got = [await _next_notification(me)]
        missed = [e for e in await _drain(them) if e["type"] == "notification"]
        await me.disconnect()
        await them.disconnect()
        return got, missed

    got, missed = asyncio.run(scenario())
    assert [(e["kind"], e["title"], e["url"], e["unread"]) for e in got] == [
        ("escalation", "Escalamiento T-000123 a Tecnología", "/tickets/123/", 1)
    ]
    assert missed == []
