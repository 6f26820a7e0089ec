"""What /healthz checks: the database, the job queue and the realtime channel layer."""

import asyncio
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection

from atiende.jobs import huey

logger = logging.getLogger(__name__)


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_jobs() -> None:
    huey.storage.queue_size()


async def _layer_round_trip() -> None:
    layer = get_channel_layer()
    channel = await layer.new_channel("healthz.")
    await layer.send(channel, {"type": "healthz.ping"})
    message = await asyncio.wait_for(layer.receive(channel), timeout=2)
    if message.get("type") != "healthz.ping":
        raise RuntimeError("unexpected message")


def check_realtime() -> None:
    async_to_sync(_layer_round_trip)()


CHECKS = {"database": check_database, "jobs": check_jobs, "realtime": check_realtime}


def health_report() -> tuple[bool, dict[str, str]]:
    """Run every check; `ok` only when all pass. Failures are named, details go to the log."""
    report: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:
            logger.warning("health check failed", extra={"check": name, "error": repr(exc)})
            report[name] = "error"
        else:
            report[name] = "ok"
    healthy = all(value == "ok" for value in report.values())
    return healthy, {"status": "ok" if healthy else "error", **report}
