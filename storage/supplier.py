"""Supplier management (PRODUCT.md rule 5): qualification expiry, quarterly evaluation, credit.

- Expired qualification documents blacklist a merchant until `renew` sets a new date; a warning
  goes out 30 days ahead.
- Each quarter a merchant's average owner rating is compared with a bar: below it gives a
  rectification notice with a deadline; still below at the deadline gives suspension; two failed
  quarters in a row end the cooperation. Merchants above a higher bar two quarters running get
  credit level 5, which dispatch turns into a head start on new job cards.
Everything a merchant is told goes out as a `merchant.notify` outbox event, worded by the caller's
`say` (merchant wording lives in bot/wording/merchant.py): this module decides the notice, not its words.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String, UniqueConstraint, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage import complaints, jobs, outbox
from storage.base import Base, Timestamped, UtcDateTime, utcnow
from storage.db import is_postgres
from storage.events import MerchantNote
from storage.feedback import Rating
from storage.merchants import (
    DEFAULT_CREDIT,
    HIGH_CREDIT,
    LOW_CREDIT,
    MIN_CREDIT,
    Merchant,
    MerchantStatus,
)


class Outcome(StrEnum):
    """How a merchant did in a quarter."""

    PASSED = "passed"
    FAILED = "failed"
    NO_DATA = "no_data"


class Resolution(StrEnum):
    """What became of a failed quarter."""

    OPEN = ""
    FIXED = "fixed"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"


@dataclass(frozen=True)
class EvaluationPolicy:
    """Configurable bars (ratings are 1–5)."""

    bar: Decimal = Decimal("3.5")
    high_bar: Decimal = Decimal("4.5")
    rectification_days: int = 30
    min_ratings: int = 1
    warn_days: int = 30
    # Issue 16: more complaints than this against a merchant in a quarter fails it, whatever the ratings.
    max_complaints: int = 3


@dataclass(frozen=True)
class QualificationExpired:
    """The merchant's documents expired on `expired_on`: blacklisted until renewed."""

    expired_on: date


@dataclass(frozen=True)
class QualificationExpiring:
    """The documents expire on `expires_on`, `days_left` days from today."""

    expires_on: date
    days_left: int


@dataclass(frozen=True)
class QualificationRenewed:
    """New documents recorded, valid until `valid_until`: taking jobs again."""

    valid_until: date


@dataclass(frozen=True)
class QuarterFailed:
    """Below the bar (or over the complaint limit) in `quarter`; a deadline to fix it, or None: cooperation ended."""

    quarter: str
    average: Decimal | None
    complaints: int
    too_many_complaints: bool
    policy: EvaluationPolicy
    deadline: date | None


@dataclass(frozen=True)
class RectificationPassed:
    """Ratings since the notice reached the bar."""

    average: Decimal


@dataclass(frozen=True)
class RectificationMissed:
    """Still below `bar` at the `deadline`: suspended."""

    deadline: date
    average: Decimal | None
    bar: Decimal


@dataclass(frozen=True)
class StatusChanged:
    """Staff suspended (with `reason`) or reinstated the merchant."""

    status: MerchantStatus
    reason: str = ""


SupplierNotice = (QualificationExpired | QualificationExpiring | QualificationRenewed | QuarterFailed
                  | RectificationPassed | RectificationMissed | StatusChanged)
# The merchant's words for a notice, supplied by bot/ (bot/wording/merchant.py supplier_notice).
SupplierWording = Callable[[SupplierNotice], str]


def _tell(session: AsyncSession, merchant: Merchant, notice: SupplierNotice, say: SupplierWording) -> None:
    outbox.emit(session, MerchantNote(merchant_id=merchant.id, text=say(notice)))


class Evaluation(Timestamped, Base):
    """One merchant's result for one quarter, and the rectification it led to."""

    __tablename__ = "merchant_evaluations"
    __table_args__ = (UniqueConstraint("merchant_id", "quarter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"), index=True)
    quarter: Mapped[str] = mapped_column(String(8))  # e.g. 2026Q3
    average_x100: Mapped[int | None] = mapped_column(Integer)  # 4.25 -> 425
    ratings: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str] = mapped_column(String(16))
    deadline: Mapped[date | None] = mapped_column(Date, index=True)
    resolution: Mapped[str] = mapped_column(String(16), default=Resolution.OPEN)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Issue 16: complaints opened against the merchant in the quarter, and what it paid in compensation.
    complaints: Mapped[int] = mapped_column(Integer, default=0)
    compensation_fen: Mapped[int] = mapped_column(BigInteger, default=0)

    @property
    def average(self) -> Decimal | None:
        """The quarter's average rating."""
        return None if self.average_x100 is None else Decimal(self.average_x100) / 100


