"""The typed events transport hands to the dialog layer, and the replies it gets back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum


class Channel(StrEnum):
    """Where a message came from."""

    WECHAT = "wechat"
    TELEGRAM = "telegram"


class MessageKind(StrEnum):
    """What the owner did; voice arrives as its recognised text."""

    TEXT = "text"
    VOICE = "voice"
    CLICK = "click"
    LOCATION = "location"
    SUBSCRIBE = "subscribe"
    UNSUBSCRIBE = "unsubscribe"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One deduplicated inbound message, free of any platform library's types."""

    channel: Channel
    user_id: str
    kind: MessageKind
    text: str = ""
    dedupe_key: str = ""
    event_key: str = ""
    latitude: float | None = None
    longitude: float | None = None
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True, slots=True)
class Reply:
    """What to say back to the sender (already passed through the content guard)."""

    text: str
