"""Staff on WeCom (issue 17): alerts and report images reach them in the app, a hand-off is answered
there, and their "/…" commands run through the shared registry (bot/wecom/staff_commands.py).

WeCom app messages cannot be replied *to* (no reply-to like Telegram's), so the hand-off a staff
member answers is the last one alerted to them; 结束 (or /close) ends it. Texts from a staff member
with no hand-off pending fall through to the merchant handling (a person may be both).

A staff member on both channels gets alerts where they last acted: someone who last acted in the
Telegram staff chat reads the alert there and is not sent a WeCom copy.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.commands.registry import looks_like_command
from bot.outbox_relay import OutboxHandler, PermanentFailure, RetryLater
from bot.wecom.merchants import WeComMerchants
from bot.wecom.staff_commands import WeComStaffCommands
from bot.wecom.webhook import ButtonPress, MemberText
from dialogs import texts
from storage import events, staff
from storage.events import HandoffMessage, StaffAlert
from storage.staff import Staff

log = logging.getLogger(__name__)

HANDOFF_TTL = 30 * 24 * 3600
CLOSE_WORDS = frozenset({"/close", "结束"})
HINT = "\n（直接回复本应用即答复业主；回复「结束」结束人工服务）"
# The hand-off text ends with the Telegram way to answer; on WeCom HINT says it instead, once.
TELEGRAM_REPLY_LINE = "\n" + texts.STAFF_HANDOFF.rsplit("\n", 1)[-1]
PROGRESS_TTL = 24 * 3600


def _handoff_key(userid: str) -> str:
    return f"wecom:staffho:{userid}"


def _progress_key(event: StaffAlert | HandoffMessage) -> str:
    """Who already got this alert, kept only while a rate limit interrupts its delivery."""
    kind, payload = events.encode(event)
    return "wecom:alerted:" + hashlib.sha256(repr((kind, sorted(payload.items()))).encode()).hexdigest()[:40]


def alert_text(event: StaffAlert | HandoffMessage) -> str:
    """The alert as WeCom staff read it: a hand-off says once how to answer it here."""
    if isinstance(event, HandoffMessage):
        return event.text.removesuffix(TELEGRAM_REPLY_LINE) + HINT
    return event.text


class WeComStaff:
    """StaffChannel over the WeCom app: alerts, report images, hand-off replies and commands."""

    def __init__(self, merchants: WeComMerchants, commands: WeComStaffCommands | None = None, *,
                 telegram_staff: bool = False) -> None:
        self.m = merchants
        self.client = merchants.client
        self.kv = merchants.kv
        self.commands = commands
        self.telegram_staff = telegram_staff  # alerts also go to the Telegram staff chat

    def wrap_alerts(self, previous: OutboxHandler | None) -> OutboxHandler:
        """Staff events to the existing channel (Telegram chat or WeChat) and to WeCom staff.

        A rate limit on WeCom leaves the row pending; its retry does not repeat the other
        channel's alert nor any WeCom member already reached (kept under `_progress_key`).
        """

        async def notify(event: StaffAlert | HandoffMessage, session: AsyncSession) -> None:
            key = _progress_key(event)
            progress = await self.kv.get_json(key) or {}
            reasons: list[str] = []
            if previous is not None and not progress.get("previous"):
                try:
                    await previous(event, session)
                except PermanentFailure as exc:
                    reasons.append(str(exc))
            try:
                reached = await self.alert(event, session, skip=set(progress.get("reached", [])))
            except _Interrupted as stop:
                await self.kv.set_json(key, {"previous": True, "reached": sorted(stop.reached)}, ttl_seconds=PROGRESS_TTL)
                raise stop.cause from None
            if progress:
                await self.kv.delete(key)
            if not reached and reasons and previous is not None:
                raise PermanentFailure("; ".join(reasons))

        return notify

    async def _members(self, session: AsyncSession, community_id: int | None) -> list[Staff]:
        stmt = (select(Staff).where(Staff.wecom_userid.is_not(None), Staff.active.is_(True))
                .options(selectinload(Staff.communities)).order_by(Staff.id))
        members = [m for m in await session.scalars(stmt) if community_id is None or m.can_act_in(int(community_id))]
        if self.telegram_staff:  # both channels: where they last acted
            members = [m for m in members if not (m.telegram_id is not None and m.last_channel == "telegram")]
        return members

    async def alert(self, event: StaffAlert | HandoffMessage, session: AsyncSession, *,
                    skip: set[str] | None = None) -> int:
        """Every active WeCom staff member who may act in the event's community; returns how many.

        A report's chart (photo_path) is uploaded and sent before the text. A member WeCom cannot
        reach is skipped; a rate limit stops here (`_Interrupted`) so the rest are sent later.
        """
        handoff_id = event.handoff_id if isinstance(event, HandoffMessage) else None
        photo = event.photo_path if isinstance(event, StaffAlert) else ""
        text = alert_text(event)
        reached = set(skip or ())
        for member in await self._members(session, event.community_id):
            userid = member.wecom_userid
            assert userid is not None
            if userid in reached:
                continue
            try:
                if photo and Path(photo).is_file():
                    await self.client.send_image(userid, photo)
                await self.client.send_text(userid, text)
            except RetryLater as exc:
                raise _Interrupted(reached, exc) from exc
            except Exception as exc:  # one unreachable member must not stop the others' alerts
                log.info("staff %s not reachable on WeCom: %r", member.id, exc)
                continue
            reached.add(userid)
            if handoff_id:
                await self.kv.set(_handoff_key(userid), str(handoff_id), ttl_seconds=HANDOFF_TTL)
        return len(reached)

    async def reply(self, staff_ref: str, text: str) -> None:
        """StaffChannel: a command's answer to one member."""
        await self._output().reply(staff_ref, text)

    async def image(self, staff_ref: str, path: Path, caption: str) -> None:
        """StaffChannel: a report image."""
        await self._output().image(staff_ref, path, caption)

    async def preview(self, staff_ref: str, text: str, confirm_key: str, cancel_key: str) -> None:
        """StaffChannel: a broadcast preview with 确认 / 放弃."""
        await self._output().preview(staff_ref, text, confirm_key, cancel_key)

    def _output(self) -> WeComStaffCommands:
        if self.commands is None:
            raise RuntimeError("WeCom staff commands are wired in the web process only")
        return self.commands

    async def handle_press(self, press: ButtonPress) -> None:
        """A staff card's button (a broadcast preview's 确认 / 放弃)."""
        if self.commands is None:
            await self.client.send_text(press.userid, "这个按钮已失效。")
            return
        await self.commands.handle_press(press)

    async def handle_text(self, message: MemberText) -> bool:
        """A command, or a staff member's answer to their pending hand-off; False when neither."""
        from dialogs import handoff  # issue 4's domain

        pending = await self.kv.get(_handoff_key(message.userid))
        command = looks_like_command(message.text)
        if command and self.commands is not None and not (pending and message.text.strip() in CLOSE_WORDS):
            await self.commands.handle_text(message.userid, message.text)
            return True
        if not pending:
            return False
        is_staff = await self.m.transaction(lambda s: staff.acting(session=s, wecom_userid=message.userid))
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


class _Interrupted(Exception):
    """A rate limit stopped an alert part-way: who was reached, and the RetryLater to re-raise."""

    def __init__(self, reached: set[str], cause: RetryLater) -> None:
        super().__init__(repr(cause))
        self.reached, self.cause = reached, cause


if TYPE_CHECKING:  # mypy checks that WeComStaff is a StaffChannel (bot/channels.py)
    from bot.channels import StaffChannel

    def _is_a_staff_channel(channel: WeComStaff) -> StaffChannel:
        return channel
