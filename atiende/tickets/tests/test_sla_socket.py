"""The SLA job's alert reaches the ticket owner's browser live over the real socket, and not
another agent's; a second tick sends nothing more."""

import asyncio
import datetime
from unittest import mock

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.apps import apps
from django.conf import settings
from django.test import Client

from atiende.asgi import application
from atiende.tickets import jobs, services
from atiende.tickets.models import SlaPolicy
from atiende.tickets.tests.factories import make_ticket
from atiende.users.tests.factories import UserFactory

pytestmark = pytest.mark.skipif(
    not apps.is_installed("atiende.notifications"), reason="notifications app not installed"
)

ORIGIN = (b"origin", b"http://127.0.0.1")
START = datetime.datetime(2026, 11, 2, 12, 0, tzinfo=datetime.UTC)


def _headers(user) -> list:
    client = Client()
    client.force_login(user)
    value = client.cookies[settings.SESSION_COOKIE_NAME].value
    return [ORIGIN, (b"cookie", f"{settings.SESSION_COOKIE_NAME}={value}".encode())]


async def _notifications(communicator, timeout: float = 0.5) -> list[dict]:
    """The notification events this socket got (receive_nothing never kills the communicator)."""
    received = []
    while not await communicator.receive_nothing(timeout=timeout):
        event = await communicator.receive_json_from()
        if event["type"] == "notification":
            received.append(event)
    return received


@pytest.mark.django_db(transaction=True)
def test_the_owner_gets_the_48_hour_alert_live_and_another_agent_does_not(agent, supervisor):
    other = UserFactory(username="otro", display_name="Pedro Gómez")
    SlaPolicy.objects.all().delete()
    SlaPolicy.objects.create(
        name="Soporte",
        pipeline=services.default_pipeline(),
        customer_update_minutes=48 * 60,
        at_risk_percent=100,
        time_zone="UTC",
    )
    with mock.patch("django.utils.timezone.now", return_value=START):
        ticket = make_ticket(by=supervisor, owner=agent)
    mine, theirs = _headers(agent), _headers(other)

    async def scenario():
        me = WebsocketCommunicator(application, "/ws/", headers=mine)
        them = WebsocketCommunicator(application, "/ws/", headers=theirs)
        assert (await me.connect())[0] and (await them.connect())[0]
        await _notifications(me, 0.2)  # whatever the connection itself sent
        later = START + datetime.timedelta(hours=48, minutes=1)
        await database_sync_to_async(jobs.check_slas.call_local)(now=later)
        got = await _notifications(me)
        missed = await _notifications(them)
        await database_sync_to_async(jobs.check_slas.call_local)(
            now=later + datetime.timedelta(minutes=1)
        )
        again = await _notifications(me)
        await me.disconnect()
        await them.disconnect()
        return got, missed, again

    got, missed, again = asyncio.run(scenario())
    assert [(e["kind"], e["title"], e["url"]) for e in got] == [
        ("sla_breach", f"Actualiza al cliente del ticket {ticket.number}", ticket_url(ticket))
    ]
    assert missed == []
    assert again == []


def ticket_url(ticket) -> str:
    return services.ticket_url(ticket)
