"""`GET/POST /webhooks/whatsapp`: Meta's handshake, then signed events stored and queued.

Nothing is stored unless the signature (over the raw bytes) matches the app secret of the channel
the event names by `metadata.phone_number_id`. The event is processed by a job, not here.
"""

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from atiende.connectors.meta.graph import handshake, parse_webhook_body, verify_signature
from atiende.connectors.whatsapp import services

logger = logging.getLogger(__name__)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def webhook(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        for channel in services.whatsapp_channels():
            challenge = handshake(request.GET, channel.credentials.get("verify_token", ""))
            if challenge is not None:
                return HttpResponse(challenge, content_type="text/plain")
        return HttpResponseForbidden("forbidden", content_type="text/plain")

    if accept_event(request.body, request.headers.get("X-Hub-Signature-256")):
        return HttpResponse("ok", content_type="text/plain")
    return HttpResponseForbidden("forbidden", content_type="text/plain")


def accept_event(raw: bytes, signature: str | None) -> bool:
    """Store a signed event once and queue its processing. False, with nothing stored, when the
    body is not JSON or no active channel it names signs it with its app secret. The Django view
    and the ASGI entry (`atiende.asgi`) both answer POSTs through here."""
    try:
        data = parse_webhook_body(raw)
    except (ValueError, UnicodeDecodeError):
        return False
    channel = None
    for candidate in services.channels_for_event(data):
        if verify_signature(raw, signature, candidate.credentials.get("app_secret", "")):
            channel = candidate
            break
    if channel is None:
        logger.warning("whatsapp webhook refused: unknown number or bad signature")
        return False
    event, created = services.store_event(channel, raw, data)
    if created:
        from atiende.connectors.whatsapp import jobs

        jobs.process_whatsapp_event(event.pk)
    return True
