"""The ticket list: filters in the URL with owner counts, sorting, pagination, bulk actions with
their permissions, advanced filters and saved views; the number of queries does not grow with the
rows."""

import datetime
import json
import re

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from atiende.contacts.tests.factories import LabelFactory, make_contact
from atiende.tickets import saved_views
from atiende.tickets.models import SavedView, Ticket
from atiende.tickets.tests.factories import make_ticket, stage
from atiende.users.models import Team

pytestmark = pytest.mark.django_db

URL = "/tickets/"


def numbers(response) -> list[str]:
    """The ticket numbers of the rows, in order."""
    return re.findall(r'<tr data-ticket="\d+"[^>]*>.*?>(T-\d{6})<', response.content.decode(), re.S)


def notices(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def logged(client, agent):
    client.force_login(agent)
    return client


def test_sidebar_links_to_the_list_and_the_empty_state_invites_to_create(logged):
    response = logged.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="/tickets/"' in html and "Aún no hay tickets." in html
    assert 'href="/tickets/nuevo/"' in html and "Nuevo ticket" in html
    assert 'href="/tickets/tablero/' in html


def test_filters_return_exactly_the_matching_rows_with_owner_counts(logged, agent, supervisor):
    label = LabelFactory(name="Reclamo")
    contact = make_contact(first_name="Lucía", last_name="Ramírez")
    mine = make_ticket(by=agent, name="Reclamo de póliza", owner=agent, priority="high")
    mine.labels.add(label)
    free = make_ticket(by=agent, name="Consulta general", priority="low", contact=contact)
    other = make_ticket(
        by=agent, name="Cambio de placa", owner=supervisor, priority="urgent", stage_key="closed"
    )
    Ticket.objects.filter(pk=free.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=10), sla_state="breached"
    )
    Ticket.objects.filter(pk=mine.pk).update(sla_state="ok")
    Ticket.objects.filter(pk=other.pk).update(sla_state="")

    page = logged.get(URL).content.decode()
    assert "Mis tickets (1)" in page and "Sin propietario (1)" in page
    assert "Jorge Benítez (1)" in page

    def listed(**params) -> set[str]:
        return set(numbers(logged.get(URL, params)))

    assert listed() == {mine.number, free.number, other.number}
    assert listed(owner="me") == {mine.number}
    assert listed(owner="none") == {free.number}
    assert listed(owner=supervisor.pk) == {other.number}
    assert listed(priority="urgent") == {other.number}
    assert listed(stage=stage("closed").pk) == {other.number}
    assert listed(pipeline=mine.pipeline_id) == {mine.number, free.number, other.number}
    assert listed(label=label.pk) == {mine.number}
    assert listed(contact=contact.pk) == {free.number}
    assert listed(sla="breached") == {free.number}
    assert listed(sla="none") == {other.number}
    assert listed(state="open") == {mine.number, free.number}
    assert listed(state="closed") == {other.number}
    assert listed(q="placa") == {other.number}
    assert listed(q=free.number) == {free.number}
    ten_days_ago = str(timezone.localdate() - datetime.timedelta(days=10))
    assert listed(created_from=ten_days_ago, created_to=ten_days_ago) == {free.number}
    yesterday = str(timezone.localdate() - datetime.timedelta(days=1))
    assert listed(activity_from=yesterday) == {mine.number, free.number, other.number}
    assert listed(activity_to=yesterday) == set()
    # The owner counts follow the other filters (here: only the open ones).
    open_page = logged.get(URL, {"state": "open"}).content.decode()
    assert "Jorge Benítez (1)" not in open_page and "Mis tickets (1)" in open_page
    # The contact filter shows whose tickets these are, with a way out.
    assert "Contacto: Lucía Ramírez" in logged.get(URL, {"contact": contact.pk}).content.decode()


def test_bad_filter_values_are_dropped_with_a_spanish_message(logged, agent):
    make_ticket(by=agent)
    response = logged.get(
        URL, {"priority": "altísima", "owner": "ana", "created_from": "31/12", "sla": "x"}
    )
    assert response.status_code == 200
    messages = " ".join(notices(response))
    assert "Prioridad desconocida" in messages and "Propietario no válido" in messages
    assert "Fecha no válida" in messages and "SLA desconocido" in messages
    assert len(numbers(response)) == 1


