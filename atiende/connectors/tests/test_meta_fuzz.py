"""Property-based fuzzing of the Messenger/Instagram webhook parser: any JSON under a valid
signature for a known page is answered 200 or 403, never 500, and never leaves a message half
stored (every stored message has its conversation, contact and external id)."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atiende.connectors.tests.meta_graph import meta_channel, sign, start_graph
from atiende.inbox.models import Conversation, Message, SocialComment

pytestmark = pytest.mark.django_db

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(["m_1", "1001", "text", "image", "http://127.0.0.1:9/a.png", "comment", "add"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
keys = st.sampled_from(
    [
        "mid",
        "text",
        "attachments",
        "quick_reply",
        "reply_to",
        "is_echo",
        "payload",
        "url",
        "type",
        "story",
        "sender",
        "recipient",
        "timestamp",
        "message",
        "delivery",
        "read",
        "reaction",
        "mids",
        "watermark",
        "postback",
        "field",
        "value",
        "item",
        "verb",
        "comment_id",
        "post_id",
        "from",
        "id",
        "created_time",
        "media",
        "parent_id",
    ]
)
shaped = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(keys, inner, max_size=6)),
    max_leaves=30,
)


@pytest.fixture(scope="module")
def graph():
    graph, server = start_graph()
    yield graph
    server.shutdown()
    server.server_close()


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    obj=st.sampled_from(["page", "instagram", "whatever"]),
    messaging=st.one_of(json_values, st.lists(shaped, max_size=3)),
    changes=st.one_of(json_values, st.lists(shaped, max_size=3)),
    extra=st.dictionaries(keys, json_values, max_size=2),
)
def test_random_payloads_never_500_and_never_half_store(
    client, graph, obj, messaging, changes, extra
):
    channel = meta_channel("messenger", graph, is_active=True)
    channel.config = {**channel.config, "fetch_profiles": False}
    channel.save()
    entry = {"id": "1001", "time": 1, "messaging": messaging, "changes": changes, **extra}
    entry["id"] = "1001"
    body = json.dumps({"object": obj, "entry": [entry]}).encode()
    try:
        response = client.post(
            "/webhooks/meta",
            data=body,
            content_type="application/json",
            headers={"X-Hub-Signature-256": sign(body, "secreto-messenger")},
        )
        assert response.status_code in (200, 403)
        for message in Message.objects.select_related("conversation__contact"):
            assert message.external_id
            assert message.conversation.contact_id
        assert not Conversation.objects.filter(messages__isnull=True).exists()
        assert not SocialComment.objects.filter(external_id="").exists()
    finally:
        Message.objects.all().delete()
        Conversation.objects.all().delete()
        SocialComment.objects.all().delete()
        channel.delete()


@pytest.mark.parametrize("raw", [b"", b"null", b"[]", b"{", b'{"object": "page"}', b"\xff\xfe"])
def test_garbage_bodies_under_a_valid_signature_are_refused(client, graph, raw):
    meta_channel("messenger", graph)
    response = client.post(
        "/webhooks/meta",
        data=raw,
        content_type="application/json",
        headers={"X-Hub-Signature-256": sign(raw, "secreto-messenger")},
    )
    assert response.status_code == 403
