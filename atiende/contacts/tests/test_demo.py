"""The demo book of customers: loaded by `seed_demo`, the same after a second run, searchable."""

from io import StringIO

import pytest
from django.core.management import call_command

from atiende.activities.models import Call, Note, Task
from atiende.contacts import selectors
from atiende.contacts.demo import CONTACTS, seed_contacts
from atiende.contacts.models import (
    Account,
    Contact,
    ContactGroup,
    ContactPoint,
    ContactRelation,
    Label,
)
from atiende.core.models import AuditEntry
from atiende.users.models import User

pytestmark = pytest.mark.django_db


def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            User,
            Contact,
            ContactPoint,
            Label,
            ContactGroup,
            Account,
            ContactRelation,
            Note,
            Task,
            Call,
            AuditEntry,
        )
    }


@pytest.fixture
def seeded(monkeypatch):
    monkeypatch.setenv("ATIENDE_DEMO_PASSWORD", "demo-de-prueba-123")
    call_command("seed_demo", stdout=StringIO())
    return User.objects.get(username="admin")


def test_seed_demo_twice_leaves_the_same_counts(seeded):
    first = _counts()
    assert first["Contact"] == len(CONTACTS) >= 40
    assert first["Account"] >= 20
    assert min(first["Note"], first["Task"], first["Call"], first["ContactRelation"]) > 0
    points_before = sorted(ContactPoint.objects.values_list("contact_id", "kind", "value"))

    call_command("seed_demo", stdout=StringIO())
    assert seed_contacts(by=seeded) == 0

    assert _counts() == first
    assert sorted(ContactPoint.objects.values_list("contact_id", "kind", "value")) == points_before


def test_demo_customers_are_found_by_any_phone_format(seeded):
    jose = Contact.objects.get(identification_type="ci", identification_key="1234567")
    assert jose.full_name == "José Núñez"
    for query in ("0981 123 456", "+595 981 123456", "595981123456", "981123456", "nunez"):
        found = set(selectors.search_contacts(user=seeded, query=query))
        # José and the duplicate planted for the merge demo.
        assert jose in found, query
        assert {c.search_name for c in found} == {"jose nunez"}, query
    camilo = Contact.objects.get(identification_type="cc", identification_key="1020304050")
    assert list(selectors.search_contacts(user=seeded, query="+57 300 123 4567")) == [camilo]


def test_demo_has_duplicates_ready_to_merge(seeded):
    for key in ("1234567", "52123456"):
        original = Contact.objects.get(identification_key=key)
        (duplicate,) = selectors.possible_duplicates(contact=original)
        assert duplicate.identification_key == ""
        assert duplicate.search_name == original.search_name
