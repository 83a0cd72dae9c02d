"""Broadcasts: a staff message to a segment, previewed, confirmed, then delivered per WeChat's rules.

Life of a broadcast: draft (preview shown) → queued / scheduled (confirmed) → sending → done, or
cancelled. When sending starts, the delivery plan — one row per recipient with the channel chosen
or the reason it is skipped — is written in one INSERT … SELECT, so every recipient is accounted
for before the first message goes out. Frequency caps and WeChat quotas are counted from those
rows (see `DeliveryPolicy`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    Select,
    String,
    Text,
    UniqueConstraint,
    and_,
    case,
    func,
    insert,
    literal,
    null,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage import segments
from storage.base import Base, Timestamped, UtcDateTime, aware, utcnow
from storage.communities import Community
from storage.db import is_postgres, rows_affected
from storage.owners import Owner


class BroadcastStatus(StrEnum):
    """Where a broadcast is in its life."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    SENDING = "sending"
    DONE = "done"
    CANCELLED = "cancelled"


class Kind(StrEnum):
    """Notices may use template messages; marketing is capped and respects opt-outs."""

    NOTICE = "notice"
    MARKETING = "marketing"


class DeliveryStatus(StrEnum):
    """Every recipient ends in sent, failed or skipped; pending/sending only while in flight."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"
    UNKNOWN = "unknown"  # timed out after reaching WeChat: may have arrived, never resent (issue 15)


class DeliveryChannel(StrEnum):
    """The WeChat API a recipient is reached through."""

    TEMPLATE = "template"
    CS = "cs"
    MASS = "mass"


CHANNEL_LABELS = {"template": "模板消息", "cs": "客服消息", "mass": "群发"}
KIND_LABELS = {"notice": "通知", "marketing": "营销"}
LIVE = (DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.SENT)


@dataclass(frozen=True)
class DeliveryPolicy:
    """WeChat's limits and the plan's caps; built from settings by the transport layer."""

    template_configured: bool = False
    cs_window_hours: int = 48
    cs_max_per_window: int = 5
    mass_monthly_quota: int = 4
    marketing_daily_cap: int = 1
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))


class Broadcast(Timestamped, Base):
    """One broadcast and who asked for it (the finish report goes back to them)."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default=Kind.MARKETING)
    text: Mapped[str] = mapped_column(Text)
    segment: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    scope: Mapped[list[int] | None] = mapped_column(JSON)  # community ids; None = all
    status: Mapped[str] = mapped_column(String(16), default=BroadcastStatus.DRAFT, index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    reply_channel: Mapped[str] = mapped_column(String(16), default="wechat")
    reply_to: Mapped[str] = mapped_column(String(64), default="")
    survey_id: Mapped[int | None] = mapped_column(Integer)
    scheduled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    lease_owner: Mapped[str] = mapped_column(String(64), default="")
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # 45009 / rate limit (issue 15): sending stops until then, the remaining rows stay pending.
    paused_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    pause_reason: Mapped[str] = mapped_column(String(64), default="", server_default="")
    mass_batches: Mapped[int] = mapped_column(Integer, default=0)
    totals: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Issue 14: why staff chose 通知 (it skips opt-outs and the daily cap), and who confirmed or
    # discarded the draft.
    notice_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    decided_by_staff_id: Mapped[int | None] = mapped_column(Integer)

    @property
    def segment_obj(self) -> segments.Segment:
        """The parsed segment."""
        return segments.Segment.from_json(self.segment)


class Delivery(Base):
    """One recipient of one broadcast: the channel chosen and what became of the message."""

    __tablename__ = "broadcast_deliveries"
    __table_args__ = (
        UniqueConstraint("broadcast_id", "owner_id"),
        Index("ix_broadcast_deliveries_bc_status", "broadcast_id", "status"),
        Index("ix_broadcast_deliveries_owner_planned", "owner_id", "planned_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id", ondelete="CASCADE"))
    openid: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    reason: Mapped[str] = mapped_column(String(64), default="")
    errcode: Mapped[int | None] = mapped_column(Integer)
    batch_key: Mapped[str | None] = mapped_column(String(64), index=True)
    marketing: Mapped[bool] = mapped_column(Boolean, default=True)
    planned_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Issue 12: WeChat's msgid for this recipient's template or mass send, so the platform's
    # TEMPLATESENDJOBFINISH / MASSSENDJOBFINISH result finds the row it belongs to.
    wechat_msgid: Mapped[str | None] = mapped_column(String(32), index=True)


# --- planning --------------------------------------------------------------------------------


# Bound parameters are always UTC: SQLite compares datetimes as text, so a local time would be
# compared against stored UTC strings and be off by the zone's offset.
def _day_start(now: datetime, tz: ZoneInfo) -> datetime:
    local = now.astimezone(tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def _month_start(now: datetime, tz: ZoneInfo) -> datetime:
    local = now.astimezone(tz)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def plan_select(
    *,
    segment: segments.Segment,
    community_ids: list[int] | None,
    kind: str,
    policy: DeliveryPolicy,
    now: datetime,
    exclude_broadcast: int | None = None,
) -> Select[tuple[int, str, str | None, str | None]]:
    """SELECT (owner_id, openid, channel, skip_reason) for every owner in the segment.

    Caps are counted by correlated subqueries on (owner_id, planned_at), so the cost grows with
    the segment, not with the delivery history, and the whole plan stays one set-based statement.
    """
    now = now.astimezone(UTC)
    marketing = kind == Kind.MARKETING
    live = [s.value for s in LIVE]

    def used(*conditions: Any) -> Any:
        return (
            select(func.count()).select_from(Delivery)
            .where(Delivery.owner_id == Owner.id, Delivery.status.in_(live),
                   Delivery.broadcast_id != (exclude_broadcast or -1), *conditions)
            .scalar_subquery()
        )

    window_cutoff = now - timedelta(hours=policy.cs_window_hours)
    mk_today = used(Delivery.planned_at >= _day_start(now, policy.tz), Delivery.marketing.is_(True))
    mass_month = used(Delivery.planned_at >= _month_start(now, policy.tz), Delivery.channel == DeliveryChannel.MASS)
    cs_window = used(Delivery.planned_at >= window_cutoff, Delivery.planned_at >= Owner.last_message_at,
                     Delivery.channel == DeliveryChannel.CS)
    window_open = and_(Owner.last_message_at.is_not(None), Owner.last_message_at > window_cutoff)
    cs_ok = and_(window_open, cs_window < policy.cs_max_per_window)
    mass_ok = mass_month < policy.mass_monthly_quota

    gate: list[tuple[Any, str]] = [(Owner.following.is_(False), "not_following"), (Owner.blocked.is_(True), "blocked")]
    if marketing:
        gate += [(Owner.push_opt_out.is_(True), "opted_out"), (mk_today >= policy.marketing_daily_cap, "daily_cap")]
        routes = [(cs_ok, literal(DeliveryChannel.CS.value)), (mass_ok, literal(DeliveryChannel.MASS.value))]
        none_reason = "monthly_quota"
    else:
        routes = [(literal(True), literal(DeliveryChannel.TEMPLATE.value))] if policy.template_configured else []
        routes.append((cs_ok, literal(DeliveryChannel.CS.value)))
        none_reason = "window_closed"
    channel = case(*routes, else_=null())
    skip = case(*gate, (channel.is_(None), none_reason), else_=null())
    final_channel = case((skip.is_(None), channel), else_=null())
    return select(
        Owner.id.label("owner_id"),
        Owner.openid.label("openid"),
        final_channel.label("channel"),
        skip.label("skip"),
    ).where(*segments.where_clauses(segment, community_ids=community_ids, now=now))


@dataclass
class Preview:
    """What staff see before confirming."""

    recipients: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    sample: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Everyone the segment matched, reachable or not."""
        return self.recipients + sum(self.skipped.values())


async def preview(
    *,
    session: AsyncSession,
    segment: segments.Segment,
    community_ids: list[int] | None,
    kind: str,
    policy: DeliveryPolicy,
    now: datetime,
    sample_size: int = 3,
) -> Preview:
    """Counts per channel and per skip reason, plus a few sample recipients."""
    now = now.astimezone(UTC)
    plan = plan_select(segment=segment, community_ids=community_ids, kind=kind, policy=policy, now=now).subquery()
    result = Preview()
    rows = await session.execute(
        select(plan.c.channel, plan.c.skip, func.count()).group_by(plan.c.channel, plan.c.skip)
    )
    for channel, skip, n in rows:
        if skip is None and channel is not None:
            result.by_channel[channel] = int(n)
            result.recipients += int(n)
        else:
            result.skipped[skip or "no_channel"] = int(n)
    sample = await session.execute(
        select(Owner, Community.name)
        .join(plan, plan.c.owner_id == Owner.id)
        .outerjoin(Community, Community.id == Owner.community_id)
        .where(plan.c.skip.is_(None))
        .order_by(Owner.id)
        .limit(sample_size)
    )
    for owner, community in sample:
        who = owner.name[:1] + "**" if owner.name else (owner.nickname or owner.openid[-6:])
        result.sample.append(f"{community or ''}{owner.address} {who}".strip())
    return result


async def materialise(*, session: AsyncSession, broadcast: Broadcast, policy: DeliveryPolicy, now: datetime) -> int:
    """Write one delivery row per recipient (pending or skipped) in one statement; idempotent."""
    now = now.astimezone(UTC)
    if is_postgres(session):
        # Serialise planning so two broadcasts can't both see "no marketing push today yet".
        await session.execute(text("SELECT pg_advisory_xact_lock(6006001)"))
    already = await session.scalar(
        select(func.count()).select_from(Delivery).where(Delivery.broadcast_id == broadcast.id)
    )
    if already:
        return int(already)
    plan = plan_select(
        segment=broadcast.segment_obj, community_ids=broadcast.scope, kind=broadcast.kind,
        policy=policy, now=now, exclude_broadcast=broadcast.id,
    ).subquery()
    rows = select(
        literal(broadcast.id),
        plan.c.owner_id,
        plan.c.openid,
        plan.c.channel,
        case((plan.c.skip.is_(None), DeliveryStatus.PENDING.value), else_=DeliveryStatus.SKIPPED.value),
        func.coalesce(plan.c.skip, ""),
        literal(broadcast.kind == Kind.MARKETING),
        literal(now),
    )
    result = await session.execute(
        insert(Delivery).from_select(
            ["broadcast_id", "owner_id", "openid", "channel", "status", "reason", "marketing", "planned_at"],
            rows,
        )
    )
    return rows_affected(result)


# --- life cycle ------------------------------------------------------------------------------


async def create_draft(
    *,
    session: AsyncSession,
    text: str,
    segment: segments.Segment,
    scope: list[int] | None,
    staff_id: int | None,
    reply_channel: str,
    reply_to: str,
    scheduled_at: datetime | None = None,
    survey_id: int | None = None,
) -> Broadcast:
    """Save a broadcast awaiting the sender's confirmation."""
    row = Broadcast(
        kind=segment.kind, text=text, segment=segment.to_json(), scope=scope, staff_id=staff_id,
        reply_channel=reply_channel, reply_to=reply_to, scheduled_at=scheduled_at, survey_id=survey_id,
        status=BroadcastStatus.DRAFT, totals={},
    )
    session.add(row)
    await session.flush()
    return row


async def get(*, session: AsyncSession, broadcast_id: int) -> Broadcast | None:
    """A broadcast by id."""
    return await session.get(Broadcast, broadcast_id)


async def confirm(*, session: AsyncSession, broadcast: Broadcast, now: datetime) -> None:
    """Confirm a draft unconditionally (seeding and benchmarks); staff presses go through
    storage.broadcast_decisions, which decides races with one conditional UPDATE."""
    now = now.astimezone(UTC)
    broadcast.confirmed_at = now
    later = broadcast.scheduled_at is not None and aware(broadcast.scheduled_at) > now
    broadcast.status = BroadcastStatus.SCHEDULED if later else BroadcastStatus.QUEUED


async def cancel(*, session: AsyncSession, broadcast: Broadcast, now: datetime) -> int | None:
    """Cancel a broadcast that has not finished; pending recipients are skipped as cancelled.

    One conditional update decides it: a sender finishing the broadcast at the same moment either
    commits DONE first (then this returns None and changes nothing) or finds it cancelled. Setting
    the status on the loaded row instead overwrote a DONE committed in between.
    """
    decided = await session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast.id,
               Broadcast.status.not_in([BroadcastStatus.DONE, BroadcastStatus.CANCELLED]))
        .values(status=BroadcastStatus.CANCELLED, finished_at=now.astimezone(UTC))
        .execution_options(synchronize_session=False)
    )
    await session.refresh(broadcast, ["status", "finished_at"])
    if not rows_affected(decided):
        return None
    result = await session.execute(
        update(Delivery)
        .where(Delivery.broadcast_id == broadcast.id, Delivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.SKIPPED, reason="cancelled", channel=None)
    )
    return rows_affected(result)


