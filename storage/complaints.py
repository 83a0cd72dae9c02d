"""A complaint's life (issue 16): open → acknowledged → closed, with deadlines and compensation.

The row lives in storage/feedback.py. Steps are conditional UPDATEs, so two staff deciding at once
decide once. Compensation records an amount and who bears it: a merchant-borne amount is taken off
that merchant's payout for the month the complaint was closed in (storage/money.py), and the
merchant's complaint figures feed the quarterly evaluation (storage/supplier.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import jobs, outbox
from storage.base import aware, utcnow
from storage.db import rows_affected
from storage.events import OwnerNotice, StaffAlert
from storage.feedback import Bearer, Complaint, ComplaintStatus
from storage.owners import Owner
from storage.workorders import Outcome, SlaPolicy

ACTIVE = (ComplaintStatus.OPEN, ComplaintStatus.ACKNOWLEDGED)


@dataclass(frozen=True)
class ComplaintStep:
    """The outcome of a staff step and the complaint as it is now."""

    outcome: Outcome
    complaint: Complaint | None = None
    reason: str = ""


# --- what people are told (the words: dialogs/workflow_texts.py complaint_notice) -----------------


@dataclass(frozen=True)
class Filed:
    """To staff: a new complaint, with the time to acknowledge it."""

    id: int
    owner: str
    household: str
    order: str  # the order it is about, as staff read it, or ''
    text: str
    ack: timedelta


@dataclass(frozen=True)
class Acknowledged:
    """To the owner: taken on, with the time left to resolve it."""

    id: int
    resolve: timedelta


@dataclass(frozen=True)
class Resolved:
    """To the owner: closed with `note`, and the compensation they will get (fen, 0 for none)."""

    id: int
    note: str
    compensation_fen: int


@dataclass(frozen=True)
class AckOverdue:
    """To staff: nobody acknowledged it within `ack`."""

    id: int
    ack: timedelta
    owner: str
    text: str


@dataclass(frozen=True)
class ResolveOverdue:
    """To staff: not resolved within `resolve`."""

    id: int
    resolve: timedelta
    owner: str
    text: str


ComplaintNotice = Filed | Acknowledged | Resolved | AckOverdue | ResolveOverdue
# The words for a notice, from the caller (owner and staff wording is not the domain's).
ComplaintWording = Callable[[ComplaintNotice], str]


def parse_ref(ref: str) -> int | None:
    """7 from "T7", "t7", "#7" or "7"."""
    cleaned = ref.strip().lstrip("#").removeprefix("T").removeprefix("t")
    # Bounded to the id column's range: a 30-digit "id" is bad input, not a database error.
    return int(cleaned) if cleaned.isdigit() and len(cleaned) <= 9 else None


async def get(*, session: AsyncSession, complaint_id: int) -> Complaint | None:
    """A complaint re-read from the database."""
    return await session.scalar(
        select(Complaint).where(Complaint.id == complaint_id).execution_options(populate_existing=True)
    )


async def community_of(session: AsyncSession, complaint: Complaint) -> int | None:
    """The community the complaint belongs to (the owner's, for complaints filed before issue 16)."""
    if complaint.community_id is not None:
        return complaint.community_id
    return await session.scalar(select(Owner.community_id).where(Owner.id == complaint.owner_id))


async def file(
    *, session: AsyncSession, owner: Owner, text: str, household: str, owner_label: str, sla: SlaPolicy,
    say: ComplaintWording, order_id: int | None = None, merchant_id: int | None = None, order_label: str = "", rating_id: int | None = None,
) -> Complaint:
    """Open a complaint and alert staff with the deadline to acknowledge it."""
    from storage.feedback import open_complaint

    complaint = await open_complaint(
        session=session, owner_id=owner.id, order_id=order_id, merchant_id=merchant_id, rating_id=rating_id,
        text=text, community_id=owner.community_id,
    )
    complaint.alerts, complaint.last_alert_at = 1, utcnow()
    outbox.emit(
        session, StaffAlert(complaint_id=complaint.id, community_id=owner.community_id,
        text=say(Filed(complaint.id, owner_label, household, order_label, text, sla.complaint.ack))
    ))
    return complaint


async def list_for(
    *, session: AsyncSession, statuses: tuple[str, ...], community_ids: frozenset[int] | None, limit: int = 20
) -> list[Complaint]:
    """Newest complaints in these states, within a staff member's communities (None = all)."""
    stmt = select(Complaint).where(Complaint.status.in_(statuses)).order_by(Complaint.id.desc()).limit(limit)
    if community_ids is not None:
        stmt = stmt.join(Owner, Owner.id == Complaint.owner_id).where(
            func.coalesce(Complaint.community_id, Owner.community_id).in_(community_ids))
    return list(await session.scalars(stmt))


async def _tell_owner(session: AsyncSession, complaint: Complaint, text: str) -> None:
    owner = await session.get(Owner, complaint.owner_id)
    if owner is not None and owner.openid:
        outbox.emit(session, OwnerNotice(openid=owner.openid, text=text, notice=True, title="投诉处理进度"))


async def acknowledge(
    *, session: AsyncSession, complaint_id: int, staff_id: int, sla: SlaPolicy, say: ComplaintWording,
    in_scope: bool = True,
) -> ComplaintStep:
    """Staff take it on; the owner hears by when it will be resolved."""
    complaint = await get(session=session, complaint_id=complaint_id)
    if complaint is None:
        return ComplaintStep(Outcome.NOT_FOUND)
    if not in_scope:
        return ComplaintStep(Outcome.OUT_OF_SCOPE, complaint)
    won = await session.execute(
        update(Complaint).where(Complaint.id == complaint_id, Complaint.status == ComplaintStatus.OPEN)
        .values(status=ComplaintStatus.ACKNOWLEDGED, acknowledged_at=utcnow(), acknowledged_by_staff_id=staff_id)
    )
    complaint = await get(session=session, complaint_id=complaint_id)
    if rows_affected(won) != 1:
        return ComplaintStep(Outcome.ALREADY, complaint)
    assert complaint is not None
    await _tell_owner(session, complaint, say(Acknowledged(complaint.id, _remaining(complaint, sla))))
    return ComplaintStep(Outcome.OK, complaint)


def _remaining(complaint: Complaint, sla: SlaPolicy) -> timedelta:
    # The promise made when it was filed still stands: resolve by created + SLA, never a new 24 h.
    left = aware(complaint.created_at) + sla.complaint.done - utcnow()
    return max(left, timedelta(minutes=30))


async def resolve(
    *, session: AsyncSession, complaint_id: int, staff_id: int, note: str, compensation_fen: int = 0,
    bearer: Bearer | None = None, in_scope: bool = True, say: ComplaintWording,
) -> ComplaintStep:
    """Close with a note (and perhaps compensation); the owner hears the result. Once only."""
    complaint = await get(session=session, complaint_id=complaint_id)
    if complaint is None:
        return ComplaintStep(Outcome.NOT_FOUND)
    if not in_scope:
        return ComplaintStep(Outcome.OUT_OF_SCOPE, complaint)
    if compensation_fen < 0:
        raise ValueError("compensation must not be negative")
    if compensation_fen and bearer is None:
        raise ValueError("compensation needs a bearer")
    if bearer == Bearer.MERCHANT and complaint.merchant_id is None:
        return ComplaintStep(Outcome.ALREADY, complaint, reason="no_merchant")
    now = utcnow()
    won = await session.execute(
        update(Complaint).where(Complaint.id == complaint_id, Complaint.status.in_(ACTIVE)).values(
            status=ComplaintStatus.CLOSED, closed_by_staff_id=staff_id, note=note[:2000], closed_at=now,
            acknowledged_at=func.coalesce(Complaint.acknowledged_at, now),
            compensation_fen=compensation_fen, compensation_bearer=(bearer.value if bearer and compensation_fen else ""),
        )
    )
    complaint = await get(session=session, complaint_id=complaint_id)
    if rows_affected(won) != 1:
        return ComplaintStep(Outcome.ALREADY, complaint)
    assert complaint is not None
    await _tell_owner(session, complaint, say(Resolved(complaint.id, note, compensation_fen)))
    return ComplaintStep(Outcome.OK, complaint)


async def realert_overdue(
    *, session: AsyncSession, now: datetime, sla: SlaPolicy, say: ComplaintWording
) -> dict[str, int]:
    """Escalate once when acknowledgement is overdue and once when the resolution is."""
    tally = {"ack_overdue": 0, "resolve_overdue": 0}
    horizon = now - sla.complaint.done - timedelta(days=7)
    rows = list(await session.scalars(
        select(Complaint).where(Complaint.status.in_(ACTIVE), Complaint.created_at >= horizon).order_by(Complaint.id)
    ))
    for c in rows:
        owner = await session.get(Owner, c.owner_id)
        who = (owner.name or owner.nickname or "业主") if owner else "业主"
        created = aware(c.created_at)
        if c.status == ComplaintStatus.OPEN and now >= created + sla.complaint.ack:
            key, text = "ack", say(AckOverdue(c.id, sla.complaint.ack, who, c.text))
        elif now >= created + sla.complaint.done:
            key, text = "resolve", say(ResolveOverdue(c.id, sla.complaint.done, who, c.text))
        else:
            continue
        if await jobs.claim(session=session, job="complaint_overdue", key=f"{c.id}:{key}"):
            c.alerts, c.last_alert_at = (c.alerts or 0) + 1, now
            outbox.emit(session, StaffAlert(text=text, complaint_id=c.id,
                        community_id=await community_of(session, c)))
            tally[f"{key}_overdue"] += 1
    return tally


@dataclass
class MerchantComplaints:
    """A merchant's complaint figures for a period."""

    complaints: int = 0
    compensation_fen: int = 0  # merchant-borne


async def merchant_figures(*, session: AsyncSession, merchant_id: int, since: datetime, until: datetime) -> MerchantComplaints:
    """Complaints opened against a merchant in [since, until), and what it paid in compensation."""
    n = await session.scalar(select(func.count(Complaint.id)).where(
        Complaint.merchant_id == merchant_id, Complaint.created_at >= since, Complaint.created_at < until))
    paid = await session.scalar(select(func.coalesce(func.sum(Complaint.compensation_fen), 0)).where(
        Complaint.merchant_id == merchant_id, Complaint.compensation_bearer == Bearer.MERCHANT,
        Complaint.closed_at >= since, Complaint.closed_at < until))
    return MerchantComplaints(int(n or 0), int(paid or 0))


async def merchant_deductions(*, session: AsyncSession, since: datetime, until: datetime) -> dict[int, tuple[int, list[str]]]:
    """Merchant id → (merchant-borne compensation closed in [since, until), the 投诉编号 behind it)."""
    rows = await session.execute(
        select(Complaint.merchant_id, Complaint.id, Complaint.compensation_fen).where(
            Complaint.compensation_bearer == Bearer.MERCHANT, Complaint.compensation_fen > 0,
            Complaint.merchant_id.is_not(None), Complaint.closed_at >= since, Complaint.closed_at < until)
        .order_by(Complaint.id)
    )
    out: dict[int, tuple[int, list[str]]] = {}
    for merchant_id, complaint_id, fen in rows:
        assert merchant_id is not None  # the query keeps only complaints with a merchant
        total, codes = out.get(merchant_id, (0, []))
        out[merchant_id] = (total + int(fen), [*codes, f"T{complaint_id}"])
    return out


async def overdue_between(*, session: AsyncSession, since: datetime, until: datetime, sla: SlaPolicy) -> int:
    """Complaints whose acknowledgement or resolution deadline fell in [since, until) and was missed."""
    rows = list(await session.scalars(select(Complaint).where(
        Complaint.created_at >= since - sla.complaint.done, Complaint.created_at < until)))
    missed = 0
    for c in rows:
        for deadline, met in ((aware(c.created_at) + sla.complaint.ack, c.acknowledged_at),
                              (aware(c.created_at) + sla.complaint.done, c.closed_at)):
            if since <= deadline < until and (met is None or aware(met) > deadline):
                missed += 1
    return missed
