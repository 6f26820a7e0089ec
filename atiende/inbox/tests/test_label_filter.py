"""The label filter (the conversation's own labels or its contact's) must count each conversation
once in the tray counts and list it once, whichever way it carries the label."""

import pytest

from atiende.contacts.models import Label
from atiende.inbox import selectors
from atiende.inbox.selectors import InboxFilters
from atiende.inbox.tests.inbox_data import conversation_for, make_channel

pytestmark = pytest.mark.django_db


def test_label_filter_counts_and_lists_each_conversation_once(supervisor):
    channel = make_channel()
    vip = Label.objects.create(name="VIP")
    both, own, by_contact, _other = (conversation_for(channel) for _ in range(4))
    both.labels.add(vip)
    both.contact.labels.add(vip)
    own.labels.add(vip)
    by_contact.contact.labels.add(vip)
    filters = InboxFilters(label=vip.pk)

    counts = selectors.tray_counts(user=supervisor, filters=filters)
    rows = list(
        selectors.conversations_for_tray(user=supervisor, status="pending", filters=filters)
    )

    assert counts == {"pending": 3, "open": 0, "resolved": 0}
    assert sorted(c.pk for c in rows) == sorted([both.pk, own.pk, by_contact.pk])
