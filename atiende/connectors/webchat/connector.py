"""Atiende's own website chat: no provider, the visitor's browser is on our socket.

Sending is publishing to the visitor's socket group; the provider id is ours.
"""

from typing import Any, ClassVar

from atiende.connectors.base import Capabilities, OutboundMessage, SendResult, register
from atiende.core.realtime import publish, visitor_group


class WebchatConnector:
    kind: ClassVar[str] = "webchat"
    capabilities: ClassVar[Capabilities] = Capabilities(
        text=True, media=True, templates=False, location=True, audio=True
    )

    def send(self, channel: Any, message: OutboundMessage) -> SendResult:
        external_id = f"wc-out-{message.message_id}"
        publish(
            visitor_group(message.recipient),
            {
                "type": "message",
                "id": external_id,
                "message_id": message.message_id,
                "kind": message.kind,
                "body": message.body,
                "payload": message.payload,
                "attachments": [media.name for media in message.media],
            },
        )
        return SendResult(external_id=external_id)


register(WebchatConnector())
