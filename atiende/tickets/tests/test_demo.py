"""Demo tickets: work in every stage, one escalation in Tech Issues, a second run adds none."""

from io import StringIO

import pytest
from django.core.management import call_command

from atiende.tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_seed_demo_fills_the_pipeline_once(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    call_command("seed_demo", stdout=StringIO())
    count = Ticket.objects.count()
    assert 14 <= count <= 20
    stages = set(Ticket.objects.values_list("stage__key", flat=True))
    assert stages == {
        "new",
        "follow_up",
        "retention",
        "change_request",
        "waiting_on_customer",
        "waiting_on_us",
        "tech_issues",
        "closed",
    }
    assert set(Ticket.objects.values_list("priority", flat=True)) == {
        "low",
        "medium",
        "high",
        "urgent",
    }
    escalation = Ticket.objects.get(stage__key="tech_issues")
    assert escalation.escalation_what and escalation.escalation_how and escalation.escalation_where
    assert escalation.team.name == "Tech"
    assert escalation.name.startswith(escalation.account.number)
    assert escalation.pipeline.team.name == "Servicio"
    call_command("seed_demo", stdout=StringIO())
    assert Ticket.objects.count() == count
