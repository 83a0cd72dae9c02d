"""Transactional outbox: domain code records events in the same commit as its data.

Transport code (bot/) delivers them after the commit, so a crash between "order saved" and
"job card posted" loses nothing, and the domain never imports a transport.

No row waits forever (issue 16): every kind the code emits is declared in KINDS, and the app
refuses to start unless each has a handler (bot/outbox_relay.py); a row that keeps failing is
parked (parked_at) and counted, and delivered rows are deleted after a retention period.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Integer, String, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage import events
from storage.base import Base, Timestamped, UtcDateTime, utcnow
from storage.db import is_postgres, rows_affected

log = logging.getLogger(__name__)

# Every kind the domain emits (storage/events.py); each needs a handler (bot/outbox_relay.py).
KINDS: frozenset[str] = frozenset(events.kinds(events.EVENT_TYPES))


class OutboxEvent(Timestamped, Base):
    """One event to deliver, e.g. kind='order.created', payload={'order_id': 7} (a JobOffered)."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    # Set when the row failed max_attempts times: no longer retried, counted until staff look.
    parked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)
    # Committed before the platform call (issue 15): a row with it set and no processed_at is in
    # flight or was cut off mid-call, and is never sent again blindly.
    send_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # "" delivered / pending; "unknown": the call may or may not have reached the platform.
    outcome: Mapped[str] = mapped_column(String(16), default="", server_default="")


def emit(session: AsyncSession, event: events.DomainEvent) -> OutboxEvent:
    """Record an event in the caller's unit of work (storage/events.py encodes it)."""
    kind, payload = events.encode(event)
    row = OutboxEvent(kind=kind, payload=payload)
    session.add(row)
    session.info[_EMITTED] = True
    return row


_EMITTED = "outbox_emitted"


def emitted(session: AsyncSession) -> bool:
    """Whether this unit of work recorded any event, so the caller knows a delivery run is due.

    Most owner messages emit nothing; kicking the relay anyway cost a query per message.
    """
    return bool(session.info.get(_EMITTED))


async def claim_pending(
    *, session: AsyncSession, kinds: list[str], limit: int = 50, max_attempts: int = 5
) -> list[OutboxEvent]:
    """Pending events of the given kinds, row-locked on PostgreSQL so relays never share one."""
    stmt = (
        select(OutboxEvent)
        .where(
            OutboxEvent.processed_at.is_(None),
            OutboxEvent.send_started_at.is_(None),  # a recorded send is never claimed again
            OutboxEvent.parked_at.is_(None),  # set aside for a person: re-claiming it only re-parks it
            OutboxEvent.attempts < max_attempts,
            OutboxEvent.kind.in_(kinds),
        )
        .order_by(OutboxEvent.id)
        .limit(limit)
    )
    if is_postgres(session):
        stmt = stmt.with_for_update(skip_locked=True)
    return list(await session.scalars(stmt))


async def mark_done(*, session: AsyncSession, event_id: int) -> None:
    """Mark an event delivered."""
    await session.execute(
        update(OutboxEvent).where(OutboxEvent.id == event_id).values(processed_at=utcnow())
    )


async def mark_failed(*, session: AsyncSession, event_id: int, error: str, max_attempts: int = 5) -> None:
    """Count a failed delivery attempt; the sweeper retries until max_attempts, then the row is parked."""
    await session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.id == event_id)
        .values(attempts=OutboxEvent.attempts + 1, last_error=error[:500], send_started_at=None)
    )
    await session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.id == event_id, OutboxEvent.processed_at.is_(None),
               OutboxEvent.parked_at.is_(None), OutboxEvent.attempts >= max_attempts)
        .values(parked_at=utcnow())
    )


async def park(*, session: AsyncSession, event_id: int, reason: str) -> None:
    """Set a row aside at once (it can never be delivered, e.g. its payload does not decode)."""
    await session.execute(
        update(OutboxEvent).where(OutboxEvent.id == event_id)
        .values(parked_at=utcnow(), send_started_at=None, last_error=reason[:500])
    )


