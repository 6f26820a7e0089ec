"""Messenger and Instagram direct messages out through the Send API.

Text goes as `{"message": {"text": …}}`; a file as a multipart upload (`filedata`). The reply is
`{"recipient_id", "message_id"}`; the message id is what delivery/read webhooks refer to.
"""

import json
from typing import Any, ClassVar

from django.utils.translation import gettext as _

from atiende.connectors.base import (
    Capabilities,
    OutboundMessage,
    SendError,
    SendResult,
    register,
)

_ATTACHMENT_TYPES = {"image": "image", "video": "video", "audio": "audio", "voice": "audio"}


class _MetaConnector:
    kind: ClassVar[str]
    capabilities: ClassVar[Capabilities]

    def send(self, channel: Any, message: OutboundMessage) -> SendResult:
        from atiende.connectors.meta import services
        from atiende.connectors.meta.graph import GraphError

        client = services.graph_for(channel)
        path = services.messages_path(channel)
        recipient = {"id": message.recipient}
        try:
            if message.media:
                item = message.media[0]
                kind = _ATTACHMENT_TYPES.get(message.kind, "file")
                body = {"attachment": {"type": kind, "payload": {"is_reusable": False}}}
                data = {"recipient": json.dumps(recipient), "message": json.dumps(body)}
                files = {"filedata": (item.name, item.content or b"", item.mime_type)}
                response = client.post(path, data=data, files=files)
                if message.body:
                    client.post(
                        path,
                        json={
                            "recipient": recipient,
                            "messaging_type": "RESPONSE",
                            "message": {"text": message.body},
                        },
                    )
            elif message.body:
                response = client.post(
                    path,
                    json={
                        "recipient": recipient,
                        "messaging_type": "RESPONSE",
                        "message": {"text": message.body},
                    },
                )
            else:
                raise SendError(_("Este canal no puede enviar este tipo de mensaje."), code="kind")
        except GraphError as exc:
            raise SendError(
                str(exc.message or exc)[:300], code=str(exc.code or ""), retryable=exc.retryable
            ) from exc
        external_id = str((response or {}).get("message_id") or "")
        if not external_id:
            raise SendError(_("Meta no devolvió el id del mensaje."), code="no_id")
        return SendResult(external_id=external_id)


class MessengerConnector(_MetaConnector):
    kind: ClassVar[str] = "messenger"
    capabilities: ClassVar[Capabilities] = Capabilities(text=True, media=True, audio=True)


class InstagramConnector(_MetaConnector):
    kind: ClassVar[str] = "instagram"
    capabilities: ClassVar[Capabilities] = Capabilities(text=True, media=True, audio=True)


register(MessengerConnector())
register(InstagramConnector())
