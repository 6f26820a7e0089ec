"""Real-time latency: agents' WebSockets open while WhatsApp messages arrive at a steady rate.

The load process logs each agent in over HTTP (login form, CSRF cookie, session cookie), opens
their socket at /ws/ (spread over the web processes), then POSTs signed webhooks at the rate.
Every inbound message publishes `inbox.message` to the channel's team, which holds every bench
agent, so each socket must see each message exactly once. Latency runs from the moment a POST was
written to the moment a socket read the event (one clock: both happen in the load process);
events lost are the deliveries expected (accepted POSTs times sockets) that never arrived.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from pathlib import Path

from bench.core import Context, Figure, at_most, percentile
from bench.loadgen import LoadProcess
from bench.scenarios.ingest import bench_agents, bench_channel, webhook_spec

SCENARIO = "realtime"
TARGET_P99_MS = 250
LOGIN_PATH = "/cuenta/ingresar/"
SOCKET_PATH = "/ws/"


def _password(ctx: Context) -> str:
    from bench import data

    return ctx.state.get("password") or data.BENCH_PASSWORD


def _message_ids(channel_id: int, wamids: list[str]) -> dict[str, int]:
    from atiende.inbox.models import Message

    found: dict[str, int] = {}
    for start in range(0, len(wamids), 500):
        chunk = wamids[start : start + 500]
        found.update(
            Message.objects.filter(channel_id=channel_id, external_id__in=chunk).values_list(
                "external_id", "pk"
            )
        )
    return found


def plan(ctx: Context) -> tuple[int, int, float]:
    """(sockets, messages per second, seconds): the issue's 200 and 200/s, a sketch at smoke."""
    if ctx.smoke:
        return 5, 20, 2.0
    return 200, 200, 10.0


def run(ctx: Context) -> list[Figure]:
    channel = bench_channel(ctx)
    sockets, rate, seconds = plan(ctx)
    agents = bench_agents(ctx)[:sockets]
    if not agents:
        raise RuntimeError("no bench agents (bench-agent-…) in the database")
    password = _password(ctx)
    prefix = f"wamid.HBgLrt{uuid.uuid4().hex[:8]}"
    spec = {
        **webhook_spec(ctx, channel, prefix),
        "mode": "realtime",
        "agents": [[agent.username, password] for agent in agents],
        "login_path": LOGIN_PATH,
        "ws_path": SOCKET_PATH,
        "rate": rate,
        "seconds": seconds,
        "idle_seconds": 5.0 if ctx.smoke else 15.0,
        "max_wait_seconds": 60.0 if ctx.smoke else 300.0,
    }
    result = LoadProcess(spec, str(Path(ctx.data_dir))).wait(timeout=900)
    ctx.stack.check_alive()

    posts = result["posts"]
    accepted = [p for p in posts if 200 <= p["status"] < 300]
    ids = _message_ids(channel.pk, [p["wamid"] for p in accepted])
    sent_at = {ids[p["wamid"]]: p["sent"] for p in accepted if p["wamid"] in ids}
    latencies: list[float] = []
    received = duplicates = 0
    for socket in result["sockets"]:
        seen: set[int] = set()
        for message_id, at in socket["received"]:
            if message_id not in sent_at:
                continue  # an event of another message (none expected here)
            if message_id in seen:
                duplicates += 1
                continue
            seen.add(message_id)
            received += 1
            latencies.append((at - sent_at[message_id]) * 1000)
    expected = len(accepted) * len(agents)
    lost = expected - received
    closed = sum(1 for s in result["sockets"] if s["closed"])
    _write_diagnostics(ctx, result, set(sent_at), lost)
    p50, p95, p99 = (percentile(latencies, p) for p in (50, 95, 99))
    summary = result["summary"]
    context = (
        f"{len(agents)} sockets, {rate} msg/s for {seconds:g} s; "
        f"{len(accepted)}/{len(posts)} webhooks accepted, {len(sent_at)} stored"
    )
    figures = [
        Figure(SCENARIO, "webhook → socket p50", round(p50, 1), "ms", note=context),
        Figure(SCENARIO, "webhook → socket p95", round(p95, 1), "ms"),
        Figure(SCENARIO, "webhook → socket p99", round(p99, 1), "ms", *at_most(p99, TARGET_P99_MS)),
        Figure(
            SCENARIO,
            "socket events lost",
            lost,
            "events",
            *at_most(lost, 0),
            note=f"{received}/{expected} delivered"
            + (f", {duplicates} duplicates" if duplicates else "")
            + (f", {closed} sockets closed by the server" if closed else ""),
        ),
        Figure(
            SCENARIO,
            "webhook errors during the run",
            summary["errors"],
            "requests",
            *at_most(summary["errors"], 0),
        ),
        Figure(
            SCENARIO,
            "agents logged in and connected",
            len(agents),
            "sockets",
            note=(
                f"login {result['login_seconds']:.1f} s, sockets {result['connect_seconds']:.1f} s"
            ),
        ),
    ]
    return figures


def _write_diagnostics(ctx: Context, result: dict, expected_ids: set[int], lost: int) -> None:
    """Where deliveries went missing, for reading beside the servers' logs: per web process
    (sockets are spread round robin), why sockets closed, and the channel layer's own notices
    of events dropped for a full channel. Written to bench-logs/realtime-diagnostics.json."""
    logs = Path(ctx.data_dir) / "bench-logs"
    webs = len(ctx.stack.base_urls)
    per_process: dict[int, dict[str, int]] = {}
    reasons: Counter[str] = Counter()
    for index, socket in enumerate(result["sockets"]):
        got = {message_id for message_id, _at in socket["received"]} & expected_ids
        row = per_process.setdefault(
            index % webs, {"sockets": 0, "missing": 0, "short": 0, "missing_on_closed": 0}
        )
        row["sockets"] += 1
        row["missing"] += len(expected_ids - got)
        row["short"] += 1 if expected_ids - got else 0
        row["missing_on_closed"] += len(expected_ids - got) if socket["closed"] else 0
        if socket["closed"]:
            reasons[socket["closed"]] += 1
    notices: Counter[str] = Counter()
    for path in sorted(logs.glob("*.log")):
        for line in path.read_text(errors="replace").splitlines():
            if "over capacity" in line or "ping timeout" in line.lower():
                notices[path.stem] += 1
    diagnostics = {
        "lost": lost,
        "per_web_process": per_process,
        "close_reasons": dict(reasons),
        "log_lines_over_capacity_or_ping_timeout": dict(notices),
    }
    logs.mkdir(parents=True, exist_ok=True)
    (logs / "realtime-diagnostics.json").write_text(json.dumps(diagnostics, indent=1))
    print(f"  realtime diagnostics: {json.dumps(diagnostics)}", flush=True)
