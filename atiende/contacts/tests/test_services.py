"""Contact services: primaries, identifications, the assigned-user rule, history and merges."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from atiende.activities import services as activities
from atiende.activities.models import Call, Note, Task
from atiende.contacts import selectors, services
from atiende.contacts.models import Account, Contact, ContactPoint, ContactRelation
from atiende.contacts.tests.factories import (
    GroupFactory,
    LabelFactory,
    make_contact,
    point_values,
)
from atiende.core.models import Attachment, AuditEntry
from atiende.users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

P = services.PointInput


@pytest.fixture
def other_agent(db):
    return UserFactory(username="otro", display_name="Pedro Gómez")


def _history(contact: Contact) -> list[tuple[str, dict]]:
    """(action, changes) of the contact's audit history, oldest first."""
    return [(e.action, e.changes) for e in reversed(selectors.contact_history(contact=contact))]


# --- one primary per kind ------------------------------------------------------------------


def test_create_keeps_one_primary_per_kind_the_first_marked(agent):
    contact = services.create_contact(
        by=agent,
        first_name="Ana",
        points=[
            P("phone", "0991 111111"),
            P("phone", "0991 222222", primary=True),
            P("phone", "0991 333333", primary=True),
            P("email", "ana@casa.com"),
            P("email", "ana@trabajo.com"),
        ],
    )
    assert point_values(contact) == [
        ("phone", "+595991111111", False),
        ("phone", "+595991222222", True),
        ("phone", "+595991333333", False),
        ("email", "ana@casa.com", True),
        ("email", "ana@trabajo.com", False),
    ]
    assert (contact.primary_phone, contact.primary_email) == ("+595991222222", "ana@casa.com")


def test_create_drops_the_same_point_typed_twice(agent):
    contact = services.create_contact(
        by=agent,
        first_name="Ana",
        points=[P("mobile", "0991 651351"), P("mobile", "+595 991 651 351")],
    )
    assert point_values(contact) == [("mobile", "+595991651351", True)]


def test_adding_a_primary_point_demotes_the_previous_one(agent):
    contact = make_contact(first_name="Ana", phone="0991 111111")
    second = services.add_point(contact=contact, by=agent, kind="phone", value="0991 222222")
    assert not second.is_primary  # the first of its kind stays primary

    third = services.add_point(
        contact=contact, by=agent, kind="phone", value="0991 333333", primary=True
    )
    assert third.is_primary
    assert [p for p in point_values(contact) if p[2]] == [("phone", "+595991333333", True)]
    contact.refresh_from_db()
    assert contact.primary_phone == "+595991333333"


def test_first_point_of_a_kind_becomes_primary(agent):
    contact = make_contact(first_name="Ana", phone="0991 111111")
    email = services.add_point(contact=contact, by=agent, kind="email", value="A@B.com")
    assert email.is_primary and email.value == "a@b.com"
    contact.refresh_from_db()
    assert contact.primary_email == "a@b.com"


def test_making_a_point_primary_and_deleting_the_primary(agent):
    contact = make_contact(first_name="Ana", phone=["0991 111111", "0991 222222", "0991 333333"])
    first, second, third = contact.points.order_by("id")
    services.update_point(point=third, by=agent, value=third.value, primary=True)
    assert [p.pk for p in contact.points.filter(is_primary=True)] == [third.pk]

    services.delete_point(point=third, by=agent)
    # The oldest remaining point of the kind takes over as primary.
    assert [p.pk for p in contact.points.filter(is_primary=True)] == [first.pk]
    contact.refresh_from_db()
    assert contact.primary_phone == "+595991111111"
    assert second.pk in contact.points.values_list("pk", flat=True)


def test_the_database_refuses_two_primaries_of_a_kind(agent):
    contact = make_contact(first_name="Ana", phone="0991 111111")
    with pytest.raises(IntegrityError), transaction.atomic():
        ContactPoint.objects.create(
            contact=contact,
            kind="phone",
            value="+595991222222",
            search_value="991222222",
            is_primary=True,
        )


def test_a_contact_cannot_have_the_same_point_twice(agent):
    contact = make_contact(first_name="Ana", phone="0991 651351")
    with pytest.raises(ValidationError) as error:
        services.add_point(contact=contact, by=agent, kind="phone", value="+595991651351")
    assert error.value.message_dict == {"value": ["El contacto ya tiene ese dato."]}
    assert contact.points.count() == 1


# --- identification ------------------------------------------------------------------------


