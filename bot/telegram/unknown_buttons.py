"""The last router: a button press nobody else recognised still gets an answer (issue 14).

Without it, malformed or forged callback data ("job:abc", an id out of range, an old format)
matched no filter, Telegram kept the button spinning, and nothing told the presser why.
"""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.types import CallbackQuery

log = logging.getLogger(__name__)
UNKNOWN_BUTTON = "这个按钮已失效或无法识别，请使用最新消息上的按钮。"


async def unknown_button(query: CallbackQuery) -> None:
    """Answer, log one line (no traceback), do nothing else."""
    log.info("unrecognised callback data from %s: %r", query.from_user.id, (query.data or "")[:64])
    await query.answer(UNKNOWN_BUTTON, show_alert=True)


def build_router() -> Router:
    """Router for every callback query the feature routers did not take."""
    router = Router(name=__name__)
    router.callback_query.register(unknown_button)
    return router
