"""Hand-off to staff: a person takes the conversation and the bot stays quiet until it ends.

Opened by `human_agent`, two `nlu_fallback` in a row, or three failed answers in a form. Staff
see the owner, household and last messages in the Telegram staff chat (`staff.notify`), and their
replies reach the owner through `owner.notify` (WeChat customer-service API, 48-hour window).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import people, texts
from storage import handoffs, outbox, staff
from storage.base import aware, utcnow
from storage.events import HandoffMessage, OwnerNotice
from storage.handoffs import Handoff, HandoffStatus
from storage.kv import KeyValueStore
from storage.messages import InboundMessageLog
from storage.owners import Owner

# WeChat lets us answer an owner by customer-service message for 48 h after their last message.
CUSTOMER_SERVICE_WINDOW = timedelta(hours=48)
RECENT_MESSAGES = 5


async def _recent(session: AsyncSession, openid: str) -> str:
    rows = await session.scalars(
        select(InboundMessageLog.text)
        .where(InboundMessageLog.user_id == openid, InboundMessageLog.text != "")
        .order_by(InboundMessageLog.id.desc())
        .limit(RECENT_MESSAGES)
    )
    lines = list(rows)[::-1]
    return "\n".join(f"· {t}" for t in lines) or "（无）"


async def open_handoff(*, session: AsyncSession, owner: Owner, reason: str) -> Handoff:
    """Open a hand-off and post the owner's context to the staff chat (in this unit of work)."""
    existing = await handoffs.open_for_owner(session=session, owner_id=owner.id)
    if existing is not None:
        existing.last_activity_at = utcnow()
        return existing
    handoff = await handoffs.create(session=session, owner=owner, reason=reason)
    await session.flush()
    text = texts.STAFF_HANDOFF.format(
        reason=texts.HANDOFF_REASONS.get(reason, reason),
        owner=people.label(owner),
        household=await people.household(session, owner),
        recent=await _recent(session, owner.openid),
    )
    outbox.emit(session, HandoffMessage(text=text, handoff_id=handoff.id))
    return handoff


async def active_handoff(*, session: AsyncSession, owner: Owner, idle_seconds: int) -> Handoff | None:
    """The hand-off holding this owner's conversation; one silent for too long is closed here."""
    handoff = await handoffs.open_for_owner(session=session, owner_id=owner.id)
    if handoff is None:
        return None
    if handoff.is_idle(utcnow(), timedelta(seconds=idle_seconds)):
        handoff.close(reason="timeout")
        return None
    return handoff


async def forward_owner_message(
    *, session: AsyncSession, handoff: Handoff, owner: Owner, text: str, photo_url: str = ""
) -> None:
    """While staff hold the conversation, the owner's messages go to the staff chat (a photo as a photo)."""
    handoff.last_activity_at = utcnow()
    outbox.emit(session, HandoffMessage(
        text=texts.STAFF_FORWARD.format(handoff_id=handoff.id, owner=people.label(owner), text=text or "（非文字消息）"),
        handoff_id=handoff.id, photo_url=photo_url,
    ))


def window_open(owner: Owner, now: datetime | None = None) -> bool:
    """True while WeChat lets us write to the owner by customer-service message."""
    return _window_open(owner, now or utcnow())


def _window_open(owner: Owner, now: datetime) -> bool:
    last = owner.last_message_at
    if last is None:
        return False
    return now - aware(last) <= CUSTOMER_SERVICE_WINDOW


async def _authorise(
    session: AsyncSession, handoff: Handoff, staff_telegram_id: int | None, staff_wecom_userid: str | None = None
) -> staff.Staff | str:
    """The active staff member who may speak for this owner, or why not (issue 14).

    Anyone can write in the staff chat; only registered, active staff scoped to the owner's
    community (admins everywhere) speak as the official account. An owner not yet bound to a
    community belongs to no one's scope, so any active staff member may answer them.
    """
    if staff_wecom_userid is not None:  # issue 17: the reply came from the WeCom app
        member = await staff.get_by_wecom_userid(session=session, userid=staff_wecom_userid)
    elif staff_telegram_id is not None:
        member = await staff.get_by_telegram_id(session=session, telegram_id=staff_telegram_id)
    else:
        member = None
    if member is None:
        return texts.STAFF_NOT_REGISTERED
    community_id = handoff.owner.community_id
    if community_id is not None and not member.can_act_in(community_id):
        return texts.STAFF_OUT_OF_SCOPE
    return member


async def relay_staff_reply(
    *, session: AsyncSession, kv: KeyValueStore, handoff_id: int, staff_telegram_id: int | None = None, text: str,
    staff_wecom_userid: str | None = None,
) -> str | None:
    """Send a staff reply to the owner; returns why it cannot be delivered (for staff), else None."""
    handoff = await handoffs.get(session=session, handoff_id=handoff_id)
    if handoff is None or handoff.status != HandoffStatus.OPEN:
        return texts.STAFF_HANDOFF_CLOSED
    member = await _authorise(session, handoff, staff_telegram_id, staff_wecom_userid)
    if isinstance(member, str):
        return member
    owner = handoff.owner
    if not _window_open(owner, utcnow()):
        return texts.STAFF_WINDOW_CLOSED.format(phone=owner.phone or "未登记")
    handoff.last_activity_at = utcnow()
    handoff.staff_id = member.id
    outbox.emit(session, OwnerNotice(openid=owner.openid, text=text))
    return None


async def close_handoff(
    *, session: AsyncSession, kv: KeyValueStore, handoff_id: int, staff_telegram_id: int | None = None,
    staff_wecom_userid: str | None = None,
) -> str | None:
    """Staff end the hand-off; the bot answers the owner again (closing twice is harmless).

    Returns why the caller may not close it, else None.
    """
    handoff = await handoffs.get(session=session, handoff_id=handoff_id)
    if handoff is None or handoff.status != HandoffStatus.OPEN:
        return None
    member = await _authorise(session, handoff, staff_telegram_id, staff_wecom_userid)
    if isinstance(member, str):
        return member
    handoff.close(reason="staff")
    handoff.staff_id = member.id
    if _window_open(handoff.owner, utcnow()):
        outbox.emit(session, OwnerNotice(openid=handoff.owner.openid, text=texts.HANDOFF_CLOSED))
    return None
