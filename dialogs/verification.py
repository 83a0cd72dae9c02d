"""Deciding household claims: by staff (`/bind_ok`, `/bind_reject`), by a roster import, or late.

Every decision is one conditional state change (storage.household_claims.decide), then its
consequences in the same unit of work: the owner is told, and the orders that waited for the
household are released to dispatch (approved) or cancelled with a notice (rejected).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import people, texts
from storage import communities, household_claims, orders, outbox
from storage.base import utcnow
from storage.events import OwnerNotice, StaffAlert
from storage.household_claims import ClaimStatus, HouseholdClaim
from storage.owners import Owner
from storage.staff import Staff


class Outcome(StrEnum):
    """How a decision ended, for the staff member who asked."""

    DONE = "done"
    NOT_FOUND = "not_found"
    OUT_OF_SCOPE = "out_of_scope"
    ALREADY = "already"  # decided before (by someone else, or a roster import)


@dataclass(frozen=True)
class Decision:
    """The outcome, the claim, and what happened to its waiting orders."""

    outcome: Outcome
    claim: HouseholdClaim | None = None
    released: tuple[str, ...] = ()
    cancelled: tuple[str, ...] = ()


async def _claim_in_scope(session: AsyncSession, claim_id: int, staff: Staff) -> Decision | HouseholdClaim:
    claim = await household_claims.get(session=session, claim_id=claim_id)
    if claim is None:
        return Decision(Outcome.NOT_FOUND)
    if not staff.can_act_in(claim.community_id):
        return Decision(Outcome.OUT_OF_SCOPE, claim)
    if claim.status != ClaimStatus.PENDING:
        return Decision(Outcome.ALREADY, claim)
    return claim


def _tell(session: AsyncSession, owner: Owner, text: str) -> None:
    outbox.emit(session, OwnerNotice(openid=owner.openid, text=text, notice=True, title="房屋绑定"))


async def _apply(
    session: AsyncSession, claim: HouseholdClaim, *, approve: bool, staff_id: int | None, reason: str,
    notice: str, now: datetime | None = None,
) -> Decision:
    # Household text before decide(): a rejection clears the address from the owner row.
    household = await people.household(session, claim.owner)
    if not await household_claims.decide(
        session=session, claim_id=claim.id, approve=approve, staff_id=staff_id, reason=reason, now=now
    ):
        await session.refresh(claim)
        return Decision(Outcome.ALREADY, claim)
    owner = claim.owner
    actor = f"staff:{staff_id}" if staff_id else "system"
    released: list[str] = []
    cancelled: list[str] = []
    if approve:
        _tell(session, owner, notice.format(household=household))
    else:
        _tell(session, owner, texts.BIND_REJECTED_NOTICE.format(household=household, reason=reason))
    for order in await orders.awaiting_for_owner(session=session, owner_id=owner.id):
        if approve:
            await orders.release(session=session, order=order, actor=actor, note=texts.ORDER_RELEASED_NOTE)
            _tell(session, owner, texts.ORDER_RELEASED.format(code=order.code, service=order.service.name))
            released.append(order.code)
        else:
            await orders.cancel(session=session, order=order, actor=actor, reason="房屋未通过核实")
            _tell(session, owner, texts.ORDER_CANCELLED_UNVERIFIED.format(code=order.code, service=order.service.name))
            cancelled.append(order.code)
    await session.refresh(claim)
    return Decision(Outcome.DONE, claim, tuple(released), tuple(cancelled))


async def approve(*, session: AsyncSession, claim_id: int, staff: Staff) -> Decision:
    """`/bind_ok`: the household is the owner's; their waiting orders go to dispatch."""
    found = await _claim_in_scope(session, claim_id, staff)
    if isinstance(found, Decision):
        return found
    return await _apply(session, found, approve=True, staff_id=staff.id, reason="", notice=texts.BIND_CONFIRMED_NOTICE)


async def reject(*, session: AsyncSession, claim_id: int, staff: Staff, reason: str) -> Decision:
    """`/bind_reject`: the owner is told why; their waiting orders are cancelled."""
    found = await _claim_in_scope(session, claim_id, staff)
    if isinstance(found, Decision):
        return found
    return await _apply(session, found, approve=False, staff_id=staff.id, reason=reason.strip(), notice="")


async def rematch_roster(*, session: AsyncSession) -> list[int]:
    """After a roster import: confirm the pending claims the roster now matches; returns their ids."""
    done: list[int] = []
    for claim in await household_claims.pending_matching_roster(session=session):
        # Someone else may have been verified on the household since: that needs a person.
        if await household_claims.verified_owner_of(session=session, owner=claim.owner) is not None:
            continue
        claim.roster_matched = True
        decision = await _apply(
            session, claim, approve=True, staff_id=None, reason="花名册匹配", notice=texts.BIND_ROSTER_NOTICE
        )
        if decision.outcome == Outcome.DONE:
            done.append(claim.id)
    return done


async def escalate_overdue(
    *, session: AsyncSession, tz: ZoneInfo, working_days: float, now: datetime | None = None
) -> list[int]:
    """Alert the staff chat (once per claim) about claims waiting longer than `working_days`."""
    now = now or utcnow()
    found = await household_claims.overdue(
        session=session, now=now, tz=tz, working_days=working_days, unescalated_only=True
    )
    for claim in found:
        claim.escalated_at = now
        outbox.emit(session, StaffAlert(text=texts.STAFF_BIND_OVERDUE.format(
            claim_id=claim.id, household=await _household_of(session, claim), phone=claim.phone,
            waited=household_claims.waited(claim, now),
        )))
    await session.flush()
    return [c.id for c in found]


async def overdue_summary(*, session: AsyncSession, tz: ZoneInfo, working_days: float, now: datetime) -> str:
    """The daily report's line about claims still waiting past their time ("" when none)."""
    found = await household_claims.overdue(session=session, now=now, tz=tz, working_days=working_days)
    if not found:
        return ""
    lines = [f"待核实绑定超时 {len(found)} 户（发送 /bindings 查看）："]
    for claim in found[:10]:
        lines.append(f"#{claim.id} {await _household_of(session, claim)}，已等待 {household_claims.waited(claim, now)}")
    return "\n".join(lines)


async def _household_of(session: AsyncSession, claim: HouseholdClaim) -> str:
    community = await communities.get(session=session, community_id=claim.community_id) if claim.community_id else None
    return " ".join(p for p in ((community.name if community else ""), claim.address) if p)
