"""The platform-controlled money flow (代收代开): commission, merchant payout, monthly statements.

Every order is collected by the platform whatever the payment method; the merchant is paid the
amount net of the service's commission. 挂账 (on-account) orders are billed to the household in a
monthly statement. Money is integer fen throughout; rates are Decimal, rounded half up to the fen.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.base import aware
from storage.orders import Order, OrderStatus


class PaymentMethod(StrEnum):
    """How the owner paid (the plan's 支付交易 channel); the value is what people read and type."""

    CASH = "现金"
    CARD = "刷卡"
    TRANSFER = "转账"  # WeChat transfer / WeChat Pay
    ON_ACCOUNT = "挂账"  # settled with the monthly household statement
    RED_PACKET = "红包"


PAYMENT_METHODS: tuple[PaymentMethod, ...] = tuple(PaymentMethod)


class InvalidAmount(ValueError):
    """An amount that is not a positive yuan value with at most two decimals."""


def parse_yuan(text: str, *, maximum_fen: int = 10_000_000_00) -> int:
    """Parse what a merchant typed ("150", "150.5", "¥88", "88元") into integer fen."""
    cleaned = text.strip().replace("¥", "").replace("￥", "").replace("元", "").replace(",", "")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation as exc:
        raise InvalidAmount(text) from exc
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise InvalidAmount(text)
    fen = int(amount * 100)
    if fen > maximum_fen:
        raise InvalidAmount(text)
    return fen


def owner_yuan(fen: int) -> str:
    """150 or 150.50: how owners read an amount (WORDING.md rule 7: no .00 for owners)."""
    return f"{fen // 100}" if fen % 100 == 0 else f"{fen / 100:.2f}"


def format_yuan(fen: int) -> str:
    """Integer fen as a yuan string with two decimals, e.g. 15050 -> "150.50"."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def commission_fen(amount_fen: int, rate: Decimal) -> int:
    """The platform's commission on an amount: rate × amount, rounded half up to the fen."""
    return int((Decimal(amount_fen) * Decimal(rate)).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def settle(order: Order, *, amount_fen: int, method: PaymentMethod) -> None:
    """Record the amount, payment method, commission and payout on a completed order."""
    if amount_fen <= 0:
        raise InvalidAmount(str(amount_fen))
    order.amount_fen = amount_fen
    order.payment_method = method.value
    order.commission_fen = commission_fen(amount_fen, order.service.commission_rate)
    order.payout_fen = amount_fen - order.commission_fen


def month_bounds(month: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC [start, end) of a calendar month "YYYY-MM" in the local time zone."""
    try:
        if not re.fullmatch(r"\d{4}-\d{2}", month):
            raise ValueError(month)
        year, mon = (int(p) for p in month.split("-"))
        first = date(year, mon, 1)
    except ValueError as exc:
        raise ValueError(f"month must be YYYY-MM, got {month!r}") from exc
    nxt = date(year + (mon == 12), mon % 12 + 1, 1)
    start = datetime.combine(first, time(), tz).astimezone(UTC)
    end = datetime.combine(nxt, time(), tz).astimezone(UTC)
    return start, end


async def completed_in_month(*, session: AsyncSession, month: str, tz: ZoneInfo) -> list[Order]:
    """Orders completed in the month (local time), oldest first."""
    start, end = month_bounds(month, tz)
    stmt = (
        select(Order)
        .where(
            Order.status == OrderStatus.COMPLETED,
            Order.completed_at >= start,
            Order.completed_at < end,
        )
        .order_by(Order.completed_at, Order.id)
    )
    return list(await session.scalars(stmt))


@dataclass
class StatementLine:
    """One on-account order on a household statement."""

    order_code: str
    completed_on: date
    service: str
    merchant: str
    amount_fen: int


@dataclass
class HouseholdStatement:
    """What one household owes for its 挂账 orders of a month."""

    month: str
    owner_id: int
    owner_name: str
    community: str
    address: str
    phone: str
    lines: list[StatementLine] = field(default_factory=list)

    @property
    def total_fen(self) -> int:
        """Sum of the lines."""
        return sum(line.amount_fen for line in self.lines)


@dataclass
class MerchantPayout:
    """What the platform collected for a merchant in a month, and what it pays them."""

    month: str
    merchant_id: int
    merchant_name: str
    telegram_id: int | None  # None: a merchant on WeCom only
    orders: int = 0
    amount_fen: int = 0
    commission_fen: int = 0
    payout_fen: int = 0
    by_method_fen: dict[str, int] = field(default_factory=dict)
    # Merchant-borne complaint compensation closed this month (issue 16), already taken off payout_fen.
    compensation_fen: int = 0
    complaint_codes: list[str] = field(default_factory=list)


async def household_statements(
    *, session: AsyncSession, month: str, tz: ZoneInfo
) -> list[HouseholdStatement]:
    """Per-household statements of the month's 挂账 orders, by community then address."""
    statements: dict[int, HouseholdStatement] = {}
    for order in await completed_in_month(session=session, month=month, tz=tz):
        if order.payment_method != PaymentMethod.ON_ACCOUNT or order.amount_fen is None:
            continue
        owner = order.owner
        statement = statements.get(owner.id)
        if statement is None:
            statement = statements[owner.id] = HouseholdStatement(
                month=month,
                owner_id=owner.id,
                owner_name=owner.name or owner.nickname,
                community=order.community.name if order.community else "",
                address=owner.address or order.address,
                phone=owner.phone or order.contact_phone,
            )
        assert order.completed_at is not None
        statement.lines.append(
            StatementLine(
                order_code=order.code,
                completed_on=aware(order.completed_at).astimezone(tz).date(),
                service=order.service.name,
                merchant=order.merchant.name if order.merchant else "",
                amount_fen=order.amount_fen,
            )
        )
    return sorted(statements.values(), key=lambda s: (s.community, s.address, s.owner_id))


async def merchant_payouts(*, session: AsyncSession, month: str, tz: ZoneInfo) -> list[MerchantPayout]:
    """Per-merchant turnover, commission and payout for the month's completed orders."""
    payouts: dict[int, MerchantPayout] = {}
    by_method: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for order in await completed_in_month(session=session, month=month, tz=tz):
        if order.merchant is None or order.amount_fen is None:
            continue
        merchant = order.merchant
        row = payouts.get(merchant.id)
        if row is None:
            row = payouts[merchant.id] = MerchantPayout(
                month=month, merchant_id=merchant.id, merchant_name=merchant.name, telegram_id=merchant.telegram_id
            )
        row.orders += 1
        row.amount_fen += order.amount_fen
        row.commission_fen += order.commission_fen or 0
        row.payout_fen += order.payout_fen if order.payout_fen is not None else order.amount_fen - (order.commission_fen or 0)
        by_method[merchant.id][order.payment_method or ""] += order.amount_fen
    for merchant_id, row in payouts.items():
        row.by_method_fen = dict(by_method[merchant_id])
    await _deduct_compensation(session, payouts, month, tz)
    return sorted(payouts.values(), key=lambda p: p.merchant_id)


async def _deduct_compensation(session: AsyncSession, payouts: dict[int, MerchantPayout], month: str, tz: ZoneInfo) -> None:
    """Take merchant-borne complaint compensation off the payout of the month the complaint closed in.

    A merchant with compensation but no completed order that month still gets a row: its negative
    payout is what it owes, and staff see it rather than the deduction silently vanishing.
    """
    from storage.complaints import merchant_deductions
    from storage.merchants import Merchant

    start, end = month_bounds(month, tz)
    for merchant_id, (fen, codes) in (await merchant_deductions(session=session, since=start, until=end)).items():
        row = payouts.get(merchant_id)
        if row is None:
            merchant = await session.get(Merchant, merchant_id)
            if merchant is None:
                continue
            row = payouts[merchant_id] = MerchantPayout(
                month=month, merchant_id=merchant_id, merchant_name=merchant.name, telegram_id=merchant.telegram_id)
        row.compensation_fen += fen
        row.complaint_codes += codes
        row.payout_fen -= fen