async def pending_kinds(*, session: AsyncSession) -> set[str]:
    """Kinds of rows still waiting for delivery (start-up refuses any without a handler)."""
    rows = await session.scalars(
        select(OutboxEvent.kind).where(OutboxEvent.processed_at.is_(None), OutboxEvent.parked_at.is_(None)).distinct()
    )
    return set(rows)


async def park_stuck(*, session: AsyncSession, max_attempts: int) -> int:
    """Park rows that reached max_attempts before parking existed (or under a lower limit)."""
    result = await session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.processed_at.is_(None), OutboxEvent.parked_at.is_(None),
               OutboxEvent.attempts >= max_attempts)
        .values(parked_at=utcnow())
    )
    return rows_affected(result)


async def purge_delivered(*, session: AsyncSession, before: datetime, batch: int = 5000) -> int:
    """Delete rows delivered before `before` (parked rows stay until someone looks at them)."""
    ids = list(await session.scalars(
        select(OutboxEvent.id).where(OutboxEvent.processed_at.is_not(None), OutboxEvent.processed_at < before,
                                     OutboxEvent.parked_at.is_(None)).limit(batch)
    ))
    if not ids:
        return 0
    await session.execute(delete(OutboxEvent).where(OutboxEvent.id.in_(ids)))
    return len(ids)


async def counts(*, session: AsyncSession, since: datetime | None = None) -> dict[str, int]:
    """Pending and parked rows now, and rows parked since `since` (for the daily report)."""
    pending = await session.scalar(select(func.count(OutboxEvent.id)).where(
        OutboxEvent.processed_at.is_(None), OutboxEvent.parked_at.is_(None)))
    parked = await session.scalar(select(func.count(OutboxEvent.id)).where(OutboxEvent.parked_at.is_not(None)))
    out = {"pending": int(pending or 0), "parked": int(parked or 0)}
    if since is not None:
        new = await session.scalar(select(func.count(OutboxEvent.id)).where(OutboxEvent.parked_at >= since))
        out["parked_since"] = int(new or 0)
    return out


# --- the send record (issue 15) ----------------------------------------------------------------

# A claimed event still not done after this long was cut off mid-call (its process died).
IN_DOUBT_SECONDS = 120


async def mark_started(*, session: AsyncSession, event_ids: list[int]) -> None:
    """Record, before any call, that these events are being sent (committed by the caller)."""
    if event_ids:
        await session.execute(
            update(OutboxEvent).where(OutboxEvent.id.in_(event_ids)).values(send_started_at=utcnow())
        )


async def mark_unknown(*, session: AsyncSession, event_id: int, error: str) -> None:
    """The call may have reached the platform: closed as `unknown`, never sent again."""
    await session.execute(
        update(OutboxEvent).where(OutboxEvent.id == event_id)
        .values(processed_at=utcnow(), outcome="unknown", last_error=error[:500])
    )


async def release(*, session: AsyncSession, event_ids: list[int], error: str) -> None:
    """Sending is paused: back to pending without counting an attempt."""
    await session.execute(
        update(OutboxEvent).where(OutboxEvent.id.in_(event_ids), OutboxEvent.processed_at.is_(None))
        .values(send_started_at=None, last_error=error[:500])
    )


async def settle_in_doubt(
    *, session: AsyncSession, on_unknown: Callable[[AsyncSession, str, dict[str, Any]], None]
) -> int:
    """Events whose sender died mid-call: closed as `unknown` and reported, never resent."""
    stale = utcnow() - timedelta(seconds=IN_DOUBT_SECONDS)
    stmt = select(OutboxEvent).where(
        OutboxEvent.processed_at.is_(None), OutboxEvent.send_started_at.is_not(None),
        OutboxEvent.send_started_at < stale,
    ).limit(50)
    if is_postgres(session):
        stmt = stmt.with_for_update(skip_locked=True)
    rows = list(await session.scalars(stmt))
    for row in rows:
        await mark_unknown(session=session, event_id=row.id, error="sender stopped mid-call")
        on_unknown(session, row.kind, row.payload)
    return len(rows)
