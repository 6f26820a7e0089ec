"""Push events to agents' browsers through the channel layer.

With the in-memory layer (embedded mode), a send from a thread outside the server's event loop
(a Huey worker thread) is delivered seconds late, so `publish` hands the send to the server loop,
which the ASGI lifespan records through `set_server_loop`. With Redis any process may publish.
"""

import asyncio
import json
import logging
import threading
import weakref
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
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
    # Serialised once here rather than once per socket: a team's event goes to every member.
    message = {"type": EVENT_TYPE, "event": event, "text": json.dumps(event)}
    try:
        loop = _server_loop
        if loop is not None and loop.is_running():
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is loop:
                loop.create_task(_group_send(layer, group, message))
                return
            if running is None:
                # Handed to the server loop without waiting for it: a job thread must not stall
                # while the loop fans an event out to hundreds of sockets (the benchmark's job
                # threads spent their time here). The loop runs the sends in the order given.
                future = asyncio.run_coroutine_threadsafe(_group_send(layer, group, message), loop)
                future.add_done_callback(_log_failure(group, event))
                return
        if not isinstance(layer, InMemoryChannelLayer):
            # A worker process (Redis layer, no server loop): one long-lived loop of ours, so
            # channels_redis keeps its connections; async_to_sync made a loop, and so a new
            # Redis connection, per event (17 % of the worker's time in the benchmark).
            future = asyncio.run_coroutine_threadsafe(
                _group_send(layer, group, message), _publisher_loop()
            )
            future.add_done_callback(_log_failure(group, event))
            return
        async_to_sync(layer.group_send)(group, message)
    except Exception:
        # The database already holds the change; a missed push is recovered by the next page load.
        logger.exception(
            "realtime publish failed", extra={"group": group, "event": event.get("type")}
        )


# Sends in flight at once on one loop. redis-py 8 pools hold 100 connections and fail the 101st
# at once ("Too many connections"): when 200 agents' sockets closed together, their 200 presence
# events were handed to the publishing loop in the same instant and 100 were lost (bench).
MAX_CONCURRENT_SENDS = 32
_send_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


async def _group_send(layer, group: str, message: dict[str, Any]) -> None:
    """`layer.group_send`, waiting for one of this loop's MAX_CONCURRENT_SENDS slots."""
    loop = asyncio.get_running_loop()
    slots = _send_slots.get(loop)
    if slots is None:
        slots = _send_slots[loop] = asyncio.Semaphore(MAX_CONCURRENT_SENDS)
    async with slots:
        await layer.group_send(group, message)


_publisher: asyncio.AbstractEventLoop | None = None
_publisher_lock = threading.Lock()


def _publisher_loop() -> asyncio.AbstractEventLoop:
    """This process's publishing loop, in a daemon thread, started on first use."""
    global _publisher
    with _publisher_lock:
        if _publisher is None or _publisher.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="realtime-publish", daemon=True).start()
            _publisher = loop
        return _publisher


def _log_failure(group: str, event: dict[str, Any]):
    def check(future) -> None:
        if not future.cancelled() and future.exception() is not None:
            logger.error(
                "realtime publish failed",
                exc_info=future.exception(),
                extra={"group": group, "event": event.get("type")},
            )

    return check


def publish_on_commit(group: str, event: dict[str, Any]) -> None:
    """Publish once the surrounding transaction commits, never for a rolled-back change."""
    transaction.on_commit(lambda: publish(group, event))
