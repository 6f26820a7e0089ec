"""Finding a customer by phone in any format, by name without minding accents, by e-mail or ID.

Nothing here is database-specific: the same tests run on SQLite and on PostgreSQL.
"""

import phonenumbers
import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, assume, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from atiende.contacts import selectors, services
from atiende.contacts.models import ContactPoint
from atiende.contacts.tests.factories import make_contact

pytestmark = pytest.mark.django_db


def _found(user, query: str) -> list[int]:
    return list(selectors.search_contacts(user=user, query=query).values_list("id", flat=True))


# --- phones ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "595991651351",
        "+595991651351",
        "+595 991 651 351",
        "+595 991 651351",
        "0991-651351",
        "0991 651351",
        "991651351",
        "(0991) 651-351",
    ],
)
def test_phone_in_any_format_finds_the_same_contact(agent, query):
    ana = make_contact(first_name="Ana", last_name="Benítez", phone="+595 991 651351")
    make_contact(first_name="Otro", last_name="Cliente", phone="0981 123456")

    assert _found(agent, query) == [ana.pk]


def test_phone_stored_in_any_format_is_found_by_every_other_format(agent):
    stored = ["595991651351", "+595 991 651 351", "0991-651351", "991651351"]
    contacts = [
        make_contact(first_name=f"Cliente {i}", points=[("mobile", raw)])
        for i, raw in enumerate(stored)
    ]
    # All four are the same number: one E.164 value, whatever was typed.
    assert {c.primary_phone for c in contacts} == {"+595991651351"}
    for query in stored:
        assert sorted(_found(agent, query)) == sorted(c.pk for c in contacts)


def test_partial_phone_does_not_match_a_different_number(agent):
    make_contact(first_name="Ana", phone="0991 651351")
    assert _found(agent, "0991 651352") == []
    assert _found(agent, "651351") == []


def _valid_py_mobile(national: str) -> bool:
    number = phonenumbers.parse(national, "PY")
    return phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


# National significant numbers of Paraguayan mobiles: 9[6-9]X XXXXXX (dialled 09[6-9]X…).
py_mobiles = st.builds(
    lambda operator, rest: f"9{operator}{rest}",
    st.sampled_from("6789"),
    st.text("0123456789", min_size=7, max_size=7),
).filter(_valid_py_mobile)

SEPARATORS = st.sampled_from([" ", "-", ".", "", "", " - "])


@st.composite
def typed_like_a_person(draw, national: str) -> str:
    """`national` as someone might type it: with +595, 595 or a trunk 0 (or none), separators
    anywhere between digits, and perhaps a group (the prefix, the area) in parentheses."""
    prefix = draw(st.sampled_from(["+595", "595", "0", ""]))
    digits = list(national)
    cuts = sorted(draw(st.sets(st.integers(1, len(digits) - 1), max_size=4)))
    groups, start = [], 0
    for cut in [*cuts, len(digits)]:
        groups.append("".join(digits[start:cut]))
        start = cut
    if prefix:
        groups.insert(0, prefix)
    if draw(st.booleans()):
        index = draw(st.integers(0, min(1, len(groups) - 1)))
        groups[index] = f"({groups[index]})"
    text = groups[0]
    for group in groups[1:]:
        text += draw(SEPARATORS) + group
    return text


@hypothesis_settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much],
)
@given(data=st.data(), national=py_mobiles, other=py_mobiles)
def test_any_formatting_of_a_paraguayan_mobile_finds_that_contact_and_no_other(
    agent, data, national, other
):
    assume(other != national)
    neighbour = national[:-1] + str((int(national[-1]) + 1) % 10)
    stored_as = data.draw(typed_like_a_person(national), label="stored")
    query = data.draw(typed_like_a_person(national), label="query")
    with transaction.atomic():
        target = make_contact(first_name="Buscado", phone=stored_as)
        make_contact(first_name="Otro", phone=f"0{other}")
        if _valid_py_mobile(neighbour):
            make_contact(first_name="Vecino", phone=f"+595{neighbour}")
        assert target.primary_phone == f"+595{national}"
        assert _found(agent, query) == [target.pk]
        transaction.set_rollback(True)


def test_invalid_phone_is_refused_in_spanish_and_nothing_is_created(agent):
    from atiende.contacts.models import Contact

    with pytest.raises(ValidationError) as error:
        services.create_contact(
            by=agent,
            first_name="Ana",
            points=[
                services.PointInput(kind="email", value="ana@example.com"),
                services.PointInput(kind="phone", value="12345"),
            ],
        )
    assert error.value.message_dict == {
        "points.1.value": ["«12345» no es un número de teléfono válido."]
    }
    assert not Contact.objects.exists()
    assert not ContactPoint.objects.exists()


