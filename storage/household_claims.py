"""Household claims: an owner's "this is my home", kept until the roster or a staff member decides.

A claim that matches the roster (same household and phone) and whose household has no other
verified owner is verified at once. Any other claim waits for staff (`/bind_ok`, `/bind_reject`)
or for a roster import that matches it. The owner is trusted with the household (orders
dispatched to its address, 挂账 on its statement) only once a claim is verified.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import Boolean, ColumnElement, ForeignKey, String, Text, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base, Timestamped, UtcDateTime, aware, utcnow
from storage.db import is_postgres, rows_affected
from storage.owners import BindingStatus, Owner
from storage.roster import RosterEntry


class ClaimStatus(StrEnum):
    """Where a claim stands; only PENDING may change, and only once."""

    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


class HouseholdClaim(Timestamped, Base):
    """One claim on a household, with who decided it and why (the audit trail of trust)."""

    __tablename__ = "household_claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id", ondelete="CASCADE"), index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), index=True)
    building: Mapped[str] = mapped_column(String(16), default="")
    unit: Mapped[str] = mapped_column(String(16), default="")
    room: Mapped[str] = mapped_column(String(16), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    status: Mapped[str] = mapped_column(String(16), default=ClaimStatus.PENDING, index=True)
    roster_matched: Mapped[bool] = mapped_column(Boolean, default=False)
    # Another owner already verified on this household when the claim came in (staff and they are told).
    conflict_owner_id: Mapped[int | None] = mapped_column(ForeignKey("owners.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    owner: Mapped[Owner] = relationship(foreign_keys=[owner_id], lazy="joined")

    @property
    def address(self) -> str:
        """Building/unit/room as people read it."""
        parts = [f"{self.building}号楼" if self.building else "", f"{self.unit}单元" if self.unit else ""]
        return "".join(parts) + (f"{self.room}室" if self.room else "")


def _same_household(model: type[Owner] | type[RosterEntry], owner: Owner) -> tuple[ColumnElement[bool], ...]:
    return (
        model.community_id == owner.community_id,
        model.building == owner.building,
        model.unit == owner.unit,
        model.room == owner.room,
    )


async def verified_owner_of(*, session: AsyncSession, owner: Owner) -> Owner | None:
    """Another owner already verified on the household this owner claims, if any."""
    if owner.community_id is None:
        return None
    stmt = select(Owner).where(
        *_same_household(Owner, owner), Owner.id != owner.id, Owner.binding_status == BindingStatus.VERIFIED
    ).limit(1)
    return await session.scalar(stmt)


async def open_claim(
    *, session: AsyncSession, owner: Owner, verified: bool, roster_matched: bool, conflict: Owner | None
) -> HouseholdClaim:
    """Record the owner's claim on the household now on their row (verified or pending)."""
    claim = HouseholdClaim(
        owner_id=owner.id, community_id=owner.community_id, building=owner.building, unit=owner.unit,
        room=owner.room, phone=owner.phone, roster_matched=roster_matched,
        conflict_owner_id=conflict.id if conflict else None,
        status=ClaimStatus.VERIFIED if verified else ClaimStatus.PENDING,
        decided_at=utcnow() if verified else None, reason="花名册匹配" if verified else "",
    )
    session.add(claim)
    await session.flush()
    return claim


async def get(*, session: AsyncSession, claim_id: int) -> HouseholdClaim | None:
    """A claim by id."""
    return await session.get(HouseholdClaim, claim_id)


async def list_pending(
    *, session: AsyncSession, community_ids: frozenset[int] | None, limit: int = 30
) -> list[HouseholdClaim]:
    """Pending claims, oldest first, in the given communities (None = all)."""
    stmt = select(HouseholdClaim).where(HouseholdClaim.status == ClaimStatus.PENDING)
    if community_ids is not None:
        stmt = stmt.where(HouseholdClaim.community_id.in_(list(community_ids)))
    return list(await session.scalars(stmt.order_by(HouseholdClaim.id).limit(limit)))


async def roster_for(*, session: AsyncSession, claim: HouseholdClaim) -> list[RosterEntry]:
    """What the office has on file for the claimed household, whatever the phone."""
    stmt = select(RosterEntry).where(
        RosterEntry.community_id == claim.community_id, RosterEntry.building == claim.building,
        RosterEntry.unit == claim.unit, RosterEntry.room == claim.room,
    )
    return list(await session.scalars(stmt.order_by(RosterEntry.id)))


