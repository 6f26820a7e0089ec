"""/api/v1 for Ajustes > Pipelines y SLA: admins write (others 403), bad input 422 in Spanish with
nothing changed, deletes refused while tickets use the pipeline or stage, targets in hours."""

import pytest

from atiende.core.models import AuditEntry
from atiende.tickets import services
from atiende.tickets.models import Pipeline, SlaPolicy, Stage, Ticket
from atiende.tickets.tests.factories import make_ticket
from atiende.users.tests.factories import TeamFactory

pytestmark = pytest.mark.django_db


def test_an_admin_creates_a_pipeline_with_stages_and_edits_it(api, admin_user):
    team = TeamFactory(name="Cobranza")
    response = api(admin_user, "post", "/pipelines", {"name": "Reclamos", "team": team.pk})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["key"] == "reclamos" and body["team"]["name"] == "Cobranza"
    assert [(s["key"], s["is_closed"]) for s in body["stages"]] == [
        ("new", False),
        ("closed", True),
    ]
    assert body["is_default"] is False
    response = api(admin_user, "patch", f"/pipelines/{body['id']}", {"name": "Reclamos VIP"})
    assert response.status_code == 200
    assert response.json()["name"] == "Reclamos VIP" and response.json()["key"] == "reclamos"
    assert AuditEntry.objects.filter(object_id=str(body["id"]), action="update").exists()
    # The GET of the tickets router still answers on the same path.
    assert api(admin_user, "get", "/pipelines").status_code == 200


def test_agents_and_supervisors_cannot_write(api, agent, supervisor):
    pipeline = services.default_pipeline()
    for user in (agent, supervisor):
        assert api(user, "post", "/pipelines", {"name": "X"}).status_code == 403
        assert api(user, "patch", f"/pipelines/{pipeline.pk}", {"name": "X"}).status_code == 403
        stage = pipeline.stages.first()
        assert api(user, "delete", f"/stages/{stage.pk}").status_code == 403
        assert (
            api(user, "post", "/sla-policies", {"name": "X", "pipeline": "support"}).status_code
            == 403
        )
    assert api(agent, "get", "/sla-policies").status_code == 200
    assert not Pipeline.objects.filter(name="X").exists()


def test_bad_input_is_refused_in_spanish_and_changes_nothing(api, admin_user):
    before = Pipeline.objects.count()
    response = api(admin_user, "post", "/pipelines", {"name": "Nuevo", "key": "Con Espacios"})
    assert response.status_code == 422
    assert "identificador" in response.json()["detail"]["key"][0]
    response = api(admin_user, "post", "/pipelines", {"name": "Otro", "key": "support"})
    assert response.json()["detail"]["key"] == ["Ya existe un pipeline con ese identificador."]
    assert Pipeline.objects.count() == before
    pipeline = services.default_pipeline()
    response = api(
        admin_user, "post", f"/pipelines/{pipeline.pk}/stages", {"name": "X", "color": "rojo"}
    )
    assert response.status_code == 422
    assert response.json()["detail"]["color"] == ["Color no válido: usa el formato #RRGGBB."]
    assert api(admin_user, "patch", "/pipelines/999999", {"name": "X"}).json() == {
        "detail": "El pipeline no existe."
    }


def test_stages_are_added_reordered_and_deleted_only_when_empty(api, admin_user):
    pipeline = services.default_pipeline()
    response = api(
        admin_user,
        "post",
        f"/pipelines/{pipeline.pk}/stages",
        {"name": "En revisión legal", "color": "#112233", "position": 1, "pauses_sla": True},
    )
    assert response.status_code == 201, response.content
    stage = response.json()
    assert stage["key"] == "en_revision_legal" and stage["position"] == 1
    keys = list(pipeline.stages.order_by("position").values_list("key", flat=True))
    assert keys[:3] == ["new", "en_revision_legal", "follow_up"]
    assert list(pipeline.stages.order_by("position").values_list("position", flat=True)) == list(
        range(len(keys))
    )
    response = api(admin_user, "patch", f"/stages/{stage['id']}", {"position": 0, "name": "Legal"})
    assert response.json()["position"] == 0 and response.json()["name"] == "Legal"

    ticket = make_ticket(by=admin_user, stage=Stage.objects.get(pk=stage["id"]))
    response = api(admin_user, "delete", f"/stages/{stage['id']}")
    assert response.status_code == 422
    assert response.json()["detail"]["__all__"] == [
        "No se puede eliminar: 1 ticket está en este estado. Muévelo antes a otro."
    ]
    services.change_stage(ticket=ticket, stage=pipeline.stages.get(key="new"), by=admin_user)
    assert api(admin_user, "delete", f"/stages/{stage['id']}").status_code == 204
    assert not Stage.objects.filter(pk=stage["id"]).exists()