def test_sorting_by_each_column(logged, agent, supervisor):
    a = make_ticket(by=agent, name="Beta", priority="low", owner=supervisor)
    b = make_ticket(by=agent, name="Alfa", priority="urgent", stage_key="closed")
    c = make_ticket(by=agent, name="Gamma", priority="medium", owner=agent)
    Ticket.objects.filter(pk=a.pk).update(sla_due_at=timezone.now() + datetime.timedelta(hours=1))
    Ticket.objects.filter(pk=c.pk).update(sla_due_at=timezone.now() + datetime.timedelta(hours=9))
    Ticket.objects.filter(pk=b.pk).update(sla_due_at=None)

    def order(sort):
        return numbers(logged.get(URL, {"sort": sort}))

    assert order("number") == [a.number, b.number, c.number]
    assert order("-number") == [c.number, b.number, a.number]
    assert order("name") == [b.number, a.number, c.number]
    assert order("-name") == [c.number, a.number, b.number]
    assert order("priority") == [b.number, c.number, a.number]
    assert order("stage")[-1] == b.number
    assert order("owner") == [a.number, c.number, b.number]  # Jorge, María, then nobody
    assert order("sla") == [a.number, c.number, b.number]
    assert order("-last_activity")[0] == c.number
    assert order("nonsense") == order("-last_activity")
    html = logged.get(URL, {"sort": "name"}).content.decode()
    assert 'aria-sort="ascending"' in html and "sort=-name" in html


def test_pagination_25_50_100_and_bounded_queries(logged, agent, supervisor):
    label = LabelFactory(name="VIP")
    team = Team.objects.create(name="Servicio")
    view = saved_views.save_view(
        owner=agent,
        name="Con etiqueta",
        shared=False,
        filters={"match": "any", "conditions": [{"field": "label", "op": "not_empty"}]},
    )

    def make(n):
        for i in range(n):
            ticket = make_ticket(
                by=agent,
                owner=[agent, supervisor, None][i % 3],
                team=team if i % 2 else None,
                contact=make_contact(first_name=f"Cliente {i}") if i % 4 == 0 else None,
            )
            ticket.labels.add(label)

    def count_queries(params) -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = logged.get(URL, params)
        assert response.status_code == 200
        return len(ctx)

    screens = [
        {},
        {"per_page": 100, "sort": "owner"},
        {"view": view.pk},
        {"adv": "1", "c0_field": "label", "c0_op": "eq", "c0_value": label.pk},
    ]
    make(5)
    few = [count_queries(params) for params in screens]
    make(25)
    many = [count_queries(params) for params in screens]
    assert few == many
    assert max(many) <= 22

    assert len(numbers(logged.get(URL))) == 25
    assert len(numbers(logged.get(URL, {"page": 2}))) == 5
    assert len(numbers(logged.get(URL, {"per_page": 50}))) == 30
    assert len(numbers(logged.get(URL, {"per_page": 7}))) == 25  # only 25, 50 or 100
    html = logged.get(URL, {"page": 2, "priority": "medium"}).content.decode()
    assert "26\u201330 de 30" in html and "priority=medium" in html


def test_the_list_runs_few_queries(logged, agent, django_assert_max_num_queries):
    for _ in range(8):
        make_ticket(by=agent, owner=agent)
    with django_assert_max_num_queries(22):
        logged.get(URL, {"sort": "contact", "state": "open"})


# --- bulk actions -----------------------------------------------------------------------


def bulk(client, tickets, action, **values):
    return client.post(
        "/tickets/lote/",
        {"ids": [t.pk for t in tickets], "action": action, "next": "/tickets/?q=x", **values},
    )


