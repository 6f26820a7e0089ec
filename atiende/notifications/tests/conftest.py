import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer


@pytest.fixture
def listen():
    """`events = listen(group)` subscribes to a realtime group; `events()` drains what arrived."""
    layer = get_channel_layer()

    async def drain(name: str) -> list[dict]:
        received = []
        while True:
            try:
                message = await asyncio.wait_for(layer.receive(name), timeout=0.2)
            except TimeoutError:
                return received
            received.append(message["event"])

    def subscribe(group: str):
        name = async_to_sync(layer.new_channel)()
        async_to_sync(layer.group_add)(group, name)
        return lambda: async_to_sync(drain)(name)

    return subscribe
