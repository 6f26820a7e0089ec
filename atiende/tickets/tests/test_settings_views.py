"""Ajustes > Pipelines y SLA in the browser's terms: admins only, forms that save through the
configuration services, Spanish refusals that change nothing, bounded queries on the lists."""

import pytest
from django.urls import reverse

from atiende.tickets import services
from atiende.tickets.models import Pipeline, SlaPolicy, Stage, Ticket
from atiende.tickets.tests.factories import make_ticket
from atiende.users.tests.factories import TeamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def _policy_post(pipeline: Pipeline, **overrides) -> dict:
    data = {
        "name": "Reclamos",
        "pipeline": pipeline.pk,
        "priority": "",
        "first_response_hours": "2",
        "customer_update_hours": "48",
        "resolution_hours": "24,5",
        "at_risk_percent": "75",
        "time_zone": "America/Asuncion",
        "holiday_country": "PY",
        "holidays": "31/12/2026\n2027-01-02",
        "is_active": "on",
        "d1_open": "on",
        "d1_start1": "08:00",
        "d1_end1": "12:00",
        "d1_start2": "14:00",
        "d1_end2": "18:00",
        "d6_open": "on",
        "d6_start1": "08:00",
        "d6_end1": "12:00",
    }
    data.update(overrides)
    return data


def test_only_admins_reach_the_screens(client, agent, supervisor):
    pipeline = services.default_pipeline()
    urls = [
        reverse("tickets:settings_pipelines"),
        reverse("tickets:settings_pipeline_edit", args=[pipeline.pk]),
        reverse("tickets:settings_policy_create"),
        reverse("tickets:settings_stage_edit", args=[pipeline.stages.first().pk]),
    ]
    for user in (agent, supervisor):
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == 403
        response = client.post(reverse("tickets:settings_pipeline_create"), {"name": "X"})
        assert response.status_code == 403
    assert not Pipeline.objects.filter(name="X").exists()


