"""Communities (小区, the plan's 盘子): the unit every report and broadcast is scoped by."""

from __future__ import annotations

import re

from sqlalchemy import BigInteger, Integer, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, Timestamped


class Community(Timestamped, Base):
    """A 小区 with its monthly property fee receivable (the yardstick for butler income)."""

    __tablename__ = "communities"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    # Money is integer fen, never float.
    property_fee_monthly_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    households: Mapped[int] = mapped_column(Integer, default=0)
    # The 24-hour duty phone owners get first in an emergency (issue 13); "" → BUTLER_HOTLINE.
    hotline: Mapped[str] = mapped_column(String(32), default="")


async def create(
    *, session: AsyncSession, name: str, property_fee_monthly_fen: int = 0, households: int = 0, hotline: str = ""
) -> Community:
    """Add a community; the caller's unit of work commits it."""
    community = Community(
        name=name, property_fee_monthly_fen=property_fee_monthly_fen, households=households, hotline=hotline
    )
    session.add(community)
    await session.flush()
    return community


async def get_by_name(*, session: AsyncSession, name: str) -> Community | None:
    """A community by its exact name."""
    return await session.scalar(select(Community).where(Community.name == name))


async def get(*, session: AsyncSession, community_id: int) -> Community | None:
    """A community by id."""
    return await session.get(Community, community_id)


async def list_all(*, session: AsyncSession) -> list[Community]:
    """Every community, by name."""
    return list(await session.scalars(select(Community).order_by(Community.id)))


_PHONE = re.compile(r"^[0-9][0-9\-]{2,30}$")


def valid_hotline(value: str) -> str:
    """A duty phone as stored: digits and dashes ("400-800-1234", "0571-88886666", "110"); else ValueError."""
    cleaned = value.strip().replace(" ", "")
    if not _PHONE.fullmatch(cleaned) or sum(ch.isdigit() for ch in cleaned) < 3:
        raise ValueError(f"not a phone number: {value!r}")
    return cleaned


async def hotline_for(*, session: AsyncSession, community_id: int | None, fallback: str) -> str:
    """The community's 24-hour phone, or the company-wide one (BUTLER_HOTLINE) when it has none."""
    if community_id is not None:
        own = await session.scalar(select(Community.hotline).where(Community.id == community_id))
        if own:
            return own
    return fallback
