"""Dispatch rules: who may take a job, first-valid-press-wins acceptance, progress, escalation.

Transport-free: Telegram (bot/telegram) calls these inside a unit of work and delivers the outbox
events they emit after the commit. Outbox kinds emitted here:
  order.accepted {order_id}   card edited to show the taker; the taker gets the owner's details
  order.progress {order_id}   card refreshed after 已出发/已到达/已完成/无法完成
  order.reposted {order_id}   no taker in time: a fresh card is posted (once)
  order.completed {order_id}  for follow-up visits (completed_at is set)
  owner.notify / staff.notify / merchant.notify (see the team preamble)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import merchants, outbox
from storage.base import utcnow
from storage.db import is_postgres, rows_affected
from storage.events import (
    JobCompleted,
    JobProgress,
    JobReposted,
    JobTaken,
    MerchantNote,
    OwnerNotice,
    StaffAlert,
)
from storage.limits import AmountPolicy
from storage.merchants import Merchant, MerchantStatus, Refusal
from storage.money import PaymentMethod, format_yuan, settle
from storage.orders import (
    OPEN_STATUSES,
    STATUS_LABELS,
    TRANSITIONS,
    InvalidTransition,
    Order,
    OrderStatus,
    log_event,
)
from storage.staff import Staff

if TYPE_CHECKING:
    from storage.amounts import Gate  # amounts imports this module

DEFAULT_ACCEPT_TIMEOUT = timedelta(minutes=15)


class AcceptOutcome(StrEnum):
    """How a 接单 press ended."""

    WON = "won"
    TAKEN = "taken"  # someone else was first
    ALREADY_YOURS = "already_yours"
    INELIGIBLE = "ineligible"
    HELD_FOR_HIGH_CREDIT = "held_for_high_credit"  # still inside the high-credit head start
    NOT_MERCHANT = "not_merchant"
    CLOSED = "closed"  # cancelled, finished or unknown


@dataclass(frozen=True)
class AcceptResult:
    """The outcome of a press (worded for the presser by bot/wording/merchant.py accept_reply)."""

    outcome: AcceptOutcome
    order: Order | None = None
    merchant: Merchant | None = None
    refusal: Refusal | None = None  # why, when INELIGIBLE
    wait_seconds: int = 0  # how long still, when HELD_FOR_HIGH_CREDIT

    @property
    def won(self) -> bool:
        """True only for the one press that took the job."""
        return self.outcome == AcceptOutcome.WON


class Step(StrEnum):
    """How a progress step or a staff assignment ended (worded by bot/wording/merchant.py and staff.py)."""

    DONE = "done"  # advanced to `target`
    ALLOWED = "allowed"  # can_advance: the step may be taken
    AMOUNT_GATE = "amount_gate"  # storage/amounts.py decided: asked the owner, or refused (`gate`)
    ASSIGNED = "assigned"
    BUSY = "busy"  # the transport failed to run the step (the transports word it)
    CLOSED = "closed"  # cancelled, finished or unknown
    NOT_HOLDER = "not_holder"
    NEED_AMOUNT = "need_amount"
    NEED_REASON = "need_reason"
    BAD_TRANSITION = "bad_transition"  # the order's status does not allow `target`
    NOT_STAFF = "not_staff"
    NO_ORDER = "no_order"  # no order with code `code`
    NO_RIGHT = "no_right"  # the staff member may not act in the order's community
    NO_MERCHANT = "no_merchant"  # no merchant with id `merchant_id`
    INELIGIBLE = "ineligible"  # `merchant_name` may not take it (`refusal`)
    JUST_TAKEN = "just_taken"  # another press won while staff assigned
    ALREADY_HOLDS = "already_holds"  # `merchant_name` already holds it
    CANNOT_ASSIGN = "cannot_assign"  # the order's status does not allow an assignment


@dataclass(frozen=True)
class StepResult:
    """Outcome of a progress step or a staff assignment: ok, why, and what the wording needs."""

    ok: bool
    step: Step
    order: Order | None = None
    pending_owner: bool = False  # the amount waits for the owner's confirmation (storage/amounts.py)
    target: OrderStatus | None = None
    refusal: Refusal | None = None
    merchant_name: str = ""
    merchant_id: int | None = None
    code: str = ""  # the order code staff typed (NO_ORDER)
    gate: Gate | None = None  # the amount's fate (AMOUNT_GATE)


@dataclass(frozen=True)
class FailureReported:
    """To staff: the holder could not finish the job."""

    code: str
    service: str
    merchant: str
    reason: str


@dataclass(frozen=True)
class Reassigned:
    """To the merchant who held a job staff gave to someone else."""

    code: str
    service: str


class StepWording(Protocol):
    """Staff's and merchants' words for what a step tells them (bot/wording/merchant.py STEP_WORDING)."""

    def failure_alert(self, failure: FailureReported) -> str:
        """The staff alert after 无法完成."""
        ...

    def reassigned(self, reassigned: Reassigned) -> str:
        """The note to the merchant who no longer holds the job."""
        ...

    def owner_update(self, order: Order, status: OrderStatus) -> str:
        """The owner's notice when their order reaches `status` (dialogs/texts.py owner_text)."""
        ...

    def owner_amount_ask(self, order: Order, amount_fen: int, method: PaymentMethod) -> str:
        """The owner's question: is this amount right? (storage/amounts.py)"""
        ...

    def staff_amount_alert(self, order: Order, merchant_name: str, amount_fen: int, method: PaymentMethod, why: str) -> str:
        """To staff: an unusual amount waits for the owner (`why`: storage.limits.why_confirm)."""
        ...

