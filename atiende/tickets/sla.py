"""SLA clocks in business time: business hours, holidays, and the pause while waiting on the
customer. Pure functions of (ticket data, policy, now): tests pass `now`, nothing sleeps.

Three clocks per ticket, each with a state (ok / at risk / breached) and the time left:
- first response: from creation to the first reply to the customer;
- customer update (guide 001, 48 h): from the latest update given to the customer (or creation)
  while the ticket is unresolved; "nobody can forget the 48-hour customer update";
- resolution: from creation to closing.
"""

import datetime
import zoneinfo
from dataclasses import dataclass
from functools import lru_cache

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from atiende.tickets.models import SlaPause, SlaPolicy, Ticket

OK, AT_RISK, BREACHED, PAUSED = "ok", "at_risk", "breached", "paused"
STATE_LABELS = {
    OK: _("En plazo"),
    AT_RISK: _("En riesgo"),
    BREACHED: _("Incumplido"),
    PAUSED: _("En pausa"),
}
CLOCK_LABELS = {
    "first_response": _("Primera respuesta"),
    "customer_update": _("Actualización al cliente"),
    "resolution": _("Resolución"),
}
_MAX_DAYS = 3 * 366  # a walk over business days never runs away


@lru_cache(maxsize=64)
def _country_holidays(country: str, year: int) -> frozenset[datetime.date]:
    """The `holidays` package's dates for a country and year; empty when it is not installed."""
    try:
        import holidays  # type: ignore[import-not-found]
    except ImportError:
        return frozenset()
    try:
        return frozenset(holidays.country_holidays(country, years=year))
    except (KeyError, NotImplementedError):
        return frozenset()


def _parse_time(text: str) -> datetime.time:
    if text in ("24:00", "24:00:00"):
        return datetime.time.max
    return datetime.time.fromisoformat(text)


class BusinessCalendar:
    """Working windows per ISO weekday in a time zone, minus holidays. No hours = always open."""

    def __init__(
        self,
        *,
        hours: dict | None = None,
        time_zone: str = "UTC",
        country: str = "",
        extra_holidays: list[str] | tuple = (),
    ) -> None:
        self.tz = zoneinfo.ZoneInfo(time_zone)
        self.always_open = not hours
        self.windows: dict[int, list[tuple[datetime.time, datetime.time]]] = {}
        for day, spans in (hours or {}).items():
            self.windows[int(day)] = [(_parse_time(a), _parse_time(b)) for a, b in spans]
        self.country = country.upper()
        self.extra = {datetime.date.fromisoformat(d) for d in extra_holidays}

    @classmethod
    def for_policy(cls, policy: SlaPolicy) -> "BusinessCalendar":
        return cls(
            hours=policy.business_hours,
            time_zone=policy.time_zone,
            country=policy.holiday_country,
            extra_holidays=policy.holidays,
        )

    def is_holiday(self, day: datetime.date) -> bool:
        if day in self.extra:
            return True
        return bool(self.country) and day in _country_holidays(self.country, day.year)

    def _day_windows(self, day: datetime.date) -> list[tuple[datetime.datetime, datetime.datetime]]:
        if self.is_holiday(day):
            return []
        if self.always_open:
            spans = [(datetime.time.min, datetime.time.max)]
        else:
            spans = self.windows.get(day.isoweekday(), [])
        result = []
        for start, end in spans:
            a = datetime.datetime.combine(day, start, self.tz)
            b = (
                datetime.datetime.combine(
                    day + datetime.timedelta(days=1), datetime.time.min, self.tz
                )
                if end == datetime.time.max
                else datetime.datetime.combine(day, end, self.tz)
            )
            result.append((a, b))
        return result

    def seconds_between(self, start: datetime.datetime, end: datetime.datetime) -> float:
        """Business seconds in [start, end)."""
        if end <= start:
            return 0.0
        if self.always_open and not self.extra and not self.country:
            return (end - start).total_seconds()
        total = 0.0
        day = start.astimezone(self.tz).date()
        last = end.astimezone(self.tz).date()
        for _i in range(_MAX_DAYS):
            if day > last:
                break
            for a, b in self._day_windows(day):
                lo, hi = max(a, start), min(b, end)
                if hi > lo:
                    total += (hi - lo).total_seconds()
            day += datetime.timedelta(days=1)
        return total

    def add(self, start: datetime.datetime, seconds: float) -> datetime.datetime | None:
        """The moment `seconds` of business time after `start` (None if beyond the horizon)."""
        if seconds <= 0:
            return start
        if self.always_open and not self.extra and not self.country:
            return start + datetime.timedelta(seconds=seconds)
        remaining = seconds
        day = start.astimezone(self.tz).date()
        for _i in range(_MAX_DAYS):
            for a, b in self._day_windows(day):
                lo = max(a, start)
                if b <= lo:
                    continue
                span = (b - lo).total_seconds()
                if span >= remaining:
                    return lo + datetime.timedelta(seconds=remaining)
                remaining -= span
            day += datetime.timedelta(days=1)
        return None


