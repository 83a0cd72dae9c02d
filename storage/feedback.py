"""Owner feedback after a job: ratings (回访) that feed merchant scores, and complaints staff handle."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, Timestamped, UtcDateTime, utcnow

# A rating at or below this opens a complaint (PRODUCT.md rule 6).
COMPLAINT_THRESHOLD = 2


class Rating(Timestamped, Base):
    """An owner's 1–5 satisfaction score for one order, with an optional comment."""

    __tablename__ = "ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id"), index=True)
    # One rating per order: a follow-up is never asked twice.
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), unique=True)
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id"), index=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")


class ComplaintStatus(StrEnum):
    """open → acknowledged → closed (resolved, with a note and perhaps compensation)."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"


COMPLAINT_LABELS = {"open": "待受理", "acknowledged": "处理中", "closed": "已结案"}


class Bearer(StrEnum):
    """Who pays a compensation: the merchant's next payout, or the platform."""

    MERCHANT = "merchant"
    PLATFORM = "platform"


class Complaint(Timestamped, Base):
    """Something an owner is unhappy about; staff must close it with a note."""

    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id"), index=True)
    rating_id: Mapped[int | None] = mapped_column(ForeignKey("ratings.id"))
    text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=ComplaintStatus.OPEN, index=True)
    closed_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)
    # Issue 16: the complaint's life (storage/complaints.py).
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    acknowledged_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    alerts: Mapped[int] = mapped_column(Integer, default=0)
    last_alert_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    compensation_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    compensation_bearer: Mapped[str] = mapped_column(String(16), default="")

    @property
    def code(self) -> str:
        """T7: the 投诉编号 owners and staff quote."""
        return f"T{self.id}"


async def rating_for_order(*, session: AsyncSession, order_id: int) -> Rating | None:
    """The rating an owner gave an order, if any."""
    return await session.scalar(select(Rating).where(Rating.order_id == order_id))


async def add_rating(
    *, session: AsyncSession, owner_id: int, order_id: int | None, merchant_id: int | None, score: int
) -> Rating:
    """Record a score the moment it is given (the comment may follow)."""
    if not 1 <= score <= 5:
        raise ValueError(f"rating must be 1..5, got {score}")
    rating = Rating(owner_id=owner_id, order_id=order_id, merchant_id=merchant_id, score=score)
    session.add(rating)
    await session.flush()
    return rating


async def open_complaint(
    *,
    session: AsyncSession,
    owner_id: int,
    text: str,
    order_id: int | None = None,
    merchant_id: int | None = None,
    rating_id: int | None = None,
    community_id: int | None = None,
) -> Complaint:
    """Open a complaint for staff to handle."""
    complaint = Complaint(
        owner_id=owner_id, order_id=order_id, merchant_id=merchant_id, rating_id=rating_id, text=text,
        community_id=community_id,
    )
    session.add(complaint)
    await session.flush()
    return complaint


async def close_complaint(*, session: AsyncSession, complaint_id: int, staff_id: int, note: str) -> None:
    """Staff record how a complaint was handled; closing twice keeps the first note."""
    complaint = await session.get(Complaint, complaint_id)
    if complaint is None:
        raise LookupError(f"no complaint #{complaint_id}")
    if complaint.status == ComplaintStatus.CLOSED:
        return
    complaint.status = ComplaintStatus.CLOSED
    complaint.closed_by_staff_id = staff_id
    complaint.note = note
    complaint.closed_at = utcnow()


async def merchant_average_rating(
    *, session: AsyncSession, merchant_id: int, since: datetime, until: datetime
) -> float | None:
    """Mean owner score for a merchant's rated jobs in [since, until); None when nobody rated."""
    value = await session.scalar(
        select(func.avg(Rating.score)).where(
            Rating.merchant_id == merchant_id, Rating.created_at >= since, Rating.created_at < until
        )
    )
    return None if value is None else round(float(value), 2)