# A status as the owner reads it in a notice's keyword (never 商家; short enough for a `phrase`).
_OWNER_STATUS = {OrderStatus.ACCEPTED: "已接单", OrderStatus.ON_THE_WAY: "师傅已出发", OrderStatus.ARRIVED: "师傅已到达",
                 OrderStatus.COMPLETED: "已完成", OrderStatus.FAILED: "未能完成", OrderStatus.CANCELLED: "已取消"}


def _notify_owner(session: AsyncSession, order: Order, status: OrderStatus, title: str, say: StepWording) -> None:
    # `fields` are the notice's parts for a template's keywords (issue 12: WeChat shows no first/remark).
    fields = {"service": order.service.name, "code": order.code, "status": _OWNER_STATUS.get(status, title),
              "worker": order.merchant.name if order.merchant else "",
              "time": order.scheduled_at.isoformat() if order.scheduled_at else ""}
    outbox.emit(
        session, OwnerNotice(openid=order.owner.openid, text=say.owner_update(order, status), notice=True, title=title,
        fields=fields
    ))


async def lock_order(session: AsyncSession, order_id: int) -> Order | None:
    """The order re-read from the database, row-locked on PostgreSQL for the rest of the transaction."""
    stmt = select(Order).where(Order.id == order_id).execution_options(populate_existing=True)
    if is_postgres(session):
        stmt = stmt.with_for_update(of=Order)
    return await session.scalar(stmt)


