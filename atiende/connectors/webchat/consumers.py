"""The visitor's socket: the widget sends messages, typing and read receipts; agent replies arrive.

Refused with 4401 without a valid signed visitor cookie (or token) for an active webchat channel.
Every frame goes to the same services as the HTTP fallback, so the two paths never disagree.
"""

import time
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from atiende.connectors.webchat import services
from atiende.core.realtime import visitor_group

TYPING_EVERY_SECONDS = 2.0


def _header(scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


def _identify(public_key: str, cookies: dict, query: str, origin: str, host: str):
    channel = services.channel_for_key(public_key)
    if channel is None:
        return None, None
    scheme = "https" if origin.startswith("https") else "http"
    if not services.origin_allowed(channel, origin, f"{scheme}://{host}"):
        return channel, None
    token = cookies.get(services.cookie_name(channel)) or (parse_qs(query).get("t") or [""])[0]
    return channel, services.read_visitor(channel, token)


class VisitorSocketConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        public_key = self.scope["url_route"]["kwargs"]["public_key"]
        self.chat_channel, self.visitor = await database_sync_to_async(_identify)(
            public_key,
            self.scope.get("cookies") or {},
            self.scope.get("query_string", b"").decode("latin-1"),
            _header(self.scope, b"origin"),
            _header(self.scope, b"host"),
        )
        if self.chat_channel is None or self.visitor is None:
            self.visitor = None
            await self.close(code=4401)
            return
        self.group = visitor_group(self.visitor.id)
        self.last_typing = 0.0
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if getattr(self, "visitor", None) is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        if kind == "message":
            await self._message(content)
        elif kind == "typing":
            now = time.monotonic()
            if now - self.last_typing >= TYPING_EVERY_SECONDS:
                self.last_typing = now
                await database_sync_to_async(services.typing)(
                    channel=self.chat_channel, visitor=self.visitor
                )
        elif kind in ("seen", "delivered"):
            status = "read" if kind == "seen" else "delivered"
            await database_sync_to_async(services.mark_seen)(
                channel=self.chat_channel,
                visitor=self.visitor,
                message_id=content.get("id"),
                status=status,
            )
        elif kind == "ping":
            await self.send_json({"type": "pong"})

    async def _message(self, content: dict) -> None:
        client_id = content.get("id")
        try:
            client_id, _created = await database_sync_to_async(services.post_message)(
                channel=self.chat_channel,
                visitor=self.visitor,
                client_id=client_id,
                body=content.get("body"),
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
            await self.send_json({"type": "error", "id": str(client_id or ""), "error": error})
            return
        except services.RateLimited:
            error = _("Estás enviando demasiados mensajes. Espera un momento.")
            await self.send_json({"type": "error", "id": str(client_id), "error": error})
            return
        await self.send_json({"type": "ack", "id": client_id})

    async def realtime_event(self, message: dict) -> None:
        await self.send_json(message["event"])