def test_bulk_actions_change_every_ticket_with_a_confirmation(client, supervisor, agent):
    client.force_login(supervisor)
    label = LabelFactory(name="Revisar")
    tickets = [make_ticket(by=agent) for _ in range(3)]

    response = bulk(client, tickets, "assign", owner=agent.pk)
    assert response.status_code == 302 and response["Location"] == "/tickets/?q=x"
    assert "Listo: 3 tickets asignados a María González." in notices(response)
    assert {t.owner_id for t in Ticket.objects.all()} == {agent.pk}

    response = bulk(client, tickets[:2], "stage", stage=stage("follow_up").pk)
    assert "Listo: 2 tickets movidos a Seguimiento." in notices(response)
    assert Ticket.objects.filter(stage__key="follow_up").count() == 2

    response = bulk(client, tickets, "priority", priority="urgent")
    assert "Listo: 3 tickets con prioridad Urgente 🔴." in notices(response)
    response = bulk(client, tickets, "label", label=label.pk)
    assert Ticket.objects.filter(labels=label).count() == 3
    response = bulk(client, tickets[:1], "close")
    assert "Listo: 1 ticket cerrado." in notices(response)
    assert Ticket.objects.get(pk=tickets[0].pk).closed_at is not None
    response = bulk(client, tickets[1:], "assign", owner="none")
    assert Ticket.objects.filter(owner__isnull=True).count() == 2


def test_bulk_refusals_change_nothing(client, agent, supervisor):
    client.force_login(agent)
    tech = Team.objects.create(name="Tech")
    free = make_ticket(by=agent)
    guarded = make_ticket(by=supervisor, owner=supervisor, team=tech)
    before = list(Ticket.objects.order_by("pk").values_list("priority", "stage_id", "owner_id"))

    response = bulk(client, [free, guarded], "priority", priority="high")
    assert any("No se aplicó ningún cambio" in m and guarded.number in m for m in notices(response))
    response = bulk(client, [free], "stage", stage=stage("tech_issues").pk)
    assert any("¿Qué ocurre?" in m for m in notices(response))
    response = bulk(client, [free], "priority", priority="altísima")
    assert "Elige la prioridad." in notices(response)
    response = bulk(client, [], "close")
    assert "Elige al menos un ticket." in notices(response)
    response = bulk(client, [free], "borrar")
    assert "Acción desconocida." in notices(response)
    after = list(Ticket.objects.order_by("pk").values_list("priority", "stage_id", "owner_id"))
    assert before == after
    assert client.get("/tickets/lote/").status_code == 405


# --- advanced filters and saved views --------------------------------------------------------


def test_advanced_conditions_in_the_url_filter_and_errors_are_shown(logged, agent):
    high = make_ticket(by=agent, name="Alta", priority="high")
    urgent = make_ticket(by=agent, name="Urgente", priority="urgent", owner=agent)
    make_ticket(by=agent, name="Baja", priority="low")
    params = {
        "adv": "1",
        "match": "any",
        "c0_field": "priority",
        "c0_op": "eq",
        "c0_value": "high",
        "c3_field": "owner",
        "c3_op": "eq",
        "c3_value": "me",
    }
    response = logged.get(URL, params)
    assert set(numbers(response)) == {high.number, urgent.number}
    html = response.content.decode()
    assert 'name="c1_field"' in html  # rows renumbered from 0
    assert "Prioridad es igual a Alta" in html and "Propietario es igual a yo" in html
    assert 'class="collapse" id="advanced-panel"' in html  # applied with "Filtrar": chips only
    opened = logged.get(URL, {**params, "panel": "1"}).content.decode()
    assert 'class="collapse show" id="advanced-panel"' in opened
    response = logged.get(URL, {**params, "match": "all"})
    assert set(numbers(response)) == set()
    response = logged.get(
        URL, {"adv": "1", "c0_field": "created_at", "c0_op": "between", "c0_value": "2026-01-01"}
    )
    assert "«entre» necesita dos fechas" in response.content.decode()
    assert len(numbers(response)) == 3  # a broken condition filters nothing


