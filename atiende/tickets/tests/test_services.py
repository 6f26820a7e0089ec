"""Ticket services: creation with validation, escalation to Tech, stage changes, notes, audit,
permissions, bulk actions and the contact merge."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from atiende.contacts import services as contact_services
from atiende.contacts.tests.factories import LabelFactory, make_contact
from atiende.core.models import Attachment, AuditEntry
from atiende.tickets import services
from atiende.tickets.models import Priority, Ticket
from atiende.tickets.tests.factories import make_ticket, policy_holder, stage
from atiende.users.tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _png(name: str = "captura.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def _audit(ticket: Ticket) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Ticket), object_id=str(ticket.pk)
        ).order_by("id")
    )


# --- creation -----------------------------------------------------------------------------


def test_create_ticket_defaults_to_the_support_pipeline_first_stage(agent):
    contact, account = policy_holder()
    ticket = services.create_ticket(
        by=agent,
        name="Cambio de dirección",
        description="<p>Hola</p><script>alert(1)</script>",
        priority=Priority.HIGH,
        account=account,
        source="email",
    )
    assert ticket.number == f"T-{ticket.pk:06d}"
    assert ticket.stage.key == "new"
    assert ticket.contact == contact
    assert ticket.description == "<p>Hola</p>"
    assert ticket.closed_at is None
    assert agent in ticket.followers.all()
    assert _audit(ticket)[0].action == "create"


def test_create_ticket_refuses_bad_input_in_spanish_and_stores_nothing(agent):
    contact, _account = policy_holder()
    _other, other_account = policy_holder("Pedro", "Soto", "POL-9")
    future = timezone.now() + datetime.timedelta(days=2)
    with pytest.raises(ValidationError) as exc:
        services.create_ticket(
            by=agent,
            name=" ",
            priority="altísima",
            contact=contact,
            account=other_account,
            source="fax",
            created_at=future,
        )
    errors = exc.value.message_dict
    assert set(errors) == {"name", "priority", "account", "source", "created_at"}
    assert "nombre" in errors["name"][0]
    assert Ticket.objects.count() == 0


def test_create_date_can_be_set_as_the_guide_asks(agent):
    when = timezone.now() - datetime.timedelta(days=3)
    ticket = make_ticket(by=agent, created_at=when)
    assert ticket.created_at == when


def test_creating_in_a_closed_stage_closes_it(agent):
    ticket = make_ticket(by=agent, stage_key="closed")
    assert ticket.closed_at is not None


# --- escalation to Tech -----------------------------------------------------------------


def test_escalation_is_refused_naming_every_missing_part(agent):
    ticket = make_ticket(by=agent)
    with pytest.raises(ValidationError) as exc:
        services.escalate_to_tech(
            ticket=ticket, by=agent, what="", how=" ", where="", priority=None
        )
    errors = exc.value.message_dict
    assert set(errors) == {"what", "how", "where", "priority"}
    assert "¿Qué ocurre?" in errors["what"][0]
    assert "¿Cómo ocurrió?" in errors["how"][0]
    assert "¿Dónde ocurrió?" in errors["where"][0]
    assert "prioridad" in errors["priority"][0]
    ticket.refresh_from_db()
    assert ticket.stage.key == "new"


@pytest.mark.parametrize("missing", ["what", "how", "where", "priority"])
def test_escalation_without_one_part_is_refused(agent, missing):
    ticket = make_ticket(by=agent)
    parts = {"what": "Error", "how": "Al emitir", "where": "App", "priority": "high"}
    parts[missing] = ""
    with pytest.raises(ValidationError) as exc:
        services.escalate_to_tech(
            ticket=ticket, by=agent, **{**parts, "priority": parts["priority"] or None}
        )
    assert set(exc.value.message_dict) == {missing}


def test_escalation_with_everything_moves_to_tech_and_builds_the_name(agent):
    tech = TeamFactory(name="Tech")
    engineer = UserFactory(username="ingeniero")
    tech.members.add(engineer)
    contact, account = policy_holder()
    ticket = make_ticket(by=agent, account=account)
    ticket.name = ""
    ticket.save(update_fields=["name"])
    services.escalate_to_tech(
        ticket=ticket,
        by=agent,
        what="El endoso no guarda el cambio de vehículo",
        how="Al confirmar el endoso",
        where="Portal web / Pólizas / Endosos",
        requested_changes="Placa ABC-123",
        priority="urgent",
        screenshots=[_png()],
    )
    ticket.refresh_from_db()
    assert ticket.stage.key == "tech_issues"
    assert ticket.name == "POL-4455 \u2013 Lucía Ramírez"
    assert ticket.priority == "urgent"
    assert ticket.team == tech
    assert ticket.escalated_at is not None
    assert ticket.requested_changes == "Placa ABC-123"
    shots = Attachment.objects.filter(owner_id=str(ticket.pk))
    assert [a.mime_type for a in shots] == ["image/png"]
    assert shots[0].contact == contact
    assert any("stage" in e.changes for e in _audit(ticket))


def test_escalation_screenshots_must_be_images(agent):
    ticket = make_ticket(by=agent)
    pdf = SimpleUploadedFile("doc.pdf", b"%PDF-1.4 x", content_type="application/pdf")
    with pytest.raises(ValidationError) as exc:
        services.escalate_to_tech(
            ticket=ticket, by=agent, what="a", how="b", where="c", priority="low", screenshots=[pdf]
        )
    assert set(exc.value.message_dict) == {"screenshots"}
    assert Attachment.objects.count() == 0


def test_creating_straight_into_tech_issues_needs_the_escalation(agent):
    _contact, account = policy_holder()
    with pytest.raises(ValidationError) as exc:
        services.create_ticket(by=agent, stage=stage("tech_issues"), account=account, priority=None)
    assert set(exc.value.message_dict) == {"what", "how", "where", "priority"}
    ticket = services.create_ticket(
        by=agent,
        stage=stage("tech_issues"),
        account=account,
        priority="high",
        escalation=services.Escalation(what="Error 500", how="Al pagar", where="App / Pagos"),
    )
    assert ticket.name == "POL-4455 \u2013 Lucía Ramírez"
    assert ticket.escalation_where == "App / Pagos"


def test_moving_to_tech_issues_on_the_board_needs_a_complete_escalation(agent):
    ticket = make_ticket(by=agent)
    with pytest.raises(ValidationError) as exc:
        services.change_stage(ticket=ticket, stage=stage("tech_issues"), by=agent)
    assert {"what", "how", "where"} <= set(exc.value.message_dict)
    services.change_stage(
        ticket=ticket,
        stage=stage("tech_issues"),
        by=agent,
        escalation=services.Escalation(what="x", how="y", where="z"),
    )
    assert ticket.stage.key == "tech_issues"


# --- stages, activity, audit ------------------------------------------------------------


def test_stage_change_is_audited_and_moves_last_activity(agent):
    ticket = make_ticket(by=agent)
    old = timezone.now() - datetime.timedelta(days=1)
    Ticket.objects.filter(pk=ticket.pk).update(last_activity_at=old)
    ticket.refresh_from_db()
    services.change_stage(ticket=ticket, stage=stage("waiting_on_customer"), by=agent)
    ticket.refresh_from_db()
    assert ticket.last_activity_at > old
    entry = _audit(ticket)[-1]
    assert entry.actor == agent
    assert entry.changes["stage"] == ["Nuevo", "Esperando al cliente"]


def test_close_and_reopen(agent):
    ticket = make_ticket(by=agent)
    services.close_ticket(ticket=ticket, by=agent)
    assert ticket.stage.key == "closed" and ticket.closed_at is not None
    services.reopen_ticket(ticket=ticket, by=agent)
    assert ticket.stage.key == "new" and ticket.closed_at is None


def test_update_records_before_and_after(agent, supervisor):
    label = LabelFactory(name="VIP")
    ticket = make_ticket(by=agent, priority="low")
    services.update_ticket(
        ticket=ticket, by=agent, priority="urgent", owner=supervisor, labels=[label]
    )
    changes = _audit(ticket)[-1].changes
    assert changes["priority"] == ["low", "urgent"]
    assert changes["owner"] == [None, str(supervisor)]
    assert changes["labels"] == ["", "VIP"]


def test_note_moves_last_activity_and_is_sanitised(agent):
    ticket = make_ticket(by=agent)
    old = timezone.now() - datetime.timedelta(days=1)
    Ticket.objects.filter(pk=ticket.pk).update(last_activity_at=old)
    note = services.add_note(
        ticket=ticket,
        by=agent,
        body="<b>Llamé</b> <img src=x onerror=alert(1)>",
        attachments=[_png()],
    )
    assert note.body == "<b>Llamé</b>"
    ticket.refresh_from_db()
    assert ticket.last_activity_at > old
    assert Attachment.objects.get().owner_id == str(note.pk)
    with pytest.raises(ValidationError):
        services.add_note(ticket=ticket, by=agent, body="  ")


def test_link_conversation_moves_activity(agent):
    from atiende.inbox.models import Channel, Conversation

    contact = make_contact(first_name="Ana")
    channel = Channel.objects.create(name="WA", kind="whatsapp")
    conversation = Conversation.objects.create(contact=contact, channel=channel, recipient="1")
    ticket = make_ticket(by=agent)
    services.link_conversation(ticket=ticket, conversation=conversation, by=agent)
    assert ticket.contact == contact
    assert list(ticket.conversations.all()) == [conversation]
    assert services.conversation_activity(conversation=conversation) == 1


# --- permissions ------------------------------------------------------------------------


def test_only_owner_team_or_supervisors_change_a_claimed_ticket(agent, supervisor):
    other = UserFactory(username="otro")
    ticket = make_ticket(by=agent, owner=agent)
    with pytest.raises(PermissionDenied):
        services.update_ticket(ticket=ticket, by=other, priority="high")
    with pytest.raises(PermissionDenied):
        services.change_stage(ticket=ticket, stage=stage("closed"), by=other)
    services.add_note(ticket=ticket, by=other, body="Puedo comentar")  # notes: any staff
    services.update_ticket(ticket=ticket, by=supervisor, priority="high")
    team = TeamFactory(name="Servicio")
    team.members.add(other)
    services.update_ticket(ticket=ticket, by=agent, team=team)
    services.update_ticket(ticket=ticket, by=other, priority="low")
    assert ticket.priority == "low"


def test_unclaimed_tickets_are_open_to_every_agent(agent):
    other = UserFactory(username="otro")
    ticket = make_ticket(by=agent)
    services.update_ticket(ticket=ticket, by=other, owner=other)
    assert ticket.owner == other


def test_inactive_users_cannot_create(agent):
    agent.is_active = False
    agent.save()
    with pytest.raises(PermissionDenied):
        services.create_ticket(by=agent, name="x")


# --- bulk -------------------------------------------------------------------------------


def test_bulk_actions_apply_to_all(agent, supervisor):
    label = LabelFactory(name="Reclamo")
    tickets = [make_ticket(by=agent) for _ in range(3)]
    assert services.bulk_update(tickets=tickets, by=supervisor, action="assign", value=agent) == 3
    services.bulk_update(tickets=tickets, by=supervisor, action="priority", value="urgent")
    services.bulk_update(tickets=tickets, by=supervisor, action="label", value=label)
    services.bulk_update(
        tickets=tickets, by=supervisor, action="stage", value=stage("waiting_on_us")
    )
    services.bulk_update(tickets=tickets, by=supervisor, action="close")
    for ticket in Ticket.objects.all():
        assert ticket.owner == agent
        assert ticket.priority == "urgent"
        assert list(ticket.labels.all()) == [label]
        assert ticket.stage.key == "closed"


def test_bulk_is_all_or_nothing(agent):
    other = UserFactory(username="otro")
    mine = make_ticket(by=agent)
    theirs = make_ticket(by=agent, owner=other)
    with pytest.raises(PermissionDenied) as exc:
        services.bulk_update(tickets=[mine, theirs], by=agent, action="priority", value="urgent")
    assert theirs.number in str(exc.value)
    assert set(Ticket.objects.values_list("priority", flat=True)) == {"medium"}


# --- merge ------------------------------------------------------------------------------


def test_merge_moves_tickets(agent, admin_user):
    survivor = make_contact(first_name="Ana")
    duplicate = make_contact(first_name="Ana M.")
    ticket = make_ticket(by=agent, contact=duplicate)
    assert "tickets" in contact_services.merge_parts()
    contact_services.merge_contacts(
        survivor=survivor, duplicate=duplicate, move={"tickets"}, by=admin_user
    )
    ticket.refresh_from_db()
    assert ticket.contact == survivor
