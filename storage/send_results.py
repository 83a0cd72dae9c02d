"""What WeChat reported about our template and mass sends (TEMPLATESENDJOBFINISH, MASSSENDJOBFINISH).

A send is recorded when WeChat accepts it (its msgid); the platform's result, which arrives later
as a signed event, updates that record and the broadcast delivery rows carrying the same msgid.
`failed:user block` means the owner refuses the account's messages: they are marked blocked and
nothing more is sent to them until they write again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Integer, String, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, Timestamped, UtcDateTime, utcnow
from storage.broadcasts import Delivery, DeliveryStatus
from storage.owners import Owner

USER_BLOCK = "failed:user block"


class SendKind(StrEnum):
    """Which WeChat API the send went through."""

    TEMPLATE = "template"
    MASS = "mass"


class SendResult(Timestamped, Base):
    """One accepted template or mass send and, once WeChat reports it, what became of it."""

    __tablename__ = "wechat_send_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    msgid: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    openid: Mapped[str] = mapped_column(String(64), default="")  # template sends: the recipient
    source: Mapped[str] = mapped_column(String(32), default="")  # owner.notify, broadcast …
    status: Mapped[str] = mapped_column(String(64), default="sent")  # WeChat's Status once reported
    total_count: Mapped[int | None] = mapped_column(Integer)
    filter_count: Mapped[int | None] = mapped_column(Integer)
    sent_count: Mapped[int | None] = mapped_column(Integer)
    error_count: Mapped[int | None] = mapped_column(Integer)
    reported_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


@dataclass(frozen=True)
class Report:
    """A send result as WeChat pushed it."""

    kind: SendKind
    msgid: str
    openid: str
    status: str
    total: int | None = None
    filtered: int | None = None
    sent: int | None = None
    errors: int | None = None

    @property
    def ok(self) -> bool:
        """`success` (template) or `send success` (mass)."""
        return self.status.strip().lower() in ("success", "send success")

    @property
    def user_block(self) -> bool:
        """The recipient refuses messages from the account."""
        return self.status.replace(" ", "").lower() == USER_BLOCK.replace(" ", "")


async def record_sent(*, session: AsyncSession, msgid: str | int, kind: SendKind, openid: str = "",
                      source: str = "") -> None:
    """Remember an accepted send, so its later result can be matched (0/empty msgid: nothing to match)."""
    if not msgid or str(msgid) == "0":
        return
    if await session.scalar(select(SendResult.id).where(SendResult.msgid == str(msgid))) is None:
        session.add(SendResult(msgid=str(msgid), kind=kind, openid=openid, source=source))


async def get(*, session: AsyncSession, msgid: str) -> SendResult | None:
    """The send WeChat knows by this msgid."""
    return await session.scalar(select(SendResult).where(SendResult.msgid == msgid))


async def record_report(*, session: AsyncSession, report: Report) -> SendResult:
    """Apply a send result: the send record, its delivery rows, and the owner's blocked mark.

    A template result is only applied for the openid the template went to (the event's
    FromUserName), so one owner's result cannot change another's rows. Applying it twice (WeChat
    retries) changes nothing more.
    """
    row = await get(session=session, msgid=report.msgid)
    if row is None:
        row = SendResult(msgid=report.msgid, kind=report.kind, openid=report.openid, source="unmatched")
        session.add(row)
    if report.kind == SendKind.TEMPLATE and row.openid and row.openid != report.openid:
        return row
    row.status = report.status[:64]
    row.total_count, row.filter_count = report.total, report.filtered
    row.sent_count, row.error_count = report.sent, report.errors
    row.reported_at = utcnow()
    rows = update(Delivery).where(Delivery.wechat_msgid == report.msgid)
    if report.kind == SendKind.TEMPLATE:
        rows = rows.where(Delivery.openid == report.openid)
    if not report.ok:
        await session.execute(
            rows.where(Delivery.status == DeliveryStatus.SENT)
            .values(status=DeliveryStatus.FAILED, reason=report.status[:64])
        )
    if report.kind == SendKind.TEMPLATE and report.user_block:
        await session.execute(update(Owner).where(Owner.openid == report.openid).values(blocked=True))
    return row


async def is_blocked(*, session: AsyncSession, openid: str) -> bool:
    """True when the owner has blocked the account (and not written since)."""
    return bool(await session.scalar(select(Owner.blocked).where(Owner.openid == openid)))
