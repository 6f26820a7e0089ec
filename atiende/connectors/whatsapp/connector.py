"""WhatsApp Cloud API connector: sends through `POST /{phone_number_id}/messages`.

Message bodies follow https://developers.facebook.com/docs/whatsapp/cloud-api/messages; media is
uploaded first (`POST /{phone_number_id}/media`, multipart) and sent by its id.
"""

import re
from typing import Any, ClassVar

from atiende.connectors.base import (
    Capabilities,
    OutboundMessage,
    SendError,
    SendResult,
    register,
)
from atiende.connectors.meta.graph import GraphError

RETRYABLE_CODES = {"130429", "131056"}
FINAL_CODES = {"131047", "131026"}
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_MEDIA_TYPE = {"image": "image", "video": "video", "audio": "audio", "voice": "audio"}


def _error(exc: GraphError) -> SendError:
    from atiende.connectors.whatsapp.services import explain_error

    retryable = exc.retryable
    if exc.code in RETRYABLE_CODES:
        retryable = True
    elif exc.code in FINAL_CODES or exc.code.startswith("132"):
        retryable = False
    return SendError(explain_error(exc.code, exc.message)[:300], code=exc.code, retryable=retryable)


class WhatsAppConnector:
    kind: ClassVar[str] = "whatsapp"
    capabilities: ClassVar[Capabilities] = Capabilities(
        text=True,
        media=True,
        templates=True,
        location=True,
        audio=True,
        reply_window_hours=24,
    )

    def prepare_channel(self, channel: Any) -> None:
        """Defaults a WhatsApp channel needs: Meta's Graph URL and a version."""
        from atiende.connectors.whatsapp.services import DEFAULT_GRAPH_URL, DEFAULT_GRAPH_VERSION

        for key, default in (
            ("graph_base_url", DEFAULT_GRAPH_URL),
            ("graph_version", DEFAULT_GRAPH_VERSION),
        ):
            value = str(channel.config.get(key) or "").strip().rstrip("/")
            channel.config[key] = value or default

    def body_for(self, graph, number: str, message: OutboundMessage) -> dict:
        payload = message.payload or {}
        base = {"messaging_product": "whatsapp", "recipient_type": "individual"}
        base["to"] = message.recipient
        if message.kind == "template":
            variables = [str(v) for v in payload.get("variables") or []]
            components = []
            header = [str(v) for v in payload.get("header_variables") or []]
            if header:
                components.append(
                    {"type": "header", "parameters": [{"type": "text", "text": v} for v in header]}
                )
            if variables:
                components.append(
                    {"type": "body", "parameters": [{"type": "text", "text": v} for v in variables]}
                )
            template = {
                "name": payload.get("template", ""),
                "language": {"code": payload.get("language") or "es"},
            }
            if components:
                template["components"] = components
            return {**base, "type": "template", "template": template}
        if message.kind == "location":
            location = {
                "latitude": payload.get("latitude"),
                "longitude": payload.get("longitude"),
            }
            for key in ("name", "address"):
                if payload.get(key):
                    location[key] = payload[key]
            return {**base, "type": "location", "location": location}
        if message.kind in ("image", "video", "audio", "voice", "file"):
            wa_type = _MEDIA_TYPE.get(message.kind, "document")
            if message.media:
                media = message.media[0]
                uploaded = graph.post(
                    f"{number}/media",
                    data={"messaging_product": "whatsapp", "type": media.mime_type},
                    files={"file": (media.name, media.content or b"", media.mime_type)},
                )
                item = {"id": str(uploaded.get("id", ""))}
                name = media.name
            elif payload.get("link"):
                item, name = {"link": payload["link"]}, payload.get("filename", "")
            else:
                raise SendError("no media to send", code="no_media", retryable=False)
            if message.body and wa_type != "audio":
                item["caption"] = message.body
            if wa_type == "document" and name:
                item["filename"] = name
            return {**base, "type": wa_type, wa_type: item}
        if payload.get("buttons"):
            buttons = [
                {"type": "reply", "reply": {"id": str(b.get("id")), "title": str(b.get("title"))}}
                for b in payload["buttons"][:3]
            ]
            interactive = {
                "type": "button",
                "body": {"text": message.body},
                "action": {"buttons": buttons},
            }
            return {**base, "type": "interactive", "interactive": interactive}
        if payload.get("list"):
            listing = payload["list"]
            interactive = {
                "type": "list",
                "body": {"text": message.body},
                "action": {
                    "button": str(listing.get("button", "")),
                    "sections": listing.get("sections", []),
                },
            }
            return {**base, "type": "interactive", "interactive": interactive}
        text = {"preview_url": bool(_URL.search(message.body)), "body": message.body}
        return {**base, "type": "text", "text": text}

    def send(self, channel: Any, message: OutboundMessage) -> SendResult:
        from atiende.connectors.whatsapp import services

        number = services.setting(channel, "phone_number_id")
        graph = services.client(channel)
        services.pace(channel)
        try:
            body = self.body_for(graph, number, message)
            answer = graph.post(f"{number}/messages", json=body)
        except GraphError as exc:
            raise _error(exc) from exc
        messages = answer.get("messages") or [{}]
        external_id = str(messages[0].get("id", "")) if isinstance(messages[0], dict) else ""
        if not external_id:
            raise SendError("WhatsApp did not return a message id", code="no_id", retryable=True)
        return SendResult(external_id=external_id)

    def sync_templates(self, channel: Any) -> int:
        """The approved (and other) templates of the WhatsApp Business Account, now."""
        from django.core.exceptions import ValidationError
        from django.utils.translation import gettext as _

        from atiende.connectors.whatsapp import services

        try:
            return services.sync_templates(channel)
        except GraphError as exc:
            raise ValidationError(
                _("No se pudieron sincronizar las plantillas: %(error)s") % {"error": exc.message}
            ) from exc

    def mark_read(self, channel: Any, external_id: str) -> None:
        """The blue ticks: the customer sees the agent read up to this message."""
        from atiende.connectors.whatsapp import services

        number = services.setting(channel, "phone_number_id")
        body = {"messaging_product": "whatsapp", "status": "read", "message_id": external_id}
        services.client(channel).post(f"{number}/messages", json=body)


register(WhatsAppConnector())
