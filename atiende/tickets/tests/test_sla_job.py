"""The periodic SLA job with a controllable clock (`now=`, no sleeps): a warning once, a breach
once, the 48-hour customer update flagged and notified once, cleared when the customer is
contacted and raised again after a new lapse; business hours with Paraguay's real holidays; the
pause while waiting on the customer."""

import datetime
import zoneinfo
from contextlib import contextmanager
from unittest import mock

import pytest
from django.apps import apps

from atiende.tickets import jobs, services, sla
from atiende.tickets.models import SlaPolicy, Ticket
from atiende.tickets.tests.factories import make_ticket, stage
from atiende.users.tests.factories import TeamFactory, UserFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not apps.is_installed("atiende.notifications"), reason="notifications app not installed"
    ),
]

TZ = zoneinfo.ZoneInfo("America/Asuncion")
HOURS = {str(d): [["08:00", "18:00"]] for d in range(1, 6)}  # Monday to Friday, 8 to 18


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime.datetime:
    """A moment of 2026 in Asunción (2 Nov 2026 and 7 Dec 2026 are Mondays)."""
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=TZ)


@contextmanager
def clock(moment: datetime.datetime):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def policy(**kwargs) -> SlaPolicy:
    SlaPolicy.objects.all().delete()
    return SlaPolicy.objects.create(
        name="Soporte",
        pipeline=services.default_pipeline(),
        first_response_minutes=kwargs.get("first"),
        customer_update_minutes=kwargs.get("update"),
        resolution_minutes=kwargs.get("resolution"),
        business_hours=kwargs.get("hours", HOURS),
        time_zone="America/Asuncion",
        holiday_country=kwargs.get("country", ""),
    )


def tick(moment: datetime.datetime) -> tuple[int, int]:
    return jobs.check_slas.call_local(now=moment)


def notes(**filters):
    from atiende.notifications.models import Notification

    return list(Notification.objects.filter(**filters).order_by("id"))


def test_a_warning_once_then_a_breach_once_to_the_owner_only(agent, supervisor):
    bystander = UserFactory(username="ajeno")
    policy(resolution=10 * 60)
    with clock(at(11, 2, 8)):
        ticket = make_ticket(by=supervisor, owner=agent)
    ticket.refresh_from_db()
    assert ticket.sla_state == "ok"
    assert ticket.sla_due_at == at(11, 2, 18)
    assert ticket.sla_check_at == at(11, 2, 16)  # 80 % of 10 business hours

    assert tick(at(11, 2, 15)) == (0, 0)  # nothing due: the ticket is not even read
    checked, sent = tick(at(11, 2, 16, 1))
    assert (checked, sent) == (1, 1)
    [warning] = notes(kind="sla_warning")
    assert warning.recipient == agent
    assert warning.title == f"SLA en riesgo en {ticket.number}: Resolución"
    assert warning.url == services.ticket_url(ticket)
    ticket.refresh_from_db()
    assert ticket.sla_state == "at_risk"
    assert ticket.sla_check_at == at(11, 2, 18)

    for moment in (at(11, 2, 16, 2), at(11, 2, 17), at(11, 2, 17, 59)):
        assert tick(moment)[1] == 0
    assert tick(at(11, 2, 18, 1)) == (1, 1)
    [breach] = notes(kind="sla_breach")
    assert breach.recipient == agent
    assert breach.title == f"SLA incumplido en {ticket.number}: Resolución"
    ticket.refresh_from_db()
    assert ticket.sla_state == "breached"
    assert ticket.sla_check_at is None and ticket.sla_due_at is None
    for moment in (at(11, 2, 18, 2), at(11, 3, 9), at(11, 9, 9)):
        assert tick(moment) == (0, 0)
    assert len(notes(kind__in=["sla_warning", "sla_breach"])) == 2
    assert notes(recipient=bystander) == []


def test_without_owner_the_team_hears_and_without_team_the_supervisors(agent, supervisor):
    policy(resolution=60, hours={})
    team = TeamFactory(name="Cobranza")
    colleague = UserFactory(username="colega")
    team.members.add(agent, colleague)
    with clock(at(11, 2, 8)):
        of_team = make_ticket(by=supervisor, team=team)
        unclaimed = make_ticket(by=agent)
    tick(at(11, 2, 9, 1))
    assert {n.recipient for n in notes(kind="sla_breach", target_id=of_team.pk)} == {
        agent,
        colleague,
    }
    assert [n.recipient for n in notes(kind="sla_breach", target_id=unclaimed.pk)] == [supervisor]


def test_the_48_hour_rule_fires_once_clears_on_contact_and_fires_again(agent, supervisor):
    bystander = UserFactory(username="ajeno")
    policy(update=48 * 60, hours={})
    with clock(at(11, 2, 9)):
        ticket = make_ticket(by=supervisor, owner=agent)
    tick(at(11, 4, 8, 59))
    ticket.refresh_from_db()
    assert not ticket.customer_update_overdue
    assert ticket.sla_due_at == at(11, 4, 9)

    tick(at(11, 4, 9, 1))
    ticket.refresh_from_db()
    assert ticket.customer_update_overdue and ticket.sla_state == "breached"
    [first] = notes(kind="sla_breach")
    assert first.recipient == agent
    assert first.title == f"Actualiza al cliente del ticket {ticket.number}"
    for moment in (at(11, 4, 9, 2), at(11, 4, 12), at(11, 5, 9)):
        tick(moment)
    assert len(notes(kind="sla_breach")) == 1

    # The customer is called: the flag clears at once (the service refreshes the stored fields).
    with clock(at(11, 5, 10)):
        services.record_customer_update(ticket=ticket, by=agent)
    ticket.refresh_from_db()
    assert not ticket.customer_update_overdue and ticket.sla_state == "ok"
    assert Ticket.objects.filter(customer_update_overdue=True).count() == 0
    tick(at(11, 6, 10))
    assert len(notes(kind="sla_breach")) == 1

    # 48 hours later nobody called again: a new lapse, a new notification.
    tick(at(11, 7, 10, 1))
    ticket.refresh_from_db()
    assert ticket.customer_update_overdue
    assert len(notes(kind="sla_breach", recipient=agent)) == 2
    assert notes(recipient=bystander) == []


