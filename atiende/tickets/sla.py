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

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from atiende.tickets.models import SlaPause, SlaPolicy, SlaState, Ticket

# The states are the model's choices (one vocabulary for the stored field, the API and the UI).
OK, AT_RISK, BREACHED, PAUSED = SlaState.OK, SlaState.AT_RISK, SlaState.BREACHED, SlaState.PAUSED
STATE_LABELS = {state: state.label for state in SlaState}
CLOCK_LABELS = {
    "first_response": _("Primera respuesta"),
    "customer_update": _("Actualización al cliente"),
    "resolution": _("Resolución"),
}
_MAX_DAYS = 3 * 366  # a walk over business days never runs away


def default_holiday_country() -> str:
    """The installation's country for public holidays (ATIENDE_HOLIDAY_COUNTRY, "PY" by default)."""
    return (getattr(settings, "ATIENDE_HOLIDAY_COUNTRY", "") or "PY").upper()[:2]


@lru_cache(maxsize=1)
def supported_countries() -> dict[str, str]:
    """ISO code → name of the countries the `holidays` package knows, for the policy form."""
    import holidays

    names = {
        "AR": "Argentina", "BO": "Bolivia", "BR": "Brasil", "CL": "Chile", "CO": "Colombia",
        "CR": "Costa Rica", "DO": "República Dominicana", "EC": "Ecuador", "ES": "España",
        "GT": "Guatemala", "HN": "Honduras", "MX": "México", "NI": "Nicaragua", "PA": "Panamá",
        "PE": "Perú", "PR": "Puerto Rico", "PY": "Paraguay", "SV": "El Salvador",
        "US": "Estados Unidos", "UY": "Uruguay", "VE": "Venezuela",
    }  # fmt: skip
    codes = sorted(code for code in holidays.list_supported_countries() if len(code) == 2)
    return {code: names.get(code, code) for code in codes}


@lru_cache(maxsize=64)
def _country_holidays(country: str, year: int) -> frozenset[datetime.date]:
    """The `holidays` package's dates for a country and year (empty for an unknown country)."""
    import holidays

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
    # When the clock started (a new period — the customer updated again — is a new start).
    started_at: datetime.datetime | None = None
    # Still counting (not stopped by a reply or the closing); paused clocks are running.
    running: bool = False
    # The moment an OK clock becomes at risk (None otherwise).
    risk_at: datetime.datetime | None = None

    @property
    def label(self) -> str:
        return str(CLOCK_LABELS[self.key])

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS[self.state])


def policy_for(ticket: Ticket, *, policies: list[SlaPolicy] | None = None) -> SlaPolicy | None:
    """The active policy of the ticket's pipeline for its priority, else the any-priority one.
    `policies`: the active policies already loaded (the SLA job loads them once per batch)."""
    if policies is None:
        policies = list(SlaPolicy.objects.filter(pipeline_id=ticket.pipeline_id, is_active=True))
    candidates = [
        p
        for p in policies
        if p.pipeline_id == ticket.pipeline_id
        and p.is_active
        and p.priority in ("", ticket.priority)
    ]
    candidates.sort(key=lambda p: (p.priority == "", p.pk))
    return candidates[0] if candidates else None


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
        risk_from = target * policy.at_risk_percent / 100
        if remaining <= 0:
            state = BREACHED
        elif stop is None and paused_now:
            state = PAUSED
        elif elapsed >= risk_from:
            state = AT_RISK
        else:
            state = OK
        due = risk_at = None
        if stop is None and state in (OK, AT_RISK):
            due = calendar.add(now, remaining)
        if stop is None and state == OK:
            risk_at = calendar.add(now, risk_from - elapsed)
        clocks.append(
            Clock(key, state, target, elapsed, remaining, due, start, stop is None, risk_at)
        )

    first_stop = ticket.first_response_at or ticket.closed_at
    clock("first_response", policy.first_response_minutes, ticket.created_at, first_stop)
    if ticket.closed_at is None:
        since = max(filter(None, [ticket.created_at, ticket.last_customer_update_at]))
        clock("customer_update", policy.customer_update_minutes, since, None)
    clock("resolution", policy.resolution_minutes, ticket.created_at, ticket.closed_at)
    return clocks