def test_the_list_and_the_pipeline_page_run_bounded_queries(
    admin_client, admin_user, django_assert_max_num_queries
):
    for n in range(6):
        pipeline = Pipeline.objects.create(key=f"p{n}", name=f"Pipeline {n}", position=n + 1)
        Stage.objects.create(pipeline=pipeline, key="new", name="Nuevo")
    for _ in range(3):
        make_ticket(by=admin_user)
    with django_assert_max_num_queries(12):
        response = admin_client.get(reverse("tickets:settings_pipelines"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Pipeline de soporte" in body and "Pipeline 5" in body
    assert "Pipelines y SLA" in body  # the settings navigation
    default = services.default_pipeline()
    with django_assert_max_num_queries(16):
        response = admin_client.get(reverse("tickets:settings_pipeline_edit", args=[default.pk]))
    body = response.content.decode()
    assert "Esperando al cliente" in body and "Pausa el SLA" in body
    assert "Soporte · Urgente" in body and "Las 24 horas, todos los días" in body


def test_create_a_pipeline_then_add_and_reorder_stages(admin_client):
    team = TeamFactory(name="Reclamos")
    response = admin_client.post(
        reverse("tickets:settings_pipeline_create"),
        {"name": "Reclamos", "key": "", "team": team.pk, "position": "3"},
    )
    pipeline = Pipeline.objects.get(key="reclamos")
    assert response.status_code == 302
    assert response["Location"] == reverse("tickets:settings_pipeline_edit", args=[pipeline.pk])
    assert pipeline.team == team and not pipeline.is_default
    response = admin_client.post(
        reverse("tickets:settings_stage_create", args=[pipeline.pk]),
        {
            "name": "En análisis",
            "color": "#AA3300",
            "help_text": "Lo revisa legales",
            "pauses_sla": "on",
        },
    )
    assert response.status_code == 302
    stage = pipeline.stages.get(key="en_analisis")
    assert stage.color == "#aa3300" and stage.pauses_sla and stage.position == 2
    response = admin_client.post(
        reverse("tickets:settings_stage_move", args=[stage.pk]),
        {"direction": "up"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert 'id="stages"' in response.content.decode()
    assert list(pipeline.stages.order_by("position").values_list("key", flat=True)) == [
        "new",
        "en_analisis",
        "closed",
    ]


def test_bad_input_shows_spanish_errors_and_changes_nothing(admin_client):
    pipeline = services.default_pipeline()
    response = admin_client.post(
        reverse("tickets:settings_pipeline_create"), {"name": "Otro", "key": "support"}
    )
    assert response.status_code == 200
    assert "Ya existe un pipeline con ese identificador." in response.content.decode()
    stage = pipeline.stages.get(key="closed")
    response = admin_client.post(
        reverse("tickets:settings_stage_edit", args=[stage.pk]),
        {
            "name": "Cerrado",
            "key": "closed",
            "color": "#198754",
            "is_closed": "on",
            "pauses_sla": "on",
        },
    )
    assert "Un estado cerrado no puede pausar el SLA" in response.content.decode()
    stage.refresh_from_db()
    assert not stage.pauses_sla
    assert Pipeline.objects.count() == 1


def test_a_stage_with_tickets_is_not_deleted(admin_client, admin_user):
    ticket = make_ticket(by=admin_user)
    response = admin_client.post(
        reverse("tickets:settings_stage_delete", args=[ticket.stage_id]), follow=True
    )
    assert "No se puede eliminar: 1 ticket está en este estado." in response.content.decode()
    assert Stage.objects.filter(pk=ticket.stage_id).exists()
    assert Ticket.objects.filter(pk=ticket.pk).exists()


def test_an_sla_policy_with_business_hours_and_holidays(admin_client, admin_user):
    pipeline = Pipeline.objects.create(key="reclamos", name="Reclamos")
    Stage.objects.create(pipeline=pipeline, key="new", name="Nuevo")
    page = admin_client.get(reverse("tickets:settings_policy_create") + f"?pipeline={pipeline.pk}")
    assert 'value="48"' in page.content.decode()  # the 48-hour rule by default
    response = admin_client.post(reverse("tickets:settings_policy_create"), _policy_post(pipeline))
    assert response.status_code == 302, response.content.decode()[:2000]
    policy = SlaPolicy.objects.get(pipeline=pipeline)
    assert policy.first_response_minutes == 120
    assert policy.customer_update_minutes == 48 * 60
    assert policy.resolution_minutes == 24 * 60 + 30
    assert policy.at_risk_percent == 75
    assert policy.business_hours == {
        "1": [["08:00", "12:00"], ["14:00", "18:00"]],
        "6": [["08:00", "12:00"]],
    }
    assert policy.holiday_country == "PY"
    assert policy.holidays == ["2026-12-31", "2027-01-02"]
    page = admin_client.get(reverse("tickets:settings_pipeline_edit", args=[pipeline.pk]))
    assert "lun 08:00\u201312:00, 14:00\u201318:00 · sáb 08:00\u201312:00" in page.content.decode()
    edit = admin_client.get(reverse("tickets:settings_policy_edit", args=[policy.pk]))
    assert "31/12/2026" in edit.content.decode()


def test_a_bad_policy_is_refused_field_by_field(admin_client):
    pipeline = services.default_pipeline()
    before = SlaPolicy.objects.count()
    response = admin_client.post(
        reverse("tickets:settings_policy_create"),
        _policy_post(
            pipeline,
            priority="high",  # the default policies already cover "high"
            resolution_hours="mucho",
            d1_end1="07:00",
            holidays="31-31-2026",
            time_zone="Marte/Olimpo",
        ),
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Indica las horas con un número" in body
    assert SlaPolicy.objects.count() == before
    response = admin_client.post(
        reverse("tickets:settings_policy_create"),
        _policy_post(pipeline, priority="", d1_end1="07:00", time_zone="Marte/Olimpo"),
    )
    body = response.content.decode()
    assert "Horario no válido" in body and "Zona horaria desconocida" in body
    assert SlaPolicy.objects.count() == before
