"""What every connector speaks: neutral inbound events and outbound messages.

Connectors know their provider and nothing else; `inbox` knows no provider. A connector turns a
provider's webhook into `InboundMessage` / `StatusUpdate` values and sends `OutboundMessage`s.
"""

import datetime
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol


@dataclass(frozen=True)
class Media:
    """A file that came with a message: bytes already fetched, or a provider id to fetch later."""

    name: str
    mime_type: str
    content: bytes | None = None
    provider_id: str = ""


@dataclass(frozen=True)
class Sender:
    """Who wrote: any one of these identifies the contact (phones in any format)."""

    external_id: str
    name: str = ""
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class InboundMessage:
    channel_id: int
    external_id: str
    sender: Sender
    kind: str = "text"
    body: str = ""
    payload: dict[str, Any] = field(default_factory=dict)
    media: tuple[Media, ...] = ()
    sent_at: datetime.datetime | None = None
    reply_to_external_id: str = ""


@dataclass(frozen=True)
class StatusUpdate:
    channel_id: int
    external_id: str
    status: str
    error_code: str = ""
    error_message: str = ""
    at: datetime.datetime | None = None


@dataclass(frozen=True)
class OutboundMessage:
    """What an agent (or bot) sends; `recipient` is the sender id the connector knows."""

    message_id: int
    recipient: str
    kind: str
    body: str = ""
    payload: dict[str, Any] = field(default_factory=dict)
    media: tuple[Media, ...] = ()


@dataclass(frozen=True)
class SendResult:
    external_id: str


class SendError(Exception):
    """The provider refused. `retryable` errors are tried again with back-off."""

    def __init__(self, message: str, *, code: str = "", retryable: bool = True) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable


@dataclass(frozen=True)
class Capabilities:
    text: bool = True
    media: bool = False
    templates: bool = False
    location: bool = False
    audio: bool = False
    reply_window_hours: int | None = None  # e.g. WhatsApp's 24-hour customer-service window


class Connector(Protocol):
    kind: ClassVar[str]
    capabilities: ClassVar[Capabilities]

    def send(self, channel: Any, message: OutboundMessage) -> SendResult: ...


_REGISTRY: dict[str, Connector] = {}


def register(connector: Connector) -> Connector:
    _REGISTRY[connector.kind] = connector
    return connector


def connector_for(kind: str) -> Connector:
    try:
        return _REGISTRY[kind]
    except KeyError as exc:
        raise LookupError(f"no connector for channel kind {kind!r}") from exc
