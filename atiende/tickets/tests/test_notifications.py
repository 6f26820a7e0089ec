"""Escalation to Tech notifies the Tech team, and a new owner is told; only when the
notifications app is installed (tickets never write notifications of their own)."""

import pytest
from django.apps import apps

from atiende.tickets import services
from atiende.tickets.tests.factories import make_ticket
from atiende.users.tests.factories import TeamFactory, UserFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not apps.is_installed("atiende.notifications"), reason="notifications app not installed"
    ),
]


def test_escalation_notifies_the_tech_team_but_not_others_or_the_author(agent):
    from atiende.notifications.models import Notification

    tech = TeamFactory(name="Tech")
    engineer = UserFactory(username="ingeniera")
    bystander = UserFactory(username="ajeno")
    tech.members.add(engineer, agent)
    ticket = make_ticket(by=agent)
    services.escalate_to_tech(
        ticket=ticket, by=agent, what="Error", how="Al pagar", where="App", priority="urgent"
    )
    notes = Notification.objects.filter(kind="escalation")
    assert [n.recipient for n in notes] == [engineer]
    assert not Notification.objects.filter(recipient=bystander).exists()


def test_a_new_owner_is_notified(agent, supervisor):
    from atiende.notifications.models import Notification

    ticket = make_ticket(by=supervisor)
    services.update_ticket(ticket=ticket, by=supervisor, owner=agent)
    assert Notification.objects.filter(recipient=agent, kind="assignment").count() == 1
    services.update_ticket(ticket=ticket, by=supervisor, priority="high")
    assert Notification.objects.filter(recipient=agent, kind="assignment").count() == 1


def test_a_mention_in_a_note_notifies(agent, supervisor):
    from atiende.notifications.models import Notification

    ticket = make_ticket(by=agent)
    services.add_note(ticket=ticket, by=agent, body=f"@{supervisor.username} mira esto")
    assert Notification.objects.filter(recipient=supervisor, kind="mention").count() == 1


def test_a_stage_change_tells_followers_and_the_owner_but_not_the_mover(agent, supervisor):
    from atiende.notifications.models import Notification

    follower = UserFactory(username="seguidora")
    bystander = UserFactory(username="ajeno")
    ticket = make_ticket(by=supervisor, owner=agent)
    services.follow(ticket=ticket, by=follower)
    services.follow(ticket=ticket, by=supervisor)
    waiting = ticket.pipeline.stages.get(key="waiting_on_customer")
    services.change_stage(ticket=ticket, stage=waiting, by=supervisor)
    moves = Notification.objects.filter(kind="stage_change")
    assert sorted(n.recipient.username for n in moves) == sorted([agent.username, "seguidora"])
    assert "Esperando al cliente" in moves.first().title
    assert not Notification.objects.filter(recipient=bystander).exists()
    assert not moves.filter(recipient=supervisor).exists()
