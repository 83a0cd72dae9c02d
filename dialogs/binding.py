"""Household binding: community, building, unit, room and phone, checked against the roster.

A roster match (`butler owner import`) verifies the owner at once, unless another owner is
already verified on the household; otherwise the claim waits for staff (dialogs/verification.py).
Each answer is written to the owner row as it is given; an invalid phone is kept with
phone_valid=False so staff can clean up invalid numbers (无效号码清查).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import choices, people, texts, verification
from dialogs.form import Env, Finish, Form, Invalid
from dialogs.state import DialogState, Flow
from storage import communities, household_claims, outbox, roster
from storage.events import OwnerNotice, StaffAlert
from storage.household_claims import ClaimStatus, HouseholdClaim
from storage.owners import BindingStatus
from storage.staff import Staff


class Step(StrEnum):
    """Binding slots, asked in this order."""

    COMMUNITY = "community"
    BUILDING = "building"
    UNIT = "unit"
    ROOM = "room"
    PHONE = "phone"


@dataclass
class BindingSlots:
    """What binding collects (mirrored on the owner row as it arrives)."""

    community: str | None = None
    building: str | None = None
    unit: str | None = None
    room: str | None = None
    phone: str | None = None


PROMPTS = {
    Step.BUILDING: texts.BIND_BUILDING,
    Step.UNIT: texts.BIND_UNIT,
    Step.ROOM: texts.BIND_ROOM,
    Step.PHONE: texts.BIND_PHONE,
}

_ADDRESS = re.compile(
    r"(?P<building>\d+)\s*(?:号楼|号|栋|幢|座|-)\s*(?:(?P<unit>\d+)\s*(?:单元|-))?\s*(?P<room>\d{3,4})\s*(?:室|号)?$"
)
_NONE_WORDS = ("无", "没有", "没", "0", "不是", "无单元", "没有单元")


def _number(text: str, *, suffixes: str) -> str | None:
    s = choices.squash(text)
    s = re.sub(f"^(第)?|({suffixes})$", "", s)
    n = choices.parse_int(s)
    return str(n) if n is not None and n > 0 else None


async def validate_community(text: str, env: Env) -> Any:
    """A community picked by number or name."""
    names = [c.name for c in await communities.list_all(session=env.session)]
    picked = choices.pick(text, names)
    return picked if picked else Invalid(texts.BIND_BAD_COMMUNITY)


def validate_building(text: str) -> Any:
    """A building number; a whole address ("3号楼2单元301") fills unit and room too."""
    full = _ADDRESS.search(choices.squash(text))
    if full:
        return {"building": full["building"], "unit": full["unit"] or "", "room": full["room"]}
    value = _number(text, suffixes="号楼|号|栋|幢|座|楼")
    return {"building": value} if value else Invalid(texts.BIND_BAD_BUILDING)


def validate_unit(text: str) -> Any:
    """A unit number, or "" for buildings without units."""
    if choices.squash(text) in _NONE_WORDS:
        return ""
    return _number(text, suffixes="单元") or Invalid(texts.BIND_BAD_UNIT)


def validate_room(text: str) -> Any:
    """A room number (digits, e.g. 301 or 1502)."""
    s = re.sub(r"(室|号|房)$", "", choices.squash(text))
    if s.isdigit() and 1 <= len(s) <= 5:
        return s
    n = choices.parse_int(s)
    return str(n) if n else Invalid(texts.BIND_BAD_ROOM)


def validate_phone(text: str) -> Any:
    """A mainland mobile number."""
    phone = choices.extract_phone(text)
    return phone if choices.is_mobile(phone) else Invalid(texts.BIND_BAD_PHONE)


class BindingForm(Form):
    """Community → building → unit → room → phone; then the roster decides verified or pending."""

    flow = Flow.BINDING

    async def next_step(self, state: DialogState, env: Env) -> str | None:
        return next((s.value for s in Step if s.value not in state.data), None)

    async def prompt(self, state: DialogState, env: Env) -> str:
        if state.step == Step.COMMUNITY:
            names = [c.name for c in await communities.list_all(session=env.session)]
            if not names:
                return texts.BIND_NO_COMMUNITIES
            return f"{texts.BIND_COMMUNITY}\n{choices.numbered(names)}"
        return PROMPTS[Step(state.step)]

    async def accept(self, state: DialogState, text: str, env: Env) -> Any:
        owner, step = env.owner, Step(state.step)
        if step == Step.COMMUNITY:
            value = await validate_community(text, env)
            if isinstance(value, Invalid):
                return value
            community = await communities.get_by_name(session=env.session, name=value)
            owner.community_id = community.id if community else None
            state.data["community"] = value
            return value
        if step == Step.BUILDING:
            value = validate_building(text)
            if isinstance(value, Invalid):
                return value
            for key, part in value.items():
                setattr(owner, key, part)
                state.data[key] = part
            return value
        if step == Step.PHONE:
            value = validate_phone(text)
            # Kept even when invalid: staff clean up invalid numbers from this column.
            owner.phone = choices.extract_phone(text)[:32] or text.strip()[:32]
            owner.phone_valid = not isinstance(value, Invalid)
            if not isinstance(value, Invalid):
                state.data["phone"] = value
            return value
        value = validate_unit(text) if step == Step.UNIT else validate_room(text)
        if not isinstance(value, Invalid):
            setattr(owner, step.value, value)
            state.data[step.value] = value
        return value

    async def finish(self, state: DialogState, env: Env) -> Finish:
        owner = env.owner
        match = None
        if owner.community_id is not None:
            match = await roster.find_match(
                session=env.session, community_id=owner.community_id, building=owner.building,
                unit=owner.unit, room=owner.room, phone=owner.phone,
            )
        household = await people.household(env.session, owner)
        # A second account on a household someone already holds is never trusted by itself.
        existing = await household_claims.verified_owner_of(session=env.session, owner=owner)
        verified = match is not None and existing is None
        owner.binding_status = BindingStatus.VERIFIED if verified else BindingStatus.PENDING
        claim = await household_claims.open_claim(
            session=env.session, owner=owner, verified=verified, roster_matched=match is not None, conflict=existing,
        )
        if verified:
            # The roster's name stays with staff: the reply only repeats what the owner typed.
            assert match is not None  # verified means the roster matched
            owner.name = owner.name or match.name
            return Finish(texts.BIND_VERIFIED.format(household=household))
        if existing is not None:
            outbox.emit(env.session, StaffAlert(text=texts.STAFF_BIND_CONFLICT.format(
                claim_id=claim.id, household=household, existing_id=existing.id, owner_id=owner.id, phone=owner.phone,
            )))
            outbox.emit(env.session, OwnerNotice(openid=existing.openid,
                        text=texts.BIND_CONFLICT_NOTICE.format(household=household)))
        else:
            outbox.emit(env.session, StaffAlert(text=texts.STAFF_BIND_PENDING.format(
                claim_id=claim.id, owner_id=owner.id, household=household, phone=owner.phone,
            )))
        return Finish(texts.BIND_PENDING.format(household=household) + texts.BIND_PENDING_NOTE)


async def prefill(state: DialogState, env: Env) -> None:
    """Take building/unit/room/phone from the triggering message's entities."""
    parsed = await env.parsed()
    if parsed is None:
        return
    for key in ("building", "unit", "room"):
        value = parsed.entity(key)
        if value:
            setattr(env.owner, key, value)
            state.data[key] = value
    phone = parsed.entity("phone")
    if phone and choices.is_mobile(phone):
        env.owner.phone, env.owner.phone_valid = phone, True
        state.data["phone"] = phone


async def confirm_binding(*, session: AsyncSession, owner_id: int, staff_id: int) -> bool:
    """Staff confirm the owner's pending claim (as /bind_ok does). False if nothing was pending."""
    member = await session.get(Staff, staff_id)
    pending = await session.scalar(
        select(HouseholdClaim.id).where(HouseholdClaim.owner_id == owner_id, HouseholdClaim.status == ClaimStatus.PENDING)
    )
    if member is None or pending is None:
        return False
    decision = await verification.approve(session=session, claim_id=pending, staff=member)
    return decision.outcome == verification.Outcome.DONE


FORM = BindingForm()
