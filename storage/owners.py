"""Owners (业主): who they are, where they live, and what they agreed to receive."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint, false, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base, Timestamped, UtcDateTime, utcnow


class BindingStatus(StrEnum):
    """How far the owner got in linking their WeChat to a household."""

    UNBOUND = "unbound"
    PENDING = "pending"  # waiting for staff to confirm (no roster match)
    VERIFIED = "verified"  # matched the imported roster or confirmed by staff


class Owner(Timestamped, Base):
    """An owner as seen on the WeChat service account; one row per openid."""

    __tablename__ = "owners"

    id: Mapped[int] = mapped_column(primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), unique=True)
    nickname: Mapped[str] = mapped_column(String(64), default="")
    name: Mapped[str] = mapped_column(String(64), default="")
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), index=True)
    building: Mapped[str] = mapped_column(String(16), default="")
    unit: Mapped[str] = mapped_column(String(16), default="")
    room: Mapped[str] = mapped_column(String(16), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    # Kept even when invalid, so staff can run the plan's 无效号码清查 (invalid-number clean-up).
    phone_valid: Mapped[bool] = mapped_column(Boolean, default=False)
    binding_status: Mapped[str] = mapped_column(String(16), default=BindingStatus.UNBOUND)
    following: Mapped[bool] = mapped_column(Boolean, default=True)
    push_opt_out: Mapped[bool] = mapped_column(Boolean, default=False)
    last_message_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Issue 12: WeChat reported `failed:user block` for a notice: the owner refuses the account's
    # messages. Nothing more is sent until they write again (touch() clears it).
    blocked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Loaded only where used (load_tags/add_tag; segments query tags in SQL): loading them with
    # every owner cost a SELECT on most messages. raise_on_sql turns a forgotten load into an error.
    tags: Mapped[list[OwnerTag]] = relationship(
        back_populates="owner", lazy="raise_on_sql", cascade="all, delete-orphan"
    )

    @property
    def is_bound(self) -> bool:
        """Bound means a household is on file, verified or awaiting staff confirmation."""
        return self.binding_status != BindingStatus.UNBOUND

    @property
    def address(self) -> str:
        """Building/unit/room in the form owners and merchants read."""
        parts = [f"{self.building}号楼" if self.building else "", f"{self.unit}单元" if self.unit else ""]
        return "".join(parts) + (f"{self.room}室" if self.room else "")

    @property
    def tag_names(self) -> set[str]:
        """The owner's tags as plain strings."""
        return {t.tag for t in self.tags}


class OwnerTag(Base):
    """A tag on an owner (e.g. 有车), set by staff or by survey answers; drives targeting."""

    __tablename__ = "owner_tags"
    __table_args__ = (UniqueConstraint("owner_id", "tag"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id", ondelete="CASCADE"), index=True)
    tag: Mapped[str] = mapped_column(String(32), index=True)
    owner: Mapped[Owner] = relationship(back_populates="tags")


async def get_by_openid(*, session: AsyncSession, openid: str) -> Owner | None:
    """The owner behind an openid, if we have seen them."""
    return await session.scalar(select(Owner).where(Owner.openid == openid))


async def get(*, session: AsyncSession, owner_id: int) -> Owner | None:
    """An owner by id."""
    return await session.get(Owner, owner_id)


async def get_or_create(*, session: AsyncSession, openid: str) -> Owner:
    """The owner for an openid, created on first contact."""
    owner = await get_by_openid(session=session, openid=openid)
    if owner is None:
        owner = Owner(openid=openid, tags=[])
        session.add(owner)
        await session.flush()
    return owner


async def set_following(*, session: AsyncSession, openid: str, following: bool) -> Owner:
    """Record a subscribe/unsubscribe event."""
    owner = await get_or_create(session=session, openid=openid)
    owner.following = following
    return owner


async def touch(*, session: AsyncSession, owner: Owner, at: datetime | None = None) -> None:
    """Note the owner's last message: it opens WeChat's 48-hour customer-service window.

    Writing to the account again also lifts a `blocked` mark: they are talking to us now.
    """
    owner.last_message_at = at or utcnow()
    owner.blocked = False


async def load_tags(*, session: AsyncSession, owner: Owner) -> set[str]:
    """The owner's tags, read from the database if this session has not loaded them yet."""
    if "tags" in inspect(owner).unloaded:
        await session.refresh(owner, attribute_names=["tags"])
    return owner.tag_names


async def add_tag(*, session: AsyncSession, owner: Owner, tag: str) -> bool:
    """Tag an owner once; returns whether the tag is new."""
    if tag in await load_tags(session=session, owner=owner):
        return False
    owner.tags.append(OwnerTag(tag=tag))
    return True
