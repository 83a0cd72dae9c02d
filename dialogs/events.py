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
    """What the owner did. Messages carry content; actions are presses and follows.

    Platform notifications (send results, card, invoice, LOCATION auto-reports …) never become an
    InboundMessage: the transport answers them itself, so they cannot reach the dialogs.
    """

    # owner messages
    TEXT = "text"
    VOICE = "voice"
    IMAGE = "image"
    VIDEO = "video"
    SHORTVIDEO = "shortvideo"
    LOCATION = "location"
    LINK = "link"
    FILE = "file"
    # owner actions
    SUBSCRIBE = "subscribe"
    UNSUBSCRIBE = "unsubscribe"
    SCAN = "scan"
    CLICK = "click"
    VIEW = "view"
    SCANCODE = "scancode"
    PICS = "pics"
    LOCATION_SELECT = "location_select"
    OTHER = "other"


# Kinds whose content is a file or a page the owner sent (kept and shown to staff, never parsed).
MEDIA_KINDS = frozenset({MessageKind.IMAGE, MessageKind.VIDEO, MessageKind.SHORTVIDEO, MessageKind.LINK,
                         MessageKind.FILE})


@dataclass(frozen=True, slots=True)
class Media:
    """What an owner's photo, video, link or file points at (WeChat's PicUrl / MediaId / Url)."""

    kind: str
    media_id: str = ""
    url: str = ""
    title: str = ""
    description: str = ""

    def to_json(self) -> dict[str, str]:
        """JSON-safe form, for dialog state and order attachments."""
        return {k: v for k, v in (("kind", self.kind), ("media_id", self.media_id), ("url", self.url),
                                  ("title", self.title), ("description", self.description)) if v}


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One deduplicated inbound message, free of any platform library's types.

    `received_at` is when the hub received it (never the sender's CreateTime, which the body
    claims and anyone can set).
    """

    channel: Channel
    user_id: str
    kind: MessageKind
    text: str = ""
    dedupe_key: str = ""
    event_key: str = ""
    latitude: float | None = None
    longitude: float | None = None
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    media: Media | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """What to say back to the sender (already passed through the content guard)."""

    text: str
