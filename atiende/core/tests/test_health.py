"""/healthz reports each component, and fails naming the one that is down; logs are JSON."""

import io
import json
import logging
import sys

import pytest
from django.test import override_settings

from atiende.core import health
from atiende.core.logging import JsonFormatter
from atiende.jobs import make_huey

pytestmark = pytest.mark.django_db

# Nothing listens on port 1: connecting fails at once with "connection refused".
DEAD_REDIS = "redis://127.0.0.1:1/0"
DEAD_CHANNEL_LAYER = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [DEAD_REDIS]},
    }
}


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "jobs": "ok",
        "realtime": "ok",
    }
    assert "no-cache" in response["Cache-Control"]


def test_healthz_needs_no_login_nor_token(client):
    # Anonymous, and without an API token: load balancers call it as they are.
    assert client.get("/healthz").status_code == 200


def test_healthz_503_names_realtime_when_channel_layer_is_down(client, caplog):
    with override_settings(CHANNEL_LAYERS=DEAD_CHANNEL_LAYER), caplog.at_level(logging.WARNING):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "database": "ok",
        "jobs": "ok",
        "realtime": "error",
    }
    failures = [r for r in caplog.records if r.getMessage() == "health check failed"]
    assert [r.check for r in failures] == ["realtime"]
    assert "onnect" in failures[0].error  # the cause goes to the log, not to the caller
    assert "onnect" not in response.content.decode()
    # Back to the in-memory layer: healthy again.
    assert client.get("/healthz").status_code == 200


def test_healthz_503_names_jobs_when_queue_is_down(client, monkeypatch, tmp_path):
    dead_queue = make_huey(data_dir=tmp_path, redis_url=DEAD_REDIS)
    monkeypatch.setattr(health, "huey", dead_queue)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "database": "ok",
        "jobs": "error",
        "realtime": "ok",
    }


def test_health_report_lists_every_failure(monkeypatch, tmp_path):
    monkeypatch.setattr(health, "huey", make_huey(data_dir=tmp_path, redis_url=DEAD_REDIS))
    with override_settings(CHANNEL_LAYERS=DEAD_CHANNEL_LAYER):
        healthy, report = health.health_report()
    assert healthy is False
    assert report == {"status": "error", "database": "ok", "jobs": "error", "realtime": "error"}


# --- structured logs ---------------------------------------------------------------------------


def test_request_log_record_has_structured_fields(client, agent, caplog):
    client.force_login(agent)
    with caplog.at_level(logging.INFO, logger="atiende.request"):
        client.get("/ajustes/perfil/?x=1")
    records = [r for r in caplog.records if r.name == "atiende.request"]
    assert len(records) == 1
    line = JsonFormatter().format(records[0])
    entry = json.loads(line)
    assert "\n" not in line
    assert entry["level"] == "info"
    assert entry["logger"] == "atiende.request"
    assert entry["msg"] == "GET /ajustes/perfil/ 200"
    assert entry["method"] == "GET"
    assert entry["path"] == "/ajustes/perfil/"
    assert entry["status"] == 200
    assert entry["user_id"] == agent.pk
    assert isinstance(entry["duration_ms"], float)
    assert entry["ts"].endswith("+00:00")


def test_anonymous_request_logs_null_user(client, caplog):
    with caplog.at_level(logging.INFO, logger="atiende.request"):
        client.get("/healthz")
    (record,) = [r for r in caplog.records if r.name == "atiende.request"]
    entry = json.loads(JsonFormatter().format(record))
    assert entry["user_id"] is None
    assert entry["status"] == 200


def test_configured_console_handler_writes_json_lines(client):
    """The handler settings.LOGGING installs on the root logger writes one JSON object a line."""
    handlers = [h for h in logging.getLogger().handlers if isinstance(h.formatter, JsonFormatter)]
    assert len(handlers) == 1, "the root logger has no JSON handler: see settings.LOGGING"
    buffer = io.StringIO()
    previous = handlers[0].setStream(buffer)
    try:
        client.get("/healthz")
    finally:
        handlers[0].setStream(previous)
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    requests = [entry for entry in lines if entry["logger"] == "atiende.request"]
    assert len(requests) == 1
    assert requests[0]["path"] == "/healthz"
    assert requests[0]["status"] == 200


def test_json_formatter_keeps_non_ascii_and_exceptions():
    try:
        raise ValueError("cobranza falló")
    except ValueError:
        record = logging.LogRecord(
            "atiende.test", logging.ERROR, __file__, 1, "pago de %s", ("Núñez",), sys.exc_info()
        )
    record.contact_id = 7
    entry = json.loads(JsonFormatter().format(record))
    assert entry["msg"] == "pago de Núñez"
    assert entry["level"] == "error"
    assert entry["contact_id"] == 7
    assert "ValueError: cobranza falló" in entry["exc"]
