"""Real processes: a job run by a worker reaches a socket held by a web server.

Embedded (`atiende run`): jobs run in threads of the server process and publish through the
in-memory layer. Scaled (`atiende web` + `atiende worker` with Redis): two processes, and the
event crosses from one to the other through Redis.
"""

import json
import os
import time
import urllib.request
from datetime import timedelta

import pytest
import redis
from django.utils import timezone
from websockets.sync.client import connect

from atiende.core.tests.live import (
    atiende_process,
    free_port,
    process_env,
    session_cookie,
    wait_until_serving,
)
from atiende.jobs import huey, make_huey
from atiende.users.jobs import sweep_stale_presence
from atiende.users.models import Presence

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"


def _redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _stale_presence(user) -> None:
    """A socket of `user` whose process died; created once the servers' startup sweep is done."""
    Presence.objects.create(
        user=user,
        channel_name="specific.gone!abc",
        last_seen_at=timezone.now() - timedelta(minutes=10),
    )


def _enqueue_sweep(queue) -> None:
    """Put the real periodic job on the child processes' queue, as the scheduler would."""
    queue.storage.enqueue(huey.serialize_task(sweep_stale_presence.s()))


def _wait_for_offline(socket, user_id: int, timeout: float = 20) -> tuple[dict, float]:
    started = time.monotonic()
    deadline = started + timeout
    while time.monotonic() < deadline:
        event = json.loads(socket.recv(timeout=max(0.1, deadline - time.monotonic())))
        if event.get("type") == "presence" and event["user_id"] == user_id and not event["online"]:
            return event, time.monotonic() - started
    raise TimeoutError("no offline presence event")


def _socket(port: int, cookie: str):
    return connect(
        f"ws://127.0.0.1:{port}/ws/",
        additional_headers={"Cookie": cookie, "Origin": f"http://127.0.0.1:{port}"},
        open_timeout=10,
    )


def test_embedded_run_job_thread_publishes_to_socket(tmp_path, client, agent, supervisor):
    port = free_port()
    env = process_env(tmp_path)
    cookie = session_cookie(client, supervisor)
    with atiende_process("run", env, "--port", str(port)) as server:
        wait_until_serving(port, server)
        with _socket(port, cookie) as socket:
            # Our own "online" event arrives first: the socket is registered.
            assert json.loads(socket.recv(timeout=10))["type"] == "presence"
            _stale_presence(agent)
            _enqueue_sweep(make_huey(data_dir=tmp_path, redis_url=""))
            event, _elapsed = _wait_for_offline(socket, agent.pk)
    assert event["name"] == "María González"
    assert not Presence.objects.filter(user=agent).exists()
    assert server.returncode == 0


@pytest.mark.skipif(not _redis_available(), reason=f"no Redis at {REDIS_URL}")
def test_worker_process_event_reaches_socket_on_web_process(tmp_path, client, agent, supervisor):
    port = free_port()
    env = process_env(tmp_path, redis_url=REDIS_URL)
    cookie = session_cookie(client, supervisor)
    queue = make_huey(data_dir=tmp_path, redis_url=REDIS_URL)
    queue.storage.flush_queue()
    with (
        atiende_process("web", env, "--port", str(port)) as web,
        atiende_process("worker", env, "--workers", "1") as worker,
    ):
        wait_until_serving(port, web)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz") as resp:
            assert json.load(resp)["realtime"] == "ok"
        with _socket(port, cookie) as socket:
            assert json.loads(socket.recv(timeout=10))["type"] == "presence"
            _stale_presence(agent)
            _enqueue_sweep(queue)
            event, _elapsed = _wait_for_offline(socket, agent.pk)
        assert worker.poll() is None, "the worker must still be running"
    assert event["user_id"] == agent.pk
    assert not Presence.objects.filter(user=agent).exists()