async def decide(
    *, session: AsyncSession, claim_id: int, approve: bool, staff_id: int | None, reason: str = "",
    now: datetime | None = None,
) -> bool:
    """Move a pending claim to verified or rejected with one conditional UPDATE.

    Returns False when the claim was no longer pending (someone decided first): of two presses
    or two processes, exactly one wins.
    """
    result = await session.execute(
        update(HouseholdClaim)
        .where(HouseholdClaim.id == claim_id, HouseholdClaim.status == ClaimStatus.PENDING)
        .values(
            status=ClaimStatus.VERIFIED if approve else ClaimStatus.REJECTED,
            decided_by_staff_id=staff_id, decided_at=now or utcnow(), reason=reason[:500],
        )
        .execution_options(synchronize_session=False)
    )
    if rows_affected(result) != 1:
        return False
    claim = await session.get(HouseholdClaim, claim_id, populate_existing=True)
    assert claim is not None
    owner = await session.get(Owner, claim.owner_id, populate_existing=True)
    assert owner is not None
    if approve:
        owner.binding_status = BindingStatus.VERIFIED
    else:
        # The owner may claim again; the rejected address no longer targets them either.
        owner.binding_status = BindingStatus.UNBOUND
        owner.building = owner.unit = owner.room = ""
    return True


async def pending_matching_roster(*, session: AsyncSession) -> list[HouseholdClaim]:
    """Pending claims that the roster now confirms (same household and phone)."""
    stmt = (
        select(HouseholdClaim)
        .join(
            RosterEntry,
            (RosterEntry.community_id == HouseholdClaim.community_id)
            & (RosterEntry.building == HouseholdClaim.building)
            & (RosterEntry.unit == HouseholdClaim.unit)
            & (RosterEntry.room == HouseholdClaim.room)
            & (RosterEntry.phone == HouseholdClaim.phone),
        )
        .where(HouseholdClaim.status == ClaimStatus.PENDING, HouseholdClaim.conflict_owner_id.is_(None))
        .order_by(HouseholdClaim.id)
    )
    return list((await session.scalars(stmt)).unique())


def working_deadline(start: datetime, working_days: float, tz: ZoneInfo) -> datetime:
    """`start` plus this many working days (Monday to Friday) in the local time zone.

    A claim made on Friday evening is due on Monday evening, not on Saturday.
    """
    local = aware(start).astimezone(tz)
    whole, part = int(working_days), working_days - int(working_days)
    day: date = local.date()
    # A claim made at the weekend starts counting on Monday morning.
    if day.weekday() >= 5:
        while day.weekday() >= 5:
            day += timedelta(days=1)
        local = datetime.combine(day, datetime.min.time(), tz)
    added = 0
    while added < whole:
        local += timedelta(days=1)
        if local.weekday() < 5:
            added += 1
    return local + timedelta(days=part)


async def overdue(
    *, session: AsyncSession, now: datetime, tz: ZoneInfo, working_days: float, unescalated_only: bool = False
) -> list[HouseholdClaim]:
    """Pending claims that have waited longer than `working_days` working days."""
    stmt = select(HouseholdClaim).where(
        HouseholdClaim.status == ClaimStatus.PENDING, HouseholdClaim.created_at <= now - timedelta(days=working_days)
    )
    if unescalated_only:
        stmt = stmt.where(HouseholdClaim.escalated_at.is_(None))
        if is_postgres(session):  # two schedulers never alert twice about one claim
            stmt = stmt.with_for_update(of=HouseholdClaim, skip_locked=True)
    rows = list(await session.scalars(stmt.order_by(HouseholdClaim.id).limit(200)))
    return [c for c in rows if working_deadline(c.created_at, working_days, tz) <= now]


@dataclass(frozen=True)
class Waiting:
    """How long a claim has waited, for staff lists."""

    hours: int

    def __str__(self) -> str:
        return f"{self.hours // 24}天{self.hours % 24}小时" if self.hours >= 24 else f"{self.hours}小时"


def waited(claim: HouseholdClaim, now: datetime) -> Waiting:
    """Whole hours since the claim was made."""
    return Waiting(max(0, int((now - aware(claim.created_at)).total_seconds() // 3600)))
