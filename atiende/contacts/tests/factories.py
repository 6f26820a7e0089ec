"""Contacts for tests, built through `contacts.services` so derived columns are always right.

`ContactFactory(phone="0991 651351", email="ana@example.com")` creates the contact with
`services.create_contact`, so `search_name`, `identification_key`, the normalised points and the
primary phone/e-mail are exactly what the application itself would store. `make_contact(**kw)` is
the same as a function.
"""

from typing import Any

import factory

from atiende.contacts import services
from atiende.contacts.models import Account, Contact, ContactGroup, ContactPoint, Label
from atiende.core.normalize import fold, identification_key


def _point(value: Any) -> services.PointInput:
    if isinstance(value, services.PointInput):
        return value
    if isinstance(value, dict):
        return services.PointInput(**value)
    kind, raw = value
    return services.PointInput(kind=kind, value=raw)


class ContactFactory(factory.django.DjangoModelFactory):
    """Extra keyword arguments, all optional:

    - `phone` / `email`: one primary point of that kind (a list gives several, first primary);
    - `points`: `PointInput`s, dicts or `(kind, value)` pairs;
    - `labels`, `groups`: model instances; `by`: the user creating it (None = system).
    """

    class Meta:
        model = Contact
        skip_postgeneration_save = True

    first_name = factory.Faker("first_name", locale="es_ES")
    last_name = factory.Faker("last_name", locale="es_ES")
    identification_type = ""
    identification_number = ""
    company = ""
    notes = ""
    birth_date = None
    assigned_to = None

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        for name in ("phone", "email", "points", "labels", "groups", "by"):
            kwargs.pop(name, None)
        contact = model_class(*args, **kwargs)
        contact.search_name = fold(f"{contact.first_name} {contact.last_name}")[:250]
        contact.identification_key = identification_key(contact.identification_number)
        return contact

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        points = [_point(p) for p in kwargs.pop("points", None) or ()]
        for kind in ("phone", "email"):
            values = kwargs.pop(kind, None)
            if isinstance(values, str):
                values = [values]
            points += [
                services.PointInput(kind=kind, value=value, primary=index == 0)
                for index, value in enumerate(values or ())
            ]
        return services.create_contact(
            by=kwargs.pop("by", None),
            points=points,
            labels=kwargs.pop("labels", None) or (),
            groups=kwargs.pop("groups", None) or (),
            **kwargs,
        )


def make_contact(**kwargs: Any) -> Contact:
    """A saved contact, created by `services.create_contact` (see `ContactFactory`)."""
    return ContactFactory(**kwargs)


class LabelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Label
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Etiqueta {n}")
    color = "#0d6efd"


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactGroup
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Grupo {n}")
    description = ""


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    contact = factory.SubFactory(ContactFactory)
    number = factory.Sequence(lambda n: f"POL-{n:06d}")
    product = "Seguro automotor"
    status = Account.Status.ACTIVE
    extra = factory.LazyFunction(dict)


def point_values(contact: Contact, kind: str | None = None) -> list[tuple[str, str, bool]]:
    """(kind, stored value, primary) of a contact's points, in id order: handy in assertions."""
    points = ContactPoint.objects.filter(contact=contact).order_by("id")
    if kind:
        points = points.filter(kind=kind)
    return list(points.values_list("kind", "value", "is_primary"))