async def _take(session: AsyncSession, order: Order, merchant: Merchant, now: datetime) -> bool:
    """The atomic step: a conditional UPDATE only the first caller across all processes wins."""
    result = await session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status == OrderStatus.PENDING_DISPATCH)
        .values(
            merchant_id=merchant.id,
            status=OrderStatus.ACCEPTED,
            accepted_at=now,
            version=Order.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if rows_affected(result) != 1:
        return False
    await session.refresh(order)
    return True


async def accept(
    *,
    session: AsyncSession,
    order_id: int,
    telegram_id: int | None = None,
    today: date,
    now: datetime | None = None,
    head_start: timedelta = timedelta(0),
    wecom_userid: str | None = None,
    say: StepWording,
) -> AcceptResult:
    """A merchant pressed 接单: the first eligible press wins; everyone else learns why not.

    For `head_start` after a card is posted only high-credit merchants may take it, provided one
    who could take it exists (otherwise nobody would be kept waiting for no one).
    """
    now = now or utcnow()
    merchant = await merchants.acting(session=session, telegram_id=telegram_id, wecom_userid=wecom_userid)
    if merchant is None:
        return AcceptResult(AcceptOutcome.NOT_MERCHANT)
    order = await session.get(Order, order_id)
    if order is None:
        return AcceptResult(AcceptOutcome.CLOSED, merchant=merchant)
    reason = merchant.refusal_reason(service_id=order.service_id, community_id=order.community_id, today=today)
    if reason is not None:
        return AcceptResult(AcceptOutcome.INELIGIBLE, order, merchant, refusal=reason)
    wait = await _head_start_left(session, order, merchant, now=now, today=today, head_start=head_start)
    if wait is not None:
        return AcceptResult(AcceptOutcome.HELD_FOR_HIGH_CREDIT, order, merchant, wait_seconds=wait)
    if order.status == OrderStatus.PENDING_DISPATCH and await _take(session, order, merchant, now):
        log_event(session=session, order=order, actor=f"merchant:{merchant.id}", note="接单")
        _notify_owner(session, order, OrderStatus.ACCEPTED, "商家已接单", say)
        outbox.emit(session, JobTaken(order_id=order.id))
        return AcceptResult(AcceptOutcome.WON, order, merchant)
    await session.refresh(order)
    if order.merchant_id == merchant.id and order.status != OrderStatus.CANCELLED:
        return AcceptResult(AcceptOutcome.ALREADY_YOURS, order, merchant)
    if order.status in (OrderStatus.CANCELLED, OrderStatus.FAILED) or order.merchant_id is None:
        return AcceptResult(AcceptOutcome.CLOSED, order, merchant)
    return AcceptResult(AcceptOutcome.TAKEN, order, merchant)


async def _head_start_left(
    session: AsyncSession, order: Order, merchant: Merchant, *, now: datetime, today: date, head_start: timedelta
) -> int | None:
    """Whole seconds this merchant must still wait, or None if they may take the job now."""
    if head_start <= timedelta(0) or merchant.is_high_credit or order.status != OrderStatus.PENDING_DISPATCH:
        return None
    if order.escalated_at is not None:  # a re-posted card found no taker in time: open to all
        return None
    opens_to_all = (order.card_posted_at or order.created_at) + head_start
    if now >= opens_to_all:
        return None
    candidates = await eligible_merchants(session=session, order=order, today=today, limit=1)
    if not candidates or not candidates[0].is_high_credit:  # best candidate first: credit desc
        return None
    return max(1, math.ceil((opens_to_all - now).total_seconds()))


async def advance(
    *,
    session: AsyncSession,
    order_id: int,
    telegram_id: int | None = None,
    target: OrderStatus,
    amount_fen: int | None = None,
    method: PaymentMethod | None = None,
    reason: str = "",
    policy: AmountPolicy | None = None,
    wecom_userid: str | None = None,
    say: StepWording,
) -> StepResult:
    """The merchant holding the job reports 已出发/已到达/已完成/无法完成; the owner is told."""
    order = await lock_order(session, order_id)
    if order is None:
        return StepResult(False, Step.CLOSED)
    merchant = await merchants.acting(session=session, telegram_id=telegram_id, wecom_userid=wecom_userid)
    if merchant is None or order.merchant_id != merchant.id:
        return StepResult(False, Step.NOT_HOLDER, order)
    if target == OrderStatus.COMPLETED and (amount_fen is None or method is None):
        return StepResult(False, Step.NEED_AMOUNT, order)
    if target == OrderStatus.FAILED and not reason.strip():
        return StepResult(False, Step.NEED_REASON, order)
    if target == OrderStatus.COMPLETED and target in TRANSITIONS[OrderStatus(order.status)]:
        from storage import amounts  # amounts completes orders through this module: imported late

        assert amount_fen is not None and method is not None
        verdict = await amounts.gate(
            session=session, order=order, merchant=merchant, amount_fen=amount_fen, method=method,
            policy=policy or AmountPolicy(), say=say,
        )
        if verdict != amounts.Gate.RECORD:
            asked = verdict == amounts.Gate.ASK_OWNER
            return StepResult(asked, Step.AMOUNT_GATE, order, pending_owner=asked, gate=verdict)
    try:
        order.move_to(target)
    except InvalidTransition:
        return StepResult(False, Step.BAD_TRANSITION, order, target=target)
    if target == OrderStatus.COMPLETED:
        assert amount_fen is not None and method is not None
        settle(order, amount_fen=amount_fen, method=method)
    if target == OrderStatus.FAILED:
        order.failure_reason = reason.strip()[:500]
    note = f"{format_yuan(order.amount_fen or 0)}元 {method}" if target == OrderStatus.COMPLETED else reason
    log_event(session=session, order=order, actor=f"merchant:{merchant.id}", note=note)
    await session.flush()
    _notify_owner(session, order, target, f"订单{STATUS_LABELS[target]}", say)
    outbox.emit(session, JobProgress(order_id=order.id))
    if target == OrderStatus.COMPLETED:
        outbox.emit(session, JobCompleted(order_id=order.id))
    if target == OrderStatus.FAILED:
        failure = FailureReported(order.code, order.service.name, merchant.name, order.failure_reason or "")
        outbox.emit(session, StaffAlert(text=say.failure_alert(failure)))
    return StepResult(True, Step.DONE, order, target=target)


async def eligible_merchants(*, session: AsyncSession, order: Order, today: date, limit: int = 5) -> list[Merchant]:
    """Merchants who could take the order, high credit first (the plan's preference rule)."""
    stmt = select(Merchant).where(Merchant.status == MerchantStatus.ACTIVE).order_by(
        Merchant.credit_level.desc(), Merchant.id
    )
    found = [
        m
        for m in await session.scalars(stmt)
        if m.refusal_reason(service_id=order.service_id, community_id=order.community_id, today=today) is None
    ]
    return found[:limit]


@dataclass(frozen=True)
class Reposted:
    """Nobody took the job within `minutes`: re-posted; `candidates` (id, name) staff may assign it to."""

    code: str
    service: str
    community: str  # '' when the order has none
    minutes: int
    candidates: tuple[tuple[int, str], ...]


class RepostWording(Protocol):
    """Staff's words for a re-posted job (bot/wording/staff.py REPOST_WORDING)."""

    def alert(self, reposted: Reposted) -> str:
        """The staff alert, with the /assign hint."""
        ...

    def history(self, reposted: Reposted) -> str:
        """The line in the order's history."""
        ...


async def escalate_unaccepted(
    *,
    session: AsyncSession,
    now: datetime | None = None,
    timeout: timedelta = DEFAULT_ACCEPT_TIMEOUT,
    tz: ZoneInfo | None = None,
    say: RepostWording,
) -> list[int]:
    """Re-post (once) every card nobody took within `timeout` and alert staff; returns order ids."""
    now = now or utcnow()
    posted = func.coalesce(Order.card_posted_at, Order.created_at)
    stmt = (
        select(Order)
        .where(Order.status == OrderStatus.PENDING_DISPATCH, Order.escalated_at.is_(None), posted <= now - timeout)
        .order_by(Order.id)
        .limit(100)
    )
    if is_postgres(session):
        stmt = stmt.with_for_update(of=Order, skip_locked=True)  # several schedulers never double-post
    today = now.astimezone(tz).date() if tz else now.date()
    escalated: list[int] = []
    for order in await session.scalars(stmt):
        order.escalated_at = now
        candidates = await eligible_merchants(session=session, order=order, today=today)
        minutes = int(timeout.total_seconds() // 60)
        community = order.community.name if order.community else ""
        outbox.emit(session, JobReposted(order_id=order.id))
        reposted = Reposted(order.code, order.service.name, community, minutes, tuple((m.id, m.name) for m in candidates))
        outbox.emit(session, StaffAlert(text=say.alert(reposted)))
        log_event(session=session, order=order, actor="system", note=say.history(reposted))
        escalated.append(order.id)
    await session.flush()
    return escalated


async def assign(
    *, session: AsyncSession, order_code: str, merchant_id: int, staff_id: int, now: datetime | None = None,
    today: date | None = None, say: StepWording,
) -> StepResult:
    """Staff assign (or reassign) a job to a merchant: `/assign ORDER MERCHANT`."""
    now = now or utcnow()
    today = today or now.date()
    member = await session.get(Staff, staff_id)
    if member is None:
        return StepResult(False, Step.NOT_STAFF)
    found = await session.scalar(select(Order.id).where(Order.code == order_code.strip().upper()))
    order = await lock_order(session, found) if found is not None else None
    if order is None:
        return StepResult(False, Step.NO_ORDER, code=order_code)
    if not member.can_act_in(order.community_id):
        return StepResult(False, Step.NO_RIGHT, order)
    merchant = await merchants.get(session=session, merchant_id=merchant_id)
    if merchant is None:
        return StepResult(False, Step.NO_MERCHANT, order, merchant_id=merchant_id)
    reason = merchant.refusal_reason(service_id=order.service_id, community_id=order.community_id, today=today)
    if reason is not None:
        return StepResult(False, Step.INELIGIBLE, order, refusal=reason, merchant_name=merchant.name)
    previous = order.merchant
    if order.status == OrderStatus.PENDING_DISPATCH:
        if not await _take(session, order, merchant, now):
            await session.refresh(order)
            return StepResult(False, Step.JUST_TAKEN, order, merchant_name=order.merchant.name if order.merchant else "")
    elif order.status in (OrderStatus.ACCEPTED, OrderStatus.ON_THE_WAY):
        if order.merchant_id == merchant.id:
            return StepResult(False, Step.ALREADY_HOLDS, order, merchant_name=merchant.name)
        # Staff override: the job starts over with the new merchant.
        order.merchant_id, order.merchant = merchant.id, merchant
        order.status, order.accepted_at = OrderStatus.ACCEPTED, now
        order.version += 1
    else:
        return StepResult(False, Step.CANNOT_ASSIGN, order)
    order.assigned_by_staff_id = member.id
    log_event(session=session, order=order, actor=f"staff:{member.id}", note=f"指派给商家#{merchant.id}")
    await session.flush()
    if previous is not None and previous.id != merchant.id:
        outbox.emit(session, MerchantNote(
            merchant_id=previous.id, text=say.reassigned(Reassigned(order.code, order.service.name))))
    _notify_owner(session, order, OrderStatus.ACCEPTED, "商家已接单", say)
    outbox.emit(session, JobTaken(order_id=order.id, assigned=True))
    return StepResult(True, Step.ASSIGNED, order, merchant_name=merchant.name)


async def open_jobs_for_merchant(*, session: AsyncSession, merchant_id: int) -> list[Order]:
    """The merchant's jobs that still need progress, oldest first."""
    stmt = (
        select(Order)
        .where(
            Order.merchant_id == merchant_id,
            or_(
                Order.status == OrderStatus.ACCEPTED,
                Order.status == OrderStatus.ON_THE_WAY,
                Order.status == OrderStatus.ARRIVED,
            ),
        )
        .order_by(Order.id)
    )
    return list(await session.scalars(stmt))


async def record_card(*, session: AsyncSession, order_id: int, chat_id: int, message_id: int, now: datetime | None = None) -> None:
    """Remember where an order's job card was posted (so it can be edited, and timed out)."""
    await session.execute(
        update(Order)
        .where(Order.id == order_id)
        .values(card_chat_id=chat_id, card_message_id=message_id, card_posted_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )


async def can_advance(
    *, session: AsyncSession, order_id: int, telegram_id: int | None = None, target: OrderStatus,
    wecom_userid: str | None = None,
) -> StepResult:
    """Whether this merchant may move the order to target now (asked before prompting for input)."""
    order = await session.get(Order, order_id)
    if order is None:
        return StepResult(False, Step.CLOSED)
    merchant = await merchants.acting(session=session, telegram_id=telegram_id, wecom_userid=wecom_userid)
    if merchant is None or order.merchant_id != merchant.id:
        return StepResult(False, Step.NOT_HOLDER, order)
    if target not in TRANSITIONS[OrderStatus(order.status)]:
        return StepResult(False, Step.BAD_TRANSITION, order, target=target)
    return StepResult(True, Step.ALLOWED, order)


async def held_by(*, session: AsyncSession, order_id: int, telegram_id: int) -> Order | None:
    """The order if this Telegram user is the merchant holding it and it is still open."""
    order = await session.get(Order, order_id)
    merchant = await merchants.get_by_telegram_id(session=session, telegram_id=telegram_id)
    if order is None or merchant is None or order.merchant_id != merchant.id:
        return None
    return order if order.status in OPEN_STATUSES else None
