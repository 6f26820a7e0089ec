"""The generator bypasses the services for speed, so its rows must be the ones they would write:
otherwise search, lists and ingest would be measured against data the app never produces."""

import random

import phonenumbers
import pytest
from django.db.models import Max

from atiende.contacts import selectors
from atiende.contacts.models import Contact, ContactPoint
from atiende.core.normalize import fold, identification_key, normalize_phone, phone_key
from atiende.inbox.models import Conversation, Message
from atiende.tickets.models import Ticket
from atiende.users.models import User
from bench import data

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def generated():
    return data.generate(scale="smoke", seed=7, out=lambda _line: None)


def test_counts_and_users_of_the_smoke_scale(generated):
    size = data.SCALES["smoke"]
    assert generated["counts"]["contacts"] == Contact.objects.count() == size.contacts
    assert Conversation.objects.count() == size.conversations
    assert Message.objects.count() == size.messages
    assert Ticket.objects.count() == size.tickets
    agents = User.objects.filter(username__startswith="bench-agent-")
    assert agents.count() == data.AGENTS
    assert agents.first().check_password(data.BENCH_PASSWORD)
    assert User.objects.get(username=data.BENCH_ADMIN).is_admin


def test_contacts_are_stored_as_the_services_store_them(generated):
    for contact in Contact.objects.prefetch_related("points"):
        assert contact.search_name == fold(f"{contact.first_name} {contact.last_name}")
        assert contact.identification_key == identification_key(contact.identification_number)
        points = sorted(contact.points.all(), key=lambda p: (not p.is_primary, p.id))
        for point in points:
            if point.kind in ContactPoint.PHONE_KINDS:
                assert normalize_phone(point.value) == point.value
                assert phone_key(point.value) == point.search_value
            elif point.kind == ContactPoint.Kind.EMAIL:
                assert point.value == point.value.lower() == point.search_value
        phones = [p.value for p in points if p.kind in ContactPoint.PHONE_KINDS]
        emails = [p.value for p in points if p.kind == ContactPoint.Kind.EMAIL]
        assert contact.primary_phone == (phones[0] if phones else "")
        assert contact.primary_email == (emails[0] if emails else "")


def test_a_generated_phone_is_found_in_every_format(generated, agent):
    rng = random.Random(1)
    for point in rng.sample(list(ContactPoint.objects.filter(kind="whatsapp")), 10):
        number = phonenumbers.parse(point.value)
        for typed in (
            point.value,
            point.value.lstrip("+"),
            phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
            phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL),
        ):
            found = selectors.search_contacts(user=agent, query=typed)
            assert point.contact_id in set(found.values_list("id", flat=True)), typed


def test_conversations_carry_their_last_message(generated):
    last = {
        row["conversation"]: row["at"]
        for row in Message.objects.values("conversation").annotate(at=Max("created_at"))
    }
    for conversation in Conversation.objects.all():
        newest = conversation.messages.order_by("-created_at", "-id").first()
        assert conversation.last_message_at == last[conversation.pk] == newest.created_at
        assert conversation.last_message_preview == newest.body[:160]
        assert conversation.last_message_inbound == (newest.direction == "in")
        if conversation.channel.kind == "whatsapp":
            assert "+" + conversation.recipient == conversation.contact.primary_phone or (
                conversation.contact.points.filter(value="+" + conversation.recipient).exists()
            )
    contact = Conversation.objects.order_by("-last_message_at").first().contact
    assert (
        contact.last_interaction_at
        == contact.conversations.aggregate(m=Max("last_message_at"))["m"]
    )


def test_same_seed_same_data(generated):
    first = list(Contact.objects.order_by("id").values_list("search_name", "primary_phone")[:50])
    Ticket.objects.all().delete()
    Message.objects.all().delete()
    Conversation.objects.all().delete()
    Contact.objects.all().delete()
    User.objects.filter(username__startswith="bench-").delete()
    from atiende.contacts.models import Label
    from atiende.inbox.models import Channel
    from atiende.users.models import Team

    Label.objects.filter(name__endswith="(bench)").delete()
    Channel.objects.filter(name__endswith="(bench)").delete()
    Team.objects.filter(name__endswith="(bench)").delete()
    data.generate(scale="smoke", seed=7, out=lambda _line: None)
    again = list(Contact.objects.order_by("id").values_list("search_name", "primary_phone")[:50])
    assert again == first