@dataclass(frozen=True)
class Clock:
    key: str  # first_response | customer_update | resolution
    state: str  # ok | at_risk | breached | paused
    target_seconds: int
    elapsed_seconds: float
    remaining_seconds: float  # negative once breached
    due_at: datetime.datetime | None

    @property
    def label(self) -> str:
        return str(CLOCK_LABELS[self.key])

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS[self.state])


def policy_for(ticket: Ticket) -> SlaPolicy | None:
    """The active policy of the ticket's pipeline for its priority, else the any-priority one."""
    policies = [
        p
        for p in SlaPolicy.objects.filter(pipeline_id=ticket.pipeline_id, is_active=True)
        if p.priority in ("", ticket.priority)
    ]
    policies.sort(key=lambda p: (p.priority == "", p.pk))
    return policies[0] if policies else None


def _paused_seconds(
    calendar: BusinessCalendar,
    pauses: list[SlaPause],
    start: datetime.datetime,
    end: datetime.datetime,
) -> float:
    total = 0.0
    for pause in pauses:
        lo = max(pause.started_at, start)
        hi = min(pause.ended_at or end, end)
        total += calendar.seconds_between(lo, hi)
    return total


def ticket_clocks(
    ticket: Ticket,
    *,
    now: datetime.datetime | None = None,
    policy: SlaPolicy | None = None,
    pauses: list[SlaPause] | None = None,
) -> list[Clock]:
    """The ticket's running or finished clocks under its policy (none without a policy)."""
    now = now or timezone.now()
    policy = policy or policy_for(ticket)
    if policy is None:
        return []
    calendar = BusinessCalendar.for_policy(policy)
    if pauses is None:
        pauses = list(ticket.sla_pauses.all())
    paused_now = any(p.ended_at is None for p in pauses)
    clocks: list[Clock] = []

    def clock(
        key: str, minutes: int | None, start: datetime.datetime, stop: datetime.datetime | None
    ):
        if not minutes:
            return
        end = stop or now
        elapsed = calendar.seconds_between(start, end) - _paused_seconds(
            calendar, pauses, start, end
        )
        target = minutes * 60
        remaining = target - elapsed
        if remaining <= 0:
            state = BREACHED
        elif stop is None and paused_now:
            state = PAUSED
        elif elapsed >= target * policy.at_risk_percent / 100:
            state = AT_RISK
        else:
            state = OK
        due = None
        if stop is None and state in (OK, AT_RISK):
            due = calendar.add(now, remaining)
        clocks.append(Clock(key, state, target, elapsed, remaining, due))

    first_stop = ticket.first_response_at or ticket.closed_at
    clock("first_response", policy.first_response_minutes, ticket.created_at, first_stop)
    if ticket.closed_at is None:
        since = max(filter(None, [ticket.created_at, ticket.last_customer_update_at]))
        clock("customer_update", policy.customer_update_minutes, since, None)
    clock("resolution", policy.resolution_minutes, ticket.created_at, ticket.closed_at)
    return clocks


def worst_state(clocks: list[Clock]) -> str:
    """The ticket's SLA state for lists and filters: the worst of its clocks."""
    order = [BREACHED, AT_RISK, OK, PAUSED]
    states = {c.state for c in clocks}
    return next((s for s in order if s in states), OK)


def needs_customer_update(ticket: Ticket, *, now: datetime.datetime | None = None) -> bool:
    """The 48-hour rule: an unresolved ticket whose customer has not heard from us in time."""
    return any(
        c.key == "customer_update" and c.state == BREACHED for c in ticket_clocks(ticket, now=now)
    )
