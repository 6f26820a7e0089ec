"""The stored SLA fields (state, nearest deadline, 48-hour flag) follow every change that moves a
clock: create, priority, stage (pause and resume), close, reopen, first response, customer update,
and a policy without targets or no policy at all."""

import datetime
import zoneinfo
from contextlib import contextmanager
from unittest import mock

import pytest

from atiende.tickets import services
from atiende.tickets.models import SlaPolicy, Ticket
from atiende.tickets.tests.factories import make_ticket, stage

pytestmark = pytest.mark.django_db

TZ = zoneinfo.ZoneInfo("America/Asuncion")


def at(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, 11, day, hour, minute, tzinfo=TZ)


@contextmanager
def clock(moment: datetime.datetime):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


@pytest.fixture
def policies():
    """Around the clock: urgent resolves in 4 h, anything else in 48 h; first response in 1 h."""
    SlaPolicy.objects.all().delete()
    pipeline = services.default_pipeline()
    common = {
        "pipeline": pipeline,
        "time_zone": "America/Asuncion",
        "customer_update_minutes": None,
    }
    SlaPolicy.objects.create(
        name="Urgente",
        priority="urgent",
        first_response_minutes=60,
        resolution_minutes=240,
        **common,
    )
    SlaPolicy.objects.create(
        name="Resto", priority="", first_response_minutes=60, resolution_minutes=48 * 60, **common
    )


def stored(ticket: Ticket) -> tuple:
    ticket.refresh_from_db()
    return ticket.sla_state, ticket.sla_due_at, ticket.customer_update_overdue


def test_create_stores_the_state_and_the_nearest_deadline(agent, policies):
    with clock(at(2, 9)):
        ticket = make_ticket(by=agent)
    assert stored(ticket) == ("ok", at(2, 10), False)  # first response is the nearest


def test_a_priority_change_moves_the_deadline(agent, policies):
    with clock(at(2, 9)):
        ticket = make_ticket(by=agent)
        services.record_customer_update(ticket=ticket, by=agent)  # first response given
    assert stored(ticket) == ("ok", at(4, 9), False)
    with clock(at(2, 11)):
        services.update_ticket(ticket=ticket, by=agent, priority="urgent")
    assert stored(ticket) == ("ok", at(2, 13), False)  # 2 of the urgent 4 h used
    with clock(at(2, 12, 30)):
        services.update_ticket(ticket=ticket, by=agent, description="Más detalle")
    assert stored(ticket) == ("at_risk", at(2, 13), False)  # 3.5 h ≥ 80 %
    with clock(at(2, 13, 30)):
        services.update_ticket(ticket=ticket, by=agent, priority="low")
    assert stored(ticket) == ("ok", at(4, 9), False)


def test_waiting_on_customer_pauses_and_leaving_it_resumes(agent, policies):
    with clock(at(2, 9)):
        ticket = make_ticket(by=agent)
        services.record_customer_update(ticket=ticket, by=agent)
    with clock(at(2, 10)):
        services.change_stage(ticket=ticket, stage=stage("waiting_on_customer"), by=agent)
    assert stored(ticket) == ("paused", None, False)
    with clock(at(5, 10)):
        services.change_stage(ticket=ticket, stage=stage("waiting_on_us"), by=agent)
    assert stored(ticket) == ("ok", at(7, 9), False)  # 1 h used before the pause


def test_closing_freezes_the_state_and_reopening_restarts_the_count(agent, policies):
    with clock(at(2, 9)):
        ticket = make_ticket(by=agent)
        services.record_customer_update(ticket=ticket, by=agent)
    with clock(at(2, 12)):
        services.close_ticket(ticket=ticket, by=agent)
    assert stored(ticket) == ("ok", None, False)
    ticket.refresh_from_db()
    assert ticket.sla_check_at is None
    with clock(at(5, 12)):
        services.reopen_ticket(ticket=ticket, by=agent)
    assert stored(ticket)[0] == "breached"  # 75 h since creation: past the 48 h resolution


def test_a_late_first_response_stays_breached_and_the_flag_follows_the_update_clock(agent):
    SlaPolicy.objects.all().delete()
    SlaPolicy.objects.create(
        name="Todo",
        pipeline=services.default_pipeline(),
        first_response_minutes=60,
        customer_update_minutes=48 * 60,
        resolution_minutes=None,
        time_zone="America/Asuncion",
    )
    with clock(at(2, 9)):
        ticket = make_ticket(by=agent)
    with clock(at(4, 10)):
        services.update_ticket(ticket=ticket, by=agent, name="Otro nombre")
    assert stored(ticket) == ("breached", None, True)
    with clock(at(4, 11)):
        services.add_note(ticket=ticket, by=agent, body="Le escribí", customer_updated=True)
    state, due, overdue = stored(ticket)
    assert (state, due, overdue) == ("breached", at(6, 11), False)  # first response was late


def test_without_a_policy_the_state_is_empty(agent):
    SlaPolicy.objects.all().delete()
    ticket = make_ticket(by=agent)
    assert stored(ticket) == ("", None, False)
    ticket.refresh_from_db()
    assert ticket.sla_check_at is None
