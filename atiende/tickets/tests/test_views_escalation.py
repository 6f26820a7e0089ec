"""The escalation to Tech through the screens (guide 001): the form of an existing ticket (also
reached from the board with ?stage=), and a new ticket created straight into Tech Issues from the
contact profile. Incomplete escalations are refused naming what is missing and change nothing."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from atiende.core.models import Attachment
from atiende.notifications.models import Notification
from atiende.tickets.models import Ticket
from atiende.tickets.tests.factories import make_ticket, policy_holder, stage
from atiende.users.tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
COMPLETE = {
    "what": "El endoso no guarda el cambio de placa",
    "how": "Al pulsar Guardar en el endoso de vehículo aparece un error 500",
    "where": "Portal web, Mis pólizas, Endosos",
    "requested_changes": "Placa ABC-123 en lugar de ABD-123",
    "priority": "high",
}


def _png(name: str = "captura.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


@pytest.fixture
def logged(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def engineer():
    tech = TeamFactory(name="Tech")
    person = UserFactory(username="ingeniero", display_name="Iván Ingeniero")
    tech.members.add(person)
    return person


@pytest.fixture
def ticket(agent):
    contact, account = policy_holder()
    return make_ticket(by=agent, owner=agent, contact=contact, account=account, name="Consulta")


def escalate_url(ticket: Ticket, **query) -> str:
    url = reverse("tickets:escalate", args=[ticket.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_form_prefills_the_name_from_policy_and_customer(logged, ticket):
    html = logged.get(escalate_url(ticket, stage=stage("tech_issues").pk)).content.decode()
    assert 'value="POL-4455 \u2013 Lucía Ramírez"' in html
    for label in ("¿Qué ocurre?", "¿Cómo ocurrió?", "¿Dónde ocurrió?", "Cambios solicitados"):
        assert label in html
    assert "Capturas de pantalla" in html and 'accept=".png,.jpg' in html


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("what", "Falta «¿Qué ocurre?»"),
        ("how", "Falta «¿Cómo ocurrió?»"),
        ("where", "Falta «¿Dónde ocurrió?»"),
        ("priority", "Falta la prioridad"),
    ],
)
def test_incomplete_escalation_is_refused_naming_what_is_missing(
    logged, ticket, engineer, missing, message
):
    data = {**COMPLETE, missing: "", "name": "POL-4455 \u2013 Lucía Ramírez"}
    response = logged.post(escalate_url(ticket), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "No se guardó nada" in html and message in html
    ticket.refresh_from_db()
    assert ticket.stage.key == "new" and ticket.escalated_at is None and ticket.name == "Consulta"
    assert not Notification.objects.filter(recipient=engineer).exists()


def test_empty_escalation_lists_every_missing_part(logged, ticket):
    html = logged.post(escalate_url(ticket), {"priority": ""}).content.decode()
    for message in ("¿Qué ocurre?", "¿Cómo ocurrió?", "¿Dónde ocurrió?", "Falta la prioridad"):
        assert message in html


def test_complete_escalation_moves_to_tech_notifies_and_stores_screenshots(
    logged, ticket, engineer
):
    data = {
        **COMPLETE,
        "name": "POL-4455 \u2013 Lucía Ramírez",
        "screenshots": [_png(), _png("b.png")],
    }
    response = logged.post(escalate_url(ticket), data, follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("tickets:detail", args=[ticket.pk])
    assert "escalado a Tech" in html
    ticket.refresh_from_db()
    assert ticket.stage.key == "tech_issues"
    assert ticket.name == "POL-4455 \u2013 Lucía Ramírez"
    assert ticket.priority == "high"
    assert ticket.team.name == "Tech"
    assert ticket.escalation_what == "<p>El endoso no guarda el cambio de placa</p>"
    assert ticket.escalated_at is not None
    files = Attachment.objects.filter(owner_id=str(ticket.pk))
    assert sorted(f.name for f in files) == ["b.png", "captura.png"]
    note = Notification.objects.get(recipient=engineer, kind="escalation")
    assert note.url == f"/tickets/{ticket.pk}/"
    # the page shows the escalation block and the screenshots
    assert "Escalación a Tech" in html and "El endoso no guarda el cambio de placa" in html
    assert "captura.png" in html


def test_screenshots_must_be_images(logged, ticket, engineer):
    pdf = SimpleUploadedFile("doc.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    html = logged.post(escalate_url(ticket), {**COMPLETE, "screenshots": [pdf]}).content.decode()
    assert "Las capturas de pantalla deben ser imágenes." in html
    ticket.refresh_from_db()
    assert ticket.stage.key == "new"
    assert not Attachment.objects.exists()


def test_an_empty_name_takes_policy_and_customer(logged, agent, engineer):
    contact, account = policy_holder(number="POL-9")
    ticket = make_ticket(by=agent, owner=agent, contact=contact, account=account)
    logged.post(escalate_url(ticket), {**COMPLETE, "name": ""})
    ticket.refresh_from_db()
    assert ticket.stage.key == "tech_issues"
    # an empty field keeps the current name (the service builds one only when the ticket has none)
    assert ticket.name


def test_escalation_needs_change_permission(client, ticket):
    outsider_ticket = make_ticket(by=UserFactory(role="admin"), team=TeamFactory(name="Otros"))
    client.force_login(UserFactory(username="ajeno"))
    assert client.get(escalate_url(outsider_ticket)).status_code == 403
    assert client.post(escalate_url(outsider_ticket), COMPLETE).status_code == 403


def test_cancel_goes_back_to_a_safe_next(logged, ticket):
    html = logged.get(escalate_url(ticket, next="/tickets/tablero/")).content.decode()
    assert 'href="/tickets/tablero/"' in html
    html = logged.get(escalate_url(ticket), HTTP_REFERER="http://testserver/tickets/tablero/")
    assert 'href="http://testserver/tickets/tablero/">Cancelar' in html.content.decode()
    html = logged.get(escalate_url(ticket, next="https://malo.example/")).content.decode()
    assert 'href="https://malo.example/"' not in html
    assert f'href="{reverse("tickets:detail", args=[ticket.pk])}">Cancelar' in html


# --- a new ticket created escalated (guide 001, step by step from the contact profile) --------


def test_create_into_tech_issues_from_the_contact_profile(logged, agent, engineer):
    contact, account = policy_holder()
    html = logged.get(reverse("tickets:create") + f"?contact={contact.pk}").content.decode()
    assert "¿Qué ocurre?" in html  # the escalation fields are there, shown for Tech Issues
    response = logged.post(
        reverse("tickets:create"),
        {
            **COMPLETE,
            "contact": contact.pk,
            "account": account.pk,
            "name": "",
            "stage": stage("tech_issues").pk,
            "created_at": "2026-01-10T08:15",
            "description": "Detalle adicional",
            "source": "internal",
            "screenshots": [_png()],
        },
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert ticket.stage.key == "tech_issues"
    assert ticket.name == "POL-4455 \u2013 Lucía Ramírez"
    assert ticket.escalated_at is not None and ticket.priority == "high"
    assert Attachment.objects.filter(owner_id=str(ticket.pk)).count() == 1
    assert Notification.objects.filter(recipient=engineer, kind="escalation").exists()


def test_create_into_tech_issues_without_the_questions_is_refused(logged, engineer):
    contact, account = policy_holder()
    response = logged.post(
        reverse("tickets:create"),
        {
            "contact": contact.pk,
            "account": account.pk,
            "stage": stage("tech_issues").pk,
            "priority": "",
            "source": "internal",
            "screenshots": [_png()],
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    for message in ("¿Qué ocurre?", "¿Cómo ocurrió?", "¿Dónde ocurrió?", "Falta la prioridad"):
        assert message in html
    assert 'id="escalation-section" class="escalation-section" >' in html  # shown, not hidden
    assert not Ticket.objects.exists()
    assert not Attachment.objects.exists()
    assert not Notification.objects.exists()
