"""Merchants (供给商): who may take which jobs, and the supplier-management state they are in."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from sqlalchemy import BigInteger, Column, Date, ForeignKey, Integer, String, Table, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base, Timestamped
from storage.catalog import Service
from storage.communities import Community


class MerchantStatus(StrEnum):
    """Supplier lifecycle (PRODUCT.md rule 5)."""

    ACTIVE = "active"
    SUSPENDED = "suspended"  # quarterly evaluation failed and was not fixed in time
    BLACKLISTED = "blacklisted"  # qualification documents expired
    TERMINATED = "terminated"  # two consecutive failed quarters


class Refusal(StrEnum):
    """Why a merchant may not take a job."""

    QUALIFICATION_EXPIRED = "qualification_expired"
    SUSPENDED = "suspended"
    NOT_ACTIVE = "not_active"
    SERVICE_NOT_OFFERED = "service_not_offered"
    OUTSIDE_AREA = "outside_area"


merchant_services = Table(
    "merchant_services",
    Base.metadata,
    Column("merchant_id", ForeignKey("merchants.id", ondelete="CASCADE"), primary_key=True),
    Column("service_id", ForeignKey("services.id", ondelete="CASCADE"), primary_key=True),
)

merchant_communities = Table(
    "merchant_communities",
    Base.metadata,
    Column("merchant_id", ForeignKey("merchants.id", ondelete="CASCADE"), primary_key=True),
    Column("community_id", ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True),
)


# Credit levels the quarterly evaluation assigns (PRODUCT.md rule 5: high credit gets preference).
HIGH_CREDIT, DEFAULT_CREDIT, LOW_CREDIT, MIN_CREDIT = 5, 3, 2, 1


class Channel(StrEnum):
    """Where a merchant or staff member talks to the hub (issue 17: a person may have both)."""

    TELEGRAM = "telegram"
    WECOM = "wecom"


class Merchant(Timestamped, Base):
    """A merchant on Telegram and/or WeCom; no communities on file means it serves all of them."""

    __tablename__ = "merchants"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    wecom_userid: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The channel they last acted on (a press, a typed amount): private messages go there.
    last_channel: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=MerchantStatus.ACTIVE)
    qualification_expires: Mapped[date | None] = mapped_column(Date)
    # 1 (low) .. 5 (high); the quarterly evaluation sets it (storage/supplier.py).
    credit_level: Mapped[int] = mapped_column(Integer, default=3)
    services: Mapped[list[Service]] = relationship(secondary=merchant_services, lazy="selectin")
    communities: Mapped[list[Community]] = relationship(
        secondary=merchant_communities, lazy="selectin"
    )

    @property
    def channel(self) -> Channel:
        """Where private messages go: the channel last acted on, else the only one on file."""
        if self.last_channel == Channel.WECOM and self.wecom_userid:
            return Channel.WECOM
        if self.telegram_id is None and self.wecom_userid:
            return Channel.WECOM
        return Channel.TELEGRAM

    @property
    def is_high_credit(self) -> bool:
        """Consistently above the higher bar: such merchants see new job cards first."""
        return self.credit_level >= HIGH_CREDIT

    def refusal_reason(self, *, service_id: int, community_id: int | None, today: date) -> Refusal | None:
        """Why this merchant may not take a job (worded by bot/wording/merchant.py); None when eligible."""
        if self.qualification_expires is not None and self.qualification_expires < today:
            return Refusal.QUALIFICATION_EXPIRED
        if self.status == MerchantStatus.SUSPENDED:
            return Refusal.SUSPENDED
        if self.status != MerchantStatus.ACTIVE:
            return Refusal.NOT_ACTIVE
        if service_id not in {s.id for s in self.services}:
            return Refusal.SERVICE_NOT_OFFERED
        if self.communities and community_id not in {c.id for c in self.communities}:
            return Refusal.OUTSIDE_AREA
        return None


async def create(
    *,
    session: AsyncSession,
    name: str,
    telegram_id: int | None,
    services: list[Service],
    communities: list[Community] | None = None,
    qualification_expires: date | None = None,
    wecom_userid: str | None = None,
) -> Merchant:
    """Register a merchant with the services it offers (Telegram id and/or WeCom userid)."""
    if telegram_id is None and not wecom_userid:
        raise ValueError("a merchant needs a Telegram id or a WeCom userid")
    merchant = Merchant(
        name=name,
        telegram_id=telegram_id,
        wecom_userid=wecom_userid or None,
        services=services,
        communities=communities or [],
        qualification_expires=qualification_expires,
    )
    session.add(merchant)
    await session.flush()
    return merchant


async def get(*, session: AsyncSession, merchant_id: int) -> Merchant | None:
    """A merchant by id."""
    return await session.get(Merchant, merchant_id)


async def get_by_telegram_id(*, session: AsyncSession, telegram_id: int) -> Merchant | None:
    """The merchant behind a Telegram user id."""
    return await session.scalar(select(Merchant).where(Merchant.telegram_id == telegram_id))


async def get_by_wecom_userid(*, session: AsyncSession, userid: str) -> Merchant | None:
    """The merchant behind a WeCom member userid."""
    return await session.scalar(select(Merchant).where(Merchant.wecom_userid == userid))


async def acting(
    *, session: AsyncSession, telegram_id: int | None = None, wecom_userid: str | None = None
) -> Merchant | None:
    """The merchant behind whoever acts now, remembering the channel they acted on (issue 17)."""
    if wecom_userid is not None:
        merchant, channel = await get_by_wecom_userid(session=session, userid=wecom_userid), Channel.WECOM
    elif telegram_id is not None:
        merchant, channel = await get_by_telegram_id(session=session, telegram_id=telegram_id), Channel.TELEGRAM
    else:
        return None
    if merchant is not None and merchant.last_channel != channel:
        merchant.last_channel = channel
    return merchant
