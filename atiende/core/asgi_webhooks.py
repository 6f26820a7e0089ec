"""Provider webhook POSTs answered straight from ASGI, beside Django's handler.

A WhatsApp number in a burst sends hundreds of POSTs a second, each only verified, stored and
queued. Through Django's ASGI handler each one also crossed the whole middleware chain (sessions,
auth, locale, messages…, none of which a webhook uses) and ran its view in a thread created for
that request, with a database connection opened for that thread: the benchmark's profile showed
those as most of the time of a POST. Here the body is read on the event loop and the same
`accept` function the Django view calls runs on a small fixed pool of threads whose database
connections are reused like a request's (checked before and after). Host checking, the body
limit and the request log line are kept.
"""

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import close_old_connections
from django.http.request import split_domain_port, validate_host

from atiende.core.middleware import log_request

logger = logging.getLogger(__name__)

Accept = Callable[[bytes, str | None], bool]
_executor: ThreadPoolExecutor | None = None


@functools.cache
def routes() -> dict[str, Accept]:
    """Path → the function its Django view uses to accept a POST (imported once apps are ready)."""
    from atiende.connectors.whatsapp.webhooks import accept_event

    return {"/webhooks/whatsapp": accept_event}


def handles(scope: dict) -> bool:
    """A POST to a webhook path this entry answers (everything else goes to Django)."""
    return scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in routes()


def _pool() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(
            max_workers=settings.ATIENDE_WEBHOOK_THREADS, thread_name_prefix="webhook"
        )
    return _executor


def _run(accept: Accept, raw: bytes, signature: str | None) -> bool:
    close_old_connections()
    try:
        return accept(raw, signature)
    finally:
        close_old_connections()


async def _respond(send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"x-content-type-options", b"nosniff"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _header(scope: dict, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


async def app(scope: dict, receive, send) -> None:
    started = time.perf_counter()
    status = await _answer(scope, receive, send)
    if status:
        log_request("POST", scope["path"], status, started, None)


async def _answer(scope: dict, receive, send) -> int:
    """The status sent, or 0 when the client left before the body arrived."""
    host = settings.USE_X_FORWARDED_HOST and _header(scope, b"x-forwarded-host")
    domain, _port = split_domain_port(host or _header(scope, b"host") or "")
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    if not domain or not validate_host(domain, allowed):
        await _respond(send, 400, b"bad request")
        return 400
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return 0
        chunk = message.get("body", b"")
        size += len(chunk)
        if limit is not None and size > limit:
            await _respond(send, 413, b"payload too large")
            return 413
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    accept = routes()[scope["path"]]
    signature = _header(scope, b"x-hub-signature-256")
    loop = asyncio.get_running_loop()
    try:
        accepted = await loop.run_in_executor(_pool(), _run, accept, b"".join(chunks), signature)
    except Exception:
        logger.exception("webhook %s failed", scope["path"])
        await _respond(send, 500, b"error")
        return 500
    if accepted:
        await _respond(send, 200, b"ok")
        return 200
    await _respond(send, 403, b"forbidden")
    return 403
