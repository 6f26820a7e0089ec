"""What the realtime path saves per socket: the event is serialised once, not compressed."""

import asyncio
import json
import threading
import time

from channels.layers import get_channel_layer

from atiende.core import realtime
from atiende.core.management.commands._serving import uvicorn_options


def test_sockets_are_served_without_per_message_compression():
    assert uvicorn_options(host="127.0.0.1", port=8000)["ws_per_message_deflate"] is False


def test_a_slow_pong_gets_a_minute_before_the_socket_is_closed(monkeypatch):
    options = uvicorn_options(host="127.0.0.1", port=8000)
    assert (options["ws_ping_interval"], options["ws_ping_timeout"]) == (20, 60)
    monkeypatch.setenv("ATIENDE_WS_PING_TIMEOUT", "90")
    assert uvicorn_options(host="127.0.0.1", port=8000)["ws_ping_timeout"] == 90


def test_a_published_event_carries_its_json_once_for_every_member():
    layer = get_channel_layer()

    async def member() -> str:
        return await layer.new_channel()

    name = asyncio.run(member())
    asyncio.run(layer.group_add("team.42", name))
    event = {"type": "inbox.message", "conversation_id": 7, "preview": "¿Hola?"}
    realtime.publish("team.42", event)
    message = asyncio.run(layer.receive(name))
    assert message["event"] == event
    assert json.loads(message["text"]) == event


def test_a_job_thread_does_not_wait_for_a_busy_server_loop():
    layer = get_channel_layer()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    realtime.set_server_loop(loop)
    try:

        async def join() -> str:
            name = await layer.new_channel()
            await layer.group_add("team.43", name)
            return name

        name = asyncio.run_coroutine_threadsafe(join(), loop).result(2)
        loop.call_soon_threadsafe(time.sleep, 0.6)  # the loop is busy with hundreds of sockets
        started = time.monotonic()
        realtime.publish("team.43", {"type": "inbox.message", "conversation_id": 8})
        assert time.monotonic() - started < 0.3
        message = asyncio.run_coroutine_threadsafe(layer.receive(name), loop).result(3)
        assert message["event"]["conversation_id"] == 8
    finally:
        realtime.set_server_loop(None)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(2)
        loop.close()


def test_a_worker_process_publishes_on_one_long_lived_loop(monkeypatch):
    """With Redis and no server loop (`atiende worker`), every event goes through the same loop,
    so channels_redis keeps its connections instead of opening one per event."""
    loops, done = [], threading.Event()

    class RedisLikeLayer:
        async def group_send(self, group, message):
            await asyncio.sleep(0)
            loops.append((asyncio.get_running_loop(), group, json.loads(message["text"])))
            if len(loops) == 2:
                done.set()

    monkeypatch.setattr(realtime, "get_channel_layer", RedisLikeLayer)
    realtime.publish("team.1", {"type": "inbox.message", "n": 1})
    realtime.publish("supervisors", {"type": "inbox.message", "n": 2})
    assert done.wait(2)
    assert loops[0][0] is loops[1][0] and loops[0][0].is_running()
    assert [(group, event["n"]) for _loop, group, event in loops] == [
        ("team.1", 1),
        ("supervisors", 2),
    ]


def test_a_burst_of_events_never_holds_more_sends_than_the_pool_allows(monkeypatch):
    """200 sockets closing together publish 200 presence events at once: the publishing loop
    keeps at most MAX_CONCURRENT_SENDS in flight (redis-py fails the 101st connection), and
    every event still goes out."""
    in_flight, peak, sent, done = [0], [0], [], threading.Event()
    burst = 200

    class SlowRedisLikeLayer:
        async def group_send(self, group, message):
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
            await asyncio.sleep(0.002)
            in_flight[0] -= 1
            sent.append(json.loads(message["text"])["n"])
            if len(sent) == burst:
                done.set()

    monkeypatch.setattr(realtime, "get_channel_layer", SlowRedisLikeLayer)
    for n in range(burst):
        realtime.publish("supervisors", {"type": "presence", "n": n})
    assert done.wait(10)
    assert sorted(sent) == list(range(burst))
    assert peak[0] <= realtime.MAX_CONCURRENT_SENDS
