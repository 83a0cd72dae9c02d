"""The household card staff read with /owner: members, binding, tags, orders, surveys, complaints.

Domain only: it returns facts (a `Card`); the staff wording is in bot/commands/owner_cmds.py, so
a web console can render the same card its own way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import communities, households
from storage.base import aware
from storage.feedback import Complaint, ComplaintStatus
from storage.households import MOBILE, Address, HouseholdTag, TagSource
from storage.orders import OPEN_STATUSES, Order
from storage.owners import BindingStatus, Owner, OwnerTag
from storage.roster import RosterEntry
from storage.surveys import ResponseStatus, Survey, SurveyResponse


@dataclass(frozen=True)
class Member:
    """A person on record for the household: a roster row, a WeChat follower, or both."""

    name: str
    phone: str
    phone_valid: bool
    on_roster: bool
    owner_id: int | None = None
    binding: str | None = None  # BindingStatus of the WeChat follower, if any
    following: bool | None = None


@dataclass(frozen=True)
class CardTag:
    """A tag and who made it."""

    tag: str
    source: str  # TagSource


@dataclass(frozen=True)
class CardSurvey:
    """A survey taken by the household or one of its members."""

    response_id: int
    title: str
    channel: str
    at: datetime
    for_household: bool  # filed against the household (no follower needed)


@dataclass
class Card:
    """Everything /owner shows about one household."""

    address: Address
    community: str
    household_id: int | None
    members: list[Member] = field(default_factory=list)
    tags: list[CardTag] = field(default_factory=list)
    open_orders: list[Order] = field(default_factory=list)
    surveys: list[CardSurvey] = field(default_factory=list)
    complaints: list[Complaint] = field(default_factory=list)
    last_contact: datetime | None = None
    last_contact_channel: str = ""


async def _owners_at(session: AsyncSession, a: Address) -> list[Owner]:
    """Owners whose binding names the address (verified or awaiting staff)."""
    return list(await session.scalars(select(Owner).where(
        Owner.community_id == a.community_id, Owner.building == a.building, Owner.unit == a.unit,
        Owner.room == a.room, Owner.binding_status != BindingStatus.UNBOUND,
    ).order_by(Owner.id)))


async def build(*, session: AsyncSession, address: Address) -> Card:
    """The household card for an address."""
    a = address
    community = await communities.get(session=session, community_id=a.community_id)
    household = await households.find(session=session, address=a)
    card = Card(a, community.name if community else "", household.id if household else None)
    roster_rows = list(await session.scalars(select(RosterEntry).where(
        RosterEntry.community_id == a.community_id, RosterEntry.building == a.building,
        RosterEntry.unit == a.unit, RosterEntry.room == a.room).order_by(RosterEntry.id)))
    owners = await _owners_at(session, a)
    by_phone = {o.phone: o for o in owners if o.phone}
    matched: set[int] = set()
    for r in roster_rows:
        o = by_phone.get(r.phone)
        if o is not None:
            matched.add(o.id)
        card.members.append(Member(
            name=r.name or (o.name if o else ""), phone=r.phone, phone_valid=bool(MOBILE.match(r.phone)),
            on_roster=True, owner_id=o.id if o else None, binding=o.binding_status if o else None,
            following=o.following if o else None,
        ))
    for o in owners:
        if o.id not in matched:
            card.members.append(Member(
                name=o.name or o.nickname, phone=o.phone, phone_valid=o.phone_valid, on_roster=False,
                owner_id=o.id, binding=o.binding_status, following=o.following,
            ))

    verified_ids = [o.id for o in owners if o.binding_status == BindingStatus.VERIFIED]
    all_ids = [o.id for o in owners]
    seen_tags: set[str] = set()
    if household is not None:
        for t in await session.scalars(
                select(HouseholdTag).where(HouseholdTag.household_id == household.id).order_by(HouseholdTag.id)):
            card.tags.append(CardTag(t.tag, t.source))
            seen_tags.add(t.tag)
    if verified_ids:
        for tag in await session.scalars(
                select(OwnerTag.tag).where(OwnerTag.owner_id.in_(verified_ids)).distinct().order_by(OwnerTag.tag)):
            if tag not in seen_tags:
                card.tags.append(CardTag(tag, TagSource.SURVEY))
                seen_tags.add(tag)

    if all_ids:
        card.open_orders = list(await session.scalars(select(Order).where(
            Order.owner_id.in_(all_ids), Order.status.in_(list(OPEN_STATUSES))).order_by(Order.id.desc()).limit(10)))
        card.complaints = list(await session.scalars(select(Complaint).where(
            Complaint.owner_id.in_(all_ids)).order_by(
            (Complaint.status == ComplaintStatus.OPEN).desc(), Complaint.id.desc()).limit(5)))

    whose: list[ColumnElement[bool]] = [SurveyResponse.owner_id.in_(all_ids)] if all_ids else []
    if household is not None:
        whose.append(SurveyResponse.household_id == household.id)
    if whose:
        rows = await session.execute(
            select(SurveyResponse, Survey.title).join(Survey, Survey.id == SurveyResponse.survey_id)
            .where(or_(*whose), SurveyResponse.status == ResponseStatus.COMPLETED)
            .order_by(SurveyResponse.id.desc()).limit(10))
        for response, title in rows:
            at = aware(response.completed_at or response.updated_at)
            card.surveys.append(CardSurvey(response.id, title, response.channel, at,
                                           response.owner_id is None and response.household_id is not None))

    contacts = [(aware(o.last_message_at), "wechat") for o in owners if o.last_message_at]
    contacts += [(s.at, s.channel) for s in card.surveys if s.channel != "wechat_self"]
    if contacts:
        card.last_contact, card.last_contact_channel = max(contacts, key=lambda c: c[0])
    return card
