"""An agent sees their team's conversations and no other team's: on the socket, in the UI and in
the API alike. Supervisors see every team."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from atiende.asgi import application
from atiende.inbox.models import Conversation
from atiende.inbox.tests.inbox_data import make_channel, receive
from atiende.users.tests.factories import TeamFactory, UserFactory

ORIGIN = (b"origin", b"http://127.0.0.1")


def _cookie_header(user) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    value = client.cookies[settings.SESSION_COOKIE_NAME].value
    return (b"cookie", f"{settings.SESSION_COOKIE_NAME}={value}".encode())


async def _inbox_events(communicator, until_conversation: int, timeout: float = 3) -> list[dict]:
    """Every inbox event received until one about `until_conversation` arrives."""
    events = []

    async def loop():
        while True:
            event = await communicator.receive_json_from(timeout=timeout)
            if event["type"].startswith("inbox."):
                events.append(event)
                if event["conversation_id"] == until_conversation:
                    return

    await asyncio.wait_for(loop(), timeout)
    return events


@pytest.fixture
def world(transactional_db):
    """Two teams with a webchat channel each; an agent of Servicio and a supervisor."""
    servicio, cobranza = TeamFactory(name="Servicio"), TeamFactory(name="Cobranza")
    agent = UserFactory(username="agente", display_name="María González")
    servicio.members.add(agent)
    supervisor = UserFactory(username="super", role="supervisor")
    return {
        "agent": agent,
        "supervisor": supervisor,
        "ours": make_channel(name="Web Servicio", team=servicio),
        "theirs": make_channel(name="Web Cobranza", team=cobranza),
    }


def _receive(channel, sender_id, body):
    message = receive(channel, sender_id, body)
    return message.conversation_id


@pytest.mark.django_db(transaction=True)
def test_agent_gets_their_teams_messages_and_not_another_teams(world):
    headers = [ORIGIN, _cookie_header(world["agent"])]

    async def scenario():
        tab = WebsocketCommunicator(application, "/ws/", headers=headers)
        assert (await tab.connect())[0]
        theirs = await database_sync_to_async(_receive)(world["theirs"], "v-b", "Soy de Cobranza")
        ours = await database_sync_to_async(_receive)(world["ours"], "v-a", "Soy de Servicio")
        events = await _inbox_events(tab, until_conversation=ours)
        later = await database_sync_to_async(_receive)(world["theirs"], "v-b", "¿Hola?")
        silent = await tab.receive_nothing(timeout=0.5)
        await tab.disconnect()
        return theirs, ours, later, events, silent

    theirs, ours, later, events, silent = asyncio.run(scenario())
    assert theirs == later
    assert [(e["type"], e["conversation_id"]) for e in events] == [("inbox.message", ours)]
    assert events[0]["new"] is True and events[0]["status"] == "pending"
    assert silent is True


@pytest.mark.django_db(transaction=True)
def test_supervisor_gets_every_teams_messages(world):
    headers = [ORIGIN, _cookie_header(world["supervisor"])]

    async def scenario():
        tab = WebsocketCommunicator(application, "/ws/", headers=headers)
        assert (await tab.connect())[0]
        theirs = await database_sync_to_async(_receive)(world["theirs"], "v-b", "Cobranza")
        ours = await database_sync_to_async(_receive)(world["ours"], "v-a", "Servicio")
        events = await _inbox_events(tab, until_conversation=ours)
        await tab.disconnect()
        return theirs, ours, events

    theirs, ours, events = asyncio.run(scenario())
    assert [(e["type"], e["conversation_id"]) for e in events] == [
        ("inbox.message", theirs),
        ("inbox.message", ours),
    ]


@pytest.mark.django_db(transaction=True)
def test_an_agent_gets_events_of_a_conversation_transferred_to_them(world):
    """Assigned to the agent from another team's queue: now theirs, on the socket too."""
    headers = [ORIGIN, _cookie_header(world["agent"])]
    theirs = _receive(world["theirs"], "v-b", "Cobranza")
    Conversation.objects.filter(pk=theirs).update(assignee=world["agent"])

    async def scenario():
        tab = WebsocketCommunicator(application, "/ws/", headers=headers)
        assert (await tab.connect())[0]
        await database_sync_to_async(_receive)(world["theirs"], "v-b", "¿Sigue ahí?")
        events = await _inbox_events(tab, until_conversation=theirs)
        await tab.disconnect()
        return events

    assert [e["conversation_id"] for e in asyncio.run(scenario())] == [theirs]


@pytest.mark.django_db(transaction=True)
def test_agent_gets_403_on_another_teams_chat_in_the_ui_and_the_api(world, api_token):
    theirs = _receive(world["theirs"], "v-b", "Cobranza")
    ours = _receive(world["ours"], "v-a", "Servicio")
    client = Client()
    client.force_login(world["agent"])
    assert client.get(f"/inbox/{ours}/").status_code == 200
    assert client.get(f"/inbox/{theirs}/").status_code == 403
    headers = api_token(world["agent"])
    assert client.get(f"/api/v1/conversations/{ours}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/conversations/{theirs}", headers=headers).status_code == 403
    response = client.get(f"/api/v1/conversations/{theirs}/messages", headers=headers)
    assert response.status_code == 403
    assert Conversation.objects.get(pk=theirs).unread_count == 1  # opening it changed nothing
