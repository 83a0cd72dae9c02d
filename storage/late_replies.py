"""Messages answered after WeChat's 5-second window: a lease per message, so one is answered once.

At the reply deadline the webhook records the message here with a short lease, renewed while its
worker lives. The reply then goes out by customer-service message and `delivered_at` is set. If
the worker dies, the lease lapses: WeChat's next retry takes the message over, and if no retry
comes the sweeper sends the reply the message log recorded. Whoever sets `delivered_at` first is
the only one who sends.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Index, String, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, Timestamped, UtcDateTime, utcnow
from storage.db import is_postgres, rows_affected
from storage.messages import InboundMessageLog


class LateReply(Timestamped, Base):
    """One message whose reply is (or was to be) sent later."""

    __tablename__ = "late_replies"
    __table_args__ = (Index("ix_late_replies_open", "delivered_at", "lease_until"),)

    dedupe_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64))
    lease_until: Mapped[datetime] = mapped_column(UtcDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # "sent" (customer-service message), "passive" (a takeover answered in time), "none" (no reply).
    outcome: Mapped[str] = mapped_column(String(32), default="", server_default="")
    # The inbound message itself, so a message whose worker died before committing anything can
    # still be handled by the sweeper when WeChat sends no retry.
    event: Mapped[dict[str, Any] | None] = mapped_column(JSON)


async def hold(
    *, session: AsyncSession, dedupe_key: str, user_id: str, lease_seconds: float, event: dict[str, Any] | None = None
) -> None:
    """Record (or renew) the lease on a message being answered late."""
    until = utcnow() + timedelta(seconds=lease_seconds)
    insert = pg_insert if is_postgres(session) else sqlite_insert
    stmt = insert(LateReply).values(dedupe_key=dedupe_key, user_id=user_id, lease_until=until, created_at=utcnow(),
                                    event=event)
    stmt = stmt.on_conflict_do_update(
        index_elements=[LateReply.dedupe_key], set_={"lease_until": until},
        where=LateReply.delivered_at.is_(None),
    )
    await session.execute(stmt)


async def settle(*, session: AsyncSession, dedupe_key: str, outcome: str) -> bool:
    """Take the one right to answer this message; False if someone already answered it.

    Set before the send: at most once, even if the send then fails (it is logged, not repeated).
    """
    result = await session.execute(
        update(LateReply).where(LateReply.dedupe_key == dedupe_key, LateReply.delivered_at.is_(None))
        .values(delivered_at=utcnow(), outcome=outcome)
    )
    return bool(rows_affected(result))


async def is_late(*, session: AsyncSession, dedupe_key: str) -> bool:
    """Whether this message went (or goes) the late way, so its reply must not be given passively."""
    return await session.scalar(select(LateReply.dedupe_key).where(LateReply.dedupe_key == dedupe_key)) is not None


async def lapsed(
    *, session: AsyncSession, grace_seconds: float, limit: int = 50
) -> list[tuple[str, str, str | None, dict[str, Any] | None]]:
    """(dedupe_key, user_id, logged reply or None if never logged, event) of leases that lapsed
    with nothing delivered."""
    rows = await session.execute(
        select(LateReply.dedupe_key, LateReply.user_id, InboundMessageLog.reply, InboundMessageLog.id, LateReply.event)
        .outerjoin(InboundMessageLog, InboundMessageLog.dedupe_key == LateReply.dedupe_key)
        .where(LateReply.delivered_at.is_(None), LateReply.lease_until < utcnow() - timedelta(seconds=grace_seconds))
        .order_by(LateReply.created_at)
        .limit(limit)
    )
    return [(r[0], r[1], r[2] if r[3] is not None else None, r[4]) for r in rows]


async def purge_settled(*, session: AsyncSession, older_than_hours: float = 24) -> int:
    """Forget answered messages once no retry can come for them (WeChat retries within 15 s)."""
    from sqlalchemy import delete

    result = await session.execute(delete(LateReply).where(
        LateReply.delivered_at.is_not(None), LateReply.delivered_at < utcnow() - timedelta(hours=older_than_hours)))
    return rows_affected(result)
