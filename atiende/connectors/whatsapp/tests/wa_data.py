"""WhatsApp test data: a channel pointed at the local Graph server, signed webhook bodies."""

import hashlib
import hmac
import json
import time
from typing import Any

from atiende.inbox.models import Channel, ChannelKind

APP_SECRET = "secreto-de-la-app"
VERIFY_TOKEN = "token-de-verificacion"
NUMBER_ID = "106540352242922"
WABA_ID = "102290129340398"
VERSION = "v21.0"


def make_whatsapp_channel(graph_url: str, **kwargs: Any) -> Channel:
    channel = Channel(name=kwargs.pop("name", "WhatsApp Ventas"), kind=ChannelKind.WHATSAPP)
    channel.auto_assign = kwargs.pop("auto_assign", False)
    for key, value in kwargs.items():
        setattr(channel, key, value)
    channel.config = {"graph_base_url": graph_url, "graph_version": VERSION}
    channel.credentials = {
        "phone_number_id": NUMBER_ID,
        "waba_id": WABA_ID,
        "access_token": "EAAG-token",
        "app_secret": APP_SECRET,
        "verify_token": VERIFY_TOKEN,
    }
    channel.save()
    return channel


def sign(raw: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def envelope(
    messages: list | None = None,
    statuses: list | None = None,
    contacts: list | None = None,
    number_id: str = NUMBER_ID,
) -> dict:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": number_id},
    }
    if messages is not None:
        value["contacts"] = contacts or [
            {"profile": {"name": "Lucía Benítez"}, "wa_id": "595981123456"}
        ]
        value["messages"] = messages
    if statuses is not None:
        value["statuses"] = statuses
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA_ID, "changes": [{"value": value, "field": "messages"}]}],
    }


_seq = iter(range(1, 10**9))


def wamid() -> str:
    return f"wamid.HBgLNTk1OTgxMTIzNDU2FQIAEhgg{next(_seq):08d}"


def message(
    kind: str = "text", sender: str = "595981123456", msg_id: str = "", **content: Any
) -> dict:
    item: dict[str, Any] = {
        "from": sender,
        "id": msg_id or wamid(),
        "timestamp": str(int(time.time())),
        "type": kind,
    }
    context = content.pop("context", None)
    if context:
        item["context"] = context
    if kind == "text":
        item["text"] = {"body": content.pop("body", "Hola")}
    elif kind == "contacts":
        item["contacts"] = content.pop("cards")
    elif content:
        item[kind] = content
    return item


def post_webhook(client, data: dict | bytes, signature: str | None = "auto"):
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    headers = {}
    if signature == "auto":
        signature = sign(raw)
    if signature is not None:
        headers["HTTP_X_HUB_SIGNATURE_256"] = signature
    return client.post("/webhooks/whatsapp", raw, content_type="application/json", **headers)
