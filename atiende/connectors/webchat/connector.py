"""Atiende's own website chat: no provider, the visitor's browser is on our socket.

Sending is publishing to the visitor's socket group; the provider id is ours.
"""

from typing import Any, ClassVar

from django.utils import timezone

from atiende.connectors.base import Capabilities, OutboundMessage, SendResult, register
from atiende.core.realtime import publish, visitor_group


class WebchatConnector:
    kind: ClassVar[str] = "webchat"
    capabilities: ClassVar[Capabilities] = Capabilities(
        text=True, media=True, templates=False, location=True, audio=True
    )

    def prepare_channel(self, channel: Any) -> None:
        """Before a webchat channel is saved: it gets the public key its widget is embedded by."""
        from atiende.connectors.webchat.services import ensure_public_key

        ensure_public_key(channel, save=False)

    def send(self, channel: Any, message: OutboundMessage) -> SendResult:
        from atiende.connectors.webchat.services import OUTBOUND_PREFIX, attachments_for

        external_id = f"{OUTBOUND_PREFIX}{message.message_id}"
        attachments = attachments_for(channel, [message.message_id]).get(message.message_id, [])
        publish(
            visitor_group(message.recipient),
            {
                "type": "message",
                "id": external_id,
                "message_id": message.message_id,
                "from": "agent",
                "kind": message.kind,
                "body": message.body,
                "payload": message.payload,
                "attachments": attachments,
                "at": timezone.now().isoformat(),
                "status": "sent",
            },
        )
        return SendResult(external_id=external_id)


register(WebchatConnector())
