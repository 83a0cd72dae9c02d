"""Service lines per community (立项): which of the 33 services a community offers, and demand for the rest.

The plan introduces butler lines one at a time, per community, from survey data. Admins enable a
whole line (家政管家) or one service (陪聊), optionally from a start date, or disable one.

How a community's offer is worked out, per service:
- a row for the service itself decides; else a row for its line; else
- the default: everything is offered while the community has no *enabled* row at all (a fresh
  install, or one where admins only switched something off), nothing once a line has been opted in.
An enabled row counts from its start date (`starts_on`, local date).

When an owner asks for a service their community does not offer, the ask is recorded once per
owner, service and day: the per-community "asked but not offered" count guides the next 立项.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, UniqueConstraint, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage import catalog
from storage.base import Base, Timestamped, UtcDateTime, utcnow
from storage.cache import TableCache, read_apart
from storage.catalog import ButlerLine, Service


class CommunityService(Timestamped, Base):
    """One 立项 decision: a line or a service switched on (from a date) or off in a community."""

    __tablename__ = "community_services"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    # Exactly one of line_id / service_id is set.
    line_id: Mapped[int | None] = mapped_column(ForeignKey("butler_lines.id"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    starts_on: Mapped[date | None] = mapped_column(Date)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ServiceDemand(Timestamped, Base):
    """An owner asked for a service their community does not offer (once per owner, service, day)."""

    __tablename__ = "service_demand"
    __table_args__ = (UniqueConstraint("community_id", "service_id", "owner_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id"))
    day: Mapped[date] = mapped_column(Date, index=True)
    asked_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


@dataclass(frozen=True)
class Target:
    """What an enable/disable names: a whole line, or one service."""

    line: ButlerLine | None = None
    service: Service | None = None

    @property
    def name(self) -> str:
        """The canonical name."""
        return self.line.name if self.line is not None else self.service.name if self.service else ""


async def target(*, session: AsyncSession, name: str) -> Target | None:
    """The line or service with this canonical name."""
    line = await session.scalar(select(ButlerLine).where(ButlerLine.name == name.strip()))
    if line is not None:
        return Target(line=line)
    service = await session.scalar(select(Service).where(Service.name == name.strip()))
    return Target(service=service) if service is not None else None


async def _row(session: AsyncSession, community_id: int, what: Target) -> CommunityService | None:
    return await session.scalar(select(CommunityService).where(
        CommunityService.community_id == community_id,
        CommunityService.line_id.is_(None) if what.line is None else CommunityService.line_id == what.line.id,
        CommunityService.service_id.is_(None) if what.service is None
        else CommunityService.service_id == what.service.id,
    ))


async def set_offer(
    *, session: AsyncSession, community_id: int, what: Target, enabled: bool, starts_on: date | None = None,
    staff_id: int | None = None,
) -> CommunityService:
    """Enable (from a date) or disable a line or service in a community; a repeat just updates it.

    Enabling a line clears earlier per-service decisions inside it, so `enable 家政管家` means the
    whole line; disabling a service inside an enabled line is kept as the exception it is.
    """
    if enabled and what.line is not None:
        ids = [s.id for s in what.line.services]
        for old in await session.scalars(select(CommunityService).where(
                CommunityService.community_id == community_id, CommunityService.service_id.in_(ids))):
            await session.delete(old)
    row = await _row(session, community_id, what)
    if row is None:
        row = CommunityService(
            community_id=community_id, line_id=what.line.id if what.line else None,
            service_id=what.service.id if what.service else None,
        )
        session.add(row)
    row.enabled, row.starts_on, row.staff_id, row.updated_at = enabled, starts_on if enabled else None, staff_id, utcnow()
    await session.flush()
    return row


@dataclass(frozen=True)
class Offer:
    """A community's offer on one day: the services it offers, and what is planned."""

    community_id: int
    configured: bool  # False: nothing decided, everything offered (today's behaviour)
    offered: frozenset[str]  # canonical service names
    planned: tuple[tuple[str, date], ...] = ()  # (line or service, start date) not yet started
    disabled: tuple[str, ...] = ()  # explicit 'off' decisions

    def offers(self, service: str) -> bool:
        """Whether owners here may see and order the service."""
        return service in self.offered


