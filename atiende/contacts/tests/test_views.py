"""Contact screens: list, profile tabs, assignment rule, attachments, merge, global search."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from atiende.activities import services as activity_services
from atiende.activities.models import Call, Note, Task
from atiende.contacts import services
from atiende.contacts.models import Account, Contact, ContactPoint, ContactRelation
from atiende.contacts.tests.factories import (
    AccountFactory,
    GroupFactory,
    LabelFactory,
    make_contact,
    point_values,
)
from atiende.core.models import Attachment, AuditEntry
from atiende.users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
PDF = b"%PDF-1.4\n% prueba\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def names_in(response) -> list[str]:
    return [c.full_name for c in response.context["page"].object_list]


def count_queries(client, url: str, **extra) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **extra)
    assert response.status_code == 200
    return len(ctx.captured_queries)


# --- list -------------------------------------------------------------------------------------


def test_list_requires_login(client):
    response = client.get(reverse("contacts:list"))
    assert response.status_code == 302
    assert "/cuenta/ingresar/" in response["Location"]


def test_sidebar_link_goes_to_the_real_list(client, agent):
    client.force_login(agent)
    response = client.get(reverse("core:home"))
    assert f'href="{reverse("contacts:list")}"' in response.content.decode()
    assert client.get("/contactos/").templates[0].name == "contacts/list.html"
    # The old section name still resolves, to the same page.
    assert reverse("core:contacts") == reverse("contacts:list")


def test_list_filters_by_query_assignee_label_group_and_dates(client, agent, supervisor):
    vip = LabelFactory(name="VIP")
    autos = GroupFactory(name="Autos")
    ana = make_contact(first_name="Ana", last_name="Núñez", phone="0991 651351", labels=[vip])
    beto = make_contact(first_name="Beto", last_name="Rojas", assigned_to=agent, groups=[autos])
    carla = make_contact(first_name="Carla", last_name="Sosa", assigned_to=supervisor)
    Contact.objects.filter(pk=carla.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=40),
        last_interaction_at=timezone.now() - datetime.timedelta(days=30),
    )
    client.force_login(agent)
    url = reverse("contacts:list")

    assert names_in(client.get(url, {"q": "nunez"})) == [ana.full_name]
    assert names_in(client.get(url, {"q": "+595 991 651 351"})) == [ana.full_name]
    assert names_in(client.get(url, {"assigned_to": agent.pk})) == [beto.full_name]
    assert names_in(client.get(url, {"assigned_to": "none"})) == [ana.full_name]
    assert names_in(client.get(url, {"label": vip.pk})) == [ana.full_name]
    assert names_in(client.get(url, {"group": autos.pk})) == [beto.full_name]
    old = (timezone.localdate() - datetime.timedelta(days=35)).isoformat()
    assert names_in(client.get(url, {"created_to": old})) == [carla.full_name]
    assert set(names_in(client.get(url, {"created_from": old}))) == {
        ana.full_name,
        beto.full_name,
    }
    assert (
        names_in(client.get(url, {"interaction_to": old, "interaction_from": "2000-01-01"})) == []
    )
    recent = (timezone.localdate() - datetime.timedelta(days=31)).isoformat()
    assert names_in(client.get(url, {"interaction_from": recent})) == [carla.full_name]
    # Bad values are ignored, not a server error.
    assert client.get(url, {"label": "x", "created_from": "ayer", "page": "zz"}).status_code == 200


def test_filters_stay_in_the_url_of_sort_and_page_links(client, agent):
    for i in range(30):
        make_contact(first_name=f"Cliente{i:02d}", last_name="Prueba")
    client.force_login(agent)
    response = client.get(reverse("contacts:list"), {"q": "prueba", "sort": "name"})
    html = response.content.decode()
    assert "q=prueba" in html and "page=2" in html
    assert "sort=-name" in html  # clicking the sorted column again reverses it
    assert names_in(response)[0] == "Cliente00 Prueba"


def test_list_sorts_by_name_and_last_interaction(client, agent):
    b = make_contact(first_name="Beatriz", last_name="A")
    a = make_contact(first_name="Abel", last_name="B")
    c = make_contact(first_name="Ceci", last_name="C")
    services.record_interaction(contact=c, at=timezone.now() - datetime.timedelta(days=1))
    services.record_interaction(contact=a, at=timezone.now())
    client.force_login(agent)
    url = reverse("contacts:list")
    assert names_in(client.get(url, {"sort": "name"})) == [a.full_name, b.full_name, c.full_name]
    assert names_in(client.get(url, {"sort": "-name"})) == [c.full_name, b.full_name, a.full_name]
    assert names_in(client.get(url, {"sort": "-last_interaction"}))[:2] == [
        a.full_name,
        c.full_name,
    ]


@pytest.mark.parametrize(("asked", "size"), [("25", 25), ("50", 50), ("100", 100), ("9999", 25)])
def test_page_size_is_bounded(client, agent, asked, size):
    client.force_login(agent)
    response = client.get(reverse("contacts:list"), {"per_page": asked})
    assert response.context["page"].paginator.per_page == size


def test_list_runs_the_same_number_of_queries_for_5_and_40_contacts(client, agent):
    label = LabelFactory(name="VIP")
    client.force_login(agent)
    url = reverse("contacts:list") + "?per_page=100"
    for i in range(5):
        make_contact(first_name=f"C{i}", phone=f"0991 30{i:04d}", labels=[label], assigned_to=agent)
    few = count_queries(client, url)
    for i in range(5, 40):
        make_contact(first_name=f"C{i}", phone=f"0991 30{i:04d}", labels=[label], assigned_to=agent)
    many = count_queries(client, url)
    assert few == many


def test_new_contact_is_created_with_phone_and_email(client, agent):
    client.force_login(agent)
    response = client.post(
        reverse("contacts:create"),
        {
            "first_name": "Lucía",
            "last_name": "Ramírez",
            "identification_type": "ci",
            "identification_number": "1.234.567",
            "phone": "0981 222 333",
            "email": "Lucia@Example.com",
        },
    )
    contact = Contact.objects.get(first_name="Lucía")
    assert response.status_code == 302
    assert response["Location"] == reverse("contacts:detail", args=[contact.pk])
    assert contact.primary_phone == "+595981222333"
    assert contact.primary_email == "lucia@example.com"
    assert contact.created_by == agent


def test_new_contact_with_bad_phone_shows_spanish_error_and_creates_nothing(client, agent):
    client.force_login(agent)
    response = client.post(
        reverse("contacts:create"),
        {"first_name": "Lucía", "phone": "12", "email": "no-es-correo"},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "no es un número de teléfono válido" in str(form.errors["phone"])
    assert Contact.objects.count() == 0
    assert "Revisa los campos marcados" in response.content.decode()


def test_new_contact_with_bad_email_shows_spanish_error(client, agent):
    client.force_login(agent)
    response = client.post(reverse("contacts:create"), {"first_name": "Lucía", "email": "x@"})
    assert "no es un correo electrónico válido" in str(response.context["form"].errors["email"])
    assert Contact.objects.count() == 0


def test_bulk_actions_assign_label_and_group(client, admin_user, agent):
    one, two, three = (make_contact(first_name=n) for n in ("Uno", "Dos", "Tres"))
    label, group = LabelFactory(name="Renovación"), GroupFactory(name="Vida")
    client.force_login(admin_user)
    url = reverse("contacts:bulk")
    ids = [one.pk, two.pk]
    response = client.post(
        url, {"action": "assign", "ids": ids, "assignee": agent.pk, "query": "q=x"}
    )
    assert response["Location"] == reverse("contacts:list") + "?q=x"
    assert set(Contact.objects.filter(assigned_to=agent).values_list("pk", flat=True)) == set(ids)
    client.post(url, {"action": "label", "ids": ids, "label": label.pk})
    client.post(url, {"action": "group", "ids": [three.pk], "group": group.pk})
    assert set(label.contact_set.values_list("pk", flat=True)) == set(ids)
    assert list(group.contact_set.values_list("pk", flat=True)) == [three.pk]
    client.post(url, {"action": "unassign", "ids": ids})
    assert not Contact.objects.filter(assigned_to__isnull=False).exists()


def test_bulk_assign_refused_as_a_whole_for_another_agents_contacts(client, agent):
    other = UserFactory()
    mine = make_contact(first_name="Mío", assigned_to=agent)
    theirs = make_contact(first_name="Ajeno", assigned_to=other)
    client.force_login(agent)
    response = client.post(
        reverse("contacts:bulk"),
        {"action": "assign", "ids": [mine.pk, theirs.pk], "assignee": agent.pk},
        follow=True,
    )
    assert "No se aplicó ningún cambio" in response.content.decode()
    theirs.refresh_from_db()
    assert theirs.assigned_to == other


# --- profile and tabs -------------------------------------------------------------------------


def test_profile_header_shows_the_client(client, agent):
    contact = make_contact(
        first_name="Ana",
        last_name="Núñez",
        identification_type="ci",
        identification_number="4.567.890",
        phone="0991 651351",
        email="ana@example.com",
        assigned_to=agent,
    )
    client.force_login(agent)
    html = client.get(reverse("contacts:detail", args=[contact.pk])).content.decode()
    for text in [
        "Ana Núñez",
        "CI 4.567.890",
        "+595 991 651351",
        "ana@example.com",
        "María González",
        "Sin interacciones todavía",
        "Creado el",
        "Información básica",
    ]:
        assert text in html


@pytest.mark.parametrize(
    "name",
    [
        "info",
        "points",
        "activity",
        "notes",
        "tasks",
        "calls",
        "attachments",
        "related",
        "accounts",
        "history",
        "dashboard",
    ],
)
def test_every_tab_is_a_page_and_an_htmx_fragment(client, agent, name):
    contact = make_contact(first_name="Ana", phone="0991 651351")
    client.force_login(agent)
    url = reverse(f"contacts:{name}", args=[contact.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "<html" in page.content.decode() and 'id="tab-pane"' in page.content.decode()
    fragment = client.get(url, **HX)
    assert fragment.status_code == 200
    assert "<html" not in fragment.content.decode()
    assert fragment.templates[0].name == f"contacts/tabs/{name}.html"
    assert "HX-Request" in fragment["Vary"]


def test_unknown_contact_is_404(client, agent):
    client.force_login(agent)
    assert client.get(reverse("contacts:detail", args=[999])).status_code == 404


def test_possible_duplicates_notice_links_to_merge(client, supervisor):
    ana = make_contact(first_name="Ana", last_name="Núñez", phone="0991 651351")
    dup = make_contact(first_name="Ana María", phone="595991651351")
    client.force_login(supervisor)
    html = client.get(reverse("contacts:detail", args=[ana.pk])).content.decode()
    assert "Posibles duplicados" in html
    assert f"{reverse('contacts:merge', args=[ana.pk])}?con={dup.pk}" in html


def test_edit_information_with_custom_fields_labels_and_groups(client, agent):
    from atiende.contacts.models import CustomField

    CustomField.objects.create(key="canal", label="Canal de origen", kind="text")
    label, group = LabelFactory(name="VIP"), GroupFactory(name="Autos")
    contact = make_contact(first_name="Ana", last_name="Núñez")
    client.force_login(agent)
    response = client.post(
        reverse("contacts:info_edit", args=[contact.pk]),
        {
            "first_name": "Ana María",
            "last_name": "Núñez",
            "identification_type": "ci",
            "identification_number": "123",
            "birth_date": "1990-02-03",
            "company": "Sigo",
            "notes": "Llamar de tarde",
            "custom_canal": "Web",
            "labels": [label.pk],
            "groups": [group.pk],
        },
        **HX,
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "contact-changed"
    assert "Datos guardados." in response.content.decode()
    contact.refresh_from_db()
    assert contact.first_name == "Ana María"
    assert contact.birth_date == datetime.date(1990, 2, 3)
    assert contact.custom == {"canal": "Web"}
    assert list(contact.labels.all()) == [label]
    assert list(contact.groups.all()) == [group]
    assert AuditEntry.objects.filter(object_id=str(contact.pk), action="update").exists()


def test_edit_with_identification_clash_shows_spanish_error_and_changes_nothing(client, agent):
    make_contact(first_name="Otro", identification_type="ci", identification_number="555")
    contact = make_contact(first_name="Ana", last_name="Núñez")
    client.force_login(agent)
    response = client.post(
        reverse("contacts:info_edit", args=[contact.pk]),
        {"first_name": "Cambiado", "identification_type": "ci", "identification_number": "5.5.5"},
    )
    assert response.status_code == 200
    assert "Ya existe un contacto con esa identificación." in response.content.decode()
    contact.refresh_from_db()
    assert contact.first_name == "Ana"


def test_invalid_phone_in_contact_data_shows_spanish_message_and_changes_nothing(client, agent):
    contact = make_contact(first_name="Ana", phone="0991 651351")
    point = contact.points.get()
    client.force_login(agent)
    url = reverse("contacts:points", args=[contact.pk])
    response = client.post(url, {"kind": "mobile", "value": "123"}, **HX)
    assert response.status_code == 200
    assert "«123» no es un número de teléfono válido." in response.content.decode()
    edit = reverse("contacts:point_edit", args=[contact.pk, point.pk])
    response = client.post(edit, {"kind": "mobile", "value": "abc", "label": "casa"}, **HX)
    assert "no es un número de teléfono válido" in response.content.decode()
    assert point_values(contact) == [("phone", "+595991651351", True)]


def test_invalid_email_shows_spanish_message_and_changes_nothing(client, agent):
    contact = make_contact(first_name="Ana", email="ana@example.com")
    client.force_login(agent)
    response = client.post(
        reverse("contacts:points", args=[contact.pk]), {"kind": "email", "value": "ana@"}, **HX
    )
    assert "«ana@» no es un correo electrónico válido." in response.content.decode()
    assert point_values(contact) == [("email", "ana@example.com", True)]


def test_add_edit_and_delete_contact_points(client, agent):
    contact = make_contact(first_name="Ana", phone="0991 651351")
    client.force_login(agent)
    url = reverse("contacts:points", args=[contact.pk])
    response = client.post(
        url, {"kind": "mobile", "value": "0981 222333", "label": "trabajo", "primary": "on"}, **HX
    )
    assert response["HX-Trigger"] == "contact-changed"
    new = contact.points.get(kind="mobile")
    assert new.label == "trabajo" and new.is_primary
    client.post(
        reverse("contacts:point_edit", args=[contact.pk, new.pk]),
        {"value": "0981 444555", "label": "casa"},
    )
    new.refresh_from_db()
    assert (new.value, new.label) == ("+595981444555", "casa")
    client.post(reverse("contacts:point_delete", args=[contact.pk, new.pk]))
    assert not contact.points.filter(kind="mobile").exists()


def test_notes_add_edit_delete_and_show_on_the_timeline(client, agent):
    contact = make_contact(first_name="Ana")
    client.force_login(agent)
    response = client.post(
        reverse("contacts:notes", args=[contact.pk]), {"body": "Pidió cotización"}, **HX
    )
    assert "Nota agregada." in response.content.decode()
    note = Note.objects.get()
    assert (
        "Pidió cotización"
        in client.get(reverse("contacts:activity", args=[contact.pk]), **HX).content.decode()
    )
    client.post(reverse("contacts:note_edit", args=[contact.pk, note.pk]), {"edit-body": "Editada"})
    note.refresh_from_db()
    assert note.body == "Editada"
    response = client.post(reverse("contacts:notes", args=[contact.pk]), {"body": "  "}, **HX)
    assert "Este campo es obligatorio." in response.content.decode()
    client.post(reverse("contacts:note_delete", args=[contact.pk, note.pk]))
    assert not Note.objects.exists()


def test_another_agent_cannot_edit_my_note(client, agent):
    contact = make_contact(first_name="Ana")
    note = activity_services.add_note(contact=contact, body="Mía", by=agent)
    client.force_login(UserFactory())
    response = client.post(
        reverse("contacts:note_edit", args=[contact.pk, note.pk]), {"edit-body": "Ajena"}
    )
    assert response.status_code == 403
    note.refresh_from_db()
    assert note.body == "Mía"


def test_tasks_add_with_due_date_and_assignee_then_done_and_undo(client, agent, supervisor):
    contact = make_contact(first_name="Ana")
    client.force_login(agent)
    client.post(
        reverse("contacts:tasks", args=[contact.pk]),
        {"title": "Enviar cotización", "due_at": "2030-05-01T10:30", "assignee": supervisor.pk},
        **HX,
    )
    task = Task.objects.get()
    assert task.assignee == supervisor and task.contact == contact
    assert timezone.localtime(task.due_at).strftime("%Y-%m-%d %H:%M") == "2030-05-01 10:30"
    url = reverse("contacts:task_status", args=[contact.pk, task.pk])
    assert "Tarea completada." in client.post(url, {"done": "1"}, **HX).content.decode()
    task.refresh_from_db()
    assert task.done_at is not None
    client.post(url, {"done": "0"})
    task.refresh_from_db()
    assert task.done_at is None


def test_log_a_call_with_duration(client, agent):
    contact = make_contact(first_name="Ana")
    client.force_login(agent)
    response = client.post(
        reverse("contacts:calls", args=[contact.pk]),
        {"direction": "inbound", "outcome": "answered", "duration": "3:25", "note": "Consulta"},
        **HX,
    )
    assert "Llamada registrada." in response.content.decode()
    call = Call.objects.get()
    assert (call.direction, call.outcome, call.duration_seconds) == ("inbound", "answered", 205)
    contact.refresh_from_db()
    assert contact.last_interaction_at is not None
    response = client.post(
        reverse("contacts:calls", args=[contact.pk]),
        {"direction": "inbound", "outcome": "answered", "duration": "tres"},
    )
    assert "Escribe la duración como minutos:segundos" in response.content.decode()
    assert Call.objects.count() == 1


def test_accounts_add_with_extra_data_edit_and_delete(client, agent):
    contact = make_contact(first_name="Ana")
    client.force_login(agent)
    url = reverse("contacts:accounts", args=[contact.pk])
    client.post(
        url,
        {
            "number": "POL-1",
            "product": "Auto",
            "status": "active",
            "extra_key": ["Chapa", "Vigencia", ""],
            "extra_value": ["ABC 123", "2025", ""],
        },
        **HX,
    )
    account = Account.objects.get()
    assert account.extra == {"Chapa": "ABC 123", "Vigencia": "2025"}
    html = client.get(url, **HX).content.decode()
    assert "Chapa" in html and "ABC 123" in html
    client.post(
        reverse("contacts:account_edit", args=[contact.pk, account.pk]),
        {"number": "POL-1", "status": "delinquent", "extra_key": ["Chapa"], "extra_value": ["X"]},
    )
    account.refresh_from_db()
    assert (account.status, account.extra) == ("delinquent", {"Chapa": "X"})
    response = client.post(url, {"number": "", "status": "active"}, **HX)
    assert "Este campo es obligatorio." in response.content.decode()
    client.post(reverse("contacts:account_delete", args=[contact.pk, account.pk]))
    assert not Account.objects.exists()


def test_related_clients_search_add_edit_remove(client, agent):
    ana = make_contact(first_name="Ana", last_name="Núñez")
    luis = make_contact(first_name="Luis", last_name="Benítez", phone="0981 777888")
    client.force_login(agent)
    found = client.get(
        reverse("contacts:related_search", args=[ana.pk]), {"q": "0981777888"}, **HX
    ).content.decode()
    assert "Luis Benítez" in found and "Ana Núñez" not in found
    client.post(reverse("contacts:related", args=[ana.pk]), {"other": luis.pk, "labels": "cónyuge"})
    relation = ContactRelation.objects.get()
    html = client.get(reverse("contacts:related", args=[luis.pk])).content.decode()
    assert "Ana Núñez" in html and "cónyuge" in html  # shown on both sides
    client.post(
        reverse("contacts:relation_edit", args=[ana.pk, relation.pk]), {"labels": "titular"}
    )
    relation.refresh_from_db()
    assert relation.labels == "titular"
    client.post(reverse("contacts:relation_delete", args=[ana.pk, relation.pk]))
    assert not ContactRelation.objects.exists()


def test_history_shows_who_what_before_and_after(client, agent):
    contact = make_contact(first_name="Ana", by=agent)
    services.update_contact(contact=contact, by=agent, first_name="Ana María")
    client.force_login(agent)
    html = client.get(reverse("contacts:history", args=[contact.pk]), **HX).content.decode()
    assert "Editó" in html and "Nombres" in html
    assert "Ana María" in html and "María González" in html


def test_history_is_paginated(client, agent):
    contact = make_contact(first_name="Ana", by=agent)
    for i in range(30):
        activity_services.add_note(contact=contact, body=f"nota {i}", by=agent)
    client.force_login(agent)
    url = reverse("contacts:history", args=[contact.pk])
    assert len(client.get(url).context["page"].object_list) == 25
    assert len(client.get(url, {"page": 2}).context["page"].object_list) == 6


def test_dashboard_counts_calls_and_shows_empty_cases(client, agent):
    contact = make_contact(first_name="Ana")
    activity_services.log_call(contact=contact, by=agent, direction="inbound", outcome="answered")
    activity_services.log_call(contact=contact, by=agent, direction="outbound", outcome="busy")
    client.force_login(agent)
    response = client.get(reverse("contacts:dashboard", args=[contact.pk]), **HX)
    html = response.content.decode()
    assert "Aún no hay casos" in html
    charts = response.context["charts"]
    assert charts["channels"]["values"] == [2]
    assert dict(zip(charts["outcomes"]["labels"], charts["outcomes"]["values"], strict=True)) == {
        "Contestada": 1,
        "Ocupado": 1,
    }
    assert 'id="contact-charts"' in html and "<script>" not in html.replace(
        '<script id="contact-charts" type="application/json">', ""
    )


def test_timeline_queries_do_not_grow_with_history(client, agent):
    few = make_contact(first_name="Pocos")
    many = make_contact(first_name="Muchos")
    for contact, n in ((few, 1), (many, 10)):
        for i in range(n):
            activity_services.add_note(contact=contact, body=f"n{i}", by=agent)
            activity_services.create_task(contact=contact, by=agent, title=f"t{i}", assignee=agent)
            activity_services.log_call(
                contact=contact, by=agent, direction="inbound", outcome="answered"
            )
    client.force_login(agent)
    for hx in ({}, HX):
        small = count_queries(client, reverse("contacts:activity", args=[few.pk]), **hx)
        large = count_queries(client, reverse("contacts:activity", args=[many.pk]), **hx)
        assert small == large


def test_timeline_filters_by_kind_and_pages_with_see_more(client, agent, settings):
    from atiende.activities import selectors as activity_selectors

    contact = make_contact(first_name="Ana")
    for i in range(3):
        activity_services.add_note(contact=contact, body=f"nota {i}", by=agent)
    activity_services.log_call(contact=contact, by=agent, direction="inbound", outcome="answered")
    client.force_login(agent)
    url = reverse("contacts:activity", args=[contact.pk])
    only_calls = client.get(url, {"kind": "call"}, **HX).context["items"]
    assert [item.kind for item in only_calls] == ["call"]

    original = activity_selectors.TIMELINE_PAGE
    activity_selectors.TIMELINE_PAGE = 2
    try:
        first = client.get(url, **HX)
        assert len(first.context["items"]) == 2
        more = first.context["more_query"]
        assert "until=" in more
        second = client.get(f"{url}?{more}", **HX)
        assert second.templates[0].name == "activities/_timeline_items.html"
        seen = {id(i.obj) for i in first.context["items"]}
        assert len(second.context["items"]) == 2 and seen
        assert {i.obj.pk for i in second.context["items"] if i.kind == "note"}.isdisjoint(
            {i.obj.pk for i in first.context["items"] if i.kind == "note"}
        )
    finally:
        activity_selectors.TIMELINE_PAGE = original


# --- assigned user ----------------------------------------------------------------------------


def test_admin_changes_and_removes_the_assigned_user(client, admin_user, agent):
    contact = make_contact(first_name="Ana", assigned_to=agent)
    other = UserFactory(display_name="Otro Agente")
    client.force_login(admin_user)
    html = client.get(reverse("contacts:detail", args=[contact.pk])).content.decode()
    assert "Cambiar usuario asignado" in html and "data-assign-locked" not in html
    url = reverse("contacts:assign", args=[contact.pk])
    response = client.post(url, {"assignee": other.pk}, **HX)
    assert "Usuario asignado: Otro Agente." in response.content.decode()
    contact.refresh_from_db()
    assert contact.assigned_to == other
    client.post(url, {"remove": "1"})
    contact.refresh_from_db()
    assert contact.assigned_to is None


def test_assigned_agent_changes_and_removes_their_assignment(client, agent):
    contact = make_contact(first_name="Ana", assigned_to=agent)
    colleague = UserFactory()
    client.force_login(agent)
    url = reverse("contacts:assign", args=[contact.pk])
    response = client.post(url, {"assignee": colleague.pk})
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.assigned_to == colleague

    contact.assigned_to = agent
    contact.save()
    client.post(url, {"remove": "1"})
    contact.refresh_from_db()
    assert contact.assigned_to is None


def test_another_agent_sees_the_control_disabled_and_gets_403(client, agent):
    owner = UserFactory(display_name="Dueño")
    contact = make_contact(first_name="Ana", assigned_to=owner)
    client.force_login(agent)
    html = client.get(reverse("contacts:detail", args=[contact.pk])).content.decode()
    assert "data-assign-locked" in html
    assert "Solo un administrador o el usuario asignado" in html
    assert f'action="{reverse("contacts:assign", args=[contact.pk])}"' not in html
    response = client.post(reverse("contacts:assign", args=[contact.pk]), {"assignee": agent.pk})
    assert response.status_code == 403
    response = client.post(reverse("contacts:assign", args=[contact.pk]), {"remove": "1"})
    assert response.status_code == 403
    contact.refresh_from_db()
    assert contact.assigned_to == owner


# --- attachments ---------------------------------------------------------------------------------


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def test_upload_and_download_an_attachment(client, agent):
    contact = make_contact(first_name="Ana")
    client.force_login(agent)
    response = client.post(
        reverse("contacts:attachments", args=[contact.pk]),
        {"file": upload("póliza.pdf", PDF)},
        **HX,
    )
    assert "Archivo subido." in response.content.decode()
    attachment = Attachment.objects.get()
    assert attachment.contact == contact and attachment.mime_type == "application/pdf"
    download = client.get(reverse("contacts:attachment_download", args=[contact.pk, attachment.pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content) == PDF
    # The page links to the checked view, never to the media URL.
    html = client.get(reverse("contacts:attachments", args=[contact.pk])).content.decode()
    assert "/media/" not in html


def test_upload_too_big_is_refused_in_spanish(client, agent, settings):
    settings.ATIENDE_MAX_UPLOAD_MB = 1
    contact = make_contact(first_name="Ana")
    client.force_login(agent)
    big = PDF + b"0" * (1024 * 1024)
    response = client.post(
        reverse("contacts:attachments", args=[contact.pk]), {"file": upload("grande.pdf", big)}
    )
    assert "El archivo supera el tamaño máximo de 1 MB." in response.content.decode()
    assert not Attachment.objects.exists()


def test_upload_of_wrong_type_is_refused_in_spanish(client, agent):
    contact = make_contact(first_name="Ana")
    client.force_login(agent)
    url = reverse("contacts:attachments", args=[contact.pk])
    response = client.post(url, {"file": upload("virus.exe", b"MZ\x90\x00")}, **HX)
    assert "Tipo de archivo no permitido." in response.content.decode()
    response = client.post(url, {"file": upload("falso.pdf", b"<html>no</html>")}, **HX)
    assert "El contenido del archivo no corresponde a su tipo." in response.content.decode()
    assert not Attachment.objects.exists()


def test_download_is_permission_checked(client, agent):
    contact = make_contact(first_name="Ana")
    attachment = services.add_attachment(contact=contact, upload=upload("a.pdf", PDF), by=agent)
    url = reverse("contacts:attachment_download", args=[contact.pk, attachment.pk])
    response = client.get(url)
    assert response.status_code == 302 and "/cuenta/ingresar/" in response["Location"]
    inactive = UserFactory(is_active=False)
    client.force_login(inactive)
    assert client.get(url).status_code in (302, 403)
    # An attachment of another contact is not reachable through this contact's URL.
    other = make_contact(first_name="Otro")
    client.force_login(agent)
    assert (
        client.get(
            reverse("contacts:attachment_download", args=[other.pk, attachment.pk])
        ).status_code
        == 404
    )


def test_delete_an_attachment(client, agent):
    contact = make_contact(first_name="Ana")
    attachment = services.add_attachment(contact=contact, upload=upload("a.pdf", PDF), by=agent)
    client.force_login(agent)
    client.post(reverse("contacts:attachment_delete", args=[contact.pk, attachment.pk]))
    assert not Attachment.objects.exists()


# --- merge ---------------------------------------------------------------------------------------


def test_merge_screen_is_only_for_those_who_may_merge(client, agent):
    ana = make_contact(first_name="Ana")
    dup = make_contact(first_name="Ana2")
    client.force_login(agent)
    html = client.get(reverse("contacts:detail", args=[ana.pk])).content.decode()
    assert reverse("contacts:merge", args=[ana.pk]) not in html
    url = reverse("contacts:merge", args=[ana.pk])
    assert client.get(url, {"con": dup.pk}).status_code == 403
    assert client.post(url, {"con": dup.pk, "survivor": ana.pk}).status_code == 403
    assert Contact.objects.count() == 2


def test_merge_picker_lists_search_matches(client, supervisor):
    ana = make_contact(first_name="Ana", last_name="Núñez", phone="0991 651351")
    make_contact(first_name="Ana", last_name="Núñez Benítez", email="ana@example.com")
    client.force_login(supervisor)
    response = client.get(reverse("contacts:merge", args=[ana.pk]), {"buscar": "nunez"})
    assert [c.full_name for c in response.context["results"]] == ["Ana Núñez Benítez"]


def test_merge_moves_only_what_is_chosen_and_redirects_to_the_survivor(client, supervisor):
    survivor = make_contact(first_name="Ana", last_name="Núñez", phone="0991 651351")
    duplicate = make_contact(first_name="Ana", last_name="N.", email="ana@example.com")
    AccountFactory(contact=duplicate, number="POL-9")
    activity_services.add_note(contact=duplicate, body="Nota del duplicado", by=supervisor)
    activity_services.log_call(
        contact=duplicate, by=supervisor, direction="inbound", outcome="answered"
    )
    client.force_login(supervisor)
    url = reverse("contacts:merge", args=[duplicate.pk])
    page = client.get(url, {"con": survivor.pk})
    html = page.content.decode()
    assert "Esta acción no se puede deshacer." in html
    assert "Ana Núñez" in html and "Ana N." in html
    response = client.post(
        url, {"con": survivor.pk, "survivor": survivor.pk, "move": ["points", "notes"]}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("contacts:detail", args=[survivor.pk])
    assert not Contact.objects.filter(pk=duplicate.pk).exists()
    assert set(survivor.points.values_list("kind", flat=True)) == {"phone", "email"}
    assert Note.objects.get().contact_id == survivor.pk
    assert not Account.objects.exists()  # not chosen: gone with the duplicate
    assert not Call.objects.exists()
    assert AuditEntry.objects.filter(object_id=str(survivor.pk), action="merge").exists()
    followed = client.get(response["Location"])
    assert "Clientes combinados" in followed.content.decode()


def test_merge_survivor_can_be_the_other_contact(client, admin_user):
    this = make_contact(first_name="Este")
    other = make_contact(first_name="Otro", phone="0981 111222")
    client.force_login(admin_user)
    response = client.post(
        reverse("contacts:merge", args=[this.pk]),
        {"con": other.pk, "survivor": other.pk, "move": ["points"]},
    )
    assert response["Location"] == reverse("contacts:detail", args=[other.pk])
    assert list(Contact.objects.values_list("pk", flat=True)) == [other.pk]


# --- global search and my tasks ----------------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["595991651351", "+595 991 651 351", "0991-651351", "991651351", "0991 651351"]
)
def test_global_search_finds_a_contact_by_any_phone_format(client, agent, typed):
    ana = make_contact(first_name="Ana", last_name="Núñez", phone="+595 991 651351")
    make_contact(first_name="Beto", phone="0981 000111")
    client.force_login(agent)
    response = client.get(reverse("core:search"), {"q": typed})
    assert [c.pk for c in response.context["contacts"]] == [ana.pk]
    assert reverse("contacts:detail", args=[ana.pk]) in response.content.decode()


def test_global_search_by_name_email_and_identification(client, agent, supervisor):
    ana = make_contact(
        first_name="Ana",
        last_name="Núñez",
        email="ana@example.com",
        identification_type="ci",
        identification_number="4.567.890",
    )
    client.force_login(agent)
    for typed in ["nunez", "ANA@example.com", "4567890"]:
        response = client.get(reverse("core:search"), {"q": typed})
        assert [c.pk for c in response.context["contacts"]] == [ana.pk], typed
    # Team members are still listed for those allowed to see them.
    client.force_login(supervisor)
    response = client.get(reverse("core:search"), {"q": "María"})
    assert "María González" in response.content.decode()


def test_my_tasks_page_and_sidebar_badge(client, agent):
    contact = make_contact(first_name="Ana")
    task = activity_services.create_task(contact=contact, by=agent, title="Llamar a Ana")
    activity_services.create_task(by=agent, title="Sin cliente")
    done = activity_services.create_task(by=agent, title="Hecha")
    activity_services.set_task_done(task=done, done=True, by=agent)
    activity_services.create_task(by=UserFactory(), title="De otro")
    client.force_login(agent)
    response = client.get(reverse("activities:my_tasks"))
    html = response.content.decode()
    assert "Llamar a Ana" in html and "Sin cliente" in html
    assert "Hecha" not in [t.title for t in response.context["page"]]
    assert "De otro" not in html
    assert 'data-open-tasks="2"' in html
    row = client.post(reverse("activities:task_status", args=[task.pk]), {"done": "1"}, **HX)
    assert row.status_code == 200 and "task-done" in row.content.decode()
    assert 'data-open-tasks="1"' in client.get(reverse("core:home")).content.decode()


def test_point_kinds_are_all_offered():
    from atiende.contacts.forms import PointForm

    assert {v for v, _l in PointForm().fields["kind"].choices} == set(ContactPoint.Kind.values)


def test_related_search_without_javascript_shows_the_tab_with_results(client, agent):
    ana = make_contact(first_name="Ana", last_name="Núñez")
    make_contact(first_name="Luis", last_name="Benítez")
    client.force_login(agent)
    response = client.get(reverse("contacts:related_search", args=[ana.pk]), {"q": "benitez"})
    html = response.content.decode()
    assert "<html" in html and "Luis Benítez" in html and "Relacionar" in html


def test_supervisor_deletes_a_contact_and_an_agent_may_not(client, agent, supervisor):
    contact = make_contact(first_name="Ana")
    client.force_login(agent)
    assert (
        "Eliminar contacto"
        not in client.get(reverse("contacts:detail", args=[contact.pk])).content.decode()
    )
    assert client.post(reverse("contacts:delete", args=[contact.pk])).status_code == 403
    client.force_login(supervisor)
    response = client.post(reverse("contacts:delete", args=[contact.pk]))
    assert response["Location"] == reverse("contacts:list")
    assert not Contact.objects.exists()
