"""Money and volume limits: what an owner must confirm, and how much one owner may ask for at once.

An amount above the service's ceiling (a setting; by default a multiple of the first price in the
service's price note, "约 40 元/小时" → 400 元) or far above what the service usually costs (the
median of its recent completed orders) is not recorded until the owner confirms it in WeChat.
挂账 always needs the owner's confirmation: it lands on their household's monthly statement.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.money import PaymentMethod, format_yuan
from storage.orders import Order, OrderStatus
from storage.workorders import WorkOrder

_FIRST_PRICE = re.compile(r"(\d+(?:\.\d+)?)\s*元")


@dataclass(frozen=True)
class OwnerLimits:
    """Per-owner volume limits (settings owner_*)."""

    max_open_orders: int = 3
    duplicate_window: timedelta = timedelta(minutes=10)
    max_reports_per_hour: int = 3


@dataclass(frozen=True)
class AmountPolicy:
    """When a reported amount needs the owner's confirmation (settings amount_*)."""

    ceiling_multiple: float = 10.0
    default_ceiling_yuan: float = 5000.0
    ceilings_yuan: dict[str, float] = field(default_factory=dict)
    usual_factor: float = 5.0
    usual_min_samples: int = 5

    def ceiling_fen(self, service_name: str, price_note: str) -> int:
        """The highest amount recorded without asking the owner, for one service."""
        if service_name in self.ceilings_yuan:
            return int(self.ceilings_yuan[service_name] * 100)
        found = _FIRST_PRICE.search(price_note or "")
        if found:
            return int(float(found.group(1)) * 100 * self.ceiling_multiple)
        return int(self.default_ceiling_yuan * 100)


async def usual_amount_fen(*, session: AsyncSession, service_id: int, samples: int = 50) -> tuple[int, int]:
    """(median amount, number of samples) of the service's latest completed orders."""
    stmt = (
        select(Order.amount_fen)
        .where(Order.service_id == service_id, Order.status == OrderStatus.COMPLETED, Order.amount_fen.is_not(None))
        .order_by(Order.completed_at.desc())
        .limit(samples)
    )
    amounts = [a for a in await session.scalars(stmt) if a]
    return (int(statistics.median(amounts)) if amounts else 0), len(amounts)


async def why_confirm(
    *, session: AsyncSession, order: Order, amount_fen: int, method: PaymentMethod, policy: AmountPolicy
) -> str | None:
    """Why the owner must confirm this amount before it is recorded (for staff), or None."""
    service = order.service
    ceiling = policy.ceiling_fen(service.name, service.price_note)
    if amount_fen > ceiling:
        return f"超过该服务上限 {format_yuan(ceiling)}元"
    median, count = await usual_amount_fen(session=session, service_id=service.id)
    if count >= policy.usual_min_samples and amount_fen > median * policy.usual_factor:
        return f"远高于该服务通常金额 {format_yuan(median)}元"
    if method == PaymentMethod.ON_ACCOUNT:
        return "挂账"
    return None


async def reports_since(*, session: AsyncSession, owner_id: int, since: datetime) -> tuple[int, int | None]:
    """(how many property reports the owner made since `since`, the latest one's id)."""
    stmt = select(func.count(), func.max(WorkOrder.id)).where(
        WorkOrder.owner_id == owner_id, WorkOrder.created_at >= since
    )
    count, latest = (await session.execute(stmt)).one()
    return int(count or 0), latest
