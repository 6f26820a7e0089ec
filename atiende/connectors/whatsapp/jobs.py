"""WhatsApp jobs: process a stored webhook event, fetch inbound media, sync templates daily."""

import logging

from django.conf import settings
from huey import crontab

from atiende.connectors.meta.graph import GraphError
from atiende.connectors.whatsapp import services
from atiende.jobs import huey

logger = logging.getLogger(__name__)


@huey.task()
def process_whatsapp_event(event_id: int) -> None:
    services.process_event(event_id)


@huey.task()
def fetch_whatsapp_media(
    message_id: int, media_id: str, name: str, mime_type: str, attempt: int = 1
) -> str:
    """Download one inbound file; retried with back-off, then flagged on the message."""
    from atiende.inbox import services as inbox
    from atiende.inbox.models import Message

    try:
        services.fetch_media(message_id, media_id, name, mime_type)
        return "stored"
    except Message.DoesNotExist:
        return "skip"
    except (GraphError, OSError) as exc:
        logger.warning("whatsapp media not fetched: %s", exc, extra={"message_id": message_id})
        if attempt >= settings.ATIENDE_SEND_ATTEMPTS:
            message = Message.objects.filter(pk=message_id).first()
            if message is not None:
                inbox.note_media_error(message, str(exc)[:300])
            return "failed"
    args = (message_id, media_id, name, mime_type, attempt + 1)
    if huey.immediate:
        return fetch_whatsapp_media.call_local(*args)
    delay = settings.ATIENDE_SEND_BACKOFF_SECONDS * (2 ** (attempt - 1))
    fetch_whatsapp_media.schedule(args, delay=delay)
    return "retry"


@huey.periodic_task(crontab(hour="3", minute="17"))
def sync_whatsapp_templates() -> None:
    for channel in services.whatsapp_channels():
        try:
            services.sync_templates(channel)
        except GraphError as exc:
            logger.warning("whatsapp templates not synced: %s", exc, extra={"channel": channel.pk})
