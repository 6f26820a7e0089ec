"""Tickets made through the service, so they carry what a real one does (audit, follower)."""

from typing import Any

from atiende.contacts.tests.factories import AccountFactory, make_contact
from atiende.tickets import services
from atiende.tickets.models import Stage, Ticket
from atiende.users.models import Role
from atiende.users.tests.factories import UserFactory

_counter = {"n": 0}


def stage(key: str) -> Stage:
    return services.default_pipeline().stages.get(key=key)


def make_ticket(*, by: Any = None, stage_key: str | None = None, **kwargs: Any) -> Ticket:
    if by is None:
        by = UserFactory(role=Role.ADMIN)
    _counter["n"] += 1
    kwargs.setdefault("name", f"Ticket de prueba {_counter['n']}")
    if stage_key:
        kwargs["stage"] = stage(stage_key)
    return services.create_ticket(by=by, **kwargs)


def policy_holder(first_name: str = "Lucía", last_name: str = "Ramírez", number: str = "POL-4455"):
    contact = make_contact(first_name=first_name, last_name=last_name)
    account = AccountFactory(contact=contact, number=number)
    return contact, account
