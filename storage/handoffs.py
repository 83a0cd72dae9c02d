"""Hand-offs: a staff member holds an owner's conversation and the bot stays quiet."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, lazyload, mapped_column, relationship

from storage.base import Base, Timestamped, UtcDateTime, aware, utcnow
from storage.owners import Owner


class HandoffStatus(StrEnum):
    """Open while a human holds the conversation."""

    OPEN = "open"
    CLOSED = "closed"


class Handoff(Timestamped, Base):
    """One stretch of a conversation handled by staff instead of the bot."""

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=HandoffStatus.OPEN, index=True)
    # human_agent | nlu_fallback | validation | complaint
    reason: Mapped[str] = mapped_column(String(32), default="")
    last_activity_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # timeout | staff
    closed_reason: Mapped[str] = mapped_column(String(16), default="")
    staff_telegram_id: Mapped[int | None] = mapped_column(BigInteger)  # legacy rows only (before 0008)
    # Issue 14: who answered or closed it, as the staff row, never a raw platform id.
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    owner: Mapped[Owner] = relationship(lazy="joined")

    def is_idle(self, now: datetime, idle: timedelta) -> bool:
        """True when nobody spoke for longer than the idle limit."""
        return now - aware(self.last_activity_at) > idle

    def close(self, *, reason: str, now: datetime | None = None) -> None:
        """End the hand-off; the bot answers the owner again."""
        self.status = HandoffStatus.CLOSED
        self.closed_at = now or utcnow()
        self.closed_reason = reason




async def open_for_owner(*, session: AsyncSession, owner_id: int) -> Handoff | None:
    """The owner's open hand-off, if any (asked on every owner message).

    Without the joined owner: the caller holds the owner already, and the join cost a share of
    every message's CPU (issue 18); `handoff.owner` still loads (from the session) when read.
    """
    return await session.scalar(
        select(Handoff)
        .options(lazyload(Handoff.owner))
        .where(Handoff.owner_id == owner_id, Handoff.status == HandoffStatus.OPEN)
        .order_by(Handoff.id.desc())
        .limit(1)
    )


async def create(*, session: AsyncSession, owner: Owner, reason: str) -> Handoff:
    """Open a hand-off for an owner."""
    handoff = Handoff(owner=owner, owner_id=owner.id, reason=reason, last_activity_at=utcnow())
    session.add(handoff)
    await session.flush()
    return handoff


async def get(*, session: AsyncSession, handoff_id: int) -> Handoff | None:
    """A hand-off by id."""
    return await session.get(Handoff, handoff_id)
