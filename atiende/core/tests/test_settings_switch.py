"""One env var switches SQLite→PostgreSQL and memory→Redis; the secret key is generated once.

Each case imports the settings in a fresh `python -c` process with its own environment, as a
deployment would start; nothing here connects to PostgreSQL or Redis.
"""

import json
import os
import stat
import subprocess
import sys

import pytest
from django.conf import settings

PROBE = """
import json
from django.conf import settings
from atiende.jobs import huey

db = settings.DATABASES["default"]
layer = settings.CHANNEL_LAYERS["default"]
print(json.dumps({
    "engine": db["ENGINE"],
    "name": str(db["NAME"]),
    "host": db.get("HOST", ""),
    "port": db.get("PORT", ""),
    "user": db.get("USER", ""),
    "options": db.get("OPTIONS", {}),
    "test_name": db.get("TEST", {}).get("NAME"),
    "conn_health_checks": db.get("CONN_HEALTH_CHECKS", False),
    "layer_backend": layer["BACKEND"],
    "layer_config": layer.get("CONFIG", {}),
    "cache_backend": settings.CACHES["default"]["BACKEND"],
    "huey_class": type(huey).__name__,
    "huey_storage": type(huey.storage).__name__,
    "huey_filename": getattr(huey.storage, "filename", None),
    "secret_key": settings.SECRET_KEY,
    "data_dir": str(settings.DATA_DIR),
}))
"""

SQLITE_JOURNAL_PROBE = """
import django
django.setup()
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("PRAGMA journal_mode")
    print(cursor.fetchone()[0])
"""

CLEARED = {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DEBUG"}


def _run(code: str, data_dir, **env_overrides) -> str:
    env = {key: value for key, value in os.environ.items() if key not in CLEARED}
    env.update(
        DJANGO_SETTINGS_MODULE="atiende.settings",
        ATIENDE_DATA_DIR=str(data_dir),
        **env_overrides,
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def _settings(data_dir, **env_overrides) -> dict:
    return json.loads(_run(PROBE, data_dir, **env_overrides).splitlines()[-1])


def test_default_is_sqlite_wal_memory_layer_and_sqlite_jobs(tmp_path):
    found = _settings(tmp_path)
    assert found["engine"] == "django.db.backends.sqlite3"
    assert found["name"] == str(tmp_path.resolve() / "atiende.sqlite3")
    assert found["options"]["transaction_mode"] == "IMMEDIATE"
    assert "PRAGMA journal_mode=WAL" in found["options"]["init_command"]
    assert "PRAGMA foreign_keys=ON" in found["options"]["init_command"]
    assert found["options"]["timeout"] == 20
    assert found["test_name"] == str(tmp_path.resolve() / "test-atiende.sqlite3")
    assert found["layer_backend"] == "atiende.core.layers.InMemoryChannelLayer"
    assert found["cache_backend"] == "django.core.cache.backends.locmem.LocMemCache"
    assert found["huey_class"] == "SqliteHuey"
    assert found["huey_filename"] == str(tmp_path.resolve() / "jobs.sqlite3")
    assert found["data_dir"] == str(tmp_path.resolve())


def test_channel_layer_capacity_and_expiry_come_from_the_environment(tmp_path):
    """Channels' default capacity (100) dropped events under load; both layouts take ours."""
    memory = _settings(tmp_path)
    assert memory["layer_config"] == {"capacity": 5000, "expiry": 120}
    redis = _settings(
        tmp_path,
        REDIS_URL="redis://cache.interno:6380/2",
        ATIENDE_CHANNEL_CAPACITY="20000",
        ATIENDE_CHANNEL_EXPIRY_SECONDS="30",
    )
    assert redis["layer_config"]["capacity"] == 20000
    assert redis["layer_config"]["expiry"] == 30


def test_default_sqlite_really_runs_in_wal_mode(tmp_path):
    assert _run(SQLITE_JOURNAL_PROBE, tmp_path).splitlines()[-1] == "wal"


def test_database_url_and_redis_url_switch_to_postgres_and_redis(tmp_path):
    found = _settings(
        tmp_path,
        DATABASE_URL="postgres://atiende:secreto@db.interno:6543/atiende_prod",
        REDIS_URL="redis://cache.interno:6380/2",
        ATIENDE_REDIS_PREFIX="cliente1",
    )
    assert found["engine"] == "django.db.backends.postgresql"
    assert found["name"] == "atiende_prod"
    assert found["host"] == "db.interno"
    assert int(found["port"]) == 6543
    assert found["user"] == "atiende"
    assert found["conn_health_checks"] is True
    # ASGI runs each request in a new thread: a pool, not persistent connections per thread.
    assert found["options"]["pool"]["max_size"] == 10
    assert "transaction_mode" not in found["options"]
    assert found["test_name"] is None
    assert found["layer_backend"] == "channels_redis.core.RedisChannelLayer"
    assert found["layer_config"] == {
        "hosts": [{"address": "redis://cache.interno:6380/2", "socket_timeout": 30.0}],
        "prefix": "cliente1:ws",
        "capacity": 5000,
        "expiry": 120,
    }
    assert found["cache_backend"] == "django.core.cache.backends.redis.RedisCache"
    assert found["huey_class"] == "RedisHuey"
    assert found["huey_storage"] == "RedisStorage"
    # Nothing was written for the SQLite layout.
    assert not (tmp_path / "jobs.sqlite3").exists()
    assert not (tmp_path / "atiende.sqlite3").exists()


def test_database_url_alone_keeps_memory_layer_and_sqlite_jobs(tmp_path):
    found = _settings(tmp_path, DATABASE_URL="postgres://u:p@127.0.0.1:5432/atiende")
    assert found["engine"] == "django.db.backends.postgresql"
    assert found["layer_backend"] == "atiende.core.layers.InMemoryChannelLayer"
    assert found["huey_class"] == "SqliteHuey"


# --- the secret key -----------------------------------------------------------------------------


def test_secret_key_is_generated_once_and_reused(tmp_path):
    first = _settings(tmp_path)["secret_key"]
    key_file = tmp_path / "secret_key"
    assert key_file.read_text().strip() == first
    assert len(first) >= 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    second = _settings(tmp_path)["secret_key"]
    assert second == first


def test_each_data_dir_gets_its_own_secret_key(tmp_path):
    one = _settings(tmp_path / "a")["secret_key"]
    two = _settings(tmp_path / "b")["secret_key"]
    assert one != two


def test_secret_key_from_environment_wins(tmp_path):
    generated = _settings(tmp_path)["secret_key"]
    from_env = "clave-de-produccion-" + "x" * 40
    assert _settings(tmp_path, SECRET_KEY=from_env)["secret_key"] == from_env
    # The file is left as it was, and is used again once the variable is gone.
    assert (tmp_path / "secret_key").read_text().strip() == generated
    assert _settings(tmp_path)["secret_key"] == generated


def test_secret_key_from_environment_writes_no_file(tmp_path):
    _settings(tmp_path, SECRET_KEY="solo-en-el-entorno-" + "y" * 40)
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize("value, expected", [("true", True), ("0", False)])
def test_debug_comes_from_environment(tmp_path, value, expected):
    code = "from django.conf import settings; print(settings.DEBUG)"
    assert _run(code, tmp_path, DEBUG=value) == str(expected)