def test_condition_row_endpoint_draws_the_widget_for_the_field(logged):
    html = logged.get(
        "/tickets/filtros/condicion/", {"i": 4, "c4_field": "priority", "changed": "field"}
    ).content.decode()
    assert (
        'name="c4_op"' in html
        and '<select class="form-select form-select-sm" name="c4_value"' in html
    )
    html = logged.get(
        "/tickets/filtros/condicion/",
        {"i": 2, "c2_field": "priority", "c2_op": "in", "c2_value": ["high", "low"]},
    ).content.decode()
    assert "multiple" in html and 'value="high" selected' in html
    html = logged.get(
        "/tickets/filtros/condicion/", {"i": 0, "c0_field": "closed_at", "c0_op": "between"}
    ).content.decode()
    assert 'name="c0_value2"' in html and 'type="date"' in html
    html = logged.get(
        "/tickets/filtros/condicion/", {"i": 0, "c0_field": "owner", "c0_op": "empty"}
    ).content.decode()
    assert 'name="c0_value"' not in html


def test_save_open_update_and_delete_a_view_from_the_list(client, agent, supervisor):
    client.force_login(agent)
    urgent = make_ticket(by=agent, priority="urgent", owner=agent)
    make_ticket(by=agent, priority="low")
    filters = {"match": "all", "conditions": [{"field": "priority", "op": "eq", "value": "urgent"}]}

    response = client.post(
        "/tickets/vistas/guardar/",
        {"name": "Urgentes", "filters": json.dumps(filters), "screen": "list", "next": URL},
    )
    view = SavedView.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{URL}?view={view.pk}"
    assert view.owner == agent and not view.shared
    page = client.get(URL, {"view": view.pk})
    assert numbers(page) == [urgent.number]
    assert "Urgentes" in page.content.decode()

    # The simple filters in force are offered for saving too.
    html = client.get(URL, {"owner": "me", "sla": "none"}).content.decode()
    assert "Propietario es igual a yo" in html and "Estado del SLA está vacío" in html

    # Bad input: nothing saved, a Spanish message.
    response = client.post("/tickets/vistas/guardar/", {"name": "", "filters": "{"})
    assert SavedView.objects.count() == 1
    assert any("No se guardó la vista" in m for m in notices(response))

    # Someone else does not see a private view, and cannot change or delete it.
    client.force_login(supervisor)
    response = client.get(URL, {"view": view.pk})
    assert "La vista no existe o no es tuya." in notices(response)
    response = client.post(
        "/tickets/vistas/guardar/", {"view": view.pk, "name": "Mía", "filters": "{}"}
    )
    response = client.post(f"/tickets/vistas/{view.pk}/eliminar/")
    view.refresh_from_db()
    assert view.name == "Urgentes"

    # The owner updates it (the URL's conditions) and deletes it.
    client.force_login(agent)
    changed = {"match": "all", "conditions": [{"field": "priority", "op": "eq", "value": "low"}]}
    client.post(
        "/tickets/vistas/guardar/",
        {"view": view.pk, "name": "Bajas", "shared": "1", "filters": json.dumps(changed)},
    )
    view.refresh_from_db()
    assert view.name == "Bajas" and view.shared and view.filters == changed
    response = client.post(f"/tickets/vistas/{view.pk}/eliminar/")
    assert "Vista eliminada: Bajas." in notices(response)
    assert not SavedView.objects.exists()


def test_changed_conditions_on_an_open_view_offer_to_update_it(logged, agent):
    view = saved_views.save_view(
        owner=agent,
        name="Urgentes",
        shared=True,
        filters={"conditions": [{"field": "priority", "op": "eq", "value": "urgent"}]},
    )
    same = logged.get(
        URL,
        {"view": view.pk, "adv": "1", "c0_field": "priority", "c0_op": "eq", "c0_value": "urgent"},
    ).content.decode()
    assert "Cambios sin guardar" not in same
    changed = logged.get(
        URL, {"view": view.pk, "adv": "1", "c0_field": "priority", "c0_op": "eq", "c0_value": "low"}
    ).content.decode()
    assert "Cambios sin guardar" in changed and "Actualizar «Urgentes»" in changed


def test_a_view_whose_condition_no_longer_validates_says_so(logged, agent):
    make_ticket(by=agent)
    view = SavedView.objects.create(
        owner=agent,
        name="Antigua",
        filters={"conditions": [{"field": "campo_retirado", "op": "eq", "value": 1}]},
    )
    response = logged.get(URL, {"view": view.pk})
    assert response.status_code == 200 and len(numbers(response)) == 1
    assert any(
        "La vista «Antigua» tiene una condición que ya no vale" in m for m in notices(response)
    )
