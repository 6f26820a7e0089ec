"""Ajustes → Atención: channels and templates (admins), canned responses (admins and supervisors).
Bad input is refused in Spanish with nothing changed; credentials are never shown again."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atiende.inbox import services
from atiende.inbox.models import CannedResponse, Channel, MessageTemplate
from atiende.inbox.tests.inbox_data import make_channel
from atiende.users.tests.factories import TeamFactory

pytestmark = pytest.mark.django_db

SECRET = "EAAG-token-muy-secreto"


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def _channel_post(**overrides) -> dict:
    data = {
        "name": "Chat del sitio",
        "kind": "webchat",
        "color": "#0d7c86",
        "team": "",
        "is_active": "on",
        "auto_assign": "on",
        "out_of_hours_message": "",
        "title": "",
        "greeting": "",
        "prechat": ["name", "phone"],
        "allowed_origins": "",
    }
    for day in range(1, 8):
        data[f"from_{day}"] = data[f"to_{day}"] = ""
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


# --- navigation and permissions ---------------------------------------------------------------


def test_admin_sees_the_atencion_section(as_user, admin_user):
    html = as_user(admin_user).get("/ajustes/perfil/").content.decode()
    assert "Atención" in html
    for url in ("/ajustes/canales/", "/ajustes/respuestas-rapidas/", "/ajustes/plantillas/"):
        assert f'href="{url}"' in html


def test_supervisor_sees_only_canned_responses(as_user, supervisor):
    html = as_user(supervisor).get("/ajustes/perfil/").content.decode()
    assert 'href="/ajustes/respuestas-rapidas/"' in html
    assert 'href="/ajustes/canales/"' not in html
    assert 'href="/ajustes/plantillas/"' not in html


def test_agent_sees_no_atencion_section(as_user, agent):
    html = as_user(agent).get("/ajustes/perfil/").content.decode()
    assert "Atención" not in html and "/ajustes/canales/" not in html


def test_agents_get_403_everywhere_and_nothing_changes(as_user, agent, supervisor):
    channel = make_channel(name="Web")
    canned = services.save_canned_response(by=supervisor, shortcut="hola", title="x", body="x")
    template = MessageTemplate.objects.create(name="hola", body="x")
    client = as_user(agent)
    for url in (
        "/ajustes/canales/",
        "/ajustes/canales/nuevo/",
        f"/ajustes/canales/{channel.pk}/",
        "/ajustes/respuestas-rapidas/",
        "/ajustes/respuestas-rapidas/nueva/",
        f"/ajustes/respuestas-rapidas/{canned.pk}/",
        "/ajustes/plantillas/",
        "/ajustes/plantillas/nueva/",
        f"/ajustes/plantillas/{template.pk}/",
    ):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"name": "Cambiado", "title": "Cambiado"}).status_code == 403
    assert client.post(f"/ajustes/respuestas-rapidas/{canned.pk}/eliminar/").status_code == 403
    assert Channel.objects.get().name == "Web"
    assert CannedResponse.objects.get().title == "x"
    assert MessageTemplate.objects.get().body == "x"


def test_supervisors_get_403_on_channels_and_templates(as_user, supervisor):
    client = as_user(supervisor)
    for url in ("/ajustes/canales/", "/ajustes/canales/nuevo/", "/ajustes/plantillas/"):
        assert client.get(url).status_code == 403
    assert client.get("/ajustes/respuestas-rapidas/").status_code == 200


def test_anonymous_is_sent_to_login(client):
    response = client.get("/ajustes/canales/")
    assert response.status_code == 302 and "/cuenta/ingresar/" in response["Location"]


# --- channels -----------------------------------------------------------------------------------


def test_channel_list_shows_team_hours_and_state(as_user, admin_user):
    team = TeamFactory(name="Servicio")
    weekdays = {str(d): [["08:00", "18:00"]] for d in range(1, 6)}
    make_channel(name="WhatsApp Ventas", kind="whatsapp", team=team, auto_assign=True)
    make_channel(name="Chat web", business_hours={**weekdays, "6": [["08:00", "12:00"]]})
    make_channel(name="Viejo", is_active=False)
    html = as_user(admin_user).get("/ajustes/canales/").content.decode()
    assert "WhatsApp Ventas" in html and "Servicio" in html and "Asignación automática" in html
    assert "Lun-Vie 08:00-18:00, Sáb 08:00-12:00".replace("-", "\u2013") in html
    assert "Siempre abierto" in html
    assert "Inactivo" in html


def test_channel_list_query_count_is_constant(as_user, admin_user):
    client = as_user(admin_user)
    team = TeamFactory(name="Servicio")
    make_channel(team=team)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/ajustes/canales/").status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for n in range(6):
        make_channel(team=TeamFactory(name=f"Equipo {n}"))
    assert count() == few


def test_admin_creates_a_webchat_channel_and_gets_the_snippet(as_user, admin_user):
    client = as_user(admin_user)
    team = TeamFactory(name="Servicio")
    form = client.get("/ajustes/canales/nuevo/").content.decode()
    assert "disponible cuando el canal esté guardado" in form
    data = _channel_post(
        team=team.pk,
        title="Sigo Seguros",
        greeting="¡Hola! ¿En qué te ayudamos?",
        prechat=["name", "email"],
        allowed_origins="https://www.sigo.com.py/\nhttps://sigo.com.py",
        from_1="08:00",
        to_1="18:00",
        from_6="08:00",
        to_6="12:00",
        out_of_hours_message="Volvemos a las 8.",
    )
    response = client.post("/ajustes/canales/nuevo/", data)
    channel = Channel.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/ajustes/canales/{channel.pk}/"
    assert channel.kind == "webchat" and channel.team == team
    assert channel.business_hours == {"1": [["08:00", "18:00"]], "6": [["08:00", "12:00"]]}
    assert channel.out_of_hours_message == "Volvemos a las 8."
    assert channel.config["title"] == "Sigo Seguros"
    assert channel.config["greeting"] == "¡Hola! ¿En qué te ayudamos?"
    assert channel.config["prechat"] == ["name", "email"]
    assert channel.config["allowed_origins"] == ["https://www.sigo.com.py", "https://sigo.com.py"]
    html = client.get(response["Location"]).content.decode()
    key = Channel.objects.get().config["public_key"]
    assert f"/widget/{key}/widget.js" in html
    assert "&lt;script" in html and "data-copy" in html
    assert 'value="08:00"' in html and "Sigo Seguros" in html


def test_editing_keeps_the_public_key_and_the_kind(as_user, admin_user):
    client = as_user(admin_user)
    client.post("/ajustes/canales/nuevo/", _channel_post())
    channel = Channel.objects.get()
    key = channel.config["public_key"]
    response = client.post(
        f"/ajustes/canales/{channel.pk}/", _channel_post(name="Chat", kind="whatsapp")
    )
    assert response.status_code == 302
    channel.refresh_from_db()
    assert channel.name == "Chat" and channel.kind == "webchat"
    assert channel.config["public_key"] == key


def test_credentials_are_write_only(as_user, admin_user):
    client = as_user(admin_user)
    data = _channel_post(
        name="WhatsApp Cobranza",
        kind="whatsapp",
        whatsapp__phone_number_id="109876",
        whatsapp__access_token=SECRET,
        whatsapp__app_secret="app-secret-1",
    )
    response = client.post("/ajustes/canales/nuevo/", data)
    assert response.status_code == 302 and response["Location"] == "/ajustes/canales/"
    channel = Channel.objects.get()
    assert channel.credentials == {"access_token": SECRET, "app_secret": "app-secret-1"}
    assert SECRET not in channel.credentials_encrypted
    assert channel.config["phone_number_id"] == "109876"
    url = f"/ajustes/canales/{channel.pk}/"
    html = client.get(url).content.decode()
    assert SECRET not in html and "app-secret-1" not in html
    assert 'type="password"' in html and "Guardado. Déjalo vacío para conservarlo." in html
    assert 'value="109876"' in html
    assert 'data-kind-section="webchat"' not in html  # only this kind's settings
    assert 'data-kind-section="messenger"' not in html
    # Blank keeps what is stored, a new value replaces just that one.
    edit = _channel_post(
        name="WhatsApp Cobranza",
        whatsapp__phone_number_id="109876",
        whatsapp__access_token="",
        whatsapp__app_secret="app-secret-2",
    )
    assert client.post(url, edit).status_code == 302
    channel.refresh_from_db()
    assert channel.credentials == {"access_token": SECRET, "app_secret": "app-secret-2"}
    # A form sent back with errors does not echo what was typed either.
    bad = client.post(url, {**edit, "name": "", "whatsapp__access_token": "tipeado-123"})
    assert bad.status_code == 200 and "tipeado-123" not in bad.content.decode()


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"name": ""}, "Este campo es obligatorio."),
        ({"color": "rojo"}, "El color debe tener el formato #RRGGBB."),
        ({"from_1": "08:00"}, "Indica la hora de inicio y la de fin."),
        ({"from_2": "18:00", "to_2": "08:00"}, "La hora de inicio debe ser anterior a la de fin."),
        ({"from_3": "25:00", "to_3": "26:00"}, "Introduzca una hora válida."),
        ({"allowed_origins": "sigo.com.py"}, "«sigo.com.py» no es una dirección válida"),
        ({"kind": "fax"}, "Escoja una opción válida."),
    ],
)
def test_bad_channel_input_is_refused_in_spanish(as_user, admin_user, overrides, message):
    client = as_user(admin_user)
    response = client.post("/ajustes/canales/nuevo/", _channel_post(**overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Channel.objects.exists()


def test_bad_edit_changes_nothing(as_user, admin_user):
    channel = make_channel(name="Web", business_hours={"1": [["08:00", "18:00"]]})
    client = as_user(admin_user)
    response = client.post(
        f"/ajustes/canales/{channel.pk}/",
        _channel_post(name="Nuevo", from_1="18:00", to_1="08:00"),
    )
    assert response.status_code == 200
    channel.refresh_from_db()
    assert channel.name == "Web" and channel.business_hours == {"1": [["08:00", "18:00"]]}


def test_missing_channel_is_404(as_user, admin_user):
    assert as_user(admin_user).get("/ajustes/canales/999/").status_code == 404


# --- canned responses ---------------------------------------------------------------------------


def test_canned_list_filters_by_team(as_user, supervisor):
    servicio, cobranza = TeamFactory(name="Servicio"), TeamFactory(name="Cobranza")
    for shortcut, team in (("saludo", None), ("horario", servicio), ("pago", cobranza)):
        services.save_canned_response(
            by=supervisor, shortcut=shortcut, title=shortcut.title(), body="x", team=team
        )
    client = as_user(supervisor)
    html = client.get("/ajustes/respuestas-rapidas/").content.decode()
    assert all(f"/{s}" in html for s in ("saludo", "horario", "pago"))
    html = client.get(f"/ajustes/respuestas-rapidas/?equipo={cobranza.pk}").content.decode()
    assert "/pago" in html and "/saludo" not in html and "/horario" not in html
    html = client.get("/ajustes/respuestas-rapidas/?equipo=global").content.decode()
    assert "/saludo" in html and "/pago" not in html
    html = client.get("/ajustes/respuestas-rapidas/?q=hor").content.decode()
    assert "/horario" in html and "/pago" not in html


def test_create_edit_delete_canned_response(as_user, supervisor):
    team = TeamFactory(name="Servicio")
    client = as_user(supervisor)
    form = client.get("/ajustes/respuestas-rapidas/nueva/").content.decode()
    assert "{{contacto.nombre}}" in form and "{{agente.nombre}}" in form
    data = {
        "shortcut": "/Saludo",
        "title": "Saludo",
        "body": "Hola {{contacto.nombre}}, soy {{agente.nombre}}.",
        "team": team.pk,
    }
    response = client.post("/ajustes/respuestas-rapidas/nueva/", data)
    assert response.status_code == 302
    canned = CannedResponse.objects.get()
    assert (canned.shortcut, canned.team, canned.created_by) == ("saludo", team, supervisor)
    url = f"/ajustes/respuestas-rapidas/{canned.pk}/"
    assert 'value="saludo"' in client.get(url).content.decode()
    response = client.post(url, {**data, "title": "Bienvenida", "team": ""})
    assert response.status_code == 302
    canned.refresh_from_db()
    assert canned.title == "Bienvenida" and canned.team is None
    response = client.post(f"{url}eliminar/")
    assert response.status_code == 302 and not CannedResponse.objects.exists()
    assert client.get(url).status_code == 404


def test_bad_canned_input_is_refused_in_spanish(as_user, admin_user):
    services.save_canned_response(by=admin_user, shortcut="saludo", title="x", body="x")
    client = as_user(admin_user)
    response = client.post(
        "/ajustes/respuestas-rapidas/nueva/",
        {"shortcut": "con espacio", "title": "T", "body": "B", "team": ""},
    )
    assert (
        "El atajo solo admite letras, números, guiones y guion bajo." in response.content.decode()
    )
    response = client.post(
        "/ajustes/respuestas-rapidas/nueva/",
        {"shortcut": "saludo", "title": "T", "body": "B", "team": ""},
    )
    assert "Ya existe una respuesta con ese atajo." in response.content.decode()
    response = client.post("/ajustes/respuestas-rapidas/nueva/", {"shortcut": "x"})
    assert response.content.decode().count("Este campo es obligatorio.") == 2
    assert CannedResponse.objects.count() == 1


# --- templates ------------------------------------------------------------------------------


def test_templates_list_and_status_filter(as_user, admin_user):
    channel = make_channel(name="WhatsApp Ventas", kind="whatsapp")
    services.save_template(by=admin_user, name="bienvenida", body="Hola {{1}}", channel=channel)
    services.save_template(by=admin_user, name="promo", body="Oferta", status="pending")
    client = as_user(admin_user)
    html = client.get("/ajustes/plantillas/").content.decode()
    assert "bienvenida" in html and "promo" in html and "WhatsApp Ventas" in html
    assert "Aprobada" in html and "En revisión" in html
    html = client.get("/ajustes/plantillas/?estado=pending").content.decode()
    assert "promo" in html and "bienvenida" not in html


def test_create_and_edit_template(as_user, admin_user):
    channel = make_channel(name="WhatsApp", kind="whatsapp")
    client = as_user(admin_user)
    data = {
        "name": "cuota_vencida",
        "language": "es",
        "category": "UTILITY",
        "status": "approved",
        "channel": channel.pk,
        "body": "Hola {{1}}, tu cuota de {{2}} venció.",
    }
    response = client.post("/ajustes/plantillas/nueva/", data)
    assert response.status_code == 302
    template = MessageTemplate.objects.get()
    assert (template.name, template.channel, template.category) == (
        "cuota_vencida",
        channel,
        "UTILITY",
    )
    url = f"/ajustes/plantillas/{template.pk}/"
    assert "cuota_vencida" in client.get(url).content.decode()
    response = client.post(url, {**data, "status": "paused", "channel": ""})
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.status == "paused" and template.channel is None


def test_bad_template_input_is_refused_in_spanish(as_user, admin_user):
    services.save_template(by=admin_user, name="hola", body="Hola")
    client = as_user(admin_user)
    base = {"language": "es", "category": "", "status": "approved", "channel": "", "body": "x"}
    response = client.post("/ajustes/plantillas/nueva/", {**base, "name": "Con Espacios"})
    assert "El nombre solo admite minúsculas, números y guion bajo." in response.content.decode()
    response = client.post("/ajustes/plantillas/nueva/", {**base, "name": "hola"})
    assert "Ya existe una plantilla con ese nombre e idioma." in response.content.decode()
    response = client.post("/ajustes/plantillas/nueva/", {**base, "name": "x", "status": "?"})
    assert "Escoja una opción válida." in response.content.decode()
    assert MessageTemplate.objects.count() == 1


def test_settings_screens_in_english(as_user, admin_user):
    admin_user.language = "en"
    admin_user.save()
    client = as_user(admin_user)
    client.cookies["atiende_language"] = "en"
    html = client.get("/ajustes/canales/nuevo/").content.decode()
    assert "New channel" in html and "Business hours" in html


def test_template_variables_map_to_contact_fields(as_user, admin_user):
    template = services.save_template(by=admin_user, name="cuota", body="Hola {{1}}, {{2}}.")
    client = as_user(admin_user)
    url = f"/ajustes/plantillas/{template.pk}/"
    html = client.get(url).content.decode()
    assert 'name="var_1"' in html and 'name="var_2"' in html and "contacto.apellido" in html
    base = {"name": "cuota", "language": "es", "category": "", "status": "approved"}
    data = {**base, "channel": "", "body": template.body, "var_1": "contacto.nombre", "var_2": ""}
    assert client.post(url, data).status_code == 302
    template.refresh_from_db()
    assert template.variable_map == {"1": "contacto.nombre"}
    response = client.post(url, {**data, "var_2": "contacto.saldo"})
    assert "Campo del contacto desconocido: contacto.saldo." in response.content.decode()
    template.refresh_from_db()
    assert template.variable_map == {"1": "contacto.nombre"}