def test_a_pipeline_with_tickets_or_the_default_one_is_not_deleted(api, admin_user):
    default = services.default_pipeline()
    make_ticket(by=admin_user)
    response = api(admin_user, "delete", f"/pipelines/{default.pk}")
    assert response.status_code == 422
    assert "ticket" in response.json()["detail"]["__all__"][0]
    other = api(admin_user, "post", "/pipelines", {"name": "Temporal"}).json()
    assert api(admin_user, "delete", f"/pipelines/{other['id']}").status_code == 204
    assert Ticket.objects.count() == 1


def test_sla_policies_crud_in_hours(api, admin_user):
    payload = {
        "name": "Reclamos urgentes",
        "pipeline": "support",
        "priority": "urgent",
        "first_response_hours": 0.5,
        "resolution_hours": 8,
        "business_hours": {"1": [["08:00", "12:00"], ["14:00", "18:00"]]},
        "time_zone": "America/Asuncion",
        "holidays": ["2026-12-31"],
    }
    response = api(admin_user, "post", "/sla-policies", payload)
    assert response.status_code == 422  # the support pipeline already has an urgent policy
    assert "Ya hay una política activa" in response.json()["detail"]["priority"][0]
    SlaPolicy.objects.filter(priority="urgent").update(is_active=False)
    response = api(admin_user, "post", "/sla-policies", payload)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["first_response_hours"] == 0.5 and body["customer_update_hours"] == 48
    assert body["holiday_country"] == "PY"  # the installation's country
    policy = SlaPolicy.objects.get(pk=body["id"])
    assert policy.first_response_minutes == 30 and policy.resolution_minutes == 480

    response = api(admin_user, "patch", f"/sla-policies/{policy.pk}", {"resolution_hours": None})
    assert response.status_code == 200 and response.json()["resolution_hours"] is None
    assert response.json()["first_response_hours"] == 0.5
    bad = api(
        admin_user,
        "patch",
        f"/sla-policies/{policy.pk}",
        {"time_zone": "Marte/Olimpo", "business_hours": {"1": [["18:00", "08:00"]]}},
    )
    assert bad.status_code == 422
    assert set(bad.json()["detail"]) == {"time_zone", "business_hours"}
    policy.refresh_from_db()
    assert policy.time_zone == "America/Asuncion"
    listed = api(admin_user, "get", "/sla-policies?pipeline=support").json()
    assert policy.pk in [p["id"] for p in listed]
    assert api(admin_user, "delete", f"/sla-policies/{policy.pk}").status_code == 204
    assert api(admin_user, "get", f"/sla-policies/{policy.pk}").status_code == 404


def test_turning_the_sla_pause_on_a_stage_pauses_its_tickets_from_now(api, admin_user):
    import datetime
    from unittest import mock

    from atiende.tickets import sla

    start = datetime.datetime(2026, 11, 2, 9, 0, tzinfo=datetime.UTC)
    with mock.patch("django.utils.timezone.now", return_value=start):
        ticket = make_ticket(by=admin_user, stage=services.default_pipeline().stages.get(key="new"))
    later = start + datetime.timedelta(hours=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        response = api(admin_user, "patch", f"/stages/{ticket.stage_id}", {"pauses_sla": True})
    assert response.status_code == 200 and response.json()["pauses_sla"] is True
    ticket.refresh_from_db()
    assert ticket.sla_check_at == later  # the next tick stores the paused state
    sla.check_due(now=later)
    ticket.refresh_from_db()
    assert ticket.sla_state == "paused"
    with mock.patch("django.utils.timezone.now", return_value=later + datetime.timedelta(hours=5)):
        api(admin_user, "patch", f"/stages/{ticket.stage_id}", {"pauses_sla": False})
    sla.check_due(now=later + datetime.timedelta(hours=5))
    ticket.refresh_from_db()
    assert ticket.sla_state != "paused"
    resolution = {
        c.key: c for c in sla.ticket_clocks(ticket, now=later + datetime.timedelta(hours=5))
    }
    assert resolution["resolution"].elapsed_seconds == 3600  # the five paused hours do not count
