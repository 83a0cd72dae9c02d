"""Staff commands on Telegram (issue 6): the shared registry behind aiogram handlers.

Any "/command" the registry knows, typed in the staff chat, runs through `StaffCommands.run`
exactly like on WeChat; the sender is identified by their Telegram user id. Anywhere else (the
merchant group, a private chat, another group the bot was added to) it is refused without running,
because a command's answer (orders, revenue, previews with addresses) is for staff eyes only
(issue 14). A command addressed to another bot ("/orders@other_bot") is not ours and is ignored.
Forwarded and edited messages are refused: a command must be typed, now, by the staff member.
Preview buttons carry the command line they stand for ("sc:/confirm 12"); they too count only
when pressed in the staff chat.
"""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.filters import Filter
from aiogram.types import (
    CallbackQuery,
    FSInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands.registry import REFUSAL, REGISTRY, CommandResult, addressee, parse
from bot.commands.service import StaffCommands
from bot.telegram.service import TelegramService
from storage import staff

log = logging.getLogger(__name__)

PREFIX = "sc:"
CAPTION_LIMIT = 1024
TEXT_LIMIT = 4000
NOT_LIVE = "为安全起见，命令必须直接输入：转发或编辑过的消息不会执行。"
WRONG_CHAT = "抱歉，工作人员命令只能在员工群中使用，这里不会执行。"


class KnownCommand(Filter):
    """Passes for text whose first word is a command in the shared registry."""

    async def __call__(self, message: Message) -> bool:
        parsed = parse(message.text or "")
        return parsed is not None and REGISTRY.find(parsed[0]) is not None


def _keyboard(result: CommandResult) -> InlineKeyboardMarkup | None:
    if not result.buttons:
        return None
    return InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=b.label, callback_data=f"{PREFIX}{b.data}"[:64]) for b in result.buttons
    ]])


async def _send(tg: TelegramService, chat_id: int, result: CommandResult, *, reply_to: int | None = None) -> None:
    if result.photo_path:
        await tg.bot.send_photo(chat_id, FSInputFile(result.photo_path), caption=result.text[:CAPTION_LIMIT],
                                reply_to_message_id=reply_to)
        if len(result.text) <= CAPTION_LIMIT:
            return
    await tg.bot.send_message(chat_id, result.text[:TEXT_LIMIT], reply_markup=_keyboard(result),
                              reply_to_message_id=reply_to)


async def _run(
    tg: TelegramService, commands: StaffCommands, text: str, user_id: int, chat_id: int
) -> CommandResult:

    async def lookup(session: AsyncSession) -> staff.Staff | None:
        return await staff.acting(session=session, telegram_id=user_id)  # remembers the channel (issue 17)

    result = await commands.run(text, lookup=lookup, channel="telegram", reply_to=str(chat_id))
    await tg.deliver()  # e.g. the merchant's notice after /merchant suspend leaves in this cycle
    return result


async def _for_us(tg: TelegramService, text: str) -> bool:
    """False for '/x@other_bot': in a group, that command belongs to another bot."""
    named = addressee(text)
    return named is None or named.lower() == (await tg.username()).lower()


async def _in_staff_chat(tg: TelegramService, chat_id: int) -> bool:
    return chat_id == await tg.chats.staff_chat()


async def on_command(message: Message, tg: TelegramService, staff_commands: StaffCommands) -> None:
    """A typed command: only in the staff chat, never forwarded; run it; answer in the same chat."""
    if not await _for_us(tg, message.text or ""):
        return
    if not await _in_staff_chat(tg, message.chat.id):
        log.info("staff command refused in chat %s from %s", message.chat.id,
                 message.from_user.id if message.from_user else None)
        await message.reply(WRONG_CHAT)
        return
    if message.forward_origin is not None or message.from_user is None:
        await message.reply(NOT_LIVE)
        return
    result = await _run(tg, staff_commands, message.text or "", message.from_user.id, message.chat.id)
    await _send(tg, message.chat.id, result, reply_to=message.message_id)


async def on_edited(message: Message, tg: TelegramService) -> None:
    """An edited command is never executed (it could change what was already previewed)."""
    if await _for_us(tg, message.text or ""):
        await message.reply(NOT_LIVE)


async def on_button(query: CallbackQuery, tg: TelegramService, staff_commands: StaffCommands) -> None:
    """A preview button: the pressing user must be staff too; the buttons go away once used."""
    line = (query.data or "")[len(PREFIX):]
    if query.message is None or not await _in_staff_chat(tg, query.message.chat.id):
        await query.answer(WRONG_CHAT, show_alert=True)
        return
    chat_id = query.message.chat.id
    result = await _run(tg, staff_commands, line, query.from_user.id, chat_id)
    await query.answer(result.text[:180])
    if result.text == REFUSAL:
        return  # someone else in the chat pressed it: the preview stays for the staff member
    if isinstance(query.message, Message):
        try:
            await query.message.edit_reply_markup(reply_markup=None)
        except Exception:  # an old message may no longer be editable; the answer is what matters
            log.debug("could not clear preview buttons", exc_info=True)
    await tg.bot.send_message(chat_id, result.text[:TEXT_LIMIT], reply_markup=_keyboard(result))


def build_router() -> Router:
    """Router for staff commands (after the merchant routers, which own /start and /jobs)."""
    router = Router(name=__name__)
    router.message.register(on_command, F.text, KnownCommand())
    router.edited_message.register(on_edited, F.text, KnownCommand())
    router.callback_query.register(on_button, F.data.startswith(PREFIX))
    return router
