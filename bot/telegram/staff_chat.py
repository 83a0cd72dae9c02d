"""Staff replying in the staff chat to a handoff alert: the reply goes to the owner on WeChat.

A `staff.notify` carrying handoff_id remembered which chat message belongs to which handoff
(bot/telegram/deliveries.py). A Telegram *reply* to that message is relayed to the owner; a reply
of "/close" or "结束" ends the handoff. Other staff-chat messages fall through to later routers
(staff commands).
"""

from __future__ import annotations

import logging
from typing import Any

from aiogram import F, Router
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands.registry import looks_like_command
from bot.telegram.deliveries import staff_message_key
from bot.telegram.service import TelegramService

log = logging.getLogger(__name__)

CLOSE_WORDS = frozenset({"/close", "结束"})
GUARD_REFUSED = "未转发：回复含有仅限内部使用的词语，请修改后再回复。"


async def handoff_reply_filter(message: Message, tg: TelegramService) -> bool | dict[str, Any]:
    """Passes (injecting handoff_id) only for a reply to a remembered handoff alert."""
    reply_to = message.reply_to_message
    if reply_to is None or message.from_user is None:
        return False
    text = (message.text or "").strip()
    if looks_like_command(text) and text.split()[0].split("@")[0] not in CLOSE_WORDS:
        return False  # "/orders" typed as a reply is a command for the staff router, not a text for the owner
    refs = await tg.runtime.kv.get_json(staff_message_key(message.chat.id, reply_to.message_id))
    if not refs or "handoff_id" not in refs:
        return False
    return {"handoff_id": int(refs["handoff_id"])}


async def staff_reply(message: Message, handoff_id: int, tg: TelegramService) -> None:
    """Relay the reply to the owner, or close the handoff."""
    from dialogs import handoff  # issue 4's domain; imported late so this file loads without it

    text = (message.text or message.caption or "").strip()
    if message.from_user is None:  # a channel post has no sender to answer for
        return
    staff_id = message.from_user.id
    closing = text.split("@")[0] in CLOSE_WORDS

    async def work(session: AsyncSession) -> Any:
        kv = tg.runtime.kv
        if closing:
            return await handoff.close_handoff(session=session, kv=kv, handoff_id=handoff_id, staff_telegram_id=staff_id)
        return await handoff.relay_staff_reply(
            session=session, kv=kv, handoff_id=handoff_id, staff_telegram_id=staff_id, text=text
        )

    if not text:
        await message.reply("目前只能转发文字，请用文字回复。")
        return
    if not closing and tg.runtime.guard.find(text) is not None:
        # Refused here, where staff read it, rather than silently by the WeChat client later.
        await message.reply(GUARD_REFUSED)
        return
    try:
        outcome = await tg.transaction(work)
    except Exception:
        log.exception("handoff %s: staff reply failed", handoff_id)
        await message.reply("转发失败，请稍后再试。")
        return
    await tg.deliver()  # the owner's WeChat message leaves in this request cycle
    note = _describe(outcome, closing)
    if note:
        await message.reply(note)


def _describe(outcome: Any, closing: bool) -> str:
    """A short confirmation; the domain may return a message, a bool or nothing."""
    for attr in ("message", "text", "reply"):
        value = getattr(outcome, attr, None)
        if isinstance(value, str) and value:
            return value
    if isinstance(outcome, str):
        return outcome
    if outcome is False:
        return "该人工会话已结束或不存在。"
    return "已结束人工服务。" if closing else "已转发给业主。"


async def _is_staff_chat(message: Message, tg: TelegramService) -> bool:
    return message.chat.id == await tg.chats.staff_chat()


def build_router() -> Router:
    """Router for replies in the staff chat."""
    router = Router(name=__name__)
    router.message.register(staff_reply, _is_staff_chat, F.reply_to_message, handoff_reply_filter)
    return router