def worst_state(clocks: list[Clock]) -> str:
    """The ticket's SLA state for lists and filters: breached or at risk if any clock is; paused
    while the running clocks wait on the customer; otherwise ok ("" without clocks)."""
    if not clocks:
        return ""
    states = {c.state for c in clocks}
    return next((s for s in (BREACHED, AT_RISK, PAUSED) if s in states), OK)


def needs_customer_update(ticket: Ticket, *, now: datetime.datetime | None = None) -> bool:
    """The 48-hour rule: an unresolved ticket whose customer has not heard from us in time."""
    return _update_overdue(ticket_clocks(ticket, now=now))


def _update_overdue(clocks: list[Clock]) -> bool:
    return any(c.key == "customer_update" and c.state == BREACHED for c in clocks)


def alerts(clocks: list[Clock]) -> list[Clock]:
    """The running clocks someone must hear about: at risk (a warning) or breached."""
    return [c for c in clocks if c.running and c.state in (AT_RISK, BREACHED)]


def next_check(clocks: list[Clock]) -> datetime.datetime | None:
    """The next moment a running clock changes state on its own (at risk, then breached)."""
    moments = [c.risk_at if c.state == OK else c.due_at for c in clocks if c.running]
    return min(filter(None, moments), default=None)


_UNSET = object()


def refresh_sla(
    ticket: Ticket,
    *,
    now: datetime.datetime | None = None,
    policy: SlaPolicy | object | None = _UNSET,
    pauses: list[SlaPause] | None = None,
    alert_pending: bool = True,
    only_if_changed: bool = False,
) -> list[Clock]:
    """Store the ticket's SLA state, nearest deadline, 48-hour flag and next check (one UPDATE,
    only those fields). Services call it after every change that moves a clock; the SLA job
    calls it when `sla_check_at` comes due. `alert_pending`: a clock at risk or breached asks the
    job to look now (it raises the warning once); the job itself passes False, and
    `only_if_changed` (its rows are fresh) to skip the UPDATE when nothing moved."""
    now = now or timezone.now()
    if policy is _UNSET:
        policy = policy_for(ticket)
    clocks = ticket_clocks(ticket, now=now, policy=policy, pauses=pauses) if policy else []
    dues = [c.due_at for c in clocks if c.due_at is not None]
    check_at = next_check(clocks)
    if alert_pending and alerts(clocks):
        check_at = now
    values = {
        "sla_state": worst_state(clocks),
        "sla_due_at": min(dues) if dues else None,
        "customer_update_overdue": _update_overdue(clocks),
        "sla_check_at": check_at,
    }
    if not only_if_changed or any(getattr(ticket, f) != v for f, v in values.items()):
        Ticket.objects.filter(pk=ticket.pk).update(**values)
        for field, value in values.items():
            setattr(ticket, field, value)
    return clocks


# --- the SLA job: look again at the tickets whose moment came, raise each alert once -----------

BATCH_SIZE = 200
MAX_BATCHES = 25  # per tick: 5,000 tickets a minute; the rest waits for the next tick


