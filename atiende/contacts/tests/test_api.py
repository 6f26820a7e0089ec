"""/api/v1/contacts: every endpoint, with the same permission rules as the UI."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from atiende.activities import services as activities
from atiende.activities.models import Note, Task
from atiende.contacts import services
from atiende.contacts.models import Account, Contact, ContactPoint
from atiende.contacts.tests.factories import (
    ContactFactory,
    GroupFactory,
    LabelFactory,
    make_contact,
    point_values,
)
from atiende.core.models import AuditEntry
from atiende.users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

DENIED = "No tienes permiso para realizar esta acción."
NOT_FOUND = {"detail": "El contacto no existe."}


@pytest.fixture
def other_agent(db):
    return UserFactory(username="otro", display_name="Pedro Gómez")


# --- authentication and documentation ---------------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/contacts"),
        ("post", "/contacts"),
        ("get", "/contacts/{id}"),
        ("patch", "/contacts/{id}"),
        ("delete", "/contacts/{id}"),
        ("get", "/contacts/{id}/points"),
        ("post", "/contacts/{id}/points"),
        ("patch", "/contacts/{id}/points/{point}"),
        ("delete", "/contacts/{id}/points/{point}"),
        ("get", "/contacts/{id}/timeline"),
        ("post", "/contacts/{id}/notes"),
        ("post", "/contacts/{id}/tasks"),
        ("get", "/contacts/{id}/accounts"),
        ("post", "/contacts/{id}/accounts"),
        ("post", "/contacts/merge"),
        ("get", "/contacts/{id}/history"),
        ("get", "/contacts/{id}/duplicates"),
    ],
)
def test_every_endpoint_needs_a_token(client, method, path):
    contact = make_contact(first_name="Ana", phone="0991 651351")
    point = contact.points.get()
    url = "/api/v1" + path.format(id=contact.pk, point=point.pk)
    for headers in ({}, {"Authorization": "Bearer atk_inventado"}):
        response = getattr(client, method)(
            url, data={}, content_type="application/json", **{"headers": headers}
        )
        assert response.status_code == 401
        assert response.json() == {"detail": "Token ausente o inválido."}
    assert Contact.objects.get().first_name == "Ana"
    assert ContactPoint.objects.count() == 1


def test_openapi_documents_the_contact_endpoints(client):
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in (
        "/api/v1/contacts",
        "/api/v1/contacts/merge",
        "/api/v1/contacts/{contact_id}",
        "/api/v1/contacts/{contact_id}/points/{point_id}",
        "/api/v1/contacts/{contact_id}/timeline",
        "/api/v1/contacts/{contact_id}/history",
        "/api/v1/contacts/{contact_id}/duplicates",
    ):
        assert path in paths, path
    assert set(paths["/api/v1/contacts/{contact_id}"]) == {"get", "patch", "delete"}
    assert client.get("/api/v1/docs").status_code == 200


# --- list ----------------------------------------------------------------------------------


def test_list_is_paginated_with_a_count(api, agent):
    Contact.objects.bulk_create(ContactFactory.build_batch(30))
    page = api(agent, "get", "/contacts?page=2&page_size=10").json()
    assert page["count"] == 30
    assert len(page["items"]) == 10
    first = api(agent, "get", "/contacts?page_size=10").json()
    ids = {c["id"] for c in first["items"]} | {c["id"] for c in page["items"]}
    assert len(ids) == 20  # pages do not overlap
    last = api(agent, "get", "/contacts?page=4&page_size=10").json()
    assert (last["count"], last["items"]) == (30, [])


def test_page_size_is_capped_at_100(api, agent):
    Contact.objects.bulk_create(ContactFactory.build_batch(105))
    page = api(agent, "get", "/contacts?page_size=1000").json()
    assert page["count"] == 105
    assert len(page["items"]) == 100
    assert len(api(agent, "get", "/contacts").json()["items"]) == 25
    assert api(agent, "get", "/contacts?page_size=0").status_code == 422


def test_list_filters_by_query_label_and_assigned_user(api, agent, other_agent):
    vip = LabelFactory(name="VIP")
    ana = make_contact(first_name="Ana", last_name="Núñez", phone="0991 651351", labels=[vip])
    luis = make_contact(first_name="Luis", assigned_to=agent)
    sara = make_contact(first_name="Sara", assigned_to=other_agent, labels=[vip])

    def ids(query: str) -> list[int]:
        body = api(agent, "get", f"/contacts?{query}").json()
        assert body["count"] == len(body["items"])
        return sorted(c["id"] for c in body["items"])

    assert ids("q=%2B595%20991%20651%20351") == [ana.pk]
    assert ids("q=nunez") == [ana.pk]
    assert ids(f"label={vip.pk}") == sorted([ana.pk, sara.pk])
    assert ids(f"assigned_to={agent.pk}") == [luis.pk]
    assert ids("assigned_to=none") == [ana.pk]
    assert ids(f"label={vip.pk}&assigned_to={other_agent.pk}") == [sara.pk]


def test_list_items_carry_what_the_table_shows(api, agent):
    vip = LabelFactory(name="VIP", color="#ff0000")
    make_contact(
        first_name="Ana",
        last_name="Núñez",
        phone="0991 651351",
        email="Ana@Example.com",
        identification_type="ci",
        identification_number="1.234.567",
        assigned_to=agent,
        labels=[vip],
    )
    (item,) = api(agent, "get", "/contacts").json()["items"]
    assert item["full_name"] == "Ana Núñez"
    assert item["primary_phone"] == "+595991651351"
    assert item["primary_email"] == "ana@example.com"
    assert item["identification_number"] == "1.234.567"
    assert item["assigned_to"] == {"id": agent.pk, "name": "María González"}
    assert item["labels"] == [{"id": vip.pk, "name": "VIP", "color": "#ff0000"}]


def _list_queries(api, user, n: int) -> int:
    labels = [LabelFactory(name=f"Etiqueta {i}") for i in range(3)]
    owners = [UserFactory() for _ in range(3)]
    for i in range(n - Contact.objects.count()):
        make_contact(
            first_name=f"Cliente {i}",
            phone=f"0981 {100000 + i}",
            assigned_to=owners[i % 3],
            labels=labels[: i % 3 + 1],
        )
    with CaptureQueriesContext(connection) as queries:
        response = api(user, "get", "/contacts?page_size=100")
    assert response.status_code == 200
    assert len(response.json()["items"]) == n
    return len(queries)


def test_list_runs_the_same_number_of_queries_for_5_or_40_contacts(api, agent):
    api(agent, "get", "/contacts")  # token issued and first-use bookkeeping done
    few = _list_queries(api, agent, 5)
    many = _list_queries(api, agent, 40)
    assert few == many
    assert many <= 10


# --- create ----------------------------------------------------------------------------------


def test_create_answers_201_with_the_contact_and_its_points(api, agent, other_agent):
    vip, group = LabelFactory(name="VIP"), GroupFactory(name="Cartera")
    response = api(
        agent,
        "post",
        "/contacts",
        {
            "first_name": "José",
            "last_name": "Núñez",
            "identification_type": "ci",
            "identification_number": "1.234.567",
            "birth_date": "1980-05-17",
            "company": "Seguros del Sur",
            "notes": "Prefiere WhatsApp",
            "assigned_to": other_agent.pk,
            "labels": [vip.pk],
            "groups": [group.pk],
            "points": [
                {"kind": "mobile", "value": "0991-651351", "label": "personal"},
                {"kind": "email", "value": "Jose@Example.com", "primary": True},
            ],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    contact = Contact.objects.get()
    assert body["id"] == contact.pk
    assert body["full_name"] == "José Núñez"
    assert body["birth_date"] == "1980-05-17"
    assert body["assigned_to"] == {"id": other_agent.pk, "name": "Pedro Gómez"}
    assert body["created_by"] == {"id": agent.pk, "name": "María González"}
    assert body["labels"] == [{"id": vip.pk, "name": "VIP", "color": vip.color}]
    assert body["groups"] == [{"id": group.pk, "name": "Cartera"}]
    points = {(p["kind"], p["value"], p["label"], p["primary"]) for p in body["points"]}
    assert points == {
        ("mobile", "+595991651351", "personal", True),
        ("email", "jose@example.com", "", True),
    }
    assert contact.identification_key == "1234567"
    entry = AuditEntry.objects.get(action="create", content_type__model="contact")
    assert (entry.object_id, entry.actor) == (str(contact.pk), agent)


@pytest.mark.parametrize(
    "points, field, message",
    [
        (
            [{"kind": "phone", "value": "12"}],
            "points.0.value",
            "«12» no es un número de teléfono válido.",
        ),
        (
            [
                {"kind": "phone", "value": "0991 651351"},
                {"kind": "email", "value": "jose@"},
            ],
            "points.1.value",
            "«jose@» no es un correo electrónico válido.",
        ),
        (
            [{"kind": "fax", "value": "123"}],
            "points.0.kind",
            "Tipo de dato de contacto desconocido.",
        ),
    ],
)
def test_create_with_a_bad_point_is_422_naming_the_field(api, agent, points, field, message):
    response = api(agent, "post", "/contacts", {"first_name": "José", "points": points})
    assert response.status_code == 422
    assert response.json() == {"detail": {field: [message]}}
    assert not Contact.objects.exists()


def test_create_refuses_a_used_identification_and_unknown_labels(api, agent):
    make_contact(first_name="Ana", identification_type="ci", identification_number="1234567")
    used = api(
        agent,
        "post",
        "/contacts",
        {"first_name": "Otra", "identification_type": "ci", "identification_number": "1.234.567"},
    )
    assert used.status_code == 422
    assert used.json() == {
        "detail": {"identification_number": ["Ya existe un contacto con esa identificación."]}
    }
    unknown = api(agent, "post", "/contacts", {"first_name": "Otra", "labels": [9999]})
    assert unknown.status_code == 422
    assert "labels" in unknown.json()["detail"]
    empty = api(agent, "post", "/contacts", {})
    assert empty.status_code == 422
    assert "first_name" in empty.json()["detail"]
    assert Contact.objects.count() == 1


# --- read, update, delete ---------------------------------------------------------------------


def test_get_one_contact_and_404_for_a_missing_one(api, agent):
    ana = make_contact(first_name="Ana", phone="0991 651351")
    body = api(agent, "get", f"/contacts/{ana.pk}").json()
    assert body["id"] == ana.pk
    assert body["points"][0]["value"] == "+595991651351"
    assert body["points"][0]["display_value"] == "+595 991 651351"
    missing = api(agent, "get", f"/contacts/{ana.pk + 100}")
    assert missing.status_code == 404
    assert missing.json() == NOT_FOUND


def test_patch_changes_only_the_fields_sent_and_records_them(api, agent):
    ana = make_contact(first_name="Ana", last_name="Benítez", company="ACME")
    response = api(agent, "patch", f"/contacts/{ana.pk}", {"first_name": "Ana María"})
    assert response.status_code == 200
    assert (response.json()["first_name"], response.json()["company"]) == ("Ana María", "ACME")
    entry = AuditEntry.objects.filter(action="update").get()
    assert entry.changes == {"first_name": ["Ana", "Ana María"]}
    assert entry.actor == agent


def test_patch_labels_and_validation_errors(api, agent):
    vip = LabelFactory(name="VIP")
    ana = make_contact(first_name="Ana")
    response = api(agent, "patch", f"/contacts/{ana.pk}", {"labels": [vip.pk]})
    assert [label["name"] for label in response.json()["labels"]] == ["VIP"]
    bad = api(agent, "patch", f"/contacts/{ana.pk}", {"birth_date": "2999-01-01"})
    assert bad.status_code == 422
    assert bad.json() == {"detail": {"birth_date": ["La fecha de nacimiento no puede ser futura."]}}


def test_patch_assignment_follows_the_admin_or_assigned_rule(api, agent, other_agent, admin_user):
    contact = make_contact(first_name="Ana", assigned_to=agent)

    # Another agent: 403, and nothing else in the same request is applied either.
    denied = api(
        other_agent,
        "patch",
        f"/contacts/{contact.pk}",
        {"first_name": "Cambiado", "assigned_to": other_agent.pk},
    )
    assert denied.status_code == 403
    assert denied.json() == {"detail": DENIED}
    contact.refresh_from_db()
    assert (contact.first_name, contact.assigned_to) == ("Ana", agent)
    # Sending the current value back is not a change of assignment.
    same = api(other_agent, "patch", f"/contacts/{contact.pk}", {"assigned_to": agent.pk})
    assert same.status_code == 200

    # The assigned agent hands it over; the admin removes it.
    mine = api(agent, "patch", f"/contacts/{contact.pk}", {"assigned_to": other_agent.pk})
    assert mine.json()["assigned_to"]["id"] == other_agent.pk
    removed = api(admin_user, "patch", f"/contacts/{contact.pk}", {"assigned_to": None})
    assert removed.json()["assigned_to"] is None
    contact.refresh_from_db()
    assert contact.assigned_to is None
    assert AuditEntry.objects.filter(action="assign").count() == 2


def test_patch_to_an_unknown_user_is_422(api, admin_user):
    contact = make_contact(first_name="Ana")
    response = api(admin_user, "patch", f"/contacts/{contact.pk}", {"assigned_to": 9999})
    assert response.status_code == 422
    assert list(response.json()["detail"]) == ["assigned_to"]


def test_delete_needs_permission(api, agent, supervisor):
    contact = make_contact(first_name="Ana")
    denied = api(agent, "delete", f"/contacts/{contact.pk}")
    assert denied.status_code == 403
    assert denied.json() == {"detail": DENIED}
    assert Contact.objects.filter(pk=contact.pk).exists()

    assert api(supervisor, "delete", f"/contacts/{contact.pk}").status_code == 204
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert api(supervisor, "delete", f"/contacts/{contact.pk}").json() == NOT_FOUND


# --- points ------------------------------------------------------------------------------------


def test_points_list_add_change_and_delete(api, agent):
    contact = make_contact(first_name="Ana", phone="0991 111111")
    listed = api(agent, "get", f"/contacts/{contact.pk}/points").json()
    assert [(p["kind"], p["value"], p["primary"]) for p in listed] == [
        ("phone", "+595991111111", True)
    ]

    added = api(
        agent,
        "post",
        f"/contacts/{contact.pk}/points",
        {"kind": "phone", "value": "0991 222 222", "label": "trabajo"},
    )
    assert added.status_code == 201
    new = added.json()
    assert (new["value"], new["label"], new["primary"]) == ("+595991222222", "trabajo", False)

    changed = api(agent, "patch", f"/contacts/{contact.pk}/points/{new['id']}", {"primary": True})
    assert changed.status_code == 200
    assert (changed.json()["primary"], changed.json()["label"]) == (True, "trabajo")
    contact.refresh_from_db()
    assert contact.primary_phone == "+595991222222"

    deleted = api(agent, "delete", f"/contacts/{contact.pk}/points/{new['id']}")
    assert deleted.status_code == 204
    assert point_values(contact) == [("phone", "+595991111111", True)]


def test_points_refuse_bad_values_and_foreign_points(api, agent):
    contact = make_contact(first_name="Ana", phone="0991 111111")
    other = make_contact(first_name="Luis", phone="0991 999999")
    bad = api(agent, "post", f"/contacts/{contact.pk}/points", {"kind": "email", "value": "x@"})
    assert bad.status_code == 422
    assert bad.json() == {"detail": {"value": ["«x@» no es un correo electrónico válido."]}}
    point = contact.points.get()
    bad_change = api(agent, "patch", f"/contacts/{contact.pk}/points/{point.pk}", {"value": "123"})
    assert bad_change.status_code == 422
    assert list(bad_change.json()["detail"]) == ["value"]
    foreign = other.points.get()
    for method in ("patch", "delete"):
        response = api(
            agent, method, f"/contacts/{contact.pk}/points/{foreign.pk}", {"value": "0981 000000"}
        )
        assert response.status_code == 404
        assert response.json() == {"detail": "El dato de contacto no existe."}
    assert point_values(other) == [("phone", "+595991999999", True)]
    assert api(agent, "get", "/contacts/999999/points").json() == NOT_FOUND


# --- timeline, notes, tasks -----------------------------------------------------------------


def test_timeline_newest_first_filtered_by_kind_and_dates(api, agent):
    contact = make_contact(first_name="Ana")
    now = timezone.now()
    note = activities.add_note(contact=contact, body="Pidió cotización", by=agent)
    Note.objects.filter(pk=note.pk).update(created_at=now - datetime.timedelta(days=3))
    task = activities.create_task(contact=contact, by=agent, title="Enviar póliza")
    Task.objects.filter(pk=task.pk).update(created_at=now - datetime.timedelta(days=1))
    call = activities.log_call(
        contact=contact,
        by=agent,
        direction="outbound",
        outcome="answered",
        duration_seconds=125,
        note="Confirma datos",
        at=now - datetime.timedelta(hours=1),
    )

    items = api(agent, "get", f"/contacts/{contact.pk}/timeline").json()
    assert [(i["kind"], i["id"]) for i in items] == [
        ("call", call.pk),
        ("task", task.pk),
        ("note", note.pk),
    ]
    assert items[0]["summary"] == "Saliente · Contestada · 2:05: Confirma datos"
    assert items[1]["summary"] == "Enviar póliza (pendiente)"
    assert items[2]["summary"] == "Pidió cotización"

    only = api(agent, "get", f"/contacts/{contact.pk}/timeline?kinds=note,call").json()
    assert [i["kind"] for i in only] == ["call", "note"]
    since = (now - datetime.timedelta(days=2)).date().isoformat()
    recent = api(agent, "get", f"/contacts/{contact.pk}/timeline?since={since}").json()
    assert [i["kind"] for i in recent] == ["call", "task"]
    until = (now - datetime.timedelta(days=3)).date().isoformat()
    old = api(agent, "get", f"/contacts/{contact.pk}/timeline?until={until}").json()
    assert [i["kind"] for i in old] == ["note"]

    unknown = api(agent, "get", f"/contacts/{contact.pk}/timeline?kinds=fax")
    assert unknown.status_code == 422
    assert list(unknown.json()["detail"]) == ["kinds"]
    bad_date = api(agent, "get", f"/contacts/{contact.pk}/timeline?since=ayer")
    assert bad_date.json() == {"detail": {"since": ["Fecha no válida (AAAA-MM-DD)."]}}


def test_add_note_and_task(api, agent, other_agent):
    contact = make_contact(first_name="Ana")
    note = api(agent, "post", f"/contacts/{contact.pk}/notes", {"body": "  Llamó por su póliza "})
    assert note.status_code == 201
    assert (note.json()["body"], note.json()["author"]["id"]) == ("Llamó por su póliza", agent.pk)
    empty = api(agent, "post", f"/contacts/{contact.pk}/notes", {"body": "  "})
    assert empty.status_code == 422
    assert empty.json() == {"detail": {"body": ["Escribe la nota."]}}

    due = "2030-01-15T10:00:00"
    task = api(
        agent,
        "post",
        f"/contacts/{contact.pk}/tasks",
        {"title": "Devolver llamada", "due_at": due, "assignee": other_agent.pk},
    )
    assert task.status_code == 201
    body = task.json()
    assert (body["title"], body["assignee"]["id"], body["done"]) == (
        "Devolver llamada",
        other_agent.pk,
        False,
    )
    stored = Task.objects.get()
    assert stored.due_at == timezone.make_aware(datetime.datetime(2030, 1, 15, 10))
    mine = api(agent, "post", f"/contacts/{contact.pk}/tasks", {"title": "Para mí"})
    assert mine.json()["assignee"]["id"] == agent.pk
    untitled = api(agent, "post", f"/contacts/{contact.pk}/tasks", {"title": " "})
    assert untitled.json() == {"detail": {"title": ["Escribe la tarea."]}}
    assert Task.objects.count() == 2
    assert api(agent, "post", "/contacts/999999/notes", {"body": "x"}).status_code == 404


# --- accounts -------------------------------------------------------------------------------------


def test_accounts_list_and_add(api, agent):
    contact = make_contact(first_name="Ana")
    added = api(
        agent,
        "post",
        f"/contacts/{contact.pk}/accounts",
        {
            "number": "POL-0001",
            "product": "Seguro automotor",
            "status": "delinquent",
            "extra": {"vencimiento": "2025-12-31", "prima": 150000},
        },
    )
    assert added.status_code == 201
    assert added.json()["extra"] == {"vencimiento": "2025-12-31", "prima": "150000"}
    listed = api(agent, "get", f"/contacts/{contact.pk}/accounts").json()
    assert [(a["number"], a["status"]) for a in listed] == [("POL-0001", "delinquent")]
    bad = api(
        agent, "post", f"/contacts/{contact.pk}/accounts", {"number": " ", "status": "perdida"}
    )
    assert bad.status_code == 422
    assert set(bad.json()["detail"]) == {"number", "status"}
    assert Account.objects.count() == 1


# --- merge, history, duplicates -----------------------------------------------------------------


def test_merge_by_supervisor_returns_the_survivor(api, supervisor, agent):
    survivor = make_contact(first_name="José", last_name="Núñez", phone="0991 651351")
    duplicate = make_contact(first_name="Jose", phone="+595 991 651 351", email="jose@example.com")
    services.save_account(contact=duplicate, by=agent, number="POL-2")
    response = api(
        supervisor,
        "post",
        "/contacts/merge",
        {"survivor": survivor.pk, "duplicate": duplicate.pk, "move": ["points"]},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == survivor.pk
    assert sorted(p["value"] for p in body["points"]) == ["+595991651351", "jose@example.com"]
    assert not Contact.objects.filter(pk=duplicate.pk).exists()
    assert not Account.objects.exists()  # accounts were not chosen


def test_merge_is_refused_to_agents_and_for_bad_input(api, agent, supervisor):
    a = make_contact(first_name="Ana")
    b = make_contact(first_name="Ana")
    denied = api(agent, "post", "/contacts/merge", {"survivor": a.pk, "duplicate": b.pk})
    assert denied.status_code == 403
    missing = api(supervisor, "post", "/contacts/merge", {"survivor": a.pk, "duplicate": 999999})
    assert missing.status_code == 404
    same = api(supervisor, "post", "/contacts/merge", {"survivor": a.pk, "duplicate": a.pk})
    assert same.status_code == 422
    assert same.json() == {"detail": {"duplicate": ["Elige dos contactos distintos."]}}
    unknown = api(
        supervisor,
        "post",
        "/contacts/merge",
        {"survivor": a.pk, "duplicate": b.pk, "move": ["todo"]},
    )
    assert unknown.status_code == 422
    assert Contact.objects.count() == 2


def test_history_is_paginated_newest_first(api, agent):
    contact = make_contact(first_name="Ana", by=agent)
    for i in range(3):
        services.update_contact(contact=contact, by=agent, company=f"Empresa {i}")
    page = api(agent, "get", f"/contacts/{contact.pk}/history?page_size=2").json()
    assert page["count"] == 4
    first = page["items"][0]
    assert first["action"] == "update"
    assert first["changes"] == {"company": ["Empresa 1", "Empresa 2"]}
    assert first["actor"] == {"id": agent.pk, "name": "María González"}
    assert first["at"]
    last = api(agent, "get", f"/contacts/{contact.pk}/history?page=2&page_size=2").json()
    assert [e["action"] for e in last["items"]] == ["update", "create"]


def test_duplicates_lists_contacts_sharing_a_phone(api, agent):
    ana = make_contact(first_name="Ana", phone="0991 651351")
    twin = make_contact(first_name="A. Benítez", phone="+595991651351")
    make_contact(first_name="Luis", phone="0981 000000")
    body = api(agent, "get", f"/contacts/{ana.pk}/duplicates").json()
    assert [c["id"] for c in body] == [twin.pk]
    assert api(agent, "get", "/contacts/999999/duplicates").json() == NOT_FOUND
