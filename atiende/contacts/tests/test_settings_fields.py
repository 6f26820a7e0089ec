"""Ajustes → Contactos: labels, groups and custom fields, on screen and over the API.

Only an admin defines them (agents and supervisors get 403 and nothing changes); names are unique
whatever the case; a "Lista de opciones" field needs options; a custom field's values are checked
by kind wherever a contact is edited; deleting takes labels, groups and field values off contacts.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from atiende.contacts import services
from atiende.contacts.models import Contact, ContactGroup, CustomField, Label
from atiende.contacts.tests.factories import GroupFactory, LabelFactory, make_contact
from atiende.core.models import AuditEntry

pytestmark = pytest.mark.django_db

DENIED = "No tienes permiso para realizar esta acción."
HX = {"HTTP_HX_REQUEST": "true"}


def make_field(admin, **kwargs) -> CustomField:
    kwargs.setdefault("kind", CustomField.Kind.TEXT)
    return services.save_custom_field(by=admin, **kwargs)


def page(client, url: str, **data) -> str:
    response = client.post(url, data) if data else client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# --- who may ------------------------------------------------------------------------------


def test_settings_nav_shows_the_contacts_section_to_admins_only(client, admin_user, agent):
    client.force_login(admin_user)
    html = page(client, reverse("users:profile"))
    for name in ("settings_labels", "settings_groups", "settings_fields"):
        assert f'href="{reverse(f"contacts:{name}")}"' in html
    assert "Campos personalizados" in html

    client.force_login(agent)
    html = page(client, reverse("users:profile"))
    assert reverse("contacts:settings_labels") not in html
    assert "Campos personalizados" not in html


def test_settings_pages_mark_ajustes_in_the_sidebar(client, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("contacts:settings_fields"))
    assert response.context["section"] in response.context["settings_sections"]


def _settings_urls(label: Label, group: ContactGroup, field: CustomField) -> list[tuple]:
    return [
        ("get", reverse("contacts:settings_labels"), {}),
        ("get", reverse("contacts:settings_label_create"), {}),
        ("post", reverse("contacts:settings_label_create"), {"name": "Nueva", "color": "#000000"}),
        ("get", reverse("contacts:settings_label_edit", args=[label.pk]), {}),
        ("post", reverse("contacts:settings_label_edit", args=[label.pk]), {"name": "Otra"}),
        ("post", reverse("contacts:settings_label_delete", args=[label.pk]), {}),
        ("get", reverse("contacts:settings_groups"), {}),
        ("get", reverse("contacts:settings_group_create"), {}),
        ("post", reverse("contacts:settings_group_create"), {"name": "Nuevo"}),
        ("get", reverse("contacts:settings_group_edit", args=[group.pk]), {}),
        ("post", reverse("contacts:settings_group_edit", args=[group.pk]), {"name": "Otro"}),
        ("post", reverse("contacts:settings_group_delete", args=[group.pk]), {}),
        ("get", reverse("contacts:settings_fields"), {}),
        ("get", reverse("contacts:settings_field_create"), {}),
        ("post", reverse("contacts:settings_field_create"), {"label": "Nuevo", "kind": "text"}),
        ("get", reverse("contacts:settings_field_edit", args=[field.pk]), {}),
        ("post", reverse("contacts:settings_field_edit", args=[field.pk]), {"label": "Otro"}),
        ("post", reverse("contacts:settings_field_delete", args=[field.pk]), {}),
    ]


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_agents_and_supervisors_get_403_on_every_settings_screen(client, request, admin_user, role):
    user = request.getfixturevalue(role)
    label = LabelFactory(name="VIP")
    group = GroupFactory(name="Cartera")
    field = make_field(admin_user, label="Canal")
    client.force_login(user)
    for method, url, data in _settings_urls(label, group, field):
        response = getattr(client, method)(url, data)
        assert response.status_code == 403, (method, url)
    assert list(Label.objects.values_list("name", flat=True)) == ["VIP"]
    assert list(ContactGroup.objects.values_list("name", flat=True)) == ["Cartera"]
    assert list(CustomField.objects.values_list("label", flat=True)) == ["Canal"]


def test_settings_screens_need_a_login(client, admin_user):
    label, group = LabelFactory(name="VIP"), GroupFactory(name="Cartera")
    field = make_field(admin_user, label="Canal")
    for method, url, data in _settings_urls(label, group, field):
        response = getattr(client, method)(url, data)
        assert response.status_code == 302, url
        assert "/cuenta/ingresar/" in response["Location"]
    assert Label.objects.count() == ContactGroup.objects.count() == CustomField.objects.count() == 1


# --- labels on screen -----------------------------------------------------------------------


def test_admin_creates_edits_and_lists_labels(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("contacts:settings_label_create"), {"name": "  Moroso ", "color": "#DC3545"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("contacts:settings_labels")
    label = Label.objects.get()
    assert (label.name, label.color) == ("Moroso", "#dc3545")

    html = page(client, reverse("contacts:settings_labels"))
    assert "Etiqueta guardada: Moroso." in html
    assert "--label-color: #dc3545" in html
    assert f"{reverse('contacts:list')}?label={label.pk}" in html

    html = page(client, reverse("contacts:settings_label_edit", args=[label.pk]))
    assert 'type="color"' in html
    assert 'value="#dc3545"' in html
    client.post(
        reverse("contacts:settings_label_edit", args=[label.pk]),
        {"name": "En mora", "color": "#fd7e14"},
    )
    label.refresh_from_db()
    assert (label.name, label.color) == ("En mora", "#fd7e14")
    actions = list(
        AuditEntry.objects.filter(content_type__model="label", object_id=str(label.pk))
        .order_by("id")
        .values_list("action", "changes")
    )
    assert actions == [
        ("create", {"name": [None, "Moroso"], "color": [None, "#dc3545"]}),
        ("update", {"name": ["Moroso", "En mora"], "color": ["#dc3545", "#fd7e14"]}),
    ]


@pytest.mark.parametrize(
    "data, message",
    [
        ({"name": "vip", "color": "#000000"}, "Ya existe una etiqueta con ese nombre."),
        ({"name": "Nueva", "color": "rojo"}, "Color no válido: usa el formato #RRGGBB."),
        ({"name": "   ", "color": "#000000"}, "Este campo es obligatorio."),
    ],
)
def test_bad_label_input_is_refused_in_spanish_and_changes_nothing(
    client, admin_user, data, message
):
    LabelFactory(name="VIP", color="#0d6efd")
    client.force_login(admin_user)
    html = page(client, reverse("contacts:settings_label_create"), **data)
    assert message in html
    assert list(Label.objects.values_list("name", "color")) == [("VIP", "#0d6efd")]


def test_renaming_a_label_to_another_labels_name_is_refused(client, admin_user):
    LabelFactory(name="VIP")
    other = LabelFactory(name="Moroso")
    client.force_login(admin_user)
    html = page(
        client,
        reverse("contacts:settings_label_edit", args=[other.pk]),
        name="Vip",
        color="#000000",
    )
    assert "Ya existe una etiqueta con ese nombre." in html
    other.refresh_from_db()
    assert other.name == "Moroso"


def test_deleting_a_label_takes_it_off_contacts_and_keeps_them(client, admin_user):
    vip, keep = LabelFactory(name="VIP"), LabelFactory(name="Moroso")
    ana = make_contact(first_name="Ana", labels=[vip, keep])
    luis = make_contact(first_name="Luis", labels=[vip])
    client.force_login(admin_user)
    html = page(client, reverse("contacts:settings_labels"))
    assert "¿Eliminar la etiqueta «VIP»? Se quitará de 2 contactos." in html

    response = client.post(reverse("contacts:settings_label_delete", args=[vip.pk]), follow=True)
    assert "Etiqueta eliminada: VIP. Se quitó de 2 contactos." in response.content.decode()
    assert list(Label.objects.values_list("name", flat=True)) == ["Moroso"]
    assert list(ana.labels.all()) == [keep]
    assert not luis.labels.exists()
    assert Contact.objects.count() == 2
    entry = AuditEntry.objects.get(content_type__model="label", action="delete")
    assert entry.actor == admin_user
    assert entry.changes["contacts"] == [2, None]
    assert entry.changes["name"] == ["VIP", None]


def test_delete_is_post_only(client, admin_user):
    label = LabelFactory(name="VIP")
    client.force_login(admin_user)
    assert client.get(reverse("contacts:settings_label_delete", args=[label.pk])).status_code == 405
    assert Label.objects.exists()


def test_unknown_ids_are_404(client, admin_user):
    client.force_login(admin_user)
    for name in ("settings_label_edit", "settings_group_edit", "settings_field_edit"):
        assert client.get(reverse(f"contacts:{name}", args=[999])).status_code == 404
    for name in ("settings_label_delete", "settings_group_delete", "settings_field_delete"):
        assert client.post(reverse(f"contacts:{name}", args=[999])).status_code == 404


# --- groups on screen ------------------------------------------------------------------------


def test_admin_creates_edits_and_deletes_groups(client, admin_user):
    client.force_login(admin_user)
    client.post(
        reverse("contacts:settings_group_create"),
        {"name": "Cartera Asunción", "description": "Préstamos en mora temprana"},
    )
    group = ContactGroup.objects.get()
    assert group.description == "Préstamos en mora temprana"
    html = page(client, reverse("contacts:settings_groups"))
    assert "Cartera Asunción" in html and "Préstamos en mora temprana" in html

    html = page(client, reverse("contacts:settings_group_create"), name="cartera asunción")
    assert "Ya existe un grupo con ese nombre." in html
    assert ContactGroup.objects.count() == 1

    ana = make_contact(first_name="Ana", groups=[group])
    html = page(client, reverse("contacts:settings_group_edit", args=[group.pk]))
    assert "Tiene 1 contacto. Al eliminar el grupo, el contacto se conserva." in html
    client.post(reverse("contacts:settings_group_delete", args=[group.pk]))
    assert not ContactGroup.objects.exists()
    assert Contact.objects.filter(pk=ana.pk).exists()
    assert AuditEntry.objects.filter(content_type__model="contactgroup", action="delete").exists()


def test_group_description_is_limited(client, admin_user):
    client.force_login(admin_user)
    html = page(client, reverse("contacts:settings_group_create"), name="A", description="x" * 201)
    assert "200" in html
    assert not ContactGroup.objects.exists()


# --- custom fields on screen ------------------------------------------------------------------


def test_choice_field_requires_options(client, admin_user):
    client.force_login(admin_user)
    html = page(
        client,
        reverse("contacts:settings_field_create"),
        label="Canal de origen",
        kind="choice",
        choices="  \n ",
    )
    assert "Indica al menos una opción." in html
    assert not CustomField.objects.exists()


def test_admin_creates_a_choice_field_with_options_one_per_line(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("contacts:settings_field_create"),
        {"label": "Canal de origen", "kind": "choice", "choices": "Web\r\nTienda\r\n\r\nWeb\r\n"},
    )
    assert response.status_code == 302
    field = CustomField.objects.get()
    assert (field.key, field.kind, field.choices) == (
        "canal_de_origen",
        "choice",
        ["Web", "Tienda"],
    )
    html = page(client, reverse("contacts:settings_fields"))
    assert "Canal de origen" in html and "canal_de_origen" in html
    assert "Lista de opciones" in html and "Tienda" in html


def test_new_fields_go_last_unless_a_position_is_given(client, admin_user):
    client.force_login(admin_user)
    for label, position in (("Primero", ""), ("Segundo", ""), ("Arriba", "0")):
        client.post(
            reverse("contacts:settings_field_create"),
            {"label": label, "kind": "text", "position": position},
        )
    assert list(CustomField.objects.values_list("label", "position")) == [
        ("Arriba", 0),
        ("Primero", 0),
        ("Segundo", 1),
    ]


@pytest.mark.parametrize(
    "data, message",
    [
        ({"label": "Canal", "kind": "text"}, "Ya existe un campo con ese nombre."),
        ({"label": "Otro", "key": "canal", "kind": "text"}, "Ya existe un campo con la clave"),
        ({"label": "Otro", "key": "con espacios", "kind": "text"}, "sin espacios"),
        ({"label": "¿?", "kind": "text"}, "Indica una clave"),
        ({"label": "Otro", "kind": "text", "position": "-1"}, "mayor o igual a 0"),
        ({"label": "", "kind": "text"}, "Este campo es obligatorio."),
    ],
)
def test_bad_custom_field_input_is_refused_in_spanish(client, admin_user, data, message):
    make_field(admin_user, label="Canal")
    client.force_login(admin_user)
    html = page(client, reverse("contacts:settings_field_create"), **data)
    assert message in html
    assert list(CustomField.objects.values_list("key", flat=True)) == ["canal"]


def test_the_key_cannot_change_once_created(client, admin_user):
    field = make_field(admin_user, label="Canal")
    client.force_login(admin_user)
    html = page(client, reverse("contacts:settings_field_edit", args=[field.pk]))
    assert 'name="key"' in html and "disabled" in html
    client.post(
        reverse("contacts:settings_field_edit", args=[field.pk]),
        {"label": "Canal de venta", "key": "otra", "kind": "text", "position": "3"},
    )
    field.refresh_from_db()
    assert (field.key, field.label, field.position) == ("canal", "Canal de venta", 3)
    with pytest.raises(services.ValidationError) as error:
        services.save_custom_field(by=admin_user, field=field, key="otra", label="X", kind="text")
    assert "no se puede cambiar" in str(error.value)


def test_kind_or_options_cannot_change_under_contacts_values(client, admin_user):
    field = make_field(admin_user, label="Canal", kind="choice", choices=["Web", "Tienda"])
    make_contact(first_name="Ana", custom={"canal": "Tienda"})
    client.force_login(admin_user)
    url = reverse("contacts:settings_field_edit", args=[field.pk])
    html = page(client, url, label="Canal", kind="choice", choices="Web")
    assert "1 contacto tiene un valor que no sería válido con este cambio" in html
    html = page(client, url, label="Canal", kind="number")
    assert "1 contacto tiene un valor que no sería válido con este cambio" in html
    field.refresh_from_db()
    assert (field.kind, field.choices) == ("choice", ["Web", "Tienda"])
    # Adding options, or a kind every value fits, is fine.
    client.post(url, {"label": "Canal", "kind": "choice", "choices": "Web\nTienda\nReferido"})
    field.refresh_from_db()
    assert field.choices == ["Web", "Tienda", "Referido"]
    client.post(url, {"label": "Canal", "kind": "text"})
    field.refresh_from_db()
    assert (field.kind, field.choices) == ("text", [])


def test_deleting_a_field_removes_its_values_from_contacts_in_one_update(client, admin_user):
    canal = make_field(admin_user, label="Canal")
    ingreso = make_field(admin_user, label="Ingreso", kind="number")
    ana = make_contact(first_name="Ana", custom={"canal": "Web", "ingreso": "1500"})
    luis = make_contact(first_name="Luis", custom={"ingreso": "900.5"})
    sara = make_contact(first_name="Sara", custom={"canal": "Tienda"})
    client.force_login(admin_user)
    html = page(client, reverse("contacts:settings_field_edit", args=[ingreso.pk]))
    assert "2 contactos tienen un valor en este campo." in html

    with CaptureQueriesContext(connection) as queries:
        removed = services.delete_custom_field(field=ingreso, by=admin_user)
    assert removed == 2
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 1
    assert {c.pk: c.custom for c in Contact.objects.all()} == {
        ana.pk: {"canal": "Web"},
        luis.pk: {},
        sara.pk: {"canal": "Tienda"},
    }
    assert list(CustomField.objects.all()) == [canal]
    entry = AuditEntry.objects.get(content_type__model="customfield", action="delete")
    assert entry.changes["key"] == ["ingreso", None]
    assert entry.changes["contacts"] == [2, None]


def test_deleting_a_field_from_the_list(client, admin_user):
    field = make_field(admin_user, label="Canal")
    make_contact(first_name="Ana", custom={"canal": "Web"})
    client.force_login(admin_user)
    response = client.post(reverse("contacts:settings_field_delete", args=[field.pk]), follow=True)
    assert "Campo eliminado: Canal. Se borró su valor en 1 contacto." in response.content.decode()
    assert Contact.objects.get().custom == {}


# --- the lists run a fixed number of queries --------------------------------------------------


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _grow(admin, n: int) -> None:
    for i in range(Label.objects.count(), n):
        label = LabelFactory(name=f"Etiqueta {i}")
        group = GroupFactory(name=f"Grupo {i}")
        make_field(admin, label=f"Campo {i}", kind="choice", choices=["a", "b"])
        make_contact(first_name=f"Cliente {i}", labels=[label], groups=[group])


@pytest.mark.parametrize("name", ["settings_labels", "settings_groups", "settings_fields"])
def test_settings_lists_run_the_same_queries_for_2_or_30_rows(client, admin_user, name):
    client.force_login(admin_user)
    url = reverse(f"contacts:{name}")
    client.get(url)
    _grow(admin_user, 2)
    few = _queries(client, url)
    _grow(admin_user, 30)
    assert _queries(client, url) == few
    assert few <= 12


@pytest.mark.parametrize("path", ["/contacts/labels", "/contacts/groups", "/contacts/fields"])
def test_api_lists_run_the_same_queries_for_2_or_30_rows(api, admin_user, path):
    api(admin_user, "get", path)
    _grow(admin_user, 2)
    with CaptureQueriesContext(connection) as few:
        assert len(api(admin_user, "get", path).json()["items"]) == 2
    _grow(admin_user, 30)
    with CaptureQueriesContext(connection) as many:
        assert len(api(admin_user, "get", path).json()["items"]) == 30
    assert len(few) == len(many)


# --- the contact's Información form -----------------------------------------------------------


@pytest.fixture
def fields(admin_user) -> dict[str, CustomField]:
    return {
        "canal": make_field(admin_user, label="Canal", kind="choice", choices=["Web", "Tienda"]),
        "ingreso": make_field(admin_user, label="Ingreso mensual", key="ingreso", kind="number"),
        "vence": make_field(admin_user, label="Vencimiento de póliza", key="vence", kind="date"),
        "nota": make_field(admin_user, label="Nota", kind="text"),
    }


def test_edit_form_renders_each_custom_field_by_kind(client, agent, fields):
    contact = make_contact(
        first_name="Ana", custom={"canal": "Tienda", "ingreso": "1500.50", "vence": "2027-03-01"}
    )
    client.force_login(agent)
    html = page(client, reverse("contacts:info_edit", args=[contact.pk]))
    assert '<select name="custom_canal"' in html
    assert '<option value="Tienda" selected>Tienda</option>' in html
    assert 'type="number" name="custom_ingreso"' in html and 'value="1500.50"' in html
    assert 'type="date" name="custom_vence"' in html and 'value="2027-03-01"' in html
    assert 'type="text" name="custom_nota"' in html


def test_information_tab_shows_custom_values_dates_formatted(client, agent, fields):
    contact = make_contact(first_name="Ana", custom={"canal": "Web", "vence": "2027-03-01"})
    client.force_login(agent)
    html = page(client, reverse("contacts:info", args=[contact.pk]))
    assert "Vencimiento de póliza" in html
    assert "1 de marzo de 2027" in html
    assert "2027-03-01" not in html


def _edit(client, contact, **custom):
    data = {"first_name": "Ana", **{f"custom_{k}": v for k, v in custom.items()}}
    return client.post(reverse("contacts:info_edit", args=[contact.pk]), data, **HX)


def test_valid_custom_values_are_saved_through_the_edit_form(client, agent, fields):
    contact = make_contact(first_name="Ana")
    client.force_login(agent)
    response = _edit(client, contact, canal="Web", ingreso="1500.50", vence="2027-03-01", nota="")
    assert "Datos guardados." in response.content.decode()
    contact.refresh_from_db()
    assert contact.custom == {"canal": "Web", "ingreso": "1500.50", "vence": "2027-03-01"}


@pytest.mark.parametrize(
    "custom, message",
    [
        ({"ingreso": "mucho"}, "Introduzca un número."),
        ({"vence": "31/02/2027"}, "Introduzca una fecha válida."),
        ({"canal": "Fax"}, "Escoja una opción válida."),
        ({"nota": "x" * 301}, "300"),
    ],
)
def test_bad_custom_values_in_the_edit_form_are_refused_and_change_nothing(
    client, agent, fields, custom, message
):
    contact = make_contact(first_name="Ana", custom={"canal": "Web"})
    client.force_login(agent)
    response = _edit(client, contact, **custom)
    html = response.content.decode()
    assert message in html
    assert "is-invalid" in html or "alert-danger" in html
    contact.refresh_from_db()
    assert contact.custom == {"canal": "Web"}


# --- the API: labels, groups, fields ----------------------------------------------------------


def test_api_routes_do_not_collide_with_a_contact_id(api, agent):
    contact = make_contact(first_name="Ana")
    LabelFactory(name="VIP")
    for path in ("/contacts/labels", "/contacts/groups", "/contacts/fields"):
        response = api(agent, "get", path)
        assert response.status_code == 200, path
        assert set(response.json()) == {"items", "count"}
    assert api(agent, "get", f"/contacts/{contact.pk}").json()["first_name"] == "Ana"


def test_openapi_documents_the_settings_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for kind, param in (("labels", "label_id"), ("groups", "group_id"), ("fields", "field_id")):
        assert set(paths[f"/api/v1/contacts/{kind}"]) == {"get", "post"}
        assert set(paths[f"/api/v1/contacts/{kind}/{{{param}}}"]) == {"patch", "delete"}


def test_api_labels_crud_for_an_admin(api, admin_user):
    created = api(admin_user, "post", "/contacts/labels", {"name": "VIP", "color": "#FF0000"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body == {"id": body["id"], "name": "VIP", "color": "#ff0000", "contacts": 0}
    make_contact(first_name="Ana", labels=[Label.objects.get()])

    patched = api(admin_user, "patch", f"/contacts/labels/{body['id']}", {"name": "Cliente VIP"})
    assert patched.json() == {
        "id": body["id"],
        "name": "Cliente VIP",
        "color": "#ff0000",
        "contacts": 1,
    }
    listed = api(admin_user, "get", "/contacts/labels").json()
    assert listed == {"items": [patched.json()], "count": 1}

    assert api(admin_user, "delete", f"/contacts/labels/{body['id']}").status_code == 204
    assert not Label.objects.exists()
    assert api(admin_user, "delete", f"/contacts/labels/{body['id']}").json() == {
        "detail": "La etiqueta no existe."
    }


def test_api_groups_crud_for_an_admin(api, admin_user):
    created = api(
        admin_user, "post", "/contacts/groups", {"name": "Cartera", "description": "Mora"}
    )
    assert created.status_code == 201
    group_id = created.json()["id"]
    assert created.json() == {
        "id": group_id,
        "name": "Cartera",
        "description": "Mora",
        "contacts": 0,
    }
    patched = api(admin_user, "patch", f"/contacts/groups/{group_id}", {"description": ""})
    assert patched.json()["description"] == "" and patched.json()["name"] == "Cartera"
    assert api(admin_user, "delete", f"/contacts/groups/{group_id}").status_code == 204
    assert api(admin_user, "patch", f"/contacts/groups/{group_id}", {}).status_code == 404


def test_api_custom_fields_crud_for_an_admin(api, admin_user):
    created = api(
        admin_user,
        "post",
        "/contacts/fields",
        {"label": "Canal de origen", "kind": "choice", "choices": ["Web", "Tienda"]},
    )
    assert created.status_code == 201, created.content
    field_id = created.json()["id"]
    assert created.json() == {
        "id": field_id,
        "key": "canal_de_origen",
        "label": "Canal de origen",
        "kind": "choice",
        "choices": ["Web", "Tienda"],
        "position": 0,
    }
    patched = api(
        admin_user, "patch", f"/contacts/fields/{field_id}", {"choices": ["Web", "Tienda", "Otro"]}
    )
    assert patched.json()["choices"] == ["Web", "Tienda", "Otro"]
    assert patched.json()["label"] == "Canal de origen"
    make_contact(first_name="Ana", custom={"canal_de_origen": "Otro"})
    refused = api(admin_user, "patch", f"/contacts/fields/{field_id}", {"choices": ["Web"]})
    assert refused.status_code == 422
    assert "no sería válido" in refused.json()["detail"]["choices"][0]

    assert api(admin_user, "delete", f"/contacts/fields/{field_id}").status_code == 204
    assert Contact.objects.get().custom == {}


@pytest.mark.parametrize(
    "path, payload, field, message",
    [
        ("/contacts/labels", {"name": "vip"}, "name", "Ya existe una etiqueta con ese nombre."),
        ("/contacts/labels", {"name": "X", "color": "red"}, "color", "Color no válido"),
        ("/contacts/groups", {"name": "CARTERA"}, "name", "Ya existe un grupo con ese nombre."),
        ("/contacts/fields", {"label": "canal"}, "label", "Ya existe un campo con ese nombre."),
        (
            "/contacts/fields",
            {"label": "Estado civil", "kind": "choice"},
            "choices",
            "Indica al menos una opción.",
        ),
        ("/contacts/fields", {"label": "X", "kind": "color"}, "kind", "Tipo de campo desconocido."),
    ],
)
def test_api_refuses_bad_input_in_spanish_and_changes_nothing(
    api, admin_user, path, payload, field, message
):
    LabelFactory(name="VIP")
    GroupFactory(name="Cartera")
    make_field(admin_user, label="Canal")
    before = (Label.objects.count(), ContactGroup.objects.count(), CustomField.objects.count())
    response = api(admin_user, "post", path, payload)
    assert response.status_code == 422
    assert message in response.json()["detail"][field][0]
    after = (Label.objects.count(), ContactGroup.objects.count(), CustomField.objects.count())
    assert after == before


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_api_changes_are_admin_only(api, request, admin_user, role):
    user = request.getfixturevalue(role)
    label, group = LabelFactory(name="VIP"), GroupFactory(name="Cartera")
    field = make_field(admin_user, label="Canal")
    calls = [
        ("post", "/contacts/labels", {"name": "Nueva"}),
        ("patch", f"/contacts/labels/{label.pk}", {"name": "Otra"}),
        ("delete", f"/contacts/labels/{label.pk}", None),
        ("post", "/contacts/groups", {"name": "Nuevo"}),
        ("patch", f"/contacts/groups/{group.pk}", {"name": "Otro"}),
        ("delete", f"/contacts/groups/{group.pk}", None),
        ("post", "/contacts/fields", {"label": "Nuevo"}),
        ("patch", f"/contacts/fields/{field.pk}", {"label": "Otro"}),
        ("delete", f"/contacts/fields/{field.pk}", None),
    ]
    for method, path, payload in calls:
        response = api(user, method, path, payload)
        assert response.status_code == 403, (method, path)
        assert response.json() == {"detail": DENIED}
    # Reading is open to everyone who labels contacts or fills their custom fields.
    for path in ("/contacts/labels", "/contacts/groups", "/contacts/fields"):
        assert api(user, "get", path).json()["count"] == 1
    assert list(Label.objects.values_list("name", flat=True)) == ["VIP"]
    assert list(ContactGroup.objects.values_list("name", flat=True)) == ["Cartera"]
    assert list(CustomField.objects.values_list("label", flat=True)) == ["Canal"]


def test_api_settings_need_a_token(client):
    for method, path in (
        ("get", "/contacts/labels"),
        ("post", "/contacts/groups"),
        ("patch", "/contacts/fields/1"),
        ("delete", "/contacts/labels/1"),
    ):
        response = getattr(client, method)(
            f"/api/v1{path}", data={}, content_type="application/json"
        )
        assert response.status_code == 401


# --- custom values through PATCH /contacts/{id} -----------------------------------------------


def test_patch_contact_stores_valid_custom_values_normalised(api, agent, fields):
    contact = make_contact(first_name="Ana")
    response = api(
        agent,
        "patch",
        f"/contacts/{contact.pk}",
        {"custom": {"canal": "Web", "ingreso": 1500.5, "vence": "2027-03-01", "nota": " hola "}},
    )
    assert response.status_code == 200, response.content
    assert response.json()["custom"] == {
        "canal": "Web",
        "ingreso": "1500.5",
        "vence": "2027-03-01",
        "nota": "hola",
    }


@pytest.mark.parametrize(
    "custom, message",
    [
        ({"ingreso": "mucho"}, "Ingreso mensual debe ser un número."),
        ({"ingreso": "NaN"}, "Ingreso mensual debe ser un número."),
        ({"vence": "2027-02-31"}, "Vencimiento de póliza debe ser una fecha (AAAA-MM-DD)."),
        ({"canal": "Fax"}, "Canal: opción no válida."),
        ({"nota": {"a": 1}}, "Nota: valor no válido."),
        ({"nota": "x" * 301}, "Nota: máximo 300 caracteres."),
        ({"inventado": "1"}, "Campo personalizado desconocido: inventado"),
    ],
)
def test_patch_contact_refuses_bad_custom_values_and_changes_nothing(
    api, agent, fields, custom, message
):
    contact = make_contact(first_name="Ana", custom={"canal": "Tienda"})
    response = api(agent, "patch", f"/contacts/{contact.pk}", {"custom": custom})
    assert response.status_code == 422
    assert response.json() == {"detail": {"custom": [message]}}
    contact.refresh_from_db()
    assert contact.custom == {"canal": "Tienda"}


def test_date_values_are_stored_in_iso_form(admin_user, fields):
    contact = make_contact(first_name="Ana", custom={"vence": "20270301"})
    assert contact.custom == {"vence": "2027-03-01"}
    assert datetime.date.fromisoformat(contact.custom["vence"]) == datetime.date(2027, 3, 1)


def test_settings_screens_speak_english_to_an_english_admin(client, admin_user):
    admin_user.language = "en"
    admin_user.save(update_fields=["language"])
    LabelFactory(name="VIP")
    client.force_login(admin_user)
    html = page(client, reverse("contacts:settings_labels"))
    assert "New label" in html and "Nueva etiqueta" not in html
    html = page(client, reverse("contacts:settings_label_create"), name="vip", color="#000000")
    assert "A label with that name already exists." in html
    html = page(client, reverse("contacts:settings_field_create"), label="Estado", kind="choice")
    assert "List of options" in html
    assert "Indica al menos una opción." not in html


def test_imported_custom_numbers_are_stored_as_the_form_stores_them(admin_user):
    """An import reading "1500,5" stores "1500.5": the number input can show it and edit it."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from atiende.contacts import imports

    make_field(admin_user, label="Ingreso", kind="number")
    data = (
        b'Nombres,Correo,Ingreso\r\nAna,ana@example.com,"1500,5"\r\nLuis,luis@example.com,NaN\r\n'
    )
    job = imports.start_import(upload=SimpleUploadedFile("c.csv", data), by=admin_user)
    job = imports.configure_import(
        job=job, mapping=job.mapping, match_by=imports.default_match_by(job.mapping), by=admin_user
    )
    job = imports.run_import(job.pk)
    assert Contact.objects.get(first_name="Ana").custom == {"ingreso": "1500.5"}
    assert not Contact.objects.filter(first_name="Luis").exists()
    assert job.rejected_count == 1