def test_identification_is_unique_per_type_whatever_the_formatting(agent):
    make_contact(first_name="Ana", identification_type="ci", identification_number="1.234.567")
    with pytest.raises(ValidationError) as error:
        make_contact(first_name="Otra", identification_type="ci", identification_number="1234567")
    assert error.value.message_dict == {
        "identification_number": ["Ya existe un contacto con esa identificación."]
    }
    assert Contact.objects.count() == 1


def test_same_number_with_another_type_is_allowed(agent):
    make_contact(first_name="Ana", identification_type="ci", identification_number="1234567")
    other = make_contact(
        company="Empresa SA", identification_type="ruc", identification_number="1234567"
    )
    assert other.identification_key == "1234567"
    assert Contact.objects.count() == 2


def test_update_to_an_identification_in_use_is_refused(agent):
    make_contact(first_name="Ana", identification_type="ci", identification_number="1234567")
    other = make_contact(first_name="Otra", identification_type="ci", identification_number="99")
    with pytest.raises(ValidationError) as error:
        services.update_contact(contact=other, by=agent, identification_number="1.234.567")
    assert "identification_number" in error.value.message_dict
    other.refresh_from_db()
    assert other.identification_number == "99"


def test_identification_number_needs_a_type(agent):
    with pytest.raises(ValidationError) as error:
        make_contact(first_name="Ana", identification_number="1234567")
    assert error.value.message_dict == {
        "identification_type": ["Indica el tipo de identificación."]
    }


def test_contact_needs_a_name_company_or_point(agent):
    with pytest.raises(ValidationError) as error:
        services.create_contact(by=agent)
    assert error.value.message_dict == {
        "first_name": ["Indica al menos un nombre, una empresa o un dato de contacto."]
    }


def test_too_long_values_are_refused_with_a_message_on_every_database(agent):
    with pytest.raises(ValidationError) as error:
        services.create_contact(by=agent, first_name="A" * 121, company="B" * 161)
    assert set(error.value.message_dict) == {"first_name", "company"}
    assert not Contact.objects.exists()


def test_future_birth_date_is_refused(agent):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as error:
        make_contact(first_name="Ana", birth_date=tomorrow)
    assert error.value.message_dict == {
        "birth_date": ["La fecha de nacimiento no puede ser futura."]
    }


# --- the assigned user ----------------------------------------------------------------------


def test_admin_can_change_and_remove_anyones_assignment(admin_user, agent, other_agent):
    contact = make_contact(first_name="Ana", assigned_to=agent)
    services.assign_contact(contact=contact, assignee=other_agent, by=admin_user)
    contact.refresh_from_db()
    assert contact.assigned_to == other_agent
    services.assign_contact(contact=contact, assignee=None, by=admin_user)
    contact.refresh_from_db()
    assert contact.assigned_to is None


def test_assigned_agent_can_hand_over_or_remove(agent, other_agent):
    contact = make_contact(first_name="Ana", assigned_to=agent)
    services.assign_contact(contact=contact, assignee=other_agent, by=agent)
    contact.refresh_from_db()
    assert contact.assigned_to == other_agent

    mine = make_contact(first_name="Luis", assigned_to=agent)
    services.assign_contact(contact=mine, assignee=None, by=agent)
    mine.refresh_from_db()
    assert mine.assigned_to is None


def test_another_agent_cannot_change_or_remove_the_assignment(agent, other_agent):
    contact = make_contact(first_name="Ana", assigned_to=agent)
    for assignee in (other_agent, None):
        with pytest.raises(PermissionDenied):
            services.assign_contact(contact=contact, assignee=assignee, by=other_agent)
    contact.refresh_from_db()
    assert contact.assigned_to == agent
    assert not AuditEntry.objects.filter(action="assign").exists()


def test_agent_cannot_take_an_unassigned_contact(agent):
    contact = make_contact(first_name="Ana")
    with pytest.raises(PermissionDenied):
        services.assign_contact(contact=contact, assignee=agent, by=agent)


def test_supervisor_assigns_unassigned_contacts_but_not_others_agents_ones(
    supervisor, agent, other_agent
):
    free = make_contact(first_name="Ana")
    services.assign_contact(contact=free, assignee=agent, by=supervisor)
    free.refresh_from_db()
    assert free.assigned_to == agent

    taken = make_contact(first_name="Luis", assigned_to=other_agent)
    with pytest.raises(PermissionDenied):
        services.assign_contact(contact=taken, assignee=agent, by=supervisor)
    taken.refresh_from_db()
    assert taken.assigned_to == other_agent


