"""Service orders: the aggregate every owner request, dispatch and payment hangs off."""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage import outbox
from storage.base import Base, Timestamped, UtcDateTime, utcnow
from storage.catalog import Service
from storage.communities import Community
from storage.events import JobCancelled, JobOffered
from storage.merchants import Merchant
from storage.owners import BindingStatus, Owner


class OrderStatus(StrEnum):
    """Where an order is in its life; transitions are declared in TRANSITIONS."""

    # The owner's household claim is not verified yet: no card, no merchant sees the address.
    AWAITING_VERIFICATION = "awaiting_verification"
    PENDING_DISPATCH = "pending_dispatch"
    ACCEPTED = "accepted"
    ON_THE_WAY = "on_the_way"
    ARRIVED = "arrived"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


OPEN_STATUSES = frozenset(
    {OrderStatus.AWAITING_VERIFICATION, OrderStatus.PENDING_DISPATCH, OrderStatus.ACCEPTED, OrderStatus.ON_THE_WAY, OrderStatus.ARRIVED}
)

TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.AWAITING_VERIFICATION: frozenset({OrderStatus.PENDING_DISPATCH, OrderStatus.CANCELLED}),
    OrderStatus.PENDING_DISPATCH: frozenset({OrderStatus.ACCEPTED, OrderStatus.CANCELLED}),
    OrderStatus.ACCEPTED: frozenset(
        {OrderStatus.ON_THE_WAY, OrderStatus.ARRIVED, OrderStatus.COMPLETED, OrderStatus.FAILED, OrderStatus.CANCELLED}
    ),
    OrderStatus.ON_THE_WAY: frozenset(
        {OrderStatus.ARRIVED, OrderStatus.COMPLETED, OrderStatus.FAILED, OrderStatus.CANCELLED}
    ),
    OrderStatus.ARRIVED: frozenset({OrderStatus.COMPLETED, OrderStatus.FAILED}),
    OrderStatus.COMPLETED: frozenset(),
    OrderStatus.FAILED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}

STATUS_LABELS: dict[str, str] = {
    OrderStatus.AWAITING_VERIFICATION: "等待房屋核实",
    OrderStatus.PENDING_DISPATCH: "等待商家接单",
    OrderStatus.ACCEPTED: "商家已接单",
    OrderStatus.ON_THE_WAY: "师傅已出发",
    OrderStatus.ARRIVED: "师傅已到达",
    OrderStatus.COMPLETED: "已完成",
    OrderStatus.FAILED: "未能完成",
    OrderStatus.CANCELLED: "已取消",
}

# No 0/O/1/I, so a code read over the phone is unambiguous.
_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


class InvalidTransition(ValueError):
    """The requested status change is not allowed from the current status."""


