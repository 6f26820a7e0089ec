"""The inbox tells tickets about messages on linked conversations (a registered hook, so the
inbox never imports tickets): an agent's reply answers the first response and clears the 48-hour
flag; the customer's message is activity only; a private note is neither."""

import datetime
import zoneinfo
from contextlib import contextmanager
from unittest import mock

import pytest

from atiende.inbox import services as inbox
from atiende.inbox.tests.inbox_data import conversation_for, make_channel, receive
from atiende.tickets import services
from atiende.tickets.models import SlaPolicy
from atiende.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

TZ = zoneinfo.ZoneInfo("America/Asuncion")


def at(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, 11, day, hour, minute, tzinfo=TZ)


@contextmanager
def clock(moment: datetime.datetime):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


@pytest.fixture
def overdue(supervisor):
    """A ticket linked to a webchat conversation, 49 h without news for the customer."""
    SlaPolicy.objects.all().delete()
    SlaPolicy.objects.create(
        name="Soporte",
        pipeline=services.default_pipeline(),
        first_response_minutes=60,
        customer_update_minutes=48 * 60,
        time_zone="America/Asuncion",
    )
    channel = make_channel()
    with clock(at(2, 9)):
        conversation = conversation_for(channel, "Mi póliza no aparece", sender_id="cliente-1")
        ticket = make_ticket(by=supervisor, conversation=conversation)
    with clock(at(4, 10)):
        services.update_ticket(ticket=ticket, by=supervisor, description="Sigue sin aparecer")
    ticket.refresh_from_db()
    assert ticket.customer_update_overdue and ticket.first_response_at is None
    return ticket, conversation, channel


def test_an_agent_reply_clears_the_flag_and_sets_the_first_response(overdue, supervisor):
    ticket, conversation, _channel = overdue
    with clock(at(4, 11)):
        inbox.send_message(conversation=conversation, by=supervisor, body="Ya lo revisamos")
    ticket.refresh_from_db()
    assert ticket.first_response_at == at(4, 11)
    assert ticket.last_customer_update_at == at(4, 11)
    assert ticket.last_activity_at == at(4, 11)
    assert not ticket.customer_update_overdue
    assert ticket.sla_due_at == at(6, 11)


def test_the_customer_writing_is_activity_but_no_update(overdue):
    ticket, _conversation, channel = overdue
    with clock(at(4, 12)):
        receive(channel, "cliente-1", "¿Novedades?")
    ticket.refresh_from_db()
    assert ticket.last_activity_at == at(4, 12)
    assert ticket.customer_update_overdue
    assert ticket.first_response_at is None


def test_a_private_note_is_not_an_update(overdue, supervisor):
    ticket, conversation, _channel = overdue
    with clock(at(4, 12)):
        inbox.send_message(conversation=conversation, by=supervisor, body="ojo", kind="note")
    ticket.refresh_from_db()
    assert ticket.customer_update_overdue
    assert ticket.first_response_at is None


def test_a_closed_ticket_is_left_alone(overdue, supervisor):
    ticket, conversation, _channel = overdue
    with clock(at(4, 13)):
        services.close_ticket(ticket=ticket, by=supervisor)
    with clock(at(4, 14)):
        inbox.send_message(conversation=conversation, by=supervisor, body="Cerrado")
    ticket.refresh_from_db()
    assert ticket.first_response_at is None
    assert ticket.last_activity_at == at(4, 13)


def test_the_hook_is_registered_once(overdue):
    assert inbox._MESSAGE_HOOKS.count(services._on_conversation_message) == 1


def test_the_owner_hears_the_customer_once_per_turn(supervisor, agent):
    from django.apps import apps

    if not apps.is_installed("atiende.notifications"):
        pytest.skip("notifications app not installed")
    from atiende.notifications.models import Notification

    channel = make_channel()
    conversation = conversation_for(channel, "Hola", sender_id="cliente-2")
    ticket = make_ticket(by=supervisor, conversation=conversation, owner=agent)
    receive(channel, "cliente-2", "¿Me ayudan?")
    receive(channel, "cliente-2", "Sigo esperando")
    replies = Notification.objects.filter(kind="customer_reply")
    assert [(n.recipient, n.title) for n in replies] == [
        (agent, f"El cliente respondió en {ticket.number}")
    ]
    with clock(at(4, 11)):
        inbox.send_message(conversation=conversation, by=supervisor, body="Ya lo vemos")
    receive(channel, "cliente-2", "Gracias")
    assert Notification.objects.filter(kind="customer_reply", recipient=agent).count() == 2
    assert not Notification.objects.filter(kind="customer_reply", recipient=supervisor).exists()
