"""Messenger/Instagram jobs: parse a stored webhook delivery; fetch an inbound file (retried
with back-off, then flagged on the message so the agent sees it could not be fetched)."""

from django.conf import settings

from atiende.connectors.meta import services
from atiende.jobs import huey

MEDIA_ATTEMPTS = 3


@huey.task()
def process_webhook(event_id: int) -> None:
    services.process_event(event_id)


@huey.task()
def download_media(message_id: int, index: int, attempt: int = 1) -> str:
    try:
        services.download_media(message_id, index)
    except Exception as exc:
        attempts = getattr(settings, "ATIENDE_META_MEDIA_ATTEMPTS", MEDIA_ATTEMPTS)
        if attempt >= attempts:
            services.flag_media_failed(message_id, index, str(exc))
            return "failed"
        if huey.immediate:
            return download_media.call_local(message_id, index, attempt + 1)
        delay = settings.ATIENDE_SEND_BACKOFF_SECONDS * (2 ** (attempt - 1))
        download_media.schedule((message_id, index, attempt + 1), delay=delay)
        return "retry"
    return "stored"
