"""Per-POST cost of accepting a signed WhatsApp webhook in one process, one after another:
Django's ASGI handler (`atiende.asgi.channels_app`) against the webhook entry
(`atiende.asgi.application` → `core.asgi_webhooks`). Jobs are queued, not run, so the figure is
the accepting alone. SQLite in ATIENDE_DATA_DIR (migrated here; use a throwaway directory):

    ATIENDE_DATA_DIR=/tmp/accept-cost .venv/bin/python -m bench.accept_cost [N]
"""

import asyncio
import json
import logging
import os
import sys
import time


def main(n: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atiende.settings")
    import django

    django.setup()
    from asgiref.testing import ApplicationCommunicator
    from django.core.management import call_command

    from atiende import asgi
    from atiende.connectors.whatsapp.tests.wa_data import (
        envelope,
        make_whatsapp_channel,
        message,
        sign,
    )
    from atiende.inbox.models import Channel

    call_command("migrate", verbosity=0)
    logging.getLogger("atiende.request").setLevel(logging.WARNING)
    if not Channel.objects.filter(kind="whatsapp").exists():
        make_whatsapp_channel("http://127.0.0.1:9")

    async def post(app, raw: bytes) -> None:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/webhooks/whatsapp",
            "raw_path": b"/webhooks/whatsapp",
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"127.0.0.1:8000"),
                (b"content-type", b"application/json"),
                (b"x-hub-signature-256", sign(raw).encode()),
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }
        communicator = ApplicationCommunicator(app, scope)
        await communicator.send_input({"type": "http.request", "body": raw, "more_body": False})
        start = await communicator.receive_output(10)
        await communicator.receive_output(10)
        await communicator.wait(10)
        assert start["status"] == 200, start

    async def run(app) -> float:
        bodies = [json.dumps(envelope([message(body=f"hola {i}")])).encode() for i in range(n)]
        started = time.perf_counter()
        for raw in bodies:
            await post(app, raw)
        return (time.perf_counter() - started) / n * 1000

    for label, app in [("Django", asgi.channels_app), ("entry", asgi.application)] * 2:
        ms = asyncio.run(run(app))
        print(f"{label:>6}: {ms:.2f} ms per POST ({1000 / ms:.0f} POST/s one after another)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
