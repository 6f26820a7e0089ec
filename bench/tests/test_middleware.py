"""ATIENDE_BENCH's middleware: the server's own time and query count on every response."""

import pytest
from django.conf import settings

from atiende.contacts.tests.factories import make_contact

pytestmark = pytest.mark.django_db

BENCH = "atiende.core.middleware.BenchMiddleware"


def test_off_unless_the_benchmark_turns_it_on(client):
    assert BENCH not in settings.MIDDLEWARE
    assert "X-Query-Count" not in client.get("/healthz")


def test_counts_the_queries_of_the_request(client, agent, settings):
    settings.MIDDLEWARE = [BENCH, *settings.MIDDLEWARE]
    client.force_login(agent)
    make_contact(first_name="Ana", last_name="Benítez")

    one = client.get("/contactos/")
    make_contact(first_name="Luis", last_name="Vera")
    two = client.get("/contactos/")

    assert one.status_code == 200
    assert int(one["X-Query-Count"]) >= 3  # session, user, the list at least
    assert one["X-Query-Count"] == two["X-Query-Count"]  # one more row, not one more query
    name, duration = one["Server-Timing"].split(";dur=")
    assert name == "app" and float(duration) > 0
