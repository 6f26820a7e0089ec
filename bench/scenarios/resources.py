"""Resources: the peak resident memory of each server process over the whole run (sampled by
bench.server's background thread, children included) and the database's size per million
messages (SQLite: the database file and its WAL; PostgreSQL: pg_database_size)."""

from __future__ import annotations

from pathlib import Path

from bench.core import Context, Figure, at_most

SCENARIO = "resources"
TARGET_WEB_MB = 300


def database_bytes(ctx: Context) -> int:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            return int(cursor.fetchone()[0])
    name = Path(connection.settings_dict["NAME"])
    return sum(p.stat().st_size for p in (name, Path(f"{name}-wal")) if p.exists())


def run(ctx: Context) -> list[Figure]:
    from atiende.inbox.models import Message

    figures: list[Figure] = []
    peaks = ctx.stack.peak_rss_mb()
    now = ctx.stack.rss_mb()
    for process in ctx.stack.processes:
        peak = peaks.get(process.name, 0.0)
        target, met = "", None
        note = f"now {now.get(process.name, 0.0):.0f} MB"
        if process.port:  # a web process (embedded `run` also holds the job threads)
            target, met = at_most(peak, TARGET_WEB_MB)
            if process.name == "run":
                note += "; embedded: web, WebSocket and job threads in one process"
        figures.append(
            Figure(SCENARIO, f"peak RSS, {process.name}", round(peak, 1), "MB", target, met, note)
        )
    size = database_bytes(ctx)
    messages = Message.objects.count()
    per_million = size / 1024**3 / (messages / 1e6) if messages else 0.0
    figures.append(
        Figure(
            SCENARIO,
            "database size per million messages",
            round(per_million, 2),
            "GB",
            note=f"{size / 1024**2:,.0f} MB for {messages:,} messages (with contacts, tickets…)",
        )
    )
    load = _load_average()
    if load is not None:
        figures.append(
            Figure(
                SCENARIO,
                "machine load, 1-minute average at the end",
                load,
                "",
                note="above the core count, other work shared the CPUs with this run",
            )
        )
    return figures


def _load_average() -> float | None:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
