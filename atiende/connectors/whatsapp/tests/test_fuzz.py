"""Hypothesis against the webhook parser: random JSON shapes under a valid signature never give a
500 and never store half a message (each stored message has its conversation and contact)."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atiende.connectors.whatsapp.tests.wa_data import NUMBER_ID, post_webhook
from atiende.inbox.models import Message

pytestmark = pytest.mark.django_db

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False),
    st.text(max_size=12),
)
anything = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
types = st.sampled_from(
    [
        "text",
        "image",
        "audio",
        "video",
        "document",
        "sticker",
        "location",
        "contacts",
        "interactive",
        "button",
        "reaction",
        "unsupported",
        "order",
        "",
        "x",
    ]
)


@st.composite
def wa_message(draw):
    kind = draw(types)
    item = {
        "from": draw(st.one_of(st.sampled_from(["595981123456", "", "US.1"]), anything)),
        "id": draw(
            st.one_of(st.text(min_size=1, max_size=20).map(lambda s: "wamid." + s), anything)
        ),
        "timestamp": draw(st.one_of(st.sampled_from(["1700000000", "-1", "9" * 30]), anything)),
        "type": kind,
    }
    item[kind or "x"] = draw(
        st.one_of(
            anything,
            st.dictionaries(
                st.sampled_from(
                    [
                        "id",
                        "body",
                        "mime_type",
                        "voice",
                        "emoji",
                        "message_id",
                        "latitude",
                        "type",
                        "button_reply",
                        "list_reply",
                        "caption",
                        "filename",
                    ]
                ),
                anything,
                max_size=5,
            ),
        )
    )
    if draw(st.booleans()):
        item["context"] = draw(anything)
    if draw(st.booleans()):
        item["contacts"] = draw(anything)
    return draw(st.one_of(st.just(item), anything))


@st.composite
def wa_body(draw):
    value = {
        "messaging_product": "whatsapp",
        "metadata": draw(st.one_of(st.just({"phone_number_id": NUMBER_ID}), anything)),
        "contacts": draw(
            st.one_of(st.just([{"profile": {"name": "Ana"}, "wa_id": "595981123456"}]), anything)
        ),
        "messages": draw(st.one_of(st.lists(wa_message(), max_size=3), anything)),
        "statuses": draw(st.one_of(st.lists(anything, max_size=2), anything)),
    }
    change = draw(st.one_of(st.just({"field": "messages", "value": value}), anything))
    entry = draw(st.one_of(st.just({"id": "1", "changes": [change]}), anything))
    envelope = {"object": "whatsapp_business_account", "entry": [entry]}
    # Keep one sound change so the body is routed to the channel (signed, processed).
    sound = {"value": {"metadata": {"phone_number_id": NUMBER_ID}}}
    envelope["entry"].append({"changes": [sound]})
    return draw(st.one_of(st.just(envelope), anything))


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=wa_body())
def test_random_shapes_never_500_and_never_half_store(client, wa_channel, body):
    raw = json.dumps(body).encode()
    response = post_webhook(client, raw)
    assert response.status_code in (200, 403)
    for message in Message.objects.select_related("conversation__contact"):
        assert message.conversation.contact is not None
        assert message.conversation.channel_id == wa_channel.pk
