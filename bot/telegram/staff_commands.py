"""Staff commands on Telegram (issue 6): the shared registry behind aiogram handlers.

Any "/command" the registry knows, in the staff chat or a private chat with the bot, runs through
`StaffCommands.run` exactly like on WeChat; the sender is identified by their Telegram user id.
Forwarded and edited messages are refused: a command must be typed, now, by the staff member.
Preview buttons carry the command line they stand for ("sc:/confirm 12").
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

from bot.commands.registry import REFUSAL, REGISTRY, CommandResult, parse
from bot.commands.service import StaffCommands
from bot.commands.wiring import STAFF_COMMANDS
from bot.telegram.service import TelegramService
from storage import staff

log = logging.getLogger(__name__)

PREFIX = "sc:"
CAPTION_LIMIT = 1024
TEXT_LIMIT = 4000
NOT_LIVE = "为安全起见，命令必须直接输入：转发或编辑过的消息不会执行。"


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


async def _run(tg: TelegramService, text: str, user_id: int, chat_id: int) -> CommandResult:
    commands: StaffCommands = tg.runtime.extras[STAFF_COMMANDS]

    async def lookup(session: AsyncSession) -> staff.Staff | None:
        return await staff.get_by_telegram_id(session=session, telegram_id=user_id)

    result = await commands.run(text, lookup=lookup, channel="telegram", reply_to=str(chat_id))
    await tg.deliver()  # e.g. the merchant's notice after /merchant suspend leaves in this cycle
    return result


async def on_command(message: Message, tg: TelegramService) -> None:
    """A typed command: refuse forwards; run it; answer in the same chat."""
    if message.forward_origin is not None or message.from_user is None:
        await message.reply(NOT_LIVE)
        return
    result = await _run(tg, message.text or "", message.from_user.id, message.chat.id)
    await _send(tg, message.chat.id, result, reply_to=message.message_id)


async def on_edited(message: Message) -> None:
    """An edited command is never executed (it could change what was already previewed)."""
    await message.reply(NOT_LIVE)


async def on_button(query: CallbackQuery, tg: TelegramService) -> None:
    """A preview button: the pressing user must be staff too; the buttons go away once used."""
    line = (query.data or "")[len(PREFIX):]
    chat_id = query.message.chat.id if query.message is not None else query.from_user.id
    result = await _run(tg, line, query.from_user.id, chat_id)
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
