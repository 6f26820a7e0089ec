"""The contact timeline gathers items from every app that registers a source.

Activities register notes, tasks and calls; the inbox adds conversations and e-mails, tickets add
tickets. Each source returns its newest items in the range; the timeline merges them.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from atiende.contacts.models import Contact


@dataclass(frozen=True)
class TimelineItem:
    kind: str
    at: datetime.datetime
    obj: Any
    template: str


TimelineSource = Callable[
    [Contact, datetime.datetime | None, datetime.datetime | None, int], list[TimelineItem]
]
_SOURCES: dict[str, tuple[Any, TimelineSource]] = {}


def register_source(kind: str, label: Any, source: TimelineSource) -> None:
    _SOURCES[kind] = (label, source)


def kinds() -> dict[str, Any]:
    """Kind → label of every registered source, for the timeline filter."""
    return {kind: label for kind, (label, _source) in _SOURCES.items()}


def sources() -> dict[str, TimelineSource]:
    return {kind: source for kind, (_label, source) in _SOURCES.items()}


ChannelCounter = Callable[[Contact], dict[str, int]]
_CHANNEL_COUNTERS: list[ChannelCounter] = []


def register_channel_counter(counter: ChannelCounter) -> None:
    """Apps with channels (inbox, e-mail) report a contact's interactions per channel name."""
    _CHANNEL_COUNTERS.append(counter)


def channel_counts(contact: Contact) -> dict[str, int]:
    counts: dict[str, int] = {}
    for counter in _CHANNEL_COUNTERS:
        for name, n in counter(contact).items():
            counts[name] = counts.get(name, 0) + n
    return counts
