"""Staff (物业/平台团队): admins see everything, staff are scoped to their communities."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, String, Table, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base, Timestamped
from storage.cache import TableCache
from storage.communities import Community


class StaffRole(StrEnum):
    """Permission level of a staff member."""

    ADMIN = "admin"
    STAFF = "staff"


staff_communities = Table(
    "staff_communities",
    Base.metadata,
    Column("staff_id", ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True),
    Column("community_id", ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True),
)


class Staff(Timestamped, Base):
    """A staff member reachable on WeChat (openid) and/or Telegram (user id)."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    openid: Mapped[str | None] = mapped_column(String(64), unique=True)
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    wecom_userid: Mapped[str | None] = mapped_column(String(64), unique=True)
    last_channel: Mapped[str | None] = mapped_column(String(16))  # "telegram" / "wecom" (issue 17)
    role: Mapped[str] = mapped_column(String(16), default=StaffRole.STAFF)
    # Issue 14: a staff member who left keeps their history but can no longer act.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    communities: Mapped[list[Community]] = relationship(secondary=staff_communities, lazy="selectin")

    def can_act_in(self, community_id: int | None) -> bool:
        """Admins act everywhere; staff only in the communities they are scoped to."""
        if self.role == StaffRole.ADMIN:
            return True
        return community_id is not None and community_id in {c.id for c in self.communities}


async def create(
    *,
    session: AsyncSession,
    name: str,
    role: StaffRole = StaffRole.STAFF,
    openid: str | None = None,
    telegram_id: int | None = None,
    communities: list[Community] | None = None,
    wecom_userid: str | None = None,
) -> Staff:
    """Register a staff member."""
    member = Staff(
        name=name, role=role, openid=openid, telegram_id=telegram_id, communities=communities or [],
        wecom_userid=wecom_userid or None,
    )
    session.add(member)
    await session.flush()
    return member


async def _load_wechat_openids(session: AsyncSession) -> frozenset[str]:
    found = await session.scalars(select(Staff.openid).where(Staff.openid.is_not(None), Staff.active.is_(True)))
    return frozenset(o for o in found if o)


# The openids of active staff, per worker (storage/cache.py): at most cache.MAX_AGE_SECONDS old.
_WECHAT_OPENIDS = TableCache((Staff.__tablename__,), _load_wechat_openids)


async def may_be_staff(*, session: AsyncSession, openid: str) -> bool:
    """A cheap first check before `get_by_openid`: False means no active staff member has this openid.

    Owners type 确认 and 取消 all day; checking them against the per-worker copy spares each
    one a query (issue 18). True is only a hint, to be confirmed by `get_by_openid`, which reads
    the row itself (a member disabled half a second ago is still refused there).
    """
    return openid in await _WECHAT_OPENIDS.get(session)


async def get_by_openid(*, session: AsyncSession, openid: str) -> Staff | None:
    """The active staff member behind a WeChat openid (someone who left can no longer act)."""
    return await session.scalar(select(Staff).where(Staff.openid == openid, Staff.active.is_(True)))


async def get_by_telegram_id(*, session: AsyncSession, telegram_id: int) -> Staff | None:
    """The active staff member behind a Telegram user id."""
    return await session.scalar(select(Staff).where(Staff.telegram_id == telegram_id, Staff.active.is_(True)))


async def get_by_wecom_userid(*, session: AsyncSession, userid: str) -> Staff | None:
    """The active staff member behind a WeCom member userid."""
    return await session.scalar(select(Staff).where(Staff.wecom_userid == userid, Staff.active.is_(True)))


async def acting(
    *, session: AsyncSession, telegram_id: int | None = None, wecom_userid: str | None = None
) -> Staff | None:
    """The active staff member acting now, remembering the channel they acted on (issue 17)."""
    if wecom_userid is not None:
        member, channel = await get_by_wecom_userid(session=session, userid=wecom_userid), "wecom"
    elif telegram_id is not None:
        member, channel = await get_by_telegram_id(session=session, telegram_id=telegram_id), "telegram"
    else:
        return None
    if member is not None and member.last_channel != channel:
        member.last_channel = channel
    return member
