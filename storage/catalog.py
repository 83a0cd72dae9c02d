"""The 861 catalog: 8 butler lines and their 33 services, each with its commission rate."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import ForeignKey, Integer, Numeric, String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base
from storage.cache import TableCache, read_apart

DEFAULT_COMMISSION_RATE = Decimal("0.20")
# The plan's range for a service's commission (PRODUCT.md rule 3: 10–50% per service).
MIN_COMMISSION_RATE, MAX_COMMISSION_RATE = Decimal("0.10"), Decimal("0.50")


class ButlerLine(Base):
    """One of the 8 管家 lines (旅行管家, 车管家, …)."""

    __tablename__ = "butler_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    position: Mapped[int] = mapped_column(Integer)
    services: Mapped[list[Service]] = relationship(
        back_populates="line", order_by="Service.position", lazy="selectin"
    )


class Service(Base):
    """One of the 33 services; `name` is the canonical NLU `service` value."""

    __tablename__ = "services"

    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("butler_lines.id"))
    name: Mapped[str] = mapped_column(String(32), unique=True)
    position: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text, default="")
    price_note: Mapped[str] = mapped_column(String(200), default="")
    # Platform commission on the order amount (plan: 10–50% per service, group buying 20%).
    commission_rate: Mapped[Decimal] = mapped_column(Numeric(4, 3), default=DEFAULT_COMMISSION_RATE)
    line: Mapped[ButlerLine] = relationship(back_populates="services", lazy="joined")


async def _load_lines(session: AsyncSession) -> list[ButlerLine]:
    return await read_apart(session, select(ButlerLine).order_by(ButlerLine.position))


# The menu, the catalog browser, prices and order intake read it on most messages (issue 18).
_LINES = TableCache((ButlerLine.__tablename__, Service.__tablename__), _load_lines)


async def list_lines(*, session: AsyncSession) -> list[ButlerLine]:
    """All butler lines in catalog order, with their services loaded.

    From the per-worker copy (storage/cache.py), for reading: a row to change or to link to an
    order is loaded with get_service_by_name.
    """
    return await _LINES.get(session)


async def find_service(*, session: AsyncSession, name: str) -> Service | None:
    """A service by its canonical name, from the per-worker copy: for showing it (a price, a
    detail) or checking it exists; the row to change or to link to an order is
    get_service_by_name's. A price question used to cost a query of its own (issue 18)."""
    for line in await list_lines(session=session):
        for service in line.services:
            if service.name == name:
                return service
    return None


async def get_service_by_name(*, session: AsyncSession, name: str) -> Service | None:
    """A service by its canonical name (this session's row)."""
    return await session.scalar(select(Service).where(Service.name == name))


async def get_services_by_names(*, session: AsyncSession, names: list[str]) -> list[Service]:
    """Services for canonical names; unknown names are simply absent from the result."""
    result = await session.scalars(select(Service).where(Service.name.in_(names)))
    return list(result)


async def set_terms(
    *, session: AsyncSession, name: str, commission_rate: Decimal | None = None, price_note: str | None = None
) -> Service:
    """Change a service's commission rate and/or price note; orders completed later use them.

    Raises LookupError for an unknown service and ValueError for a rate outside 10–50%.
    """
    service = await get_service_by_name(session=session, name=name)
    if service is None:
        raise LookupError(name)
    if commission_rate is not None:
        if not MIN_COMMISSION_RATE <= commission_rate <= MAX_COMMISSION_RATE:
            raise ValueError(f"commission rate must be between {MIN_COMMISSION_RATE} and {MAX_COMMISSION_RATE}")
        service.commission_rate = commission_rate.quantize(Decimal("0.001"))
    if price_note is not None:
        service.price_note = price_note.strip()
    await session.flush()
    return service
