"""Amounts the owner confirms before they are recorded: 挂账, and anything above the limits.

The merchant's 已完成 with such an amount leaves the order open with the amount *proposed*; the
owner reads it in WeChat and answers 确认金额 (the order completes with that amount) or 金额有误
(nothing is recorded and staff are asked to call). One proposal per order at a time, so the
amount the owner confirms is always the one they were shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import dispatch, jobs, limits, outbox
from storage.base import aware, utcnow
from storage.events import JobCompleted, JobProgress, MerchantNote, OwnerNotice, StaffAlert
from storage.household_claims import working_deadline
from storage.limits import AmountPolicy
from storage.merchants import Merchant
from storage.money import PaymentMethod, format_yuan, settle
from storage.orders import OPEN_STATUSES, Order, OrderStatus, log_event
from storage.owners import BindingStatus

# The one-tap answers under the question (WeChat msgmenu); a tap sends these words back.
OWNER_TAPS = ("确认金额", "金额有误")
# Merchant- and staff-facing.


class AmountNotes(Protocol):
    """The merchant's words for the owner's answer (bot/wording/merchant.py AMOUNT_NOTES)."""

    def confirmed(self, order: Order) -> str:
        """The owner confirmed: the order is completed and settled."""
        ...

    def disputed(self, code: str, service: str, amount_fen: int) -> str:
        """The owner says the amount is wrong: nothing was recorded."""
        ...


@dataclass(frozen=True)
class AmountUnconfirmed:
    """To staff: the owner has not answered the amount proposed for `code` for `waited`."""

    code: str
    service: str
    amount_fen: int
    method: str
    waited: timedelta
    phone: str  # the order's contact phone, else the owner's, else ''


# The staff's words for it, from the caller (bot/wording/staff.py amount_unconfirmed).
UnconfirmedWording = Callable[[AmountUnconfirmed], str]


class Gate(StrEnum):
    """What happens to an amount a merchant reported."""

    RECORD = "record"  # within the limits: completed now
    ASK_OWNER = "ask_owner"  # waits for the owner's 确认金额 (the order's proposed amount and method)
    ALREADY_ASKED = "already_asked"  # refused: an amount already waits for the owner
    ON_ACCOUNT_UNVERIFIED = "on_account_unverified"  # refused: 挂账 needs a verified home


async def gate(
    *, session: AsyncSession, order: Order, merchant: Merchant, amount_fen: int, method: PaymentMethod,
    policy: AmountPolicy, say: dispatch.StepWording,
) -> Gate:
    """Record now, or ask the owner first (the proposal and the messages are queued), or refuse."""
    if order.proposed_amount_fen is not None:
        return Gate.ALREADY_ASKED
    if method == PaymentMethod.ON_ACCOUNT and order.owner.binding_status != BindingStatus.VERIFIED:
        return Gate.ON_ACCOUNT_UNVERIFIED
    why = await limits.why_confirm(session=session, order=order, amount_fen=amount_fen, method=method, policy=policy)
    if why is None:
        return Gate.RECORD
    order.proposed_amount_fen, order.proposed_method, order.proposed_at = amount_fen, method.value, utcnow()
    amount = format_yuan(amount_fen)
    log_event(session=session, order=order, actor=f"merchant:{merchant.id}", note=f"登记金额 {amount}元 {method}，待业主确认")
    outbox.emit(session, OwnerNotice(openid=order.owner.openid, notice=True, title="请确认服务金额",
                menu=tuple(OWNER_TAPS), text=say.owner_amount_ask(order, amount_fen, method)))
    if why != "挂账":  # an unusual amount is worth a look; a plain 挂账 only needs the owner
        outbox.emit(session, StaffAlert(text=say.staff_amount_alert(order, merchant.name, amount_fen, method, why)))
    return Gate.ASK_OWNER


async def awaiting_owner(*, session: AsyncSession, owner_id: int) -> Order | None:
    """The owner's latest open order whose amount waits for their confirmation."""
    stmt = select(Order.id).where(
        Order.owner_id == owner_id, Order.proposed_amount_fen.is_not(None), Order.status.in_(list(OPEN_STATUSES))
    ).order_by(Order.proposed_at.desc()).limit(1)
    found = await session.scalar(stmt)
    return await dispatch.lock_order(session, found) if found is not None else None


async def confirm(
    *, session: AsyncSession, order: Order, owner_text: Callable[[Order, OrderStatus], str], say: AmountNotes
) -> str:
    """The owner confirmed: the order completes with the proposed amount; returns the owner's text (worded by
    `owner_text`, dialogs/texts.py)."""
    assert order.proposed_amount_fen is not None and order.proposed_method is not None
    amount, method = order.proposed_amount_fen, PaymentMethod(order.proposed_method)
    order.move_to(OrderStatus.COMPLETED)
    settle(order, amount_fen=amount, method=method)
    order.proposed_amount_fen = order.proposed_method = order.proposed_at = None
    log_event(session=session, order=order, actor="owner", note=f"业主确认金额 {format_yuan(amount)}元 {method}")
    await session.flush()
    outbox.emit(session, JobProgress(order_id=order.id))
    outbox.emit(session, JobCompleted(order_id=order.id))
    if order.merchant_id is not None:
        outbox.emit(session, MerchantNote(merchant_id=order.merchant_id,
                    text=say.confirmed(order)))
    return owner_text(order, OrderStatus.COMPLETED)


async def dispute(*, session: AsyncSession, order: Order, say: AmountNotes) -> tuple[str, str]:
    """The owner says the amount is wrong: nothing is recorded; returns (amount, method words)."""
    assert order.proposed_amount_fen is not None and order.proposed_method is not None
    amount_fen, method = order.proposed_amount_fen, order.proposed_method
    amount = format_yuan(amount_fen)
    order.proposed_amount_fen = order.proposed_method = order.proposed_at = None
    log_event(session=session, order=order, actor="owner", note=f"业主对金额 {amount}元 {method} 有异议")
    if order.merchant_id is not None:
        outbox.emit(session, MerchantNote(merchant_id=order.merchant_id,
                    text=say.disputed(order.code, order.service.name, amount_fen)))
    return amount, method


async def alert_unconfirmed(
    *, session: AsyncSession, now: datetime, tz: ZoneInfo, working_days: float, say: UnconfirmedWording
) -> int:
    """Tell staff (once per proposal) about amounts the owner has left unanswered past the deadline."""
    stmt = select(Order).where(
        Order.proposed_at.is_not(None), Order.proposed_at <= now - timedelta(days=working_days),
        Order.status.in_(list(OPEN_STATUSES)),
    )
    alerted = 0
    for order in list(await session.scalars(stmt.order_by(Order.id).limit(200))):
        assert order.proposed_at is not None  # the query keeps only proposed amounts
        asked = aware(order.proposed_at)
        if working_deadline(asked, working_days, tz) > now:
            continue
        # One alert per proposal, across scheduler processes and ticks.
        if not await jobs.claim(session=session, job="amount_unconfirmed", key=f"{order.id}:{asked.isoformat()}"):
            continue
        outbox.emit(session, StaffAlert(text=say(AmountUnconfirmed(
            order.code, order.service.name, order.proposed_amount_fen or 0, order.proposed_method or "", now - asked,
            order.contact_phone or order.owner.phone or "",
        ))))
        alerted += 1
    return alerted