class Order(Timestamped, Base):
    """An owner's service order; money is integer fen and always collected by the platform."""

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id"), index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    status: Mapped[str] = mapped_column(String(24), default=OrderStatus.PENDING_DISPATCH, index=True)
    scheduled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    address: Mapped[str] = mapped_column(String(128), default="")
    contact_phone: Mapped[str] = mapped_column(String(32), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id"), index=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    payment_method: Mapped[str | None] = mapped_column(String(16))
    commission_fen: Mapped[int | None] = mapped_column(BigInteger)
    failure_reason: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Dispatch (migration 0003): where the job card is, and whether the no-taker alert fired.
    card_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    card_message_id: Mapped[int | None] = mapped_column(BigInteger)
    card_posted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    assigned_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    # What the platform owes the merchant: amount_fen - commission_fen (integer fen).
    payout_fen: Mapped[int | None] = mapped_column(BigInteger)
    # Migration 0009: an amount (or a 挂账) the merchant reported that waits for the owner's "确认".
    proposed_amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    proposed_method: Mapped[str | None] = mapped_column(String(16))
    proposed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Issue 12: photos, videos and links the owner sent while the order was taken (Media.to_json).
    attachments: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    # What the owner said when they named a period, not an hour (上午/下午/晚上, migration 0007):
    # scheduled_at holds the period's start for sorting, but owners are shown the period.
    scheduled_period: Mapped[str | None] = mapped_column(String(8))

    owner: Mapped[Owner] = relationship(lazy="joined")
    service: Mapped[Service] = relationship(lazy="joined")
    community: Mapped[Community | None] = relationship(lazy="joined")
    merchant: Mapped[Merchant | None] = relationship(lazy="joined")

    @property
    def status_label(self) -> str:
        """The status in the words an owner reads."""
        return STATUS_LABELS.get(self.status, self.status)

    def move_to(self, target: OrderStatus) -> None:
        """Apply a status change if the state machine allows it."""
        if target not in TRANSITIONS[OrderStatus(self.status)]:
            raise InvalidTransition(f"{self.status} -> {target}")
        self.status = target
        self.version += 1
        if target == OrderStatus.COMPLETED:
            self.completed_at = utcnow()


class OrderEvent(Timestamped, Base):
    """One step in an order's history (who moved it where, and why) for supervision and disputes."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(24))
    # "merchant:<id>", "staff:<id>", "owner" or "system".
    actor: Mapped[str] = mapped_column(String(32), default="system")
    note: Mapped[str] = mapped_column(Text, default="")


def new_code() -> str:
    """A short human-readable order code, e.g. B7K2QX."""
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(6))


async def create(
    *,
    session: AsyncSession,
    owner: Owner,
    service: Service,
    scheduled_at: datetime | None,
    address: str,
    contact_phone: str,
    notes: str = "",
) -> Order:
    """Create an order; emits `order.created` (the job card), so callers don't.

    An owner whose household is not verified gets an order that waits (AWAITING_VERIFICATION):
    no card is posted and no merchant learns the address until staff or the roster decide.
    """
    verified = owner.binding_status == BindingStatus.VERIFIED
    order = Order(
        code=new_code(),
        owner=owner,
        owner_id=owner.id,
        service=service,
        service_id=service.id,
        community_id=owner.community_id,
        scheduled_at=scheduled_at,
        address=address,
        contact_phone=contact_phone,
        notes=notes,
        status=OrderStatus.PENDING_DISPATCH if verified else OrderStatus.AWAITING_VERIFICATION,
    )
    session.add(order)
    await session.flush()
    if verified:
        outbox.emit(session, JobOffered(order_id=order.id))
    return order


async def get(*, session: AsyncSession, order_id: int) -> Order | None:
    """An order by id."""
    return await session.get(Order, order_id)


async def get_by_code(*, session: AsyncSession, code: str) -> Order | None:
    """An order by its human-readable code."""
    return await session.scalar(select(Order).where(Order.code == code.upper()))


async def list_open_for_owner(*, session: AsyncSession, owner_id: int) -> list[Order]:
    """The owner's orders that are not finished, newest first."""
    stmt = (
        select(Order)
        .where(Order.owner_id == owner_id, Order.status.in_(list(OPEN_STATUSES)))
        .order_by(Order.id.desc())
    )
    return list(await session.scalars(stmt))


def log_event(*, session: AsyncSession, order: Order, actor: str, note: str = "") -> OrderEvent:
    """Record the order's current status in its history."""
    event = OrderEvent(order_id=order.id, status=order.status, actor=actor, note=note)
    session.add(event)
    return event


async def list_events(*, session: AsyncSession, order_id: int) -> list[OrderEvent]:
    """An order's history, oldest first."""
    stmt = select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
    return list(await session.scalars(stmt))


async def cancel(*, session: AsyncSession, order: Order, actor: str = "owner", reason: str = "") -> None:
    """Cancel an open order and emit `order.cancelled` (the card is closed, the merchant told).

    Raises InvalidTransition when the order can no longer be cancelled (e.g. the merchant arrived).
    """
    order.move_to(OrderStatus.CANCELLED)
    if reason:
        order.failure_reason = reason
    log_event(session=session, order=order, actor=actor, note=reason)
    await session.flush()
    outbox.emit(session, JobCancelled(order_id=order.id))


# --- added by issue 4 (owner conversations) ----------------------------------------------------


async def last_completed_for_owner(*, session: AsyncSession, owner_id: int) -> Order | None:
    """The owner's most recently completed order (what a rating or complaint refers to)."""
    stmt = (
        select(Order)
        .where(Order.owner_id == owner_id, Order.status == OrderStatus.COMPLETED)
        .order_by(Order.completed_at.desc(), Order.id.desc())
        .limit(1)
    )
    return await session.scalar(stmt)


# --- added by issue 14 (household trust, limits) -----------------------------------------------


async def awaiting_for_owner(*, session: AsyncSession, owner_id: int) -> list[Order]:
    """The owner's orders held until their household is verified, oldest first."""
    stmt = (
        select(Order)
        .where(Order.owner_id == owner_id, Order.status == OrderStatus.AWAITING_VERIFICATION)
        .order_by(Order.id)
    )
    return list(await session.scalars(stmt))


async def release(*, session: AsyncSession, order: Order, actor: str, note: str) -> None:
    """The household is verified: the held order goes to dispatch (its job card is posted); `note` goes in its history."""
    order.move_to(OrderStatus.PENDING_DISPATCH)
    log_event(session=session, order=order, actor=actor, note=note)
    await session.flush()
    outbox.emit(session, JobOffered(order_id=order.id))


async def count_open(*, session: AsyncSession, owner_id: int) -> int:
    """How many of the owner's orders are still open."""
    stmt = select(func.count()).select_from(Order).where(
        Order.owner_id == owner_id, Order.status.in_(list(OPEN_STATUSES))
    )
    return int(await session.scalar(stmt) or 0)


async def recent_duplicate(
    *, session: AsyncSession, owner_id: int, service_id: int, scheduled_at: datetime | None, since: datetime
) -> Order | None:
    """An open order of the owner for the same service and time made since `since` (a repeat)."""
    stmt = select(Order).where(
        Order.owner_id == owner_id, Order.service_id == service_id, Order.status.in_(list(OPEN_STATUSES)),
        Order.created_at >= since,
        Order.scheduled_at.is_(None) if scheduled_at is None else Order.scheduled_at == scheduled_at,
    )
    return await session.scalar(stmt.order_by(Order.id.desc()).limit(1))
