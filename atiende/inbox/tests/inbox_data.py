"""Inbox test data built through the services, so indicators are what the application stores.

`make_channel(team=…)` is a saved channel; `receive(channel, "visitor-1", "Hola")` is a customer's
message through `services.receive_message` (a new conversation, or the open one of that sender);
`conversation_for(channel, …)` is the conversation of the first message of a new sender.
"""

import itertools
from typing import Any

from atiende.connectors.base import InboundMessage, Sender
from atiende.inbox import services
from atiende.inbox.models import Channel, Conversation, Message

_ids = itertools.count(1)


def make_channel(*, name: str = "", kind: str = "webchat", **kwargs: Any) -> Channel:
    kwargs.setdefault("auto_assign", False)
    return Channel.objects.create(name=name or f"Canal {next(_ids)}", kind=kind, **kwargs)


def receive(
    channel: Channel,
    sender_id: str = "",
    body: str = "Hola",
    *,
    external_id: str | None = None,
    name: str = "",
    phone: str = "",
    email: str = "",
    kind: str = "text",
) -> Message | None:
    sender = Sender(
        external_id=sender_id or f"visitante-{next(_ids)}", name=name, phone=phone, email=email
    )
    inbound = InboundMessage(
        channel_id=channel.pk,
        external_id=f"ext-{next(_ids)}" if external_id is None else external_id,
        sender=sender,
        kind=kind,
        body=body,
    )
    return services.receive_message(inbound)


def conversation_for(channel: Channel, body: str = "Hola", **kwargs: Any) -> Conversation:
    """A new sender's first message: the conversation it starts (Pendiente, unassigned)."""
    message = receive(channel, body=body, **kwargs)
    return Conversation.objects.get(pk=message.conversation_id)
