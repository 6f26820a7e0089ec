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
