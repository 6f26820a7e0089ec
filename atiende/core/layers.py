"""The in-memory channel layer of the embedded layout, made linear in the number of sockets.

Channels' InMemoryChannelLayer walks every channel and every group membership to drop expired
messages on each `receive` and `group_send`, so one event to a team of N sockets cost N walks of
N entries. The benchmark (200 agents' sockets, one team) measured that walk as the largest share
of the server loop's time and seconds of delay at 40 messages/s. Here the walk runs at most once
a second, and a group send queues the message on each member directly (one copy of the message
for the group instead of one per member and one task per member).
"""

import asyncio
import time
from copy import deepcopy

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer as ChannelsInMemoryLayer

CLEAN_EVERY_SECONDS = 1.0


class InMemoryChannelLayer(ChannelsInMemoryLayer):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._next_clean = 0.0

    def _clean_expired(self) -> None:
        """Expiry counts in tens of seconds (messages 60 s, memberships a day): once a second is
        as good as every call."""
        now = time.monotonic()
        if now < self._next_clean:
            return
        self._next_clean = now + CLEAN_EVERY_SECONDS
        super()._clean_expired()

    async def group_send(self, group: str, message: dict) -> None:
        """Queue `message` for every member; a full member (a stalled socket) is skipped, as
        Channels does. Members share one copy: consumers read events, never change them."""
        assert isinstance(message, dict), "Message is not a dict"
        self.require_valid_group_name(group)
        self._clean_expired()
        members = list(self.groups.get(group, {}))
        if not members:
            return
        copy = deepcopy(message)
        expires = time.time() + self.expiry
        for channel in members:
            queue = self.channels.get(channel)
            try:
                if queue is None:
                    await self.send(channel, copy)  # makes the queue, with its capacity
                else:
                    queue.put_nowait((expires, copy))
            except (ChannelFull, asyncio.QueueFull):
                continue
