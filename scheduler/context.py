"""What every job gets: sessions, the store, the clock and the knobs (built by bot/ from Settings)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.context import DEFAULT_HANDOFF_IDLE_SECONDS
from storage.amounts import UnconfirmedWording
from storage.broadcast_delivery import BroadcastSender
from storage.dispatch import RepostWording
from storage.kv import KeyValueStore
from storage.reports import DailyReport
from storage.supplier import EvaluationPolicy, SupplierWording
from storage.workorders import SlaPolicy


@dataclass(frozen=True)
class SchedulerConfig:
    """Timings; defaults are the plan's (24 h follow-up, 08:00 report, 15 min accept timeout)."""

    tick_seconds: float = 30.0
    broadcast_tick_seconds: float = 5.0
    followup_delay: timedelta = timedelta(hours=24)
    followup_max_age: timedelta = timedelta(days=7)
    survey_reminder_after: timedelta = timedelta(hours=24)
    survey_reminder_max_age: timedelta = timedelta(days=7)
    report_time: time = time(8, 0)
    report_dir: str = "./reports"
    accept_timeout: timedelta = timedelta(minutes=15)
    dialog_ttl_seconds: int = 24 * 3600
    # A hand-off silent this long has ended (as the dialog layer sees it): follow-ups may go out.
    handoff_idle_seconds: int = DEFAULT_HANDOFF_IDLE_SECONDS
    evaluation: EvaluationPolicy = field(default_factory=EvaluationPolicy)
    jobs: tuple[str, ...] = ()  # the jobs this process runs; empty = all
    # Issue 16: work-order/complaint deadlines and outbox housekeeping.
    sla: SlaPolicy = field(default_factory=SlaPolicy)
    outbox_retention: timedelta = timedelta(days=7)
    outbox_max_attempts: int = 5
    # Issue 14: a household claim waiting longer than this many working days is escalated.
    binding_escalate_working_days: float = 1.0
    # ... and an amount the owner has not confirmed (确认金额) is brought to staff after this.
    amount_confirm_working_days: float = 1.0


@dataclass(frozen=True)
class JobWording:
    """The words jobs put in what they send to merchants and staff: their tables live in bot/, which builds this."""

    supplier: SupplierWording
    report_text: Callable[[DailyReport], str]
    report_chart: Callable[[DailyReport, Path], Path]  # blocking (matplotlib): run in a thread
    amount_unconfirmed: UnconfirmedWording
    reposted: RepostWording


@dataclass
class JobContext:
    """Shared by the jobs of one process."""

    sessions: async_sessionmaker[AsyncSession]
    kv: KeyValueStore
    tz: ZoneInfo
    wording: JobWording
    config: SchedulerConfig = field(default_factory=SchedulerConfig)
    broadcasts: BroadcastSender | None = None
    on_outbox: Callable[[], None] | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def now(self) -> datetime:
        """Aware UTC now (from the injectable clock)."""
        return self.clock()

    def local_now(self) -> datetime:
        """Local now in the business time zone."""
        return self.clock().astimezone(self.tz)
