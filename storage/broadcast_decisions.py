"""Deciding a broadcast draft: confirm or discard, each one conditional UPDATE (issue 14).

Two presses (确认 on one process, 放弃 on another) used to read the draft, then both write: both
were told they had won and a discarded broadcast could still go out. Here each decision is a
single `UPDATE … WHERE status = 'draft'`; the row count says who won, across processes, and the
loser reads the row again to be told what actually happened. A draft is confirmable only by the
staff member it was shown to, and only within the 30 minutes its preview promises. A new preview
by the same staff member retires their older drafts, so a typed 确认 can only mean the last one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.base import utcnow
from storage.broadcasts import Broadcast, BroadcastStatus
from storage.db import rows_affected

PREVIEW_VALID = timedelta(minutes=30)


class Ended(StrEnum):
    """Why a draft left the draft state without being confirmed (kept in totals["ended"])."""

    DISCARDED = "discarded"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"


class Verdict(StrEnum):
    """What a decision found."""

    QUEUED = "queued"  # confirmed, sending now
    SCHEDULED = "scheduled"  # confirmed, for later
    DISCARDED = "discarded"
    NOT_FOUND = "not_found"  # no such draft, or not this staff member's
    ALREADY_CONFIRMED = "already_confirmed"  # someone pressed 确认 first
    ALREADY_DISCARDED = "already_discarded"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"


@dataclass(frozen=True)
class Decision:
    """The outcome of one press: won (this press changed the state) and what the row now says."""

    verdict: Verdict
    broadcast: Broadcast | None

    @property
    def won(self) -> bool:
        """True when this press made the change."""
        return self.verdict in (Verdict.QUEUED, Verdict.SCHEDULED, Verdict.DISCARDED)


def _cutoff(now: datetime) -> datetime:
    return now.astimezone(UTC) - PREVIEW_VALID


async def _reload(session: AsyncSession, broadcast_id: int) -> Broadcast | None:
    return await session.get(Broadcast, broadcast_id, populate_existing=True)


async def confirm(*, session: AsyncSession, broadcast_id: int, staff_id: int, now: datetime) -> Decision:
    """Queue (or schedule) the draft if it is still a fresh draft shown to this staff member."""
    now = now.astimezone(UTC)
    later = case((Broadcast.scheduled_at > now, BroadcastStatus.SCHEDULED.value), else_=BroadcastStatus.QUEUED.value)
    result = await session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id, Broadcast.staff_id == staff_id,
               Broadcast.status == BroadcastStatus.DRAFT, Broadcast.created_at >= _cutoff(now))
        .values(status=later, confirmed_at=now, decided_by_staff_id=staff_id)
        .execution_options(synchronize_session=False)
    )
    row = await _reload(session, broadcast_id)
    if rows_affected(result) == 1 and row is not None:
        return Decision(Verdict.SCHEDULED if row.status == BroadcastStatus.SCHEDULED else Verdict.QUEUED, row)
    if row is not None and row.staff_id == staff_id and row.status == BroadcastStatus.DRAFT:
        await _end(session, row.id, Ended.EXPIRED, staff_id=None, now=now)  # stale: never confirmable again
        return Decision(Verdict.EXPIRED, await _reload(session, broadcast_id))
    return _lost(row, staff_id)


async def discard(*, session: AsyncSession, broadcast_id: int, staff_id: int, now: datetime) -> Decision:
    """Drop the draft unless someone already decided it."""
    now = now.astimezone(UTC)
    won = await _end(session, broadcast_id, Ended.DISCARDED, staff_id=staff_id, now=now, owner_id=staff_id)
    row = await _reload(session, broadcast_id)
    if won and row is not None:
        return Decision(Verdict.DISCARDED, row)
    return _lost(row, staff_id)


async def supersede(*, session: AsyncSession, staff_id: int, now: datetime) -> int:
    """Retire the staff member's open drafts before a new preview is shown; returns how many."""
    result = await session.execute(
        update(Broadcast)
        .where(Broadcast.staff_id == staff_id, Broadcast.status == BroadcastStatus.DRAFT)
        .values(status=BroadcastStatus.CANCELLED, finished_at=now.astimezone(UTC),
                totals={"ended": Ended.SUPERSEDED.value})
        .execution_options(synchronize_session=False)
    )
    return rows_affected(result)


async def _end(
    session: AsyncSession, broadcast_id: int, why: Ended, *, staff_id: int | None, now: datetime,
    owner_id: int | None = None,
) -> bool:
    conditions = [Broadcast.id == broadcast_id, Broadcast.status == BroadcastStatus.DRAFT]
    if owner_id is not None:
        conditions.append(Broadcast.staff_id == owner_id)
    result = await session.execute(
        update(Broadcast).where(*conditions)
        .values(status=BroadcastStatus.CANCELLED, finished_at=now, decided_by_staff_id=staff_id,
                totals={"ended": why.value})
        .execution_options(synchronize_session=False)
    )
    return rows_affected(result) == 1


def _lost(row: Broadcast | None, staff_id: int) -> Decision:
    """What the losing (or misplaced) press is told."""
    if row is None or row.staff_id != staff_id:
        return Decision(Verdict.NOT_FOUND, None)
    if row.status == BroadcastStatus.CANCELLED and row.confirmed_at is None:
        ended = (row.totals or {}).get("ended", Ended.DISCARDED.value)
        return Decision({Ended.EXPIRED.value: Verdict.EXPIRED, Ended.SUPERSEDED.value: Verdict.SUPERSEDED}.get(
            ended, Verdict.ALREADY_DISCARDED), row)
    if row.status == BroadcastStatus.DRAFT:
        return Decision(Verdict.EXPIRED, row)
    return Decision(Verdict.ALREADY_CONFIRMED, row)


async def latest_shown(
    *, session: AsyncSession, staff_id: int, channel: str, reply_to: str, within: timedelta = timedelta(days=7)
) -> Broadcast | None:
    """The last broadcast previewed to this staff member in this chat, whatever became of it.

    A typed 确认 refers to this one only: if it expired, was superseded or already decided, the
    staff member is told so, rather than an older draft being confirmed in its place.
    """
    return await session.scalar(
        select(Broadcast)
        .where(Broadcast.staff_id == staff_id, Broadcast.reply_channel == channel, Broadcast.reply_to == reply_to,
               Broadcast.created_at >= utcnow() - within)
        .order_by(Broadcast.id.desc())
        .limit(1)
    )
