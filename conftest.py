"""Suite-wide fixtures. Jobs run immediately in tests; live-process tests use their own queue."""

import importlib
import os

import pytest
from hypothesis import settings as hypothesis_settings

from atiende.jobs import huey

huey.immediate = True

# CI explores the same examples every run (a failure there reproduces); local runs keep exploring.
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("ATIENDE_CI"):
    hypothesis_settings.load_profile("ci")

# Browser tests wait for behaviour, never for a time: a loaded CI machine may need more than
# Playwright's 5 s before a page reacts, which is slowness, not a failure.
try:
    from playwright.sync_api import expect as playwright_expect

    playwright_expect.set_options(timeout=15_000)
except ImportError:  # pragma: no cover - playwright is a dev dependency
    pass


@pytest.fixture(scope="session", autouse=True)
def _compiled_catalogues():
    """The .mo files are built, never committed: compile them so translated pages render."""
    from io import StringIO
    from pathlib import Path

    from django.core.management import call_command
    from django.utils.translation.reloader import translation_file_changed

    call_command("compile_catalogues", stdout=StringIO())
    translation_file_changed(sender=None, file_path=Path("django.mo"))  # drop cached catalogues


@pytest.fixture(scope="session", autouse=True)
def _release_test_database(django_db_setup, django_db_blocker):
    """Worker threads (ASGI executors, live servers) keep PostgreSQL sessions open after the last
    test; end them so the test database can be dropped instead of left behind."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


DATA_MIGRATIONS = [
    ("atiende.tickets.migrations.0002_support_pipeline", "create_support_pipeline"),
    ("atiende.tickets.migrations.0004_default_sla", "create_policies"),
]


@pytest.fixture(autouse=True)
def _data_migrations_after_flush(request):
    """A transactional test empties every table when it ends, the rows data migrations made
    included; the next one gets them back as a fresh database would have them."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        return
    request.getfixturevalue("transactional_db")
    from django.apps import apps

    for module, function in DATA_MIGRATIONS:
        getattr(importlib.import_module(module), function)(apps, None)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = [
        "atiende.core.tests.hashers.OneIterationPBKDF2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]


@pytest.fixture
def agent(db):
    from atiende.users.tests.factories import UserFactory

    return UserFactory(username="agente", display_name="María González")


@pytest.fixture
def supervisor(db):
    from atiende.users.models import Role
    from atiende.users.tests.factories import UserFactory

    return UserFactory(username="super", display_name="Jorge Benítez", role=Role.SUPERVISOR)


@pytest.fixture
def admin_user(db):
    from atiende.users.models import Role
    from atiende.users.tests.factories import UserFactory

    return UserFactory(username="jefa", display_name="Ana Martínez", role=Role.ADMIN)


@pytest.fixture
def api_token(db):
    """Return a function giving the `Authorization` header of a fresh token for a user."""
    from atiende.users import services

    def make(user) -> dict:
        _token, plain = services.issue_api_token(user=user, name="pruebas", by=None)
        return {"Authorization": f"Bearer {plain}"}

    return make


@pytest.fixture
def api(client, api_token):
    """`api(user, method, path, payload=None, **kwargs)` → the /api/v1 response, authenticated
    as `user` (one token per user); a dict payload travels as JSON."""
    tokens: dict[int, dict] = {}

    def call(user, method: str, path: str, payload=None, **kwargs):
        if user.pk not in tokens:
            tokens[user.pk] = api_token(user)
        kwargs["headers"] = tokens[user.pk]
        if payload is not None:
            kwargs.update(data=payload, content_type="application/json")
        return getattr(client, method)(f"/api/v1{path}", **kwargs)

    return call
