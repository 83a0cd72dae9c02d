"""Community activities (社区活动) staff announce; owners ask what is coming up."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, ForeignKey, String, Text, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, Timestamped, UtcDateTime, utcnow
from storage.cache import TableCache, read_apart


class Activity(Timestamped, Base):
    """An event; no community means it is open to every community."""

    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    place: Mapped[str] = mapped_column(String(100), default="")
    description: Mapped[str] = mapped_column(Text, default="")


async def add(
    *,
    session: AsyncSession,
    title: str,
    starts_at: datetime,
    community_id: int | None = None,
    place: str = "",
    description: str = "",
) -> Activity:
    """Announce an activity."""
    row = Activity(
        title=title, starts_at=starts_at, community_id=community_id, place=place, description=description
    )
    session.add(row)
    await session.flush()
    return row


async def _load_future(session: AsyncSession) -> list[Activity]:
    # Everything still to come; the copy is at most cache.MAX_AGE_SECONDS old, and `now` is applied below.
    stmt = select(Activity).where(Activity.starts_at >= utcnow() - _MARGIN).order_by(Activity.starts_at, Activity.id)
    return await read_apart(session, stmt)


_MARGIN = timedelta(hours=1)  # a caller's `now` a little behind the clock still sees its activities
_FUTURE = TableCache((Activity.__tablename__,), _load_future)


async def upcoming(
    *, session: AsyncSession, community_id: int | None, now: datetime, limit: int = 5
) -> list[Activity]:
    """The next activities open to an owner of this community (or to everyone), for reading.

    From the per-worker copy of what is still to come (storage/cache.py); a `now` further back
    than the copy reaches (tests, reports) reads the database.
    """
    if now < utcnow() - _MARGIN:
        scope: ColumnElement[bool] = Activity.community_id.is_(None)
        if community_id is not None:
            scope = or_(scope, Activity.community_id == community_id)
        stmt = select(Activity).where(scope, Activity.starts_at >= now).order_by(Activity.starts_at).limit(limit)
        return list(await session.scalars(stmt))
    rows = [a for a in await _FUTURE.get(session)
            if a.starts_at >= now and (a.community_id is None or a.community_id == community_id)]
    return rows[:limit]
