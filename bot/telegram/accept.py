"""接单 on a job card: the first eligible press wins; the answer goes out before the slow work."""

from __future__ import annotations

import logging
from datetime import timedelta

from aiogram import Router
from aiogram.types import CallbackQuery
from sqlalchemy.ext.asyncio import AsyncSession

from bot.telegram.cards import JobCb
from bot.telegram.service import TelegramService
from bot.wording import merchant as words
from bot.wording.steps import STEP_WORDING
from storage import dispatch

log = logging.getLogger(__name__)
BUSY = "系统繁忙，请稍后再按一次"
NOT_HERE = "请在商家群的订单卡片上点「接单」。"
STALE = "这个按钮已失效，请在商家群最新的订单卡片上接单。"


async def _from_merchant_group(query: CallbackQuery, tg: TelegramService) -> bool:
    if query.message is None:  # an inline-mode press has no chat to check
        return False
    return await tg.chats.resolve(query.message.chat.id) == await tg.chats.merchant_chat()


async def accept_job(query: CallbackQuery, callback_data: JobCb, tg: TelegramService) -> None:
    """Check where the press came from and that we signed it; decide in one short transaction,
    answer the press, then deliver the consequences."""
    if not callback_data.valid(tg.runtime.settings.callback_key):
        log.warning("接单 with a bad signature from %s for order %s", query.from_user.id, callback_data.order_id)
        await query.answer(STALE, show_alert=True)
        return
    if not await _from_merchant_group(query, tg):
        await query.answer(NOT_HERE, show_alert=True)
        return

    async def work(session: AsyncSession) -> dispatch.AcceptResult:
        return await dispatch.accept(
            session=session, order_id=callback_data.order_id, telegram_id=query.from_user.id, today=tg.today(),
            head_start=timedelta(seconds=tg.runtime.settings.dispatch_high_credit_head_start_seconds),
            say=STEP_WORDING,
        )

    try:
        result = await tg.transaction(work)  # committed: the win is durable before we say so
    except Exception:
        log.exception("order %s press by %s failed", callback_data.order_id, query.from_user.id)
        await query.answer(BUSY, show_alert=True)  # never leave the button spinning
        return
    # The card's message may be inaccessible (older than 48 h); nothing here needs it.
    await query.answer(words.accept_reply(result), show_alert=not result.won)
    log.info("order %s press by %s: %s", callback_data.order_id, query.from_user.id, result.outcome)
    if result.won:
        await tg.deliver()  # owner's WeChat notice, card edit, private slip: this request cycle


def build_router() -> Router:
    """Router for job-card presses."""
    router = Router(name=__name__)
    router.callback_query.register(accept_job, JobCb.filter())
    return router
