"""The agent's socket: clients receive what services publish; presence follows them."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings

from atiende.asgi import application
from atiende.users import services
from atiende.users.models import AgentStatus, Presence

ORIGIN = (b"origin", b"http://127.0.0.1")


def _cookie_header(client, user) -> tuple[bytes, bytes]:
    client.force_login(user)
    value = client.cookies[settings.SESSION_COOKIE_NAME].value
    return (b"cookie", f"{settings.SESSION_COOKIE_NAME}={value}".encode())


async def _receive_until(communicator, predicate, timeout: float = 3) -> dict:
    async def loop():
        while True:
            event = await communicator.receive_json_from(timeout=timeout)
            if predicate(event):
                return event

    return await asyncio.wait_for(loop(), timeout)


@pytest.mark.django_db(transaction=True)
def test_authenticated_socket_receives_event_published_by_service(client, agent):
    headers = [ORIGIN, _cookie_header(client, agent)]

    async def scenario():
        communicator = WebsocketCommunicator(application, "/ws/", headers=headers)
        connected, _ = await communicator.connect()
        assert connected
        await database_sync_to_async(services.set_agent_status)(
            user=agent, status=AgentStatus.PAUSED, by=agent
        )
        event = await _receive_until(communicator, lambda e: e["type"] == "agent_status")
        await communicator.disconnect()
        return event

    event = asyncio.run(scenario())
    assert event == {
        "type": "agent_status",
        "user_id": agent.pk,
        "status": "paused",
        "label": "En pausa",
    }


@pytest.mark.django_db(transaction=True)
def test_anonymous_socket_is_refused():
    async def scenario():
        communicator = WebsocketCommunicator(application, "/ws/", headers=[ORIGIN])
        connected, code = await communicator.connect()
        return connected, code

    connected, code = asyncio.run(scenario())
    assert not connected
    assert code == 4401
    assert not Presence.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_socket_from_another_site_is_refused(client, agent):
    headers = [(b"origin", b"https://evil.example"), _cookie_header(client, agent)]

    async def scenario():
        communicator = WebsocketCommunicator(application, "/ws/", headers=headers)
        connected, _ = await communicator.connect()
        return connected

    assert asyncio.run(scenario()) is False


@pytest.mark.django_db(transaction=True)
def test_supervisor_sees_agent_come_online_and_leave(client, agent, supervisor):
    from django.test import Client

    supervisor_headers = [ORIGIN, _cookie_header(client, supervisor)]
    agent_headers = [ORIGIN, _cookie_header(Client(), agent)]

    async def scenario():
        watcher = WebsocketCommunicator(application, "/ws/", headers=supervisor_headers)
        assert (await watcher.connect())[0]
        tab = WebsocketCommunicator(application, "/ws/", headers=agent_headers)
        assert (await tab.connect())[0]
        online = await _receive_until(
            watcher, lambda e: e["type"] == "presence" and e["user_id"] == agent.pk
        )
        rows_while_open = await database_sync_to_async(Presence.objects.filter(user=agent).count)()
        await tab.disconnect()
        offline = await _receive_until(
            watcher, lambda e: e["type"] == "presence" and e["user_id"] == agent.pk
        )
        await watcher.disconnect()
        return online, rows_while_open, offline

    online, rows_while_open, offline = asyncio.run(scenario())
    assert online["online"] is True and online["name"] == "María González"
    assert rows_while_open == 1
    assert offline["online"] is False
    assert not Presence.objects.filter(user=agent).exists()


@pytest.mark.django_db(transaction=True)
def test_agents_do_not_receive_presence_of_others(client, agent, supervisor):
    from django.test import Client

    agent_headers = [ORIGIN, _cookie_header(client, agent)]
    supervisor_headers = [ORIGIN, _cookie_header(Client(), supervisor)]

    async def scenario():
        tab = WebsocketCommunicator(application, "/ws/", headers=agent_headers)
        assert (await tab.connect())[0]
        other = WebsocketCommunicator(application, "/ws/", headers=supervisor_headers)
        assert (await other.connect())[0]
        nothing = await tab.receive_nothing(timeout=0.3)
        await other.disconnect()
        await tab.disconnect()
        return nothing

    assert asyncio.run(scenario()) is True


@pytest.mark.django_db(transaction=True)
def test_ping_keeps_presence_fresh(client, agent):
    headers = [ORIGIN, _cookie_header(client, agent)]

    async def scenario():
        tab = WebsocketCommunicator(application, "/ws/", headers=headers)
        assert (await tab.connect())[0]
        from datetime import timedelta

        from django.utils import timezone

        old = timezone.now() - timedelta(minutes=5)
        await database_sync_to_async(Presence.objects.filter(user=agent).update)(last_seen_at=old)
        await tab.send_json_to({"type": "ping"})
        pong = await tab.receive_json_from(timeout=2)
        last_seen = await database_sync_to_async(
            lambda: Presence.objects.get(user=agent).last_seen_at
        )()
        await tab.disconnect()
        return pong, last_seen, old

    pong, last_seen, old = asyncio.run(scenario())
    assert pong == {"type": "pong"}
    assert last_seen > old
