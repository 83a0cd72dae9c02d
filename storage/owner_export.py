"""Everyone on record, per household, for `butler owner export` and `/owners invalid` (无效号码清查).

One row per person: each roster line (with the WeChat follower who bound with that number, if
any), then each bound follower the roster does not list. A number is *invalid* when it is missing
or not a mainland mobile number, and *unreachable* when staff tagged the household after a failed
call (空号, 停机, 号码无效, 联系不上).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.communities import Community
from storage.households import MOBILE, Household, HouseholdTag
from storage.owners import BindingStatus, Owner
from storage.roster import RosterEntry

UNREACHABLE_TAGS = ("空号", "停机", "号码无效", "联系不上")
# Keyed by str: Owner.binding_status is a plain string column holding a BindingStatus value.
BINDING_LABELS: dict[str, str] = {BindingStatus.VERIFIED: "已核实", BindingStatus.PENDING: "待核实", BindingStatus.UNBOUND: "未绑定"}


@dataclass(frozen=True)
class PersonRow:
    """One person on record, with why their number needs checking ('' when it is fine)."""

    community: str
    building: str
    unit: str
    room: str
    name: str
    phone: str
    source: str  # 花名册 (roster) or 微信 (a follower the roster does not list)
    wechat: str  # binding status of the matching follower, or ''
    number_problem: str  # why the number itself is unusable (缺少号码, 号码格式无效), or ''
    staff_tag: str = ""  # the unreachable tag staff put on the household (空号, 停机 …), or ''

    @property
    def needs_checking(self) -> bool:
        """The number is unusable, or staff marked the household unreachable."""
        return bool(self.number_problem or self.staff_tag)

    @property
    def household(self) -> str:
        """3号楼2单元502室."""
        return f"{self.building}号楼" + (f"{self.unit}单元" if self.unit else "") + f"{self.room}室"


HEADER = ["community", "building", "unit", "room", "name", "phone", "source", "wechat", "problem"]


def phone_problem(phone: str) -> str:
    """Why a number cannot be used, or ''."""
    if not phone.strip():
        return "缺少号码"
    return "" if MOBILE.match(phone.strip()) else "号码格式无效"


async def people(
    *, session: AsyncSession, community_ids: list[int] | None = None, invalid_only: bool = False, limit: int | None = None
) -> list[PersonRow]:
    """Everyone on record in these communities (None = all), or only those whose number needs checking."""
    names = {c.id: c.name for c in await session.scalars(select(Community))}
    roster_stmt = select(RosterEntry).order_by(
        RosterEntry.community_id, RosterEntry.building, RosterEntry.unit, RosterEntry.room, RosterEntry.id)
    owner_stmt = select(Owner).where(Owner.binding_status != BindingStatus.UNBOUND, Owner.community_id.is_not(None))
    tag_stmt = select(Household.community_id, Household.building, Household.unit, Household.room, HouseholdTag.tag).join(
        HouseholdTag, HouseholdTag.household_id == Household.id).where(HouseholdTag.tag.in_(UNREACHABLE_TAGS))
    if community_ids is not None:
        roster_stmt = roster_stmt.where(RosterEntry.community_id.in_(community_ids))
        owner_stmt = owner_stmt.where(Owner.community_id.in_(community_ids))
        tag_stmt = tag_stmt.where(Household.community_id.in_(community_ids))
    unreachable: dict[tuple[int, str, str, str], str] = {}
    for cid, building, unit, room, tag in await session.execute(tag_stmt):
        unreachable.setdefault((cid, building, unit, room), tag)
    followers: dict[tuple[int, str, str, str, str], Owner] = {}
    for follower in await session.scalars(owner_stmt.order_by(Owner.id)):
        followers.setdefault((follower.community_id or 0, follower.building, follower.unit, follower.room,
                              follower.phone), follower)
    listed: set[int] = set()
    out: list[PersonRow] = []
    for r in await session.scalars(roster_stmt):
        key = (r.community_id, r.building, r.unit, r.room)
        o = followers.get((*key, r.phone))
        if o is not None:
            listed.add(o.id)
        problem = phone_problem(r.phone)
        out.append(PersonRow(names.get(r.community_id, ""), r.building, r.unit, r.room, r.name, r.phone, "花名册",
                             BINDING_LABELS.get(o.binding_status, "") if o else "", problem,
                             "" if problem else unreachable.get(key, "")))
    unlisted = [o for o in followers.values() if o.id not in listed]
    for o in unlisted:
        key = (o.community_id or 0, o.building, o.unit, o.room)
        problem = "" if o.phone_valid else phone_problem(o.phone) or "号码格式无效"
        out.append(PersonRow(names.get(o.community_id or 0, ""), o.building, o.unit, o.room, o.name or o.nickname,
                             o.phone, "微信", BINDING_LABELS.get(o.binding_status, ""), problem,
                             "" if problem else unreachable.get(key, "")))
    if invalid_only:
        out = [p for p in out if p.needs_checking]
    return out[:limit] if limit is not None else out


def cell(value: object) -> object:
    """A cell safe for spreadsheets: text starting with = + - @ is kept as text, never a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
