"""The ticket page through the test client: what it shows, its constant number of queries,
permissions, inline property edits, notes with files and @mentions, follow, close/reopen, the
customer update, linked conversations, downloads, and creating tickets from a contact or a
conversation."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from atiende.contacts.tests.factories import LabelFactory, make_contact
from atiende.core.models import Attachment
from atiende.inbox.tests.inbox_data import conversation_for, make_channel, receive
from atiende.notifications.models import Notification
from atiende.tickets import services
from atiende.tickets.models import Priority, SlaPolicy, Ticket
from atiende.tickets.tests.factories import make_ticket, policy_holder, stage
from atiende.users.tests.factories import TeamFactory

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
HTMX = {"HTTP_HX_REQUEST": "true"}


def _png(name: str = "captura.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


@pytest.fixture
def logged(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def ticket(agent):
    contact, account = policy_holder()
    return make_ticket(by=agent, owner=agent, contact=contact, account=account)


def detail(ticket: Ticket) -> str:
    return reverse("tickets:detail", args=[ticket.pk])


def prop(ticket: Ticket, field: str) -> str:
    return reverse("tickets:property", args=[ticket.pk, field])


# --- the page -----------------------------------------------------------------------------


def test_ticket_url_resolves_to_the_page(ticket):
    assert services.ticket_url(ticket) == f"/tickets/{ticket.pk}/"


def test_page_shows_header_properties_sla_and_contact(logged, ticket):
    SlaPolicy.objects.create(
        name="Soporte", pipeline=ticket.pipeline, first_response_minutes=60, resolution_minutes=2880
    )
    html = logged.get(detail(ticket)).content.decode()
    assert ticket.number in html and ticket.name in html
    assert 'data-stage="new"' in html
    assert "Media 🟡" in html
    assert 'data-clock="first_response"' in html
    assert 'data-clock="customer_update"' in html
    assert 'data-clock="resolution"' in html
    assert "Registrar actualización al cliente" in html
    assert "Lucía Ramírez" in html and "POL-4455" in html
    assert "Dejar de seguir" in html  # the creator follows


def test_the_customer_update_warning_shows_when_overdue(logged, ticket):
    Ticket.objects.filter(pk=ticket.pk).update(customer_update_overdue=True)
    html = logged.get(detail(ticket)).content.decode()
    assert "data-customer-update-warning" in html
    assert "Actualiza al cliente" in html


def test_description_is_sanitised(logged, agent):
    ticket = make_ticket(by=agent, description='<p>Hola</p><script>alert("x")</script>')
    html = logged.get(detail(ticket)).content.decode()
    assert "<p>Hola</p>" in html
    assert 'alert("x")' not in html


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_page_queries_do_not_grow_with_notes_files_and_changes(logged, agent, ticket):
    services.add_note(ticket=ticket, by=agent, body="primera", attachments=[_png()])
    few = _count(logged, detail(ticket))
    for i in range(8):
        services.add_note(
            ticket=ticket, by=agent, body=f"nota {i}", attachments=[_png(f"c{i}.png")]
        )
        services.update_ticket(ticket=ticket, by=agent, name=f"Nombre {i}")
    many = _count(logged, detail(ticket))
    assert many == few
    assert many <= 40


def test_timeline_is_bounded(logged, agent, ticket):
    for i in range(60):
        services.add_note(ticket=ticket, by=agent, body=f"nota {i}")
    html = logged.get(detail(ticket)).content.decode()
    assert html.count('data-kind="note"') == 50
    assert "Se muestran los 50 eventos más recientes." in html


def test_missing_ticket_is_404(logged):
    assert logged.get("/tickets/999999/").status_code == 404


def test_anonymous_is_sent_to_login(client, ticket):
    response = client.get(detail(ticket))
    assert response.status_code == 302 and "ingresar" in response["Location"]


def test_parts_render_alone_for_htmx(logged, ticket):
    for part in ("header", "properties", "timeline", "sla", "attachments", "links"):
        response = logged.get(detail(ticket) + f"?part={part}", **HTMX)
        assert response.status_code == 200
        assert "<html" not in response.content.decode()


# --- permissions ----------------------------------------------------------------------------


@pytest.fixture
def team_ticket(admin_user):
    """A ticket owned by another team: the agent may see it and note it, not change it."""
    team = TeamFactory(name="Cobranza")
    return make_ticket(by=admin_user, team=team, owner=admin_user)


def test_agent_outside_the_team_sees_read_only_properties(logged, team_ticket):
    html = logged.get(detail(team_ticket)).content.decode()
    assert "Solo lectura" in html
    assert 'data-action="close"' not in html


def test_agent_outside_the_team_cannot_change_it(logged, team_ticket):
    response = logged.post(prop(team_ticket, "priority"), {"priority": "urgent"}, **HTMX)
    assert response.status_code == 403
    team_ticket.refresh_from_db()
    assert team_ticket.priority == Priority.MEDIUM
    assert (
        logged.post(
            reverse("tickets:state", args=[team_ticket.pk]), {"action": "close"}
        ).status_code
        == 403
    )
    assert logged.get(reverse("tickets:escalate", args=[team_ticket.pk])).status_code == 403


def test_agent_outside_the_team_may_still_leave_a_note(logged, team_ticket):
    response = logged.post(reverse("tickets:note", args=[team_ticket.pk]), {"body": "Revisado"})
    assert response.status_code == 302
    assert team_ticket.notes.count() == 1


# --- inline property edits ----------------------------------------------------------------


def test_inline_edit_of_priority_owner_and_labels(logged, agent, ticket, supervisor):
    response = logged.post(prop(ticket, "priority"), {"priority": "high"}, **HTMX)
    assert response.status_code == 200
    assert response["HX-Trigger"] == "ticket-changed"
    assert "Cambios guardados." in response.content.decode()
    label = LabelFactory(name="VIP")
    logged.post(prop(ticket, "labels"), {"labels": [label.pk]}, **HTMX)
    logged.post(prop(ticket, "owner"), {"owner": supervisor.pk}, **HTMX)
    # no longer the owner (and not in the pipeline's team): further changes are refused
    assert logged.post(prop(ticket, "priority"), {"priority": "low"}, **HTMX).status_code == 403
    ticket.refresh_from_db()
    assert ticket.priority == Priority.HIGH
    assert ticket.owner == supervisor
    assert list(ticket.labels.all()) == [label]
    assert Notification.objects.filter(recipient=supervisor, kind="assignment").exists()


def test_inline_edit_of_the_create_date(logged, ticket):
    logged.post(prop(ticket, "created_at"), {"created_at": "2026-01-05T09:30"}, **HTMX)
    ticket.refresh_from_db()
    local = timezone.localtime(ticket.created_at)
    assert (local.year, local.month, local.day, local.hour, local.minute) == (2026, 1, 5, 9, 30)


def test_bad_property_value_is_refused_in_spanish_and_nothing_changes(logged, ticket):
    future = (timezone.localtime() + datetime.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = logged.post(prop(ticket, "created_at"), {"created_at": future}, **HTMX)
    assert "La fecha de creación no puede estar en el futuro." in response.content.decode()
    response = logged.post(prop(ticket, "name"), {"name": "   "}, **HTMX)
    assert "Indica el nombre del ticket." in response.content.decode()
    response = logged.post(prop(ticket, "priority"), {"priority": "altisima"}, **HTMX)
    assert "Escoja una opción válida" in response.content.decode()
    before = ticket.name
    ticket.refresh_from_db()
    assert ticket.name == before and ticket.priority == Priority.MEDIUM


def test_unknown_property_is_404(logged, ticket):
    assert logged.post(prop(ticket, "closed_at"), {"closed_at": "x"}).status_code == 404


def test_changing_the_stage_moves_the_ticket(logged, ticket):
    response = logged.post(prop(ticket, "stage"), {"stage": stage("waiting_on_us").pk}, **HTMX)
    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.stage.key == "waiting_on_us"


def test_choosing_tech_issues_routes_to_the_escalation_form(logged, ticket):
    tech = stage("tech_issues")
    response = logged.post(prop(ticket, "stage"), {"stage": tech.pk}, **HTMX)
    assert response.status_code == 204
    assert (
        response["HX-Redirect"]
        == reverse("tickets:escalate", args=[ticket.pk]) + f"?stage={tech.pk}"
    )
    response = logged.post(prop(ticket, "stage"), {"stage": tech.pk})
    assert response.status_code == 302 and "/escalar/" in response["Location"]
    ticket.refresh_from_db()
    assert ticket.stage.key == "new"


def test_plain_post_without_htmx_redirects_with_a_message(logged, ticket):
    response = logged.post(prop(ticket, "priority"), {"priority": "low"}, follow=True)
    assert "Cambios guardados." in response.content.decode()


def test_description_edit_keeps_paragraphs_and_drops_scripts(logged, ticket):
    logged.post(prop(ticket, "description"), {"description": "Línea 1\n\nLínea <2>"}, **HTMX)
    ticket.refresh_from_db()
    assert ticket.description == "<p>Línea 1</p>\n\n<p>Línea &lt;2&gt;</p>"
    logged.post(
        prop(ticket, "description"), {"description": "<b>ok</b><img src=x onerror=1>"}, **HTMX
    )
    ticket.refresh_from_db()
    assert ticket.description == "<b>ok</b>"
    # the browser's editor puts new lines in <div>s: they stay separate paragraphs
    logged.post(prop(ticket, "description"), {"description": "uno<div>dos</div>"}, **HTMX)
    ticket.refresh_from_db()
    assert ticket.description == "uno<p>dos</p>"


def test_contact_change_through_the_search(logged, ticket):
    other = make_contact(first_name="Ramón", last_name="Ortiz")
    html = logged.get(detail(ticket) + "?part=contacts&buscar=Ramón", **HTMX).content.decode()
    assert "Ramón Ortiz" in html
    logged.post(prop(ticket, "contact"), {"contact": other.pk}, **HTMX)
    ticket.refresh_from_db()
    assert (
        ticket.contact == other and ticket.account is None
    )  # the old policy was the old contact's


# --- header actions ----------------------------------------------------------------------


def test_follow_and_unfollow(logged, agent, admin_user):
    ticket = make_ticket(by=admin_user)
    url = reverse("tickets:follow", args=[ticket.pk])
    html = logged.post(url, {"follow": "1"}, **HTMX).content.decode()
    assert agent in ticket.followers.all() and "Dejar de seguir" in html
    logged.post(url, {"follow": "0"}, **HTMX)
    assert agent not in ticket.followers.all()


def test_close_and_reopen(logged, ticket):
    url = reverse("tickets:state", args=[ticket.pk])
    logged.post(url, {"action": "close"}, **HTMX)
    ticket.refresh_from_db()
    assert ticket.is_closed and ticket.stage.is_closed
    logged.post(url, {"action": "reopen"}, **HTMX)
    ticket.refresh_from_db()
    assert not ticket.is_closed


def test_record_customer_update_restarts_the_clock(logged, ticket):
    response = logged.post(reverse("tickets:customer_update", args=[ticket.pk]), **HTMX)
    assert "Actualización al cliente registrada." in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.last_customer_update_at is not None


# --- notes --------------------------------------------------------------------------------


def test_note_with_attachment_and_mention(logged, agent, ticket, supervisor):
    response = logged.post(
        reverse("tickets:note", args=[ticket.pk]),
        {"body": "Revisa esto @super por favor", "files": [_png("error.png")]},
        **HTMX,
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "ticket-changed"
    note = ticket.notes.get()
    assert "@super" in note.body
    files = Attachment.objects.filter(owner_id=str(note.pk))
    assert [f.name for f in files] == ["error.png"]
    notification = Notification.objects.get(recipient=supervisor, kind="mention")
    assert notification.url == f"/tickets/{ticket.pk}/"
    html = logged.get(detail(ticket)).content.decode()
    assert "error.png" in html and "Revisa esto" in html


def test_note_with_a_refused_file_stores_nothing(logged, ticket):
    bad = SimpleUploadedFile("virus.exe", b"MZ\x90\x00", content_type="application/octet-stream")
    response = logged.post(
        reverse("tickets:note", args=[ticket.pk]), {"body": "mira", "files": [bad]}, **HTMX
    )
    assert "Tipo de archivo no permitido." in response.content.decode()
    assert ticket.notes.count() == 0
    assert not Attachment.objects.exists()


def test_note_with_a_fake_image_is_refused(logged, ticket):
    fake = SimpleUploadedFile("foto.png", b"not a png at all", content_type="image/png")
    response = logged.post(
        reverse("tickets:note", args=[ticket.pk]), {"body": "mira", "files": [fake]}, **HTMX
    )
    assert "El contenido del archivo no corresponde a su tipo." in response.content.decode()
    assert ticket.notes.count() == 0


def test_empty_note_is_refused(logged, ticket):
    response = logged.post(reverse("tickets:note", args=[ticket.pk]), {"body": "  "}, **HTMX)
    assert "La nota está vacía." in response.content.decode()
    assert ticket.notes.count() == 0


def test_note_can_record_the_customer_update(logged, ticket):
    logged.post(
        reverse("tickets:note", args=[ticket.pk]),
        {"body": "Llamé al cliente", "customer_updated": "on"},
        **HTMX,
    )
    ticket.refresh_from_db()
    assert ticket.last_customer_update_at is not None


# --- attachments --------------------------------------------------------------------------


def test_attachment_download_checks_it_belongs_to_the_ticket(logged, agent, ticket):
    note = services.add_note(ticket=ticket, by=agent, body="x", attachments=[_png()])
    attachment = Attachment.objects.get(owner_id=str(note.pk))
    response = logged.get(reverse("tickets:attachment", args=[ticket.pk, attachment.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    assert response["Cache-Control"] == "private, no-store"
    other = make_ticket(by=agent)
    assert (
        logged.get(reverse("tickets:attachment", args=[other.pk, attachment.pk])).status_code == 404
    )


def test_attachment_download_needs_a_login(client, agent, ticket):
    note = services.add_note(ticket=ticket, by=agent, body="x", attachments=[_png()])
    attachment = Attachment.objects.get(owner_id=str(note.pk))
    response = client.get(reverse("tickets:attachment", args=[ticket.pk, attachment.pk]))
    assert response.status_code == 302


# --- linked conversations ------------------------------------------------------------------


def test_link_one_of_the_contacts_conversations(logged, agent):
    channel = make_channel(name="WhatsApp", kind="whatsapp")
    conversation = conversation_for(channel, "Hola", phone="+595991000111", name="Ana Pérez")
    ticket = make_ticket(by=agent, owner=agent, contact=conversation.contact)
    html = logged.get(detail(ticket)).content.decode()
    assert f'<option value="{conversation.pk}"' in html
    logged.post(
        reverse("tickets:link", args=[ticket.pk]), {"conversation": conversation.pk}, **HTMX
    )
    assert list(ticket.conversations.all()) == [conversation]
    html = logged.get(detail(ticket)).content.decode()
    assert reverse("inbox:conversation", args=[conversation.pk]) in html
    # its messages are on the ticket's timeline, newest first, in a constant number of queries
    assert 'data-kind="message"' in html and "Ana Pérez" in html
    few = _count(logged, detail(ticket))
    for i in range(5):
        receive(channel, sender_id=conversation.recipient, body=f"Otro mensaje {i}")
    many = _count(logged, detail(ticket))
    html = logged.get(detail(ticket)).content.decode()
    assert html.index("Otro mensaje 4") < html.index("Otro mensaje 3")
    assert many == few


def test_linking_another_contacts_conversation_is_refused(logged, agent, ticket):
    conversation = conversation_for(make_channel(), "Hola", name="Otro Cliente")
    response = logged.post(
        reverse("tickets:link", args=[ticket.pk]), {"conversation": conversation.pk}, **HTMX
    )
    assert "La conversación es de otro contacto." in response.content.decode()
    assert not ticket.conversations.exists()


# --- creating tickets ----------------------------------------------------------------------


def test_create_form_from_the_contact_profile_prefills_the_contact(logged):
    contact, _account = policy_holder()
    html = logged.get(reverse("tickets:create") + f"?contact={contact.pk}").content.decode()
    assert "Lucía Ramírez" in html
    assert f'name="contact" value="{contact.pk}"' in html
    assert "POL-4455" in html


def test_create_from_the_contact_profile(logged, agent):
    contact, account = policy_holder()
    label = LabelFactory(name="Endoso")
    response = logged.post(
        reverse("tickets:create"),
        {
            "contact": contact.pk,
            "name": "Cambio de vehículo",
            "stage": stage("change_request").pk,
            "priority": "high",
            "account": account.pk,
            "source": "phone",
            "created_at": "2026-01-10T08:15",
            "description": "El cliente cambió de auto",
            "labels": [label.pk],
            "owner": agent.pk,
        },
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == detail(ticket)
    assert ticket.contact == contact and ticket.account == account
    assert ticket.stage.key == "change_request" and ticket.priority == "high"
    assert ticket.source == "phone" and list(ticket.labels.all()) == [label]
    assert timezone.localtime(ticket.created_at).date() == datetime.date(2026, 1, 10)
    assert ticket.description == "<p>El cliente cambió de auto</p>"


def test_create_refuses_a_missing_name_and_stores_nothing(logged):
    response = logged.post(
        reverse("tickets:create"),
        {"name": "", "stage": stage("new").pk, "priority": "medium", "source": "internal"},
    )
    assert response.status_code == 200
    assert "Indica el nombre del ticket." in response.content.decode()
    assert not Ticket.objects.exists()


def test_create_from_a_conversation_links_it_and_takes_the_channel(logged, agent):
    team = TeamFactory(name="Servicio")
    team.members.add(agent)
    channel = make_channel(name="WhatsApp", kind="whatsapp", team=team)
    conversation = conversation_for(
        channel, "Tengo un problema", phone="+595991222333", name="Ana Pérez"
    )
    url = reverse("tickets:create") + f"?conversation={conversation.pk}"
    html = logged.get(url).content.decode()
    assert "Ana Pérez" in html
    assert '<option value="whatsapp" selected' in html
    response = logged.post(
        reverse("tickets:create"),
        {
            "conversation": conversation.pk,
            "name": "No puede pagar",
            "stage": stage("new").pk,
            "priority": "medium",
            "source": "whatsapp",
        },
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert list(ticket.conversations.all()) == [conversation]
    assert ticket.contact == conversation.contact
    assert ticket.source == "whatsapp"


def test_create_from_a_conversation_of_another_team_is_forbidden(logged):
    channel = make_channel(name="Ventas", team=TeamFactory(name="Ventas"))
    conversation = conversation_for(channel, "Hola")
    response = logged.get(reverse("tickets:create") + f"?conversation={conversation.pk}")
    assert response.status_code == 403


def test_create_form_searches_contacts(logged):
    make_contact(first_name="Marta", last_name="Sosa")
    html = logged.get(reverse("tickets:create") + "?buscar=Marta").content.decode()
    assert "Marta Sosa" in html


# --- the contact profile and the inbox ----------------------------------------------------


def test_contact_profile_shows_the_tickets_card_and_the_cases_kpi(logged, agent):
    contact, _account = policy_holder()
    make_ticket(by=agent, contact=contact, name="Abierto uno")
    closed = make_ticket(by=agent, contact=contact, name="Cerrado uno")
    services.close_ticket(ticket=closed, by=agent)
    html = logged.get(reverse("contacts:detail", args=[contact.pk])).content.decode()
    assert 'id="contact-tickets"' in html
    assert 'data-open="1"' in html and 'data-closed="1"' in html and 'data-total="2"' in html
    assert "Abierto uno" in html
    assert reverse("tickets:create") + f"?contact={contact.pk}" in html
    html = logged.get(reverse("contacts:dashboard", args=[contact.pk])).content.decode()
    assert 'data-cases="2"' in html
    assert "1 abierto · 1 cerrado" in html
    assert 'data-breakdown="stage"' in html and 'data-breakdown="pipeline"' in html
    assert html.count('data-count="1"') == 2  # Nuevo: 1, Cerrado: 1
    assert 'data-count="2"' in html  # the support pipeline: 2


def test_chat_header_offers_create_ticket(logged, agent):
    team = TeamFactory(name="Servicio")
    team.members.add(agent)
    conversation = conversation_for(make_channel(name="Chat", team=team), "Hola")
    html = logged.get(reverse("inbox:header", args=[conversation.pk]), **HTMX).content.decode()
    assert reverse("tickets:create") + f"?conversation={conversation.pk}" in html


def test_timeline_item_on_the_contact_links_to_the_ticket(logged, agent):
    contact, _account = policy_holder()
    ticket = make_ticket(by=agent, contact=contact)
    html = logged.get(reverse("contacts:activity", args=[contact.pk])).content.decode()
    assert detail(ticket) in html


def test_pipeline_change_through_the_stage_of_another_pipeline(logged, agent, ticket):
    from atiende.tickets.models import Pipeline, Stage

    other = Pipeline.objects.create(key="ventas", name="Ventas")
    target = Stage.objects.create(pipeline=other, key="nuevo", name="Nuevo", position=0)
    logged.post(prop(ticket, "stage"), {"stage": target.pk}, **HTMX)
    ticket.refresh_from_db()
    assert ticket.pipeline == other and ticket.stage == target