def test_invalid_email_is_refused_in_spanish(agent):
    with pytest.raises(ValidationError) as error:
        services.create_contact(
            by=agent, first_name="Ana", points=[services.PointInput(kind="email", value="ana@")]
        )
    assert error.value.message_dict == {
        "points.0.value": ["«ana@» no es un correo electrónico válido."]
    }


def test_phone_region_setting_reads_local_numbers_of_that_country(agent, settings):
    # A Colombian mobile typed without country code is not a valid Paraguayan number …
    with pytest.raises(ValidationError):
        make_contact(first_name="Camilo", phone="300 123 4567")

    # … but it is once the installation says its phones are Colombian.
    settings.ATIENDE_PHONE_REGION = "CO"
    camilo = make_contact(first_name="Camilo", phone="300 123 4567")
    assert camilo.primary_phone == "+573001234567"
    for query in ("3001234567", "300-123-4567", "+57 300 123 4567", "57 300 1234567"):
        assert _found(agent, query) == [camilo.pk], query

    # Numbers with their country code are still read right whatever the region.
    paraguayo = make_contact(first_name="Rubén", phone="+595 981 222333")
    assert paraguayo.primary_phone == "+595981222333"
    assert _found(agent, "+595 981 222 333") == [paraguayo.pk]


# --- names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query", ["Núñez", "nunez", "NUÑEZ", "NUNEZ", "nuñ", "Nun", "josé", "JOSE NÚÑEZ", "  jose  "]
)
def test_name_search_ignores_accents_and_case(agent, query):
    jose = make_contact(first_name="José", last_name="Núñez")
    make_contact(first_name="Ana", last_name="Benítez")

    assert _found(agent, query) == [jose.pk]


def test_partial_name_matches_inside_words_and_across_first_and_last_names(agent):
    maria = make_contact(first_name="María José", last_name="Giménez Ortíz")
    lucia = make_contact(first_name="Lucía", last_name="Giménez")
    assert sorted(_found(agent, "gimenez")) == sorted([maria.pk, lucia.pk])
    assert _found(agent, "jose gim") == [maria.pk]
    assert _found(agent, "menez ort") == [maria.pk]
    assert _found(agent, "ramírez") == []


def test_name_search_through_the_list_selector_too(agent):
    jose = make_contact(first_name="José", last_name="Núñez")
    make_contact(first_name="Ana", last_name="Benítez")
    filters = selectors.ContactFilters(query="NUÑEZ")
    found = selectors.contacts_for_list(user=agent, filters=filters)
    assert [c.pk for c in found] == [jose.pk]


def test_empty_query_finds_nothing(agent):
    make_contact(first_name="Ana")
    assert _found(agent, "") == []
    assert _found(agent, "   ") == []


# --- e-mail and identification ---------------------------------------------------------


def test_email_search_is_case_insensitive(agent):
    ana = make_contact(first_name="Ana", email="Ana.Benitez@Example.COM")
    make_contact(first_name="Otra", email="otra@example.com")
    assert ana.primary_email == "ana.benitez@example.com"
    for query in (
        "ana.benitez@example.com",
        "ANA.BENITEZ@EXAMPLE.COM",
        " Ana.Benitez@example.com ",
    ):
        assert _found(agent, query) == [ana.pk], query


@pytest.mark.parametrize("query", ["1.234.567", "1234567", "1 234 567", "1-234-567"])
def test_identification_matches_with_or_without_dots(agent, query):
    ana = make_contact(
        first_name="Ana", identification_type="ci", identification_number="1.234.567"
    )
    make_contact(first_name="Otra", identification_type="ci", identification_number="7654321")
    assert ana.identification_key == "1234567"
    assert _found(agent, query) == [ana.pk]


def test_identification_with_letters_matches_case_insensitively(agent):
    ruc = make_contact(
        company="Seguros SA", identification_type="ruc", identification_number="80012345-k"
    )
    assert _found(agent, "80012345K") == [ruc.pk]
    assert _found(agent, "80.012.345-K") == [ruc.pk]


def test_search_is_only_for_staff(db):
    from django.contrib.auth.models import AnonymousUser
    from django.core.exceptions import PermissionDenied

    make_contact(first_name="Ana")
    with pytest.raises(PermissionDenied):
        selectors.search_contacts(user=AnonymousUser(), query="ana")
