"""The imported owner roster (业主花名册): what binding checks a household claim against."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ForeignKey, String, UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, Timestamped


class RosterEntry(Timestamped, Base):
    """One household member on file with the property office."""

    __tablename__ = "roster_entries"
    __table_args__ = (UniqueConstraint("community_id", "building", "unit", "room", "phone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    building: Mapped[str] = mapped_column(String(16))
    unit: Mapped[str] = mapped_column(String(16), default="")
    room: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64), default="")
    phone: Mapped[str] = mapped_column(String(32), index=True)


@dataclass(frozen=True)
class RosterRow:
    """A validated roster line ready to store."""

    community_id: int
    building: str
    unit: str
    room: str
    name: str
    phone: str


async def upsert(*, session: AsyncSession, row: RosterRow) -> bool:
    """Store a roster line; returns True when it was new (re-importing a file is harmless)."""
    existing = await session.scalar(
        select(RosterEntry).where(
            RosterEntry.community_id == row.community_id,
            RosterEntry.building == row.building,
            RosterEntry.unit == row.unit,
            RosterEntry.room == row.room,
            RosterEntry.phone == row.phone,
        )
    )
    if existing is not None:
        existing.name = row.name or existing.name
        return False
    session.add(RosterEntry(**row.__dict__))
    await session.flush()
    return True


async def find_match(
    *, session: AsyncSession, community_id: int, building: str, unit: str, room: str, phone: str
) -> RosterEntry | None:
    """The roster line with this household and phone, if the office has it on file."""
    return await session.scalar(
        select(RosterEntry).where(
            RosterEntry.community_id == community_id,
            RosterEntry.building == building,
            RosterEntry.unit == unit,
            RosterEntry.room == room,
            RosterEntry.phone == phone,
        )
    )