def test_inactive_user_cannot_be_assigned(admin_user):
    gone = UserFactory(username="ex", is_active=False)
    contact = make_contact(first_name="Ana")
    with pytest.raises(ValidationError) as error:
        services.assign_contact(contact=contact, assignee=gone, by=admin_user)
    assert error.value.message_dict == {"assigned_to": ["El usuario no está activo."]}


def test_bulk_assign_is_all_or_nothing(agent, other_agent):
    mine = make_contact(first_name="Ana", assigned_to=agent)
    theirs = make_contact(first_name="Luis", assigned_to=other_agent)
    with pytest.raises(PermissionDenied):
        services.bulk_assign(contacts=[mine, theirs], assignee=None, by=agent)
    mine.refresh_from_db()
    assert mine.assigned_to == agent


# --- audit history -----------------------------------------------------------------------------


def test_history_records_field_changes_before_and_after(agent, admin_user, other_agent):
    contact = make_contact(first_name="Ana", last_name="Benítez", company="", by=agent)
    services.update_contact(
        contact=contact, by=agent, first_name="Ana María", company="Seguros del Sur"
    )
    services.update_contact(contact=contact, by=agent, first_name="Ana María")  # no change
    services.assign_contact(contact=contact, assignee=other_agent, by=admin_user)

    history = _history(contact)
    assert [action for action, _changes in history] == ["create", "update", "assign"]
    assert history[1][1] == {
        "company": ["", "Seguros del Sur"],
        "first_name": ["Ana", "Ana María"],
    }
    assert history[2][1] == {"assigned_to": [None, "Pedro Gómez"]}
    entry = selectors.contact_history(contact=contact).first()
    assert entry.actor == admin_user


def test_history_records_point_changes(agent):
    contact = make_contact(first_name="Ana", phone="0991 111111")
    point = services.add_point(contact=contact, by=agent, kind="email", value="ana@a.com")
    services.update_point(point=point, by=agent, value="ana@b.com")
    services.delete_point(point=point, by=agent)

    assert _history(contact)[1:] == [
        ("point_added", {"Correo electrónico": [None, "ana@a.com"]}),
        ("point_changed", {"Correo electrónico": ["ana@a.com", "ana@b.com"]}),
        ("point_removed", {"Correo electrónico": ["ana@b.com", None]}),
    ]


def test_refused_change_leaves_no_history(agent, other_agent):
    contact = make_contact(first_name="Ana", assigned_to=agent)
    before = AuditEntry.objects.count()
    with pytest.raises(PermissionDenied):
        services.assign_contact(contact=contact, assignee=None, by=other_agent)
    with pytest.raises(ValidationError):
        services.update_contact(contact=contact, by=agent, identification_number="123")
    assert AuditEntry.objects.count() == before


def test_delete_needs_supervisor_or_admin_and_is_recorded(agent, supervisor):
    contact = make_contact(first_name="Ana")
    with pytest.raises(PermissionDenied):
        services.delete_contact(contact=contact, by=agent)
    assert Contact.objects.filter(pk=contact.pk).exists()

    pk = contact.pk
    services.delete_contact(contact=contact, by=supervisor)
    assert not Contact.objects.filter(pk=pk).exists()
    assert AuditEntry.objects.filter(action="delete", object_id=str(pk)).exists()


# --- merge ----------------------------------------------------------------------------------


@pytest.fixture
def pair(agent, supervisor):
    """A survivor and its duplicate (same phone typed differently), each with their own history."""
    vip, mora = LabelFactory(name="VIP"), LabelFactory(name="Mora 30")
    survivor = make_contact(
        first_name="José",
        last_name="Núñez",
        phone="0991 651351",
        labels=[vip],
        by=agent,
    )
    duplicate = make_contact(
        first_name="Jose",
        last_name="Nunez",
        points=[
            P("phone", "+595 991 651 351"),  # the same number as the survivor's
            P("mobile", "0981 222333", primary=True),
            P("phone", "0971 444555"),
            P("email", "jose@example.com"),
        ],
        labels=[mora],
        groups=[GroupFactory(name="Cartera 2024")],
        by=agent,
    )
    services.save_account(contact=survivor, by=agent, number="POL-1", product="Auto")
    services.save_account(contact=duplicate, by=agent, number="POL-2", product="Vida")
    activities.add_note(contact=survivor, body="Nota del que queda", by=agent)
    activities.add_note(contact=duplicate, body="Nota del duplicado", by=agent)
    activities.create_task(contact=duplicate, by=agent, title="Llamar al duplicado")
    activities.log_call(
        contact=duplicate, by=agent, direction="outbound", outcome="answered", duration_seconds=60
    )
    services.add_attachment(
        contact=duplicate, upload=SimpleUploadedFile("poliza.txt", b"hola"), by=agent
    )
    return survivor, duplicate


