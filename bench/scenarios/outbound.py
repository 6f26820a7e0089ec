"""Outbound: replies through the app's own send path to a local stand-in of the Graph API.

The stand-in is a threaded HTTP server in this process that answers Meta's send-message shape
(`POST /{version}/{phone_number_id}/messages` → `{"messages": [{"id": "wamid…"}]}`) and notes when
each send arrived; the benchmark's WhatsApp channel points its Graph address at it. The replies
are made with `inbox.services.send_message` (what the composer and the API call) as the bench
admin, inside one transaction per phase, so every delivery job is queued at the commit and the
server's job workers deliver them (Huey → connector → pacing → HTTP). Two phases:

- pacing off (a per-second limit far above what the workers reach): the delivery rate itself;
- pacing on (the channel's `max_per_second`, 80 by default like Meta's): the rate measured over
  whole seconds from the first send, and its deviation from the configured rate.
"""

from __future__ import annotations

import json
import math
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bench.core import Context, Figure, at_most
from bench.scenarios.ingest import bench_channel

SCENARIO = "outbound"
PACED_RATE = 80
SMOKE_PACED_RATE = 25
UNPACED_RATE = 1_000_000
TARGET_DEVIATION = 0.05


class GraphStandIn:
    """Meta's send endpoint on 127.0.0.1, noting the wall-clock time of every send (the pacing
    counts per wall-clock second)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sends: list[float] = []
        self.other: int = 0
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                now = time.time()
                if self.path.endswith("/messages"):
                    try:
                        to = str(json.loads(body or b"{}").get("to", ""))
                    except ValueError:
                        to = ""
                    with stand_in.lock:
                        stand_in.sends.append(now)
                        number = len(stand_in.sends)
                    answer = {
                        "messaging_product": "whatsapp",
                        "contacts": [{"input": to, "wa_id": to}],
                        "messages": [{"id": f"wamid.HBgLout{number:09d}"}],
                    }
                    self._answer(200, answer)
                else:
                    with stand_in.lock:
                        stand_in.other += 1
                    self._answer(404, {"error": {"message": "not found", "code": 100}})

            def _answer(self, status: int, data: dict) -> None:
                raw = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def count(self) -> int:
        with self.lock:
            return len(self.sends)

    def window(self, start: int) -> list[float]:
        with self.lock:
            return list(self.sends[start:])

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def open_conversations(ctx: Context, channel, count: int) -> list:
    """Conversations of the bench channel inside WhatsApp's 24-hour window; customers write
    first (through the inbox's receive path) where there are not enough yet."""
    import datetime

    from django.utils import timezone

    from atiende.connectors.base import InboundMessage, Sender
    from atiende.inbox import services as inbox
    from atiende.inbox.models import Conversation

    since = timezone.now() - datetime.timedelta(hours=20)
    found = list(
        Conversation.objects.filter(channel=channel, last_inbound_at__gte=since)
        .exclude(status="resolved")
        .order_by("id")[:count]
    )
    for index in range(len(found), count):
        wa_id = f"5959850{index:05d}"
        inbox.receive_message(
            InboundMessage(
                channel_id=channel.pk,
                external_id=f"wamid.HBgLob{ctx.seed}{index:05d}",
                sender=Sender(external_id=wa_id, name="Cliente Benchmark", phone=f"+{wa_id}"),
                body="Hola, quisiera información",
            )
        )
    if len(found) < count:
        found = list(
            Conversation.objects.filter(channel=channel, last_inbound_at__gte=since)
            .exclude(status="resolved")
            .order_by("id")[:count]
        )
    return found


def queue_replies(conversations: list, by, total: int, label: str) -> float:
    """`total` replies spread over the conversations, committed at once: seconds it took."""
    from django.db import transaction

    from atiende.inbox import services as inbox

    started = time.monotonic()
    with transaction.atomic():
        for index in range(total):
            conversation = conversations[index % len(conversations)]
            inbox.send_message(
                conversation=conversation,
                by=by,
                body=f"Respuesta {label} {index + 1}: gracias por escribirnos.",
            )
    return time.monotonic() - started


def wait_for_sends(
    stand_in: GraphStandIn, start: int, total: int, idle_seconds: float, stack
) -> list[float]:
    """Until `total` sends arrived after `start`, or none arrived for `idle_seconds`."""
    seen, moved = -1, time.monotonic()
    while True:
        count = stand_in.count() - start
        if count >= total:
            break
        if count != seen:
            seen, moved = count, time.monotonic()
        elif time.monotonic() - moved > idle_seconds:
            break
        stack.check_alive()
        time.sleep(0.1)
    return stand_in.window(start)


def throughput(times: list[float]) -> float:
    if len(times) < 2:
        return 0.0
    return (len(times) - 1) / max(times[-1] - times[0], 1e-9)


def paced_rate(times: list[float]) -> tuple[float, int, int]:
    """Sends per second over the whole wall-clock seconds between the first and the last send
    (the limit counts per wall-clock second, so partial seconds at either end would misstate it):
    (rate, seconds counted, most sends within any one-second window)."""
    if len(times) < 2:
        return 0.0, 0, len(times)
    first, last = math.ceil(times[0]), math.floor(times[-1])
    seconds = last - first
    if seconds < 1:
        return throughput(times), 0, len(times)
    counted = sum(1 for t in times if first <= t < last)
    busiest, left = 0, 0
    for right, at in enumerate(times):
        while at - times[left] >= 1.0:
            left += 1
        busiest = max(busiest, right - left + 1)
    return counted / seconds, seconds, busiest


def _failed(channel, since_id: int) -> int:
    from atiende.inbox.models import Message

    return Message.objects.filter(
        channel=channel, direction="out", pk__gt=since_id, status="failed"
    ).count()


def _last_message_id() -> int:
    from atiende.inbox.models import Message

    return Message.objects.order_by("-id").values_list("id", flat=True).first() or 0


def plan(ctx: Context) -> tuple[int, int]:
    """(replies per phase, paced rate): 10,000 sends in all at 80/s; a few hundred at smoke."""
    if ctx.smoke:
        return 200, SMOKE_PACED_RATE
    return 5_000, PACED_RATE


def run(ctx: Context) -> list[Figure]:
    from atiende.users.models import User

    channel = bench_channel(ctx)
    total, rate = plan(ctx)
    idle = 10.0 if ctx.smoke else 30.0
    admin = User.objects.get(username=ctx.state.get("admin_username") or "bench-admin")
    conversations = open_conversations(ctx, channel, 20 if ctx.smoke else 200)
    stand_in = GraphStandIn()
    figures: list[Figure] = []
    try:
        channel.config = {**channel.config, "graph_base_url": stand_in.url}
        rate_off = 0.0
        for phase, limit in (("off", UNPACED_RATE), ("on", rate)):
            channel.config = {**channel.config, "max_per_second": limit}
            channel.save(update_fields=["config"])
            start, first_id = stand_in.count(), _last_message_id()
            queued_in = queue_replies(conversations, admin, total, phase)
            queued_at = time.time()
            times = wait_for_sends(stand_in, start, total, idle, ctx.stack)
            failed = _failed(channel, first_id)
            missing = total - len(times)
            note = f"{len(times)}/{total} sent in {times[-1] - times[0]:.1f} s" if times else ""
            note += f"; queued in {queued_in:.1f} s"
            if phase == "off":
                # Jobs start at the commit while this process is still queuing the rest (and
                # publishing their events), so the rate is the backlog's: sends after the last
                # one was queued, when there were enough of them.
                after = [t for t in times if t >= queued_at]
                drained = throughput(after) if len(after) >= max(10, total // 5) else 0.0
                rate_off = drained or throughput(times)
                note += "; rate of the backlog once all were queued" if drained else ""
                figures.append(
                    Figure(SCENARIO, "sent with pacing off", round(rate_off, 1), "msg/s",
                           note=note)
                )  # fmt: skip
            else:
                # Counted once every reply is queued: before that this process competes for the
                # CPU with the job workers, and a shortfall would be ours, not the pacing's.
                after = [t for t in times if t >= queued_at]
                window = after if len(after) >= 3 * limit else times
                measured, seconds, busiest = paced_rate(window)
                deviation = abs(measured - limit) / limit
                figures.append(
                    Figure(
                        SCENARIO,
                        f"sent with pacing on ({limit}/s)",
                        round(measured, 2),
                        "msg/s",
                        note=f"{note}; over {seconds} whole s"
                        + (" after all were queued" if window is after else "")
                        + f", busiest second {busiest}",
                    )
                )
                target, met = at_most(deviation * 100, TARGET_DEVIATION * 100)
                judged = ""
                if rate_off < limit * (1 + TARGET_DEVIATION):
                    # The workers cannot send faster than the limit: the rate measures them.
                    met = None
                    judged = (
                        f"not judged: the workers' own rate ({rate_off:.0f}/s) is below the "
                        f"configured {limit}/s"
                    )
                figures.append(
                    Figure(SCENARIO, "pacing deviation from the configured rate",
                           round(deviation * 100, 2), "%", target, met, note=judged)
                )  # fmt: skip
            target, met = at_most(missing + failed, 0)
            figures.append(
                Figure(
                    SCENARIO,
                    f"messages not sent, pacing {phase}",
                    missing + failed,
                    "messages",
                    target,
                    met,
                    note=f"{failed} failed" if failed else "",
                )
            )
    finally:
        channel.config = {**channel.config, "max_per_second": PACED_RATE}
        channel.save(update_fields=["config"])
        stand_in.stop()
    return figures
