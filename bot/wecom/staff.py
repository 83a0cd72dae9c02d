"""Staff on WeCom (issue 17): alerts reach them as app messages, and a hand-off is answered in the app.

WeCom app messages cannot be replied *to* (no reply-to like Telegram's), so the hand-off a staff
member answers is the last one alerted to them; 结束 (or /close) ends it. Texts from a staff member
with no hand-off pending fall through to the merchant handling (a person may be both).
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.outbox_relay import OutboxHandler, PermanentFailure
from bot.wecom.merchants import WeComMerchants
from bot.wecom.webhook import MemberText
from storage import staff
from storage.events import HandoffMessage, StaffAlert
from storage.staff import Staff

log = logging.getLogger(__name__)

HANDOFF_TTL = 30 * 24 * 3600
CLOSE_WORDS = frozenset({"/close", "结束"})
HINT = "\n（直接回复本应用即答复业主；回复「结束」结束人工服务）"


def _handoff_key(userid: str) -> str:
    return f"wecom:staffho:{userid}"


class WeComStaff:
    """StaffChannel alerts and hand-off replies over the WeCom app."""

    def __init__(self, merchants: WeComMerchants) -> None:
        self.m = merchants
        self.client = merchants.client
        self.kv = merchants.kv

    def wrap_alerts(self, previous: OutboxHandler | None) -> OutboxHandler:
        """Staff events to the existing channel (Telegram chat or WeChat) and to WeCom staff."""

        async def notify(event: StaffAlert | HandoffMessage, session: AsyncSession) -> None:
            reasons: list[str] = []
            if previous is not None:
                try:
                    await previous(event, session)
                except PermanentFailure as exc:
                    reasons.append(str(exc))
            reached = await self.alert(event, session)
            if not reached and reasons and previous is not None:
                raise PermanentFailure("; ".join(reasons))

        return notify

    async def alert(self, event: StaffAlert | HandoffMessage, session: AsyncSession) -> int:
        """Every active WeCom staff member who may act in the event's community; returns how many."""
        community_id = event.community_id
        handoff_id = event.handoff_id if isinstance(event, HandoffMessage) else None
        stmt = (select(Staff).where(Staff.wecom_userid.is_not(None), Staff.active.is_(True))
                .options(selectinload(Staff.communities)).order_by(Staff.id))
        members = [m for m in await session.scalars(stmt) if community_id is None or m.can_act_in(int(community_id))]
        text = event.text
        if handoff_id:
            text += HINT
        reached = 0
        for member in members:
            assert member.wecom_userid is not None
            try:
                await self.client.send_text(member.wecom_userid, text)
            except Exception as exc:  # one unreachable member must not stop the others' alerts
                log.info("staff %s not reachable on WeCom: %r", member.id, exc)
                continue
            reached += 1
            if handoff_id:
                await self.kv.set(_handoff_key(member.wecom_userid), str(handoff_id), ttl_seconds=HANDOFF_TTL)
        return reached

    async def handle_text(self, message: MemberText) -> bool:
        """A staff member's text answers their pending hand-off; False when it is not one."""
        from dialogs import handoff  # issue 4's domain

        pending = await self.kv.get(_handoff_key(message.userid))
        if not pending:
            return False
        is_staff = await self.m.transaction(lambda s: staff.get_by_wecom_userid(session=s, userid=message.userid))
        if is_staff is None:
            return False
        text = message.text.strip()
        handoff_id, closing = int(pending), text in CLOSE_WORDS
        if not closing and self.m.runtime.guard.find(text) is not None:
            await self.client.send_text(message.userid, "未转发：回复含有仅限内部使用的词语，请修改后再回复。")
            return True

        async def work(session: AsyncSession) -> str | None:
            if closing:
                return await handoff.close_handoff(session=session, kv=self.kv, handoff_id=handoff_id,
                                                   staff_wecom_userid=message.userid)
            return await handoff.relay_staff_reply(session=session, kv=self.kv, handoff_id=handoff_id,
                                                   staff_wecom_userid=message.userid, text=text)

        try:
            refusal = await self.m.transaction(work)
        except Exception:
            log.exception("handoff %s: WeCom staff reply failed", handoff_id)
            await self.client.send_text(message.userid, "转发失败，请稍后再试。")
            return True
        await self.m.deliver()
        if closing and refusal is None:
            await self.kv.delete(_handoff_key(message.userid))
        await self.client.send_text(message.userid, refusal or ("已结束人工服务。" if closing else "已转发给业主。"))
        return True