def test_a_ticket_born_late_is_alerted_by_the_next_tick_once(agent, supervisor):
    policy(resolution=60, hours={})
    with clock(at(11, 5, 12)):
        ticket = make_ticket(by=supervisor, owner=agent, created_at=at(11, 2, 9))
    ticket.refresh_from_db()
    assert ticket.sla_state == "breached"
    assert ticket.sla_check_at == at(11, 5, 12)  # a breach still to announce
    assert tick(at(11, 5, 12, 1)) == (1, 1)
    assert tick(at(11, 5, 12, 2)) == (0, 0)


def test_business_hours_skip_paraguay_holidays():
    policy(resolution=20 * 60, country="PY")
    admin = UserFactory(username="jefa2", role="admin")
    # Tuesday 8 December 2026 is the Virgin of Caacupé: Monday 10 h + Wednesday 10 h.
    with clock(at(12, 7, 8)):
        caacupe = make_ticket(by=admin)
    # Friday 25 December is Christmas: Thursday 10 h + Monday 28 10 h.
    with clock(at(12, 24, 8)):
        christmas = make_ticket(by=admin)
    caacupe.refresh_from_db()
    christmas.refresh_from_db()
    assert caacupe.sla_due_at == at(12, 9, 18)
    assert christmas.sla_due_at == at(12, 28, 18)

    policy(resolution=20 * 60, country="")  # without the country's calendar
    with clock(at(12, 7, 8)):
        plain = make_ticket(by=admin)
    plain.refresh_from_db()
    assert plain.sla_due_at == at(12, 8, 18)


def test_the_default_country_holidays_come_from_the_setting(settings):
    settings.ATIENDE_HOLIDAY_COUNTRY = "py"
    assert sla.default_holiday_country() == "PY"
    calendar = sla.BusinessCalendar(hours=HOURS, time_zone="America/Asuncion", country="PY")
    assert calendar.is_holiday(datetime.date(2026, 12, 8))
    assert calendar.is_holiday(datetime.date(2026, 12, 25))
    assert not calendar.is_holiday(datetime.date(2026, 12, 9))
    assert "PY" in sla.supported_countries()


def test_waiting_on_customer_pauses_and_the_job_stays_quiet(agent, supervisor):
    policy(resolution=10 * 60)
    with clock(at(11, 2, 8)):
        ticket = make_ticket(by=supervisor, owner=agent)
    with clock(at(11, 2, 10)):
        services.change_stage(ticket=ticket, stage=stage("waiting_on_customer"), by=agent)
    ticket.refresh_from_db()
    assert ticket.sla_state == "paused"
    assert ticket.sla_due_at is None and ticket.sla_check_at is None
    for moment in (at(11, 2, 18, 1), at(11, 3, 12), at(11, 4, 17)):
        assert tick(moment) == (0, 0)
    assert notes(kind__in=["sla_warning", "sla_breach"]) == []
    with clock(at(11, 5, 8)):
        services.change_stage(ticket=ticket, stage=stage("waiting_on_us"), by=agent)
    ticket.refresh_from_db()
    assert ticket.sla_state == "ok"
    assert ticket.sla_due_at == at(11, 5, 16)  # 2 h used, 8 h left
    assert tick(at(11, 5, 16, 1)) == (1, 1)


def test_the_scan_reads_only_due_tickets_in_bounded_batches(agent, supervisor):
    policy(resolution=60, hours={})
    with clock(at(11, 2, 8)):
        due = [make_ticket(by=supervisor, owner=agent) for _ in range(5)]
    with clock(at(11, 2, 20)):
        later = make_ticket(by=supervisor, owner=agent)
    checked, _sent = sla.check_due(now=at(11, 2, 9, 1), batch_size=2, max_batches=2)
    assert checked == 4  # two batches of two, the fifth waits for the next tick
    assert sla.check_due(now=at(11, 2, 9, 1), batch_size=2)[0] == 1
    assert len(notes(kind="sla_breach")) == 5
    later.refresh_from_db()
    assert later.sla_state == "ok"
    assert {t.pk for t in Ticket.objects.filter(sla_state="breached")} == {t.pk for t in due}


def test_a_policy_change_makes_the_next_tick_look_again(agent, supervisor):
    pol = policy(resolution=10 * 60, hours={})
    with clock(at(11, 2, 8)):
        ticket = make_ticket(by=supervisor, owner=agent)
    pol.resolution_minutes = 60
    pol.save()
    sla.recheck_pipeline(pol.pipeline_id, now=at(11, 2, 9, 30))
    tick(at(11, 2, 9, 30))
    ticket.refresh_from_db()
    assert ticket.sla_state == "breached"