def format_duration(seconds: float) -> str:
    """Business time for people: "2 h 05 min", "45 min", "3 d 4 h" (days of 24 h)."""
    minutes = max(0, int(abs(seconds) // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(d)s d %(h)s h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)s h %(m)02d min") % {"h": hours, "m": mins}
    return _("%(m)s min") % {"m": mins}


def alert_recipients(ticket: Ticket) -> list:
    """Who hears about a ticket's SLA: its owner; without one, its team; without a team, the
    supervisors (the admins when there are none)."""
    from atiende.users.models import Role, User

    if ticket.owner_id is not None and ticket.owner.is_active:
        return [ticket.owner]
    if ticket.team_id is not None:
        members = list(ticket.team.members.filter(is_active=True))
        if members:
            return members
    for role in (Role.SUPERVISOR, Role.ADMIN):
        people = list(User.objects.filter(is_active=True, role=role).order_by("pk")[:50])
        if people:
            return people
    return []


def _alert_text(ticket: Ticket, clock: Clock) -> tuple[str, str, str]:
    number, left = ticket.number, format_duration(clock.remaining_seconds)
    if clock.key == "customer_update":
        if clock.state == BREACHED:
            title = _("Actualiza al cliente del ticket %(number)s") % {"number": number}
            body = _("El cliente no recibe novedades desde hace %(elapsed)s hábiles: %(name)s") % {
                "elapsed": format_duration(clock.elapsed_seconds),
                "name": ticket.name,
            }
            return "sla_breach", title, body
        title = _("Pronto vence la actualización al cliente del ticket %(number)s") % {
            "number": number
        }
        body = _("Quedan %(left)s hábiles para darle novedades: %(name)s") % {
            "left": left,
            "name": ticket.name,
        }
        return "sla_warning", title, body
    values = {"number": number, "clock": clock.label, "name": ticket.name, "left": left}
    if clock.state == BREACHED:
        title = _("SLA incumplido en %(number)s: %(clock)s") % values
        body = _("Vencido hace %(left)s hábiles: %(name)s") % values
        return "sla_breach", title, body
    title = _("SLA en riesgo en %(number)s: %(clock)s") % values
    body = _("Quedan %(left)s hábiles: %(name)s") % values
    return "sla_warning", title, body


def raise_alerts(ticket: Ticket, clocks: list[Clock]) -> int:
    """Warn (at risk) or alert (breached) about each running clock, once per clock and period:
    the dedupe key carries the clock's start, so a new period (the customer was updated, the
    ticket reopened) can warn again, and every later tick adds nothing."""
    from atiende.tickets.services import _notify, ticket_url

    if ticket.closed_at is not None:
        return 0
    pending = alerts(clocks)
    recipients = alert_recipients(ticket) if pending else []
    sent = 0
    for clock in pending:
        kind, title, body = _alert_text(ticket, clock)
        start = int(clock.started_at.timestamp()) if clock.started_at else 0
        created = _notify(
            recipients=recipients,
            kind=kind,
            title=title,
            body=body,
            url=ticket_url(ticket),
            target=ticket,
            dedupe_key=f"sla-{ticket.pk}-{clock.key}-{clock.state}-{start}",
        )
        sent += len(created or [])
    return sent


def check_due(
    *,
    now: datetime.datetime | None = None,
    batch_size: int = BATCH_SIZE,
    max_batches: int = MAX_BATCHES,
) -> tuple[int, int]:
    """Refresh the tickets whose `sla_check_at` has come (indexed, oldest first, in batches) and
    raise their alerts. Returns (tickets looked at, notifications created)."""
    from django.db import transaction

    now = now or timezone.now()
    policies = list(SlaPolicy.objects.filter(is_active=True))
    checked = sent = 0
    for _batch in range(max_batches):
        batch = list(
            Ticket.objects.filter(sla_check_at__lte=now)
            .select_related("owner", "team")
            .prefetch_related("sla_pauses")
            .order_by("sla_check_at", "pk")[:batch_size]
        )
        for ticket in batch:
            with transaction.atomic():
                clocks = refresh_sla(
                    ticket,
                    now=now,
                    policy=policy_for(ticket, policies=policies),
                    pauses=list(ticket.sla_pauses.all()),
                    alert_pending=False,
                    only_if_changed=True,
                )
                if ticket.sla_check_at is not None and ticket.sla_check_at <= now:
                    # Never look at the same ticket twice in a tick.
                    ticket.sla_check_at = now + datetime.timedelta(minutes=1)
                    Ticket.objects.filter(pk=ticket.pk).update(sla_check_at=ticket.sla_check_at)
                sent += raise_alerts(ticket, clocks)
        checked += len(batch)
        if len(batch) < batch_size:
            break
    return checked, sent


def recheck_pipeline(pipeline_id: int, *, now: datetime.datetime | None = None) -> int:
    """A policy of the pipeline changed: every ticket of it is looked at again by the next tick."""
    return Ticket.objects.filter(pipeline_id=pipeline_id).update(sla_check_at=now or timezone.now())
