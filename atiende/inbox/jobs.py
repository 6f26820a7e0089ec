"""Outbound delivery: one job per message, retried with exponential back-off by rescheduling."""

from django.conf import settings

from atiende.inbox import services
from atiende.jobs import huey


@huey.task()
def deliver_message(message_id: int, attempt: int = 1) -> str:
    outcome = services.deliver(message_id)
    if outcome == "retry":
        delay = settings.ATIENDE_SEND_BACKOFF_SECONDS * (2 ** (attempt - 1))
        if huey.immediate:
            return deliver_message.call_local(message_id, attempt + 1)
        deliver_message.schedule((message_id, attempt + 1), delay=delay)
    return outcome


@huey.task()
def tell_provider_read(channel_id: int, external_id: str) -> None:
    """The agent opened the chat: the provider shows the customer it was read (best effort)."""
    import logging

    from atiende.connectors.base import connector_for
    from atiende.inbox.models import Channel

    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None:
        return
    try:
        connector_for(channel.kind).mark_read(channel, external_id)
    except Exception as exc:  # a receipt is not worth a failed job
        logging.getLogger(__name__).warning("read receipt not sent: %s", exc)
