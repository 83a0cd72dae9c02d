"""What a dialog may use while handling one event: the unit of work's session and shared services."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.guard import ContentGuard
from nlu.parser import Parser
from storage.amounts import AmountNotes
from storage.kv import KeyValueStore
from storage.limits import OwnerLimits
from storage.workorders import SlaPolicy

DEFAULT_DIALOG_TTL_SECONDS = 24 * 3600
DEFAULT_HANDOFF_IDLE_SECONDS = 30 * 60
DEFAULT_CONFIRM_TTL_SECONDS = 10 * 60


@dataclass
class HubContext:
    """Per-event context; `nlu` is the NLU backend (None: every text is nlu_fallback)."""

    session: AsyncSession
    kv: KeyValueStore
    guard: ContentGuard
    tz: ZoneInfo
    nlu: Parser | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # How long an unfinished dialog waits for the owner to come back.
    dialog_ttl_seconds: int = DEFAULT_DIALOG_TTL_SECONDS
    # A hand-off nobody speaks in for this long ends by itself.
    handoff_idle_seconds: int = DEFAULT_HANDOFF_IDLE_SECONDS
    # Issue 16 / issue 13: work-order and complaint deadlines, and the company-wide 24-hour phone.
    sla: SlaPolicy = field(default_factory=SlaPolicy)
    hotline: str = ""
    # Issue 14: open orders, repeats and reports per owner.
    limits: OwnerLimits = field(default_factory=OwnerLimits)
    # A "please confirm" question (dialogs/confirm.py) lapses after this; a later 是 acts on nothing.
    confirm_ttl_seconds: int = DEFAULT_CONFIRM_TTL_SECONDS
    # The merchant's words for an owner's answer to an amount (bot/wording/merchant.py, set by bot/runtime.py).
    amount_notes: AmountNotes | None = None

    def now(self) -> datetime:
        """Current time in the configured time zone."""
        return self.clock().astimezone(self.tz)
