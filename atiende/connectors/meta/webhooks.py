"""`GET/POST /webhooks/meta`: Messenger (`object: page`) and Instagram (`object: instagram`).

GET answers Meta's subscription handshake for any Messenger/Instagram channel's verify token.
POST is verified (X-Hub-Signature-256 over the raw bytes, the app secret of the channel named by
`entry[].id`), stored once and answered 200 at once; a job parses it. Anything unsigned,
wrongly signed or for an unknown page gets 403 and nothing is stored.
"""

from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from atiende.connectors.meta import services

MAX_BODY_BYTES = 2 * 1024 * 1024


@csrf_exempt
@require_http_methods(["GET", "POST"])
def webhook(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        challenge = services.verify_token_matches(request.GET)
        if challenge is None:
            return HttpResponseForbidden()
        return HttpResponse(challenge, content_type="text/plain")
    raw = request.body
    if len(raw) > MAX_BODY_BYTES:
        return HttpResponse(status=413)
    channels = services.verified_channels(raw, request.headers.get("X-Hub-Signature-256"))
    if not channels:
        return HttpResponseForbidden()
    event = services.store_event(raw, channels[0])
    if event is not None:
        from atiende.connectors.meta import jobs

        transaction.on_commit(lambda: jobs.process_webhook(event.pk), robust=True)
    return HttpResponse("EVENT_RECEIVED", content_type="text/plain")
