"""Communities (小区, the plan's 盘子): the unit every report and broadcast is scoped by."""

from __future__ import annotations

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


async def create(
    *, session: AsyncSession, name: str, property_fee_monthly_fen: int = 0, households: int = 0
) -> Community:
    """Add a community; the caller's unit of work commits it."""
    community = Community(
        name=name, property_fee_monthly_fen=property_fee_monthly_fen, households=households
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