async def list_recent(
    *, session: AsyncSession, scope: list[int] | None, limit: int = 10
) -> list[Broadcast]:
    """Scheduled broadcasts first, then the most recent others (drafts excluded)."""
    stmt = select(Broadcast).where(Broadcast.status != BroadcastStatus.DRAFT)
    rows = list(await session.scalars(stmt.order_by(Broadcast.id.desc()).limit(200)))
    if scope is not None:
        allowed = set(scope)
        rows = [b for b in rows if b.scope is not None and set(b.scope) <= allowed]
    scheduled = sorted(
        (b for b in rows if b.status == BroadcastStatus.SCHEDULED), key=lambda b: aware(b.scheduled_at or b.created_at)
    )
    others = [b for b in rows if b.status != BroadcastStatus.SCHEDULED]
    return (scheduled + others)[:limit]


async def counts(*, session: AsyncSession, broadcast_id: int) -> dict[str, Any]:
    """Delivery counts: status totals, per channel sent, per skip reason, failures by errcode."""
    rows = await session.execute(
        select(Delivery.status, Delivery.channel, Delivery.reason, Delivery.errcode, func.count())
        .where(Delivery.broadcast_id == broadcast_id)
        .group_by(Delivery.status, Delivery.channel, Delivery.reason, Delivery.errcode)
    )
    out: dict[str, Any] = {"total": 0, "status": {}, "sent_by_channel": {}, "skipped": {}, "failed": {}}
    for status, channel, reason, errcode, n in rows:
        n = int(n)
        out["total"] += n
        out["status"][status] = out["status"].get(status, 0) + n
        if status == DeliveryStatus.SENT:
            out["sent_by_channel"][channel] = out["sent_by_channel"].get(channel, 0) + n
        elif status == DeliveryStatus.SKIPPED:
            out["skipped"][reason] = out["skipped"].get(reason, 0) + n
        elif status == DeliveryStatus.FAILED:
            key = str(errcode) if errcode is not None else reason
            out["failed"][key] = out["failed"].get(key, 0) + n
    return out

