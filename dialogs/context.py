"""What a dialog may use while handling one event: the unit of work's session and shared services."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.guard import ContentGuard
from storage.kv import KeyValueStore


@dataclass
class HubContext:
    """Per-event context; `nlu` is any object with `async parse(text, now=...)` (see nlu.Parser)."""

    session: AsyncSession
    kv: KeyValueStore
    guard: ContentGuard
    tz: ZoneInfo
    nlu: Any | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def now(self) -> datetime:
        """Current time in the configured time zone."""
        return self.clock().astimezone(self.tz)
