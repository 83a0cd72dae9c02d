"""Households (户): the unit of the owner database — roster rows, WeChat followers and staff records.

A household is an address in a community (building, unit, room). Its members are the roster rows
at that address and the owners whose binding names it. A `Household` row exists only once there is
something to file against the address itself (staff tags, a survey recorded at the door), so a
roster of 30,000 rows costs nothing until staff work with it.

Data filed against a household reaches its owners once one of them is *verified* at that address
(matched the roster or confirmed by staff): segments and the survey flow join through the
address, so nothing has to be copied when someone binds, and an unverified claim inherits nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import (
    ColumnElement,
    ForeignKey,
    String,
    UniqueConstraint,
    and_,
    delete,
    exists,
    or_,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, Timestamped
from storage.db import rows_affected
from storage.owners import BindingStatus, Owner, OwnerTag
from storage.roster import RosterEntry


class TagSource(StrEnum):
    """Who made a tag: a survey rule or a staff member (the plan's 微信好友备注, 卧底业主 …)."""

    SURVEY = "survey"
    STAFF = "staff"


TAG_SOURCE_LABELS: dict[str, str] = {TagSource.SURVEY: "问卷", TagSource.STAFF: "员工"}


class Household(Timestamped, Base):
    """An address staff have filed something against."""

    __tablename__ = "households"
    __table_args__ = (UniqueConstraint("community_id", "building", "unit", "room"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    building: Mapped[str] = mapped_column(String(16))
    unit: Mapped[str] = mapped_column(String(16), default="")
    room: Mapped[str] = mapped_column(String(16))


class HouseholdTag(Timestamped, Base):
    """A tag on a household, with its source; every verified owner there carries it in segments."""

    __tablename__ = "household_tags"
    __table_args__ = (UniqueConstraint("household_id", "tag"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"), index=True)
    tag: Mapped[str] = mapped_column(String(32), index=True)
    source: Mapped[str] = mapped_column(String(16), default=TagSource.STAFF)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


@dataclass(frozen=True)
class Address:
    """Where a household is; building/unit/room as binding stores them ("3", "2", "502")."""

    community_id: int
    building: str
    unit: str
    room: str

    @property
    def label(self) -> str:
        """3号楼2单元502室."""
        return f"{self.building}号楼" + (f"{self.unit}单元" if self.unit else "") + f"{self.room}室"


@dataclass(frozen=True)
class HouseholdRef:
    """What staff typed: an address (community optional) or a phone number."""

    community: str = ""
    building: str = ""
    unit: str = ""
    room: str = ""
    phone: str = ""


_DASHED = re.compile(r"^(?P<b>\d{1,4})[-－—](?:(?P<u>\d{1,3})[-－—])?(?P<r>\d{1,5})$")
_WORDED = re.compile(r"^(?P<b>\d{1,4})(?:号楼|栋|幢|号)(?:(?P<u>\d{1,3})单元)?(?P<r>\d{1,5})(?:室|号)?$")
_PHONE = re.compile(r"^\+?(?:86)?(1[3-9]\d{9})$")
MOBILE = re.compile(r"^1[3-9]\d{9}$")


def parse_ref(text: str) -> HouseholdRef | None:
    """'翠苑 3-2-502', '3号楼2单元502室', '3-502' or '13800000000'; None when it is none of these."""
    # '翠苑 3-2-502', '翠苑/3-2-502' and '翠苑：3-2-502' all name the community first.
    compact = re.sub(r"[\s\u3000:：/]+", " ", text.strip()).strip()
    digits = re.sub(r"[\s-]", "", compact)
    phone = _PHONE.match(digits)
    if phone:
        return HouseholdRef(phone=phone.group(1))
    community, _, rest = compact.rpartition(" ")
    if not community:
        # '翠苑3-2-502': the community name runs up to the first digit.
        m = re.match(r"^(?P<c>\D*?)(?P<rest>\d.*)$", compact)
        if m is None:
            return None
        community, rest = m.group("c"), m.group("rest")
    m = _DASHED.match(rest) or _WORDED.match(rest)
    if m is None:
        return None
    return HouseholdRef(community=community.strip(), building=_num(m.group("b")),
                        unit=_num(m.group("u") or ""), room=m.group("r"))


def _num(value: str) -> str:
    """'03' → '3', as binding stores buildings and units."""
    return value.lstrip("0") or value


def owner_address_matches(model: type[Household] | type[RosterEntry], owner: type[Owner] = Owner) -> ColumnElement[bool]:
    """SQL: this household/roster row is at the owner's address."""
    return and_(
        model.community_id == owner.community_id, model.building == owner.building,
        model.unit == owner.unit, model.room == owner.room,
    )


def verified_household_tag(tags: tuple[str, ...] | list[str]) -> ColumnElement[bool]:
    """SQL over Owner: the owner is verified at a household carrying one of these tags."""
    return and_(
        Owner.binding_status == BindingStatus.VERIFIED,
        exists().where(
            owner_address_matches(Household), HouseholdTag.household_id == Household.id, HouseholdTag.tag.in_(tags),
        ),
    )


def has_tag(tags: tuple[str, ...] | list[str]) -> ColumnElement[bool]:
    """SQL over Owner: an own (survey) tag or a tag on the household they are verified at."""
    return or_(exists().where(OwnerTag.owner_id == Owner.id, OwnerTag.tag.in_(tags)), verified_household_tag(tags))


def verified_household_id() -> ColumnElement[int]:
    """SQL over Owner: the id of the household the owner is verified at (NULL if none is on file)."""
    return (
        select(Household.id)
        .where(owner_address_matches(Household), Owner.binding_status == BindingStatus.VERIFIED)
        .correlate(Owner)
        .scalar_subquery()
    )


async def get(*, session: AsyncSession, household_id: int) -> Household | None:
    """A household by id."""
    return await session.get(Household, household_id)


async def find(*, session: AsyncSession, address: Address) -> Household | None:
    """The household row at an address, if anything was filed against it."""
    return await session.scalar(select(Household).where(
        Household.community_id == address.community_id, Household.building == address.building,
        Household.unit == address.unit, Household.room == address.room,
    ))


async def ensure(*, session: AsyncSession, address: Address) -> Household:
    """The household row at an address, created on first use."""
    row = await find(session=session, address=address)
    if row is not None:
        return row
    try:
        async with session.begin_nested():  # two staff filing for the same new household at once
            row = Household(community_id=address.community_id, building=address.building, unit=address.unit,
                            room=address.room)
            session.add(row)
    except IntegrityError:
        row = await find(session=session, address=address)
        assert row is not None
    return row


def address_of(owner: Owner) -> Address | None:
    """The address an owner's binding names (None while unbound)."""
    if owner.community_id is None or not owner.room:
        return None
    return Address(owner.community_id, owner.building, owner.unit, owner.room)


async def known(*, session: AsyncSession, address: Address) -> bool:
    """Whether the address is on the roster, bound by an owner, or has a household row."""
    a = address
    roster_row = await session.scalar(select(RosterEntry.id).where(
        RosterEntry.community_id == a.community_id, RosterEntry.building == a.building,
        RosterEntry.unit == a.unit, RosterEntry.room == a.room).limit(1))
    if roster_row is not None:
        return True
    owner = await session.scalar(select(Owner.id).where(
        Owner.community_id == a.community_id, Owner.building == a.building, Owner.unit == a.unit,
        Owner.room == a.room, Owner.binding_status != BindingStatus.UNBOUND).limit(1))
    return owner is not None or await find(session=session, address=a) is not None


async def candidates(
    *, session: AsyncSession, ref: HouseholdRef, community_ids: list[int] | None
) -> list[Address]:
    """Known addresses matching what staff typed, within the given communities (None = all)."""
    found: set[Address] = set()
    if ref.phone:
        roster_rows = await session.execute(select(
            RosterEntry.community_id, RosterEntry.building, RosterEntry.unit, RosterEntry.room,
        ).where(RosterEntry.phone == ref.phone))
        owner_rows = await session.execute(select(Owner.community_id, Owner.building, Owner.unit, Owner.room).where(
            Owner.phone == ref.phone, Owner.community_id.is_not(None), Owner.room != ""))
        found |= {Address(*row) for row in [*roster_rows, *owner_rows]}
    else:
        for model in (RosterEntry, Owner, Household):
            stmt = select(model.community_id).where(
                model.building == ref.building, model.unit == ref.unit, model.room == ref.room,
            ).distinct()
            if model is Owner:
                stmt = stmt.where(Owner.binding_status != BindingStatus.UNBOUND)
            for cid in await session.scalars(stmt):
                if cid is not None:
                    found.add(Address(int(cid), ref.building, ref.unit, ref.room))
    if community_ids is not None:
        found = {a for a in found if a.community_id in community_ids}
    return sorted(found, key=lambda a: (a.community_id, a.building, a.unit, a.room))


async def verified_owners(*, session: AsyncSession, address: Address) -> list[Owner]:
    """Owners verified at the address."""
    return list(await session.scalars(select(Owner).where(
        Owner.community_id == address.community_id, Owner.building == address.building,
        Owner.unit == address.unit, Owner.room == address.room,
        Owner.binding_status == BindingStatus.VERIFIED,
    ).order_by(Owner.id)))


@dataclass(frozen=True)
class TagChange:
    """What a /tag call did."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: tuple[str, ...]  # already there (add) or not there (remove)


TAG_MAX = 32
_BAD_TAG = re.compile(r"[\s=,，、|/]")


def check_tag(tag: str) -> str | None:
    """Why a tag cannot be used in segments, or None (commas and = are the segment syntax)."""
    if not tag or len(tag) > TAG_MAX:
        return f"标签长度 1 到 {TAG_MAX} 个字"
    if _BAD_TAG.search(tag):
        return "标签里不能有空格、逗号、= 或 |"
    return None


async def household_tags(*, session: AsyncSession, household_id: int) -> list[HouseholdTag]:
    """A household's own tags."""
    return list(await session.scalars(
        select(HouseholdTag).where(HouseholdTag.household_id == household_id).order_by(HouseholdTag.id)))


async def add_tag(
    *, session: AsyncSession, household: Household, tag: str, source: str, staff_id: int | None = None
) -> bool:
    """Tag a household once; returns whether the tag is new."""
    exists_ = await session.scalar(select(HouseholdTag.id).where(
        HouseholdTag.household_id == household.id, HouseholdTag.tag == tag))
    if exists_ is not None:
        return False
    try:
        async with session.begin_nested():  # the same tag set twice at once is set once
            session.add(HouseholdTag(household_id=household.id, tag=tag, source=TagSource(source), staff_id=staff_id))
    except IntegrityError:
        return False
    return True


async def set_tags(
    *, session: AsyncSession, address: Address, add: list[str], remove: list[str], staff_id: int | None
) -> TagChange:
    """Staff add and remove tags on a household.

    A removed tag goes from the household and from the verified owners there (a survey-made tag
    included): staff who know the household better than an old answer have the last word.
    """
    household = await ensure(session=session, address=address)
    added: list[str] = []
    removed: list[str] = []
    unchanged: list[str] = []
    for tag in add:
        new = await add_tag(session=session, household=household, tag=tag, source=TagSource.STAFF, staff_id=staff_id)
        (added if new else unchanged).append(tag)
    owner_ids = [o.id for o in await verified_owners(session=session, address=address)]
    for tag in remove:
        gone = rows_affected(await session.execute(delete(HouseholdTag).where(
            HouseholdTag.household_id == household.id, HouseholdTag.tag == tag)))
        if owner_ids:
            gone += rows_affected(await session.execute(delete(OwnerTag).where(
                OwnerTag.owner_id.in_(owner_ids), OwnerTag.tag == tag)))
        (removed if gone else unchanged).append(tag)
    # The owners' tag collections may be loaded in this session: drop them so they read fresh.
    for owner in await verified_owners(session=session, address=address):
        session.expire(owner, ["tags"])
    return TagChange(tuple(added), tuple(removed), tuple(unchanged))
