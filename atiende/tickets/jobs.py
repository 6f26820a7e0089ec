"""Ticket jobs: every minute, the SLA clocks whose moment came are looked at again, their stored
state refreshed and their warnings and breaches raised once (never every tick)."""

import datetime

from huey import crontab

from atiende.jobs import huey
from atiende.tickets import sla


@huey.periodic_task(crontab(minute="*"))
def check_slas(now: datetime.datetime | None = None) -> tuple[int, int]:
    """(tickets looked at, notifications created). Tests pass `now` through `call_local`."""
    return sla.check_due(now=now)