def test_merge_moves_only_the_chosen_parts(pair, supervisor):
    survivor, duplicate = pair
    bystander = make_contact(first_name="Tercero", phone="0982 000111")
    bystander_account = services.save_account(contact=bystander, by=supervisor, number="POL-9")

    result = services.merge_contacts(
        survivor=survivor, duplicate=duplicate, move={"points", "notes"}, by=supervisor
    )

    assert result.pk == survivor.pk
    assert not Contact.objects.filter(pk=duplicate.pk).exists()
    # Points: the repeated phone is not copied, the rest move; the survivor keeps its primary.
    assert sorted(point_values(survivor)) == sorted(
        [
            ("phone", "+595991651351", True),
            ("phone", "+595971444555", False),
            ("mobile", "+595981222333", True),
            ("email", "jose@example.com", True),
        ]
    )
    survivor.refresh_from_db()
    assert (survivor.primary_phone, survivor.primary_email) == (
        "+595991651351",
        "jose@example.com",
    )
    # Notes moved; accounts, tasks, calls, attachments, labels were not chosen: gone with it.
    assert sorted(Note.objects.values_list("contact_id", "body")) == [
        (survivor.pk, "Nota del duplicado"),
        (survivor.pk, "Nota del que queda"),
    ]
    assert list(Account.objects.order_by("number").values_list("contact_id", "number")) == [
        (survivor.pk, "POL-1"),
        (bystander.pk, "POL-9"),
    ]
    assert not Task.objects.exists()
    assert not Call.objects.exists()
    assert not Attachment.objects.exists()
    assert list(survivor.labels.values_list("name", flat=True)) == ["VIP"]
    assert not survivor.groups.exists()
    # Nobody else was touched.
    bystander_account.refresh_from_db()
    assert bystander_account.contact_id == bystander.pk
    assert point_values(bystander) == [("phone", "+595982000111", True)]


def test_merge_moving_everything_keeps_every_row(pair, supervisor):
    survivor, duplicate = pair
    services.merge_contacts(
        survivor=survivor,
        duplicate=duplicate,
        move=set(services.merge_parts()),
        by=supervisor,
    )
    assert set(Account.objects.values_list("number", flat=True)) == {"POL-1", "POL-2"}
    assert Account.objects.filter(contact=survivor).count() == 2
    assert Note.objects.filter(contact=survivor).count() == 2
    assert Task.objects.filter(contact=survivor).count() == 1
    assert Call.objects.filter(contact=survivor).count() == 1
    assert Attachment.objects.filter(contact=survivor).count() == 1
    assert sorted(survivor.labels.values_list("name", flat=True)) == ["Mora 30", "VIP"]
    assert list(survivor.groups.values_list("name", flat=True)) == ["Cartera 2024"]
    survivor.refresh_from_db()
    # The duplicate's call was its latest interaction: the survivor inherits it.
    assert survivor.last_interaction_at == Call.objects.get().at


def test_merge_is_recorded_in_the_survivors_history(pair, supervisor):
    survivor, duplicate = pair
    services.merge_contacts(
        survivor=survivor, duplicate=duplicate, move={"points", "accounts"}, by=supervisor
    )
    entry = selectors.contact_history(contact=survivor).first()
    assert entry.action == "merge"
    assert entry.actor == supervisor
    assert entry.changes == {
        "combinado": [f"Jose Nunez (#{duplicate.pk})", None],
        "movido": [None, "points: 3, accounts: 1"],
    }


def _everything() -> dict[str, list]:
    return {
        "contacts": sorted(
            Contact.objects.values_list(
                "id", "first_name", "primary_phone", "primary_email", "last_interaction_at"
            )
        ),
        "points": sorted(
            ContactPoint.objects.values_list("id", "contact_id", "kind", "value", "is_primary")
        ),
        "accounts": sorted(Account.objects.values_list("id", "contact_id", "number")),
        "notes": sorted(Note.objects.values_list("id", "contact_id")),
        "tasks": sorted(Task.objects.values_list("id", "contact_id")),
        "calls": sorted(Call.objects.values_list("id", "contact_id")),
        "attachments": sorted(Attachment.objects.values_list("id", "contact_id")),
        "relations": sorted(
            ContactRelation.objects.values_list("id", "from_contact_id", "to_contact_id")
        ),
        "labels": sorted(Contact.labels.through.objects.values_list("contact_id", "label_id")),
        "audit": sorted(AuditEntry.objects.values_list("id", "action", "object_id")),
    }


