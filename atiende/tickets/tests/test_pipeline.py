"""The default Support pipeline: the guide's eight stages, English keys, Spanish names."""

import pytest
from django.utils import translation

from atiende.tickets import selectors
from atiende.tickets.models import Pipeline

pytestmark = pytest.mark.django_db


def test_default_pipeline_has_the_guides_stages_in_order():
    pipeline = Pipeline.objects.get(is_default=True)
    assert pipeline.key == "support"
    stages = list(pipeline.stages.order_by("position"))
    assert [s.key for s in stages] == [
        "new",
        "follow_up",
        "retention",
        "change_request",
        "waiting_on_customer",
        "waiting_on_us",
        "tech_issues",
        "closed",
    ]
    with translation.override("es"):
        assert [s.label for s in stages] == [
            "Nuevo",
            "Seguimiento",
            "Retención",
            "Solicitud de cambio",
            "Esperando al cliente",
            "Esperando por nosotros",
            "Incidencias técnicas",
            "Cerrado",
        ]
    assert all(s.help_text for s in stages)
    flags = {s.key: (s.is_closed, s.pauses_sla, s.is_escalation) for s in stages}
    assert flags["closed"] == (True, False, False)
    assert flags["waiting_on_customer"] == (False, True, False)
    assert flags["tech_issues"] == (False, False, True)
    assert sum(1 for f in flags.values() if any(f)) == 3


def test_default_pipeline_is_the_support_pipeline():
    assert selectors.default_pipeline().key == "support"


def test_stage_names_read_in_english_for_english_users():
    stage = Pipeline.objects.get(is_default=True).stages.get(key="waiting_on_customer")
    with translation.override("en"):
        assert stage.label == "Waiting on customer"
    assert selectors.default_pipeline().key == "support"
