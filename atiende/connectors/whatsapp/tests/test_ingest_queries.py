"""Ingest cost is behaviour: the queries one WhatsApp event costs per message, and a batched POST
stored in one transaction without giving up any guarantee (once, all or redone, events after
commit)."""

import json

import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext

from atiende.connectors.whatsapp import services
from atiende.connectors.whatsapp.models import WebhookEvent
from atiende.connectors.whatsapp.tests.wa_data import envelope, message
from atiende.contacts.models import Contact
from atiende.core import realtime
from atiende.inbox import services as inbox
from atiende.inbox.models import Conversation, Message
from atiende.users.tests.factories import TeamFactory

pytestmark = pytest.mark.django_db


def _event(channel, senders: list[str], bodies: list[str] | None = None) -> WebhookEvent:
    bodies = bodies or [f"Hola {i}" for i in range(len(senders))]
    items = [
        message(body=body, sender=sender) for sender, body in zip(senders, bodies, strict=True)
    ]
    contacts = [{"profile": {"name": f"Cliente {s[-3:]}"}, "wa_id": s} for s in senders]
    data = envelope(items, contacts=contacts)
    return services.store_event(channel, json.dumps(data).encode(), data)[0]


@pytest.fixture
def channel(wa_channel):
    wa_channel.team = TeamFactory(name="Ventas")
    wa_channel.save()
    services.process_event(_event(wa_channel, ["595981000001"]).pk)  # warm: content types
    return wa_channel


def _queries(event: WebhookEvent) -> int:
    with CaptureQueriesContext(connection) as captured:
        services.process_event(event.pk)
    return len(captured.captured_queries)


def test_a_message_on_an_open_conversation_costs_ten_queries(channel):
    """Event, savepoint, duplicate check, the conversation (locked), message, the conversation's
    indicators in one UPDATE, the contact's last interaction, linked tickets, release, event
    processed. Before: 15 (channel, contact and a full-row save read or written again)."""
    assert _queries(_event(channel, ["595981000001"])) <= 10
    conversation = Conversation.objects.get()
    assert conversation.unread_count == 2 and conversation.last_message_preview == "Hola 0"


def test_a_new_sender_costs_fourteen_queries(channel):
    """Before: 25 (conversation inserted then updated, team, contact primaries read back and
    updated, last interaction updated on the row just inserted, tickets looked up on a
    conversation this message has just started)."""
    assert _queries(_event(channel, ["595981000777"])) <= 14
    contact = Contact.objects.get(primary_phone="+595981000777")
    assert contact.last_interaction_at is not None
    assert contact.conversations.get().unread_count == 1


def test_a_batch_of_ten_new_senders_costs_twelve_queries_a_message(channel):
    senders = [f"5959810010{i:02d}" for i in range(10)]
    assert _queries(_event(channel, senders)) <= 10 * 12 + 4
    assert Message.objects.count() == 11
    assert not WebhookEvent.objects.exclude(error="").exists()


def test_a_batch_on_open_conversations_costs_eight_queries_a_message(channel):
    senders = [f"5959810020{i:02d}" for i in range(10)]
    services.process_event(_event(channel, senders).pk)
    assert _queries(_event(channel, senders, [f"Otra {i}" for i in range(10)])) <= 10 * 8 + 4
    assert set(Conversation.objects.values_list("unread_count", flat=True)) == {1, 2}


def test_a_batch_is_published_once_committed(
    channel, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(realtime, "publish", lambda group, event: sent.append(event))
    event = _event(channel, ["595981003001", "595981003002", "595981003003"])
    with django_capture_on_commit_callbacks() as callbacks:
        services.process_event(event.pk)
        assert not sent  # nothing leaves before the batch commits
    for callback in callbacks:
        callback()
    assert sorted(e["message_id"] for e in sent if e["type"] == "inbox.message") == sorted(
        2
        * list(
            Message.objects.filter(conversation__recipient__startswith="5959810030").values_list(
                "pk", flat=True
            )
        )
    )


def test_a_repeated_batch_changes_nothing(channel):
    senders = ["595981004001", "595981004002"]
    first = _event(channel, senders)
    services.process_event(first.pk)
    data = dict(first.raw)
    again = services.store_event(channel, json.dumps(data, indent=1).encode(), data)[0]
    before = list(Conversation.objects.values_list("id", "unread_count", "last_message_at"))
    services.process_event(again.pk)
    assert list(Conversation.objects.values_list("id", "unread_count", "last_message_at")) == before
    assert Message.objects.count() == 3


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="on SQLite each item has its own transaction"
)
def test_a_database_error_in_a_batch_redoes_it_item_by_item(channel, monkeypatch):
    """A deadlock or a locked database inside the batch's transaction must not lose the item:
    the batch rolls back whole and each item is stored in its own transaction, as before."""
    real = inbox.receive_message
    calls = []

    def flaky(inbound, **kwargs):
        calls.append(inbound.external_id)
        if len(calls) == 2:
            Conversation.objects.create(contact_id=Contact.objects.first().pk, channel=channel)
            raise OperationalError("deadlock detected")
        return real(inbound, **kwargs)

    monkeypatch.setattr(inbox, "receive_message", flaky)
    event = _event(channel, ["595981005001", "595981005002", "595981005003"])
    services.process_event(event.pk)
    assert len(calls) == 5  # two in the batch that rolled back, then the three again
    assert Message.objects.filter(conversation__recipient__startswith="5959810050").count() == 3
    assert Conversation.objects.filter(recipient="").count() == 0  # the batch's writes undone
    event.refresh_from_db()
    assert event.processed_at is not None and event.error == ""


def test_a_lone_message_is_not_wrapped_in_a_second_transaction(channel):
    """A lone item keeps its service's own transaction (here the test's savepoint): no outer
    one around it."""
    event = _event(channel, ["595981000001"])
    with CaptureQueriesContext(connection) as captured:
        services.process_event(event.pk)
    assert sum(q["sql"].startswith("SAVEPOINT") for q in captured.captured_queries) == 1
