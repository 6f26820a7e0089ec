"""The embedded channel layer: every member gets a group's event once, a stalled socket is skipped,
and the expiry walk no longer runs for every delivery."""

import asyncio
import uuid

from channels.layers import InMemoryChannelLayer as ChannelsInMemoryLayer
from channels.layers import get_channel_layer
from django.conf import settings

from atiende.core import layers
from atiende.core.layers import InMemoryChannelLayer


def test_group_send_reaches_every_member_once_and_skips_a_full_one():
    async def scenario():
        layer = InMemoryChannelLayer(capacity=2)
        names = [await layer.new_channel() for _ in range(3)]
        for name in names:
            await layer.group_add("team.7", name)
        stalled = names[0]
        for _ in range(2):
            await layer.send(stalled, {"type": "realtime.event", "event": {"n": 0}})
        await layer.group_send("team.7", {"type": "realtime.event", "event": {"n": 1}})
        await layer.group_send("otro", {"type": "realtime.event", "event": {"n": 2}})
        got = {name: [] for name in names}
        for name in names:
            while layer.channels.get(name) is not None and not layer.channels[name].empty():
                got[name].append((await layer.receive(name))["event"]["n"])
        return names, got

    names, got = asyncio.run(scenario())
    assert got[names[0]] == [0, 0]  # full: the group event was dropped for it alone
    assert got[names[1]] == [1]
    assert got[names[2]] == [1]


def test_expired_messages_still_go_but_the_walk_runs_at_most_once_a_second(monkeypatch):
    walks = []
    original = ChannelsInMemoryLayer._clean_expired
    monkeypatch.setattr(
        ChannelsInMemoryLayer, "_clean_expired", lambda self: walks.append(1) or original(self)
    )

    async def scenario():
        layer = InMemoryChannelLayer(expiry=0)
        name = await layer.new_channel()
        await layer.group_add("supervisors", name)
        for n in range(50):
            await layer.group_send("supervisors", {"type": "realtime.event", "event": {"n": n}})
        first = len(walks)
        layer._next_clean = 0.0  # a second has passed
        await layer.group_send("supervisors", {"type": "realtime.event", "event": {"n": 99}})
        return first, layer.channels.get(name)

    first, queue = asyncio.run(scenario())
    assert first == 1
    assert len(walks) == 2
    # Expiry 0: the second walk dropped every queued message (and the channel from its groups).
    assert queue is None or queue.qsize() <= 1
    assert layers.CLEAN_EVERY_SECONDS <= 1.0


def test_a_socket_behind_by_more_than_a_hundred_events_still_gets_them_all():
    """The configured layer (memory, or Redis in the PostgreSQL run) keeps a backlog past
    Channels' default capacity of 100: a team's burst reaches a busy socket whole, in order."""
    layer = get_channel_layer()
    burst = 600
    assert burst < settings.ATIENDE_CHANNEL_CAPACITY
    group = f"team.burst-{uuid.uuid4().hex[:8]}"

    async def scenario() -> list[int]:
        name = await layer.new_channel()
        await layer.group_add(group, name)
        for n in range(burst):
            await layer.group_send(group, {"type": "realtime.event", "event": {"n": n}})
        got = [(await layer.receive(name))["event"]["n"] for _ in range(burst)]
        await layer.group_discard(group, name)
        return got

    assert asyncio.run(scenario()) == list(range(burst))
