"""SLA clocks with a controllable clock: business hours, holidays, the waiting-on-customer pause,
and the 48-hour customer update that fires when due and clears when the customer is contacted."""

import datetime
import zoneinfo
from contextlib import contextmanager
from unittest import mock

import pytest

from atiende.tickets import services, sla
from atiende.tickets.models import SlaPolicy
from atiende.tickets.tests.factories import make_ticket, stage

pytestmark = pytest.mark.django_db

TZ = zoneinfo.ZoneInfo("America/Asuncion")
HOURS = {str(d): [["08:00", "18:00"]] for d in range(1, 6)}  # Monday to Friday, 8 to 18


def at(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    """A moment in November 2026 in Asunción (2 Nov 2026 is a Monday)."""
    return datetime.datetime(2026, 11, day, hour, minute, tzinfo=TZ)


@contextmanager
def clock(moment: datetime.datetime):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def test_business_seconds_skip_nights_weekends_and_holidays():
    calendar = sla.BusinessCalendar(hours=HOURS, time_zone="America/Asuncion")
    # Friday 17:00 → Monday 09:00: one hour on Friday, one on Monday.
    assert calendar.seconds_between(at(6, 17), at(9, 9)) == 2 * 3600
    holiday = sla.BusinessCalendar(
        hours=HOURS, time_zone="America/Asuncion", extra_holidays=["2026-11-09"]
    )
    assert holiday.seconds_between(at(6, 17), at(10, 9)) == 2 * 3600
    # Adding 3 business hours on Friday 17:00 lands on Monday 10:00 (Tuesday with the holiday).
    assert calendar.add(at(6, 17), 3 * 3600) == at(9, 10)
    assert holiday.add(at(6, 17), 3 * 3600) == at(10, 10)


def test_an_always_open_calendar_counts_wall_time():
    calendar = sla.BusinessCalendar(time_zone="UTC")
    assert calendar.seconds_between(at(6, 17), at(8, 17)) == 48 * 3600


def test_country_holidays_come_from_the_holidays_package_when_installed():
    calendar = sla.BusinessCalendar(hours=HOURS, time_zone="America/Asuncion", country="PY")
    try:
        import holidays  # noqa: F401
    except ImportError:
        assert not calendar.is_holiday(datetime.date(2026, 12, 25))
    else:
        assert calendar.is_holiday(datetime.date(2026, 12, 25))


def test_default_policies_exist_for_every_priority():
    policies = SlaPolicy.objects.filter(pipeline__key="support")
    assert {p.priority for p in policies} == {"low", "medium", "high", "urgent"}
    assert {p.customer_update_minutes for p in policies} == {48 * 60}
    assert {p.priority: p.resolution_minutes for p in policies} == {
        "urgent": 24 * 60,
        "high": 24 * 60,
        "medium": 48 * 60,
        "low": 48 * 60,
    }


def _business_policy(**kwargs) -> SlaPolicy:
    SlaPolicy.objects.all().delete()
    return SlaPolicy.objects.create(
        name="Soporte",
        pipeline=services.default_pipeline(),
        first_response_minutes=kwargs.get("first", 60),
        customer_update_minutes=kwargs.get("update", 48 * 60),
        resolution_minutes=kwargs.get("resolution", 10 * 60),
        business_hours=kwargs.get("hours", HOURS),
        time_zone="America/Asuncion",
    )


def _clocks(ticket, now):
    ticket.refresh_from_db()
    return {c.key: c for c in sla.ticket_clocks(ticket, now=now)}


def test_resolution_clock_runs_in_business_hours_only(agent):
    _business_policy()
    with clock(at(6, 17)):
        ticket = make_ticket(by=agent)
    clocks = _clocks(ticket, at(9, 12))  # Friday 1 h + Monday 4 h = 5 of 10 business hours
    assert clocks["resolution"].elapsed_seconds == 5 * 3600
    assert clocks["resolution"].state == sla.OK
    assert clocks["resolution"].due_at == at(9, 17)
    assert _clocks(ticket, at(9, 16))["resolution"].state == sla.AT_RISK  # 9 h ≥ 80 %
    late = _clocks(ticket, at(10, 8))["resolution"]  # Friday 1 h + Monday 10 h
    assert late.state == sla.BREACHED and late.remaining_seconds == -3600
    assert _clocks(ticket, at(9, 9))["first_response"].state == sla.BREACHED


def test_waiting_on_customer_pauses_the_clocks(agent):
    _business_policy()
    with clock(at(2, 8)):
        ticket = make_ticket(by=agent)
    with clock(at(2, 10)):
        services.change_stage(ticket=ticket, stage=stage("waiting_on_customer"), by=agent)
    paused = _clocks(ticket, at(3, 17))
    assert paused["resolution"].elapsed_seconds == 2 * 3600
    assert paused["resolution"].state == sla.PAUSED
    assert paused["resolution"].due_at is None
    with clock(at(4, 8)):
        services.change_stage(ticket=ticket, stage=stage("waiting_on_us"), by=agent)
    running = _clocks(ticket, at(4, 11))
    assert running["resolution"].elapsed_seconds == 5 * 3600
    assert running["resolution"].state == sla.OK
    assert sla.worst_state(list(running.values())) == sla.BREACHED  # first response missed


def test_the_48_hour_customer_update_fires_and_clears_when_contacted(agent):
    _business_policy(hours={}, first=None, resolution=None)
    with clock(at(2, 9)):
        ticket = make_ticket(by=agent)
    ticket.refresh_from_db()
    assert not sla.needs_customer_update(ticket, now=at(4, 8))
    assert _clocks(ticket, at(4, 8))["customer_update"].state == sla.AT_RISK  # 47 h
    assert sla.needs_customer_update(ticket, now=at(4, 9, 1))
    with clock(at(4, 10)):
        services.add_note(ticket=ticket, by=agent, body="Llamé al cliente", customer_updated=True)
    ticket.refresh_from_db()
    assert ticket.last_customer_update_at == at(4, 10)
    assert not sla.needs_customer_update(ticket, now=at(4, 11))
    assert sla.needs_customer_update(ticket, now=at(6, 10, 1))
    services.record_customer_update(ticket=ticket, by=agent, at=at(6, 11))
    ticket.refresh_from_db()
    assert not sla.needs_customer_update(ticket, now=at(6, 12))


def test_a_closed_ticket_needs_no_customer_update(agent):
    _business_policy(hours={})
    with clock(at(2, 9)):
        ticket = make_ticket(by=agent)
    with clock(at(2, 10)):
        services.close_ticket(ticket=ticket, by=agent)
    ticket.refresh_from_db()
    assert not sla.needs_customer_update(ticket, now=at(20, 9))
    assert "customer_update" not in _clocks(ticket, at(20, 9))
    assert _clocks(ticket, at(20, 9))["resolution"].state == sla.OK


def test_an_outbound_message_on_a_linked_conversation_updates_the_customer(agent):
    from atiende.contacts.tests.factories import make_contact
    from atiende.inbox.models import Channel, Conversation

    contact = make_contact(first_name="Ana")
    conversation = Conversation.objects.create(
        contact=contact, channel=Channel.objects.create(name="WA", kind="whatsapp"), recipient="1"
    )
    ticket = make_ticket(by=agent, conversation=conversation)
    services.conversation_activity(conversation=conversation, at=at(3, 9), outbound=True)
    ticket.refresh_from_db()
    assert ticket.first_response_at == at(3, 9) == ticket.last_customer_update_at
