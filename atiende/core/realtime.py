"""Push events to agents' browsers through the channel layer.

With the in-memory layer (embedded mode), a send from a thread outside the server's event loop
(a Huey worker thread) is delivered seconds late, so `publish` hands the send to the server loop,
which the ASGI lifespan records through `set_server_loop`. With Redis any process may publish.
"""

import asyncio
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

EVENT_TYPE = "realtime.event"
_server_loop: asyncio.AbstractEventLoop | None = None


def set_server_loop(loop: asyncio.AbstractEventLoop | None) -> None:
    global _server_loop
    _server_loop = loop


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def team_group(team_id: int) -> str:
    return f"team.{team_id}"


def visitor_group(visitor_id: str) -> str:
    """A website-chat visitor's sockets (every tab of the same browser)."""
    return f"visitor.{visitor_id}"


SUPERVISORS_GROUP = "supervisors"


def publish(group: str, event: dict[str, Any]) -> None:
    """Send `event` (a JSON-able dict with a "type") to every socket in `group`; never raises."""
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": EVENT_TYPE, "event": event}
    try:
        loop = _server_loop
        if loop is not None and loop.is_running():
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is loop:
                loop.create_task(layer.group_send(group, message))
                return
            if running is None:
                future = asyncio.run_coroutine_threadsafe(layer.group_send(group, message), loop)
                future.result(timeout=5)
                return
        async_to_sync(layer.group_send)(group, message)
    except Exception:
        # The database already holds the change; a missed push is recovered by the next page load.
        logger.exception(
            "realtime publish failed", extra={"group": group, "event": event.get("type")}
        )


def publish_on_commit(group: str, event: dict[str, Any]) -> None:
    """Publish once the surrounding transaction commits, never for a rolled-back change."""
    transaction.on_commit(lambda: publish(group, event))