@pytest.fixture
def exploding_merge_part():
    """A merge part that fails after every other chosen part has already run."""
    ran_before_failing: list[int] = []

    def explode(survivor: Contact, duplicate: Contact) -> int:
        ran_before_failing.append(survivor.points.count())
        raise RuntimeError("fallo a mitad de la combinación")

    services.register_merge_part("explode", "Explota", explode)
    yield ran_before_failing
    services.unregister_merge_part("explode")
    assert "explode" not in services.merge_parts()


def test_merge_is_atomic_a_failure_midway_changes_nothing(pair, supervisor, exploding_merge_part):
    survivor, duplicate = pair
    third = make_contact(first_name="Tercero")
    services.relate_contacts(contact=duplicate, other=third, labels="cónyuge", by=supervisor)
    before = _everything()

    with pytest.raises(RuntimeError):
        services.merge_contacts(
            survivor=survivor,
            duplicate=duplicate,
            move={"points", "accounts", "notes", "relations", "labels", "explode"},
            by=supervisor,
        )

    # The earlier parts really ran (the survivor had the duplicate's 3 new points) …
    assert exploding_merge_part == [4]
    # … and were all undone.
    assert _everything() == before


def test_merge_moves_relations_without_relating_the_survivor_to_itself(pair, supervisor):
    survivor, duplicate = pair
    spouse = make_contact(first_name="Cónyuge")
    child = make_contact(first_name="Hijo")
    services.relate_contacts(contact=survivor, other=duplicate, labels="mismo", by=supervisor)
    services.relate_contacts(contact=duplicate, other=spouse, labels="cónyuge", by=supervisor)
    services.relate_contacts(contact=child, other=duplicate, labels="padre", by=supervisor)
    services.relate_contacts(contact=survivor, other=child, labels="padre", by=supervisor)

    services.merge_contacts(
        survivor=survivor, duplicate=duplicate, move={"relations"}, by=supervisor
    )

    pairs = sorted(
        (other.first_name, relation.labels)
        for relation, other in selectors.related_contacts(contact=survivor)
    )
    assert pairs == [("Cónyuge", "cónyuge"), ("Hijo", "padre")]
    assert not ContactRelation.objects.filter(from_contact=survivor, to_contact=survivor).exists()
    assert ContactRelation.objects.count() == 2


def test_agents_cannot_merge(pair, agent):
    survivor, duplicate = pair
    before = _everything()
    with pytest.raises(PermissionDenied):
        services.merge_contacts(survivor=survivor, duplicate=duplicate, move={"points"}, by=agent)
    assert _everything() == before


def test_merge_refuses_the_same_contact_and_unknown_parts(pair, supervisor):
    survivor, duplicate = pair
    with pytest.raises(ValidationError) as same:
        services.merge_contacts(survivor=survivor, duplicate=survivor, move=set(), by=supervisor)
    assert same.value.message_dict == {"duplicate": ["Elige dos contactos distintos."]}
    with pytest.raises(ValidationError) as unknown:
        services.merge_contacts(
            survivor=survivor, duplicate=duplicate, move={"tickets-imaginarios"}, by=supervisor
        )
    assert "move" in unknown.value.message_dict
    assert Contact.objects.filter(pk=duplicate.pk).exists()


def test_possible_duplicates_share_a_phone_email_identification_or_name(agent):
    ana = make_contact(
        first_name="Ana",
        last_name="Benítez",
        phone="0991 651351",
        email="ana@example.com",
        identification_type="ci",
        identification_number="1234567",
    )
    same_phone = make_contact(first_name="A.", phone="+595 991 651 351")
    same_email = make_contact(first_name="Anita", email="ANA@example.com")
    same_id = make_contact(
        first_name="Sra.", identification_type="ruc", identification_number="1.234.567"
    )
    same_name = make_contact(first_name="ana", last_name="benitez")
    make_contact(first_name="Otra", last_name="Persona", phone="0981 000000")

    found = set(selectors.possible_duplicates(contact=ana).values_list("pk", flat=True))
    assert found == {same_phone.pk, same_email.pk, same_id.pk, same_name.pk}