# --- quarters --------------------------------------------------------------------------------


def quarter_of(day: date) -> tuple[int, int]:
    """(year, quarter 1..4)."""
    return day.year, (day.month - 1) // 3 + 1


def quarter_label(year: int, q: int) -> str:
    """2026Q3."""
    return f"{year}Q{q}"


def quarter_bounds(year: int, q: int) -> tuple[date, date]:
    """First day of the quarter, first day of the next."""
    start = date(year, 3 * (q - 1) + 1, 1)
    end = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
    return start, end


def previous_quarter(year: int, q: int) -> tuple[int, int]:
    """The quarter before."""
    return (year - 1, 4) if q == 1 else (year, q - 1)


def _utc(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


# --- ratings (stored by the follow-up feature, storage/feedback.py) ---------------------------------------------------


async def average_rating(
    *, session: AsyncSession, merchant_id: int, since: datetime, until: datetime
) -> tuple[Decimal | None, int]:
    """(average, count) of owner ratings for a merchant in [since, until)."""
    avg, n = (await session.execute(
        select(func.avg(Rating.score), func.count(Rating.id)).where(
            Rating.merchant_id == merchant_id, Rating.created_at >= since, Rating.created_at < until
        )
    )).one()
    if avg is None or not n:
        return None, 0
    return Decimal(str(avg)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), int(n)


# --- qualification expiry ----------------------------------------------------------------------


async def expire_qualifications(
    *, session: AsyncSession, today: date, policy: EvaluationPolicy, say: SupplierWording
) -> dict[str, int]:
    """Blacklist merchants whose documents expired and warn those expiring within warn_days (once each)."""
    done = {"blacklisted": 0, "warned": 0}
    expired = list(await session.scalars(
        select(Merchant).where(
            Merchant.qualification_expires < today,
            Merchant.status.in_([MerchantStatus.ACTIVE, MerchantStatus.SUSPENDED]),
        )
    ))
    for m in expired:
        if not await jobs.claim(session=session, job="qualification_expired", key=f"{m.id}:{m.qualification_expires}"):
            continue
        m.status = MerchantStatus.BLACKLISTED
        assert m.qualification_expires is not None  # the query keeps only expired dates
        _tell(session, m, QualificationExpired(m.qualification_expires), say)
        done["blacklisted"] += 1
    soon = list(await session.scalars(
        select(Merchant).where(
            Merchant.qualification_expires >= today,
            Merchant.qualification_expires <= today + timedelta(days=policy.warn_days),
            Merchant.status == MerchantStatus.ACTIVE,
        )
    ))
    for m in soon:
        if not await jobs.claim(session=session, job="qualification_warning", key=f"{m.id}:{m.qualification_expires}"):
            continue
        assert m.qualification_expires is not None  # the query keeps only dates within warn_days
        _tell(session, m, QualificationExpiring(m.qualification_expires, (m.qualification_expires - today).days), say)
        done["warned"] += 1
    return done


async def renew(*, session: AsyncSession, merchant: Merchant, until: date, today: date, say: SupplierWording) -> bool:
    """Record a new expiry date; a merchant blacklisted for expiry is reinstated. True if reinstated."""
    if until < today:
        raise ValueError("new expiry date is in the past")
    merchant.qualification_expires = until
    if merchant.status != MerchantStatus.BLACKLISTED:
        return False
    merchant.status = MerchantStatus.ACTIVE
    _tell(session, merchant, QualificationRenewed(until), say)
    return True


# --- quarterly evaluation ----------------------------------------------------------------------


async def evaluate_quarter(
    *, session: AsyncSession, year: int, q: int, today: date, tz: ZoneInfo, policy: EvaluationPolicy,
    say: SupplierWording,
) -> dict[str, int]:
    """Evaluate every merchant still cooperating for the quarter (year, q); once per merchant."""
    label = quarter_label(year, q)
    start, end = quarter_bounds(year, q)
    prev_label = quarter_label(*previous_quarter(year, q))
    tally = {o.value: 0 for o in Outcome} | {"terminated": 0, "high_credit": 0}
    merchants = list(await session.scalars(
        select(Merchant).where(Merchant.status != MerchantStatus.TERMINATED).order_by(Merchant.id)
    ))
    for m in merchants:
        if not await jobs.claim(session=session, job="quarterly_evaluation", key=f"{m.id}:{label}"):
            continue
        avg, n = await average_rating(session=session, merchant_id=m.id, since=_utc(start, tz), until=_utc(end, tz))
        figures = await complaints.merchant_figures(
            session=session, merchant_id=m.id, since=_utc(start, tz), until=_utc(end, tz))
        prev = await session.scalar(
            select(Evaluation).where(Evaluation.merchant_id == m.id, Evaluation.quarter == prev_label)
        )
        ev = Evaluation(merchant_id=m.id, quarter=label, ratings=n,
                        average_x100=None if avg is None else int(avg * 100),
                        complaints=figures.complaints, compensation_fen=figures.compensation_fen)
        session.add(ev)
        too_many = figures.complaints > policy.max_complaints
        if not too_many and (avg is None or n < policy.min_ratings):
            ev.outcome = Outcome.NO_DATA
        elif too_many or (avg is not None and avg < policy.bar):
            ev.outcome = Outcome.FAILED
            m.credit_level = LOW_CREDIT
            if prev is not None and prev.outcome == Outcome.FAILED:
                ev.resolution, ev.resolved_at = Resolution.TERMINATED, utcnow()
                m.status, m.credit_level = MerchantStatus.TERMINATED, MIN_CREDIT
                tally["terminated"] += 1
            else:
                ev.deadline = today + timedelta(days=policy.rectification_days)
            _tell(session, m, QuarterFailed(label, avg, figures.complaints, too_many, policy, ev.deadline), say)
        else:
            assert avg is not None  # a quarter without ratings took the NO_DATA branch above
            ev.outcome = Outcome.PASSED
            consistently_high = (
                avg >= policy.high_bar and prev is not None and prev.outcome == Outcome.PASSED
                and prev.average is not None and prev.average >= policy.high_bar
            )
            m.credit_level = HIGH_CREDIT if consistently_high else (4 if avg >= policy.high_bar else DEFAULT_CREDIT)
            if consistently_high:
                tally["high_credit"] += 1
        tally[ev.outcome] += 1
    return tally


async def check_rectification_deadlines(
    *, session: AsyncSession, today: date, tz: ZoneInfo, policy: EvaluationPolicy, say: SupplierWording
) -> dict[str, int]:
    """At the deadline: fixed if ratings since the notice reach the bar, otherwise suspended."""
    stmt = select(Evaluation).where(
        Evaluation.outcome == Outcome.FAILED, Evaluation.resolution == Resolution.OPEN,
        Evaluation.deadline <= today,
    ).order_by(Evaluation.id)
    if is_postgres(session):
        stmt = stmt.with_for_update(skip_locked=True)
    tally = {"fixed": 0, "suspended": 0}
    for ev in list(await session.scalars(stmt)):
        merchant = await session.get(Merchant, ev.merchant_id)
        if merchant is None:
            continue
        avg, n = await average_rating(
            session=session, merchant_id=ev.merchant_id, since=ev.created_at,
            until=_utc(today + timedelta(days=1), tz),
        )
        improved = avg is not None and n >= policy.min_ratings and avg >= policy.bar
        ev.resolved_at = utcnow()
        if improved:
            ev.resolution = Resolution.FIXED
            merchant.credit_level = DEFAULT_CREDIT
            assert avg is not None  # improved implies an average
            _tell(session, merchant, RectificationPassed(avg), say)
            tally["fixed"] += 1
        else:
            ev.resolution = Resolution.SUSPENDED
            if merchant.status == MerchantStatus.ACTIVE:
                merchant.status = MerchantStatus.SUSPENDED
            assert ev.deadline is not None  # the query keeps only evaluations with a deadline
            _tell(session, merchant, RectificationMissed(ev.deadline, avg, policy.bar), say)
            tally["suspended"] += 1
    return tally


async def latest_evaluations(*, session: AsyncSession, merchant_id: int, limit: int = 4) -> list[Evaluation]:
    """The merchant's most recent quarterly results."""
    return list(await session.scalars(
        select(Evaluation).where(Evaluation.merchant_id == merchant_id)
        .order_by(Evaluation.quarter.desc()).limit(limit)
    ))


async def set_status(
    *, session: AsyncSession, merchant: Merchant, status: MerchantStatus, say: SupplierWording, reason: str = ""
) -> None:
    """Staff suspend or reinstate a merchant; the merchant is told."""
    merchant.status = status
    if status in (MerchantStatus.SUSPENDED, MerchantStatus.ACTIVE):
        _tell(session, merchant, StatusChanged(status, reason), say)
