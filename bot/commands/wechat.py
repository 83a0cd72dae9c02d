"""WeChat side of staff commands: a staff member's "/…" text or reply to a pending preview."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands.broadcast_cmds import is_confirmation
from bot.commands.registry import CommandResult, looks_like_command
from bot.commands.service import StaffCommands
from dialogs.events import InboundMessage, MessageKind, Reply
from storage import broadcast_decisions, messages, staff
from storage.db import unit_of_work

# WeChat drops a text message over 2,048 bytes; keep room for the note.
MAX_REPLY_BYTES = 1900
TRUNCATED = "\n…（内容较长，完整内容请在 Telegram 员工群查看）"


def _reply(result: CommandResult) -> Reply:
    # WeChat gets the text only: an image would need a media upload for a staff-only convenience.
    text = result.text
    if len(text.encode()) > MAX_REPLY_BYTES:
        while len((text + TRUNCATED).encode()) > MAX_REPLY_BYTES:
            text = text[: len(text) - 20]
        text = text.rsplit("\n", 1)[0] + TRUNCATED
    return Reply(text)


async def route(event: InboundMessage, commands: StaffCommands) -> Reply | None:
    """Handle the event as a staff command, or return None to let the dialogs have it.

    Anyone may be refused (an owner typing /broadcast), but only staff with a fresh draft turn
    a plain 确认/取消 into a command, so owners' 取消 still reaches their own dialogs.
    """
    if event.kind not in (MessageKind.TEXT, MessageKind.VOICE) or not event.text:
        return None
    text = event.text.strip()
    if not looks_like_command(text):
        word = is_confirmation(text)
        if word is None or not await _has_draft(commands, event.user_id):
            return None
        text = f"/{word}"

    async def lookup(session: AsyncSession) -> staff.Staff | None:
        return await staff.get_by_openid(session=session, openid=event.user_id)

    async def log_message(session: AsyncSession, _member: staff.Staff | None) -> None:
        # The message log's unique dedupe key absorbs a WeChat retry that slipped past Redis.
        await messages.record(session=session, channel=event.channel, user_id=event.user_id,
                              kind=event.kind, text=event.text, dedupe_key=event.dedupe_key)

    result = await commands.run(text, lookup=lookup, channel="wechat", reply_to=event.user_id, before=log_message)
    return _reply(result)


async def _has_draft(commands: StaffCommands, openid: str) -> bool:
    async with unit_of_work(commands.runtime.sessions) as session:
        if not await staff.may_be_staff(session=session, openid=openid):
            return False  # an owner's 确认: answered from the per-worker copy, no query
        member = await staff.get_by_openid(session=session, openid=openid)
        if member is None:
            return False
        # Fresh or not: a stale preview's 确认 is answered "expired", never passed to the dialogs.
        return await broadcast_decisions.latest_shown(
            session=session, staff_id=member.id, channel="wechat", reply_to=openid) is not None