async def _load_decisions(session: AsyncSession) -> dict[int, tuple[CommunityService, ...]]:
    by_community: dict[int, list[CommunityService]] = {}
    for row in await read_apart(session, select(CommunityService).order_by(CommunityService.id)):
        by_community.setdefault(row.community_id, []).append(row)
    return {community: tuple(rows) for community, rows in by_community.items()}


# Every community's 立项 decisions, per worker (storage/cache.py): a bound owner's every catalog,
# price or order question asks for its community's offer, often more than once a turn (issue 18).
_DECISIONS = TableCache((CommunityService.__tablename__,), _load_decisions)


async def offer(*, session: AsyncSession, community_id: int | None, today: date) -> Offer | None:
    """The community's offer (None for an owner with no community yet: nothing is filtered).

    From the per-worker copies of the decisions and the catalog (at most cache.MAX_AGE_SECONDS old).
    """
    if community_id is None:
        return None
    rows = (await _DECISIONS.get(session)).get(community_id, ())
    lines = await catalog.list_lines(session=session)
    everything = frozenset(s.name for line in lines for s in line.services)
    if not rows:
        return Offer(community_id, False, everything)
    by_line = {r.line_id: r for r in rows if r.line_id is not None}
    by_service = {r.service_id: r for r in rows if r.service_id is not None}
    default = not any(r.enabled for r in rows)
    offered: set[str] = set()
    planned: list[tuple[str, date]] = []
    disabled: list[str] = []
    for line in lines:
        line_row = by_line.get(line.id)
        if line_row is not None:
            _note(line_row, line.name, today, planned, disabled)
        for s in line.services:
            row = by_service.get(s.id)
            if row is not None:
                _note(row, s.name, today, planned, disabled)
            decided = row or line_row
            if decided is None:
                if default:
                    offered.add(s.name)
            elif decided.enabled and (decided.starts_on is None or decided.starts_on <= today):
                offered.add(s.name)
    return Offer(community_id, True, frozenset(offered), tuple(planned), tuple(disabled))


def _note(row: CommunityService, name: str, today: date, planned: list[tuple[str, date]], disabled: list[str]) -> None:
    if not row.enabled:
        disabled.append(name)
    elif row.starts_on is not None and row.starts_on > today:
        planned.append((name, row.starts_on))


async def offers(*, session: AsyncSession, community_id: int | None, service: str, today: date) -> bool:
    """Whether an owner in this community may order the service today."""
    current = await offer(session=session, community_id=community_id, today=today)
    return current is None or current.offers(service)


async def record_demand(
    *, session: AsyncSession, community_id: int, service_id: int, owner_id: int, day: date
) -> bool:
    """Count an ask for a service not offered; once per owner, service and day (retries, repeats)."""
    seen = await session.scalar(select(ServiceDemand.id).where(
        ServiceDemand.community_id == community_id, ServiceDemand.service_id == service_id,
        ServiceDemand.owner_id == owner_id, ServiceDemand.day == day))
    if seen is not None:
        return False
    try:
        async with session.begin_nested():
            session.add(ServiceDemand(community_id=community_id, service_id=service_id, owner_id=owner_id, day=day))
    except IntegrityError:  # the same ask from another process won the race: it is counted once
        return False
    return True


async def demand(
    *, session: AsyncSession, since: date, until: date, community_ids: list[int] | None = None
) -> dict[int, dict[str, int]]:
    """Asked-but-not-offered counts per community and service, for local days since ≤ day < until."""
    stmt = (
        select(ServiceDemand.community_id, Service.name, func.count())
        .join(Service, Service.id == ServiceDemand.service_id)
        .where(ServiceDemand.day >= since, ServiceDemand.day < until)
        .group_by(ServiceDemand.community_id, Service.name)
    )
    if community_ids is not None:
        stmt = stmt.where(ServiceDemand.community_id.in_(community_ids))
    out: dict[int, dict[str, int]] = {}
    for cid, name, n in await session.execute(stmt):
        out.setdefault(int(cid), {})[name] = int(n)
    return out
