"""Webhook POSTs answered by the ASGI entry (`core.asgi_webhooks`), driven through the real
`atiende.asgi.application` as uvicorn calls it: same rules as the Django view."""

import json

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator

from atiende.asgi import application
from atiende.connectors.whatsapp.models import WebhookEvent
from atiende.connectors.whatsapp.tests.wa_data import envelope, message, sign
from atiende.inbox.models import Message

# The body is accepted on the entry's own threads: their connections must see committed rows.
pytestmark = pytest.mark.django_db(transaction=True)


def asgi(
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    chunk: int | None = None,
    query: str = "",
) -> tuple[int, bytes]:
    """One HTTP request through the ASGI application: (status, body)."""
    raw_headers = [(b"host", b"127.0.0.1:8000")] + [
        (key.lower().encode(), value.encode()) for key, value in (headers or {}).items()
    ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": raw_headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }

    async def run() -> tuple[int, bytes]:
        communicator = ApplicationCommunicator(application, scope)
        parts = [body[i : i + chunk] for i in range(0, len(body), chunk)] if chunk else [body]
        for index, part in enumerate(parts):
            await communicator.send_input(
                {"type": "http.request", "body": part, "more_body": index < len(parts) - 1}
            )
        start = await communicator.receive_output(10)
        content = b""
        while True:
            event = await communicator.receive_output(10)
            content += event.get("body", b"")
            if not event.get("more_body"):
                break
        await communicator.wait(10)
        return start["status"], content

    return async_to_sync(run)()


def signed(raw: bytes) -> dict[str, str]:
    return {"content-type": "application/json", "x-hub-signature-256": sign(raw)}


def test_a_signed_post_is_stored_once_and_its_message_reaches_the_inbox(wa_channel):
    raw = json.dumps(envelope([message(body="Hola, ¿mi póliza sigue vigente?")])).encode()
    assert asgi("POST", "/webhooks/whatsapp", raw, signed(raw), chunk=100) == (200, b"ok")
    assert asgi("POST", "/webhooks/whatsapp", raw, signed(raw)) == (200, b"ok")  # Meta repeats
    assert WebhookEvent.objects.count() == 1
    assert Message.objects.get().body == "Hola, ¿mi póliza sigue vigente?"


@pytest.mark.parametrize("signature", [None, "sha256=" + "0" * 64, "sha1=abc"])
def test_a_bad_signature_is_refused_and_stored_nowhere(wa_channel, signature):
    raw = json.dumps(envelope([message(body="Hola")])).encode()
    headers = {"content-type": "application/json"}
    if signature:
        headers["x-hub-signature-256"] = signature
    assert asgi("POST", "/webhooks/whatsapp", raw, headers) == (403, b"forbidden")
    assert not WebhookEvent.objects.exists() and not Message.objects.exists()


def test_malformed_json_is_refused(wa_channel):
    raw = b'{"entry": [NaN]}'
    assert asgi("POST", "/webhooks/whatsapp", raw, signed(raw))[0] == 403
    assert not WebhookEvent.objects.exists()


def test_a_host_outside_allowed_hosts_is_refused(wa_channel, settings):
    settings.ALLOWED_HOSTS = ["atiende.example.com"]
    raw = json.dumps(envelope([message()])).encode()
    assert asgi("POST", "/webhooks/whatsapp", raw, signed(raw))[0] == 400
    assert not WebhookEvent.objects.exists()


def test_a_body_over_the_upload_limit_is_refused(wa_channel, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    raw = json.dumps(envelope([message(body="x" * 2000)])).encode()
    assert asgi("POST", "/webhooks/whatsapp", raw, signed(raw), chunk=400)[0] == 413
    assert not WebhookEvent.objects.exists()


def test_other_requests_still_go_through_django(wa_channel):
    # The handshake (GET) is Django's view; another webhook path gets Django's CSRF-exempt view.
    status, _ = asgi(
        "GET",
        "/webhooks/whatsapp",
        query="hub.mode=subscribe&hub.verify_token=otro&hub.challenge=1",
    )
    assert status == 403
    assert asgi("POST", "/webhooks/meta", b"{}", {"content-type": "application/json"})[0] == 403
