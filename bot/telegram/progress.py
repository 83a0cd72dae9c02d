"""Progress from the merchant holding a job: 已出发 / 已到达 / 已完成 (amount + method) / 无法完成.

Buttons live on the private contact slip. 已完成 asks for the amount (a typed message), then
offers the payment methods; 无法完成 asks for a reason. The pending question is aiogram FSM
state in Redis, so any process can receive the answer.
"""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InaccessibleMessage, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.telegram import cards
from bot.telegram.cards import STEP_TARGETS, PayCb, StepCb
from bot.telegram.service import TelegramService
from bot.wording import merchant as words
from bot.wording.steps import STEP_WORDING
from storage import dispatch, merchants
from storage.dispatch import Step, StepResult
from storage.money import PAYMENT_METHODS, InvalidAmount, format_yuan, parse_yuan
from storage.orders import Order, OrderStatus

log = logging.getLogger(__name__)
BUSY = "系统繁忙，请稍后再试"
PRIVATE_ONLY = "进度按钮只在您与机器人的私聊中有效。"


def _in_own_private_chat(query: CallbackQuery) -> bool:
    """Progress buttons live on the holder's private slip; a press from anywhere else is refused
    (issue 14: callback data is checked against the chat it came from)."""
    return query.message is not None and query.message.chat.id == query.from_user.id


class Ask(StatesGroup):
    """What the bot is waiting for the merchant to type."""

    amount = State()
    method = State()  # amount known, waiting for the payment-method button
    reason = State()


async def _holder_check(tg: TelegramService, order_id: int, telegram_id: int, target: OrderStatus) -> StepResult:
    async def work(session: AsyncSession) -> StepResult:
        return await dispatch.can_advance(session=session, order_id=order_id, telegram_id=telegram_id, target=target)

    try:
        return await tg.transaction(work)
    except Exception:
        log.exception("order %s: checking %s by %s failed", order_id, target, telegram_id)
        return StepResult(False, Step.BUSY)


def _reply(result: StepResult) -> str:
    return words.step_reply(result, busy=BUSY)


async def _advance(tg: TelegramService, order_id: int, telegram_id: int, target: OrderStatus, **kw: object) -> StepResult:
    async def work(session: AsyncSession) -> StepResult:
        return await dispatch.advance(
            session=session, order_id=order_id, telegram_id=telegram_id, target=target, say=STEP_WORDING, **kw  # type: ignore[arg-type]  # kw are advance()'s optional keywords, passed through untyped
        )

    try:
        return await tg.transaction(work)
    except Exception:
        # The press must still be answered (and the merchant can simply press again).
        log.exception("order %s: %s by %s failed", order_id, target, telegram_id)
        return StepResult(False, Step.BUSY)


async def _show_buttons(query: CallbackQuery, order: Order | None) -> None:
    """Refresh the slip's buttons to what is still possible (skipped for inaccessible messages)."""
    if order is None or query.message is None or isinstance(query.message, InaccessibleMessage):
        return
    await query.message.edit_reply_markup(reply_markup=cards.progress_keyboard(order))


async def press_step(query: CallbackQuery, callback_data: StepCb, tg: TelegramService, state: FSMContext) -> None:
    """A progress button: simple steps apply at once, 已完成/无法完成 ask a question first."""
    if not _in_own_private_chat(query):
        await query.answer(PRIVATE_ONLY, show_alert=True)
        return
    target = STEP_TARGETS.get(callback_data.step)
    if target is None:
        await query.answer("未知操作", show_alert=True)
        return
    if target in (OrderStatus.COMPLETED, OrderStatus.FAILED):
        check = await _holder_check(tg, callback_data.order_id, query.from_user.id, target)
        if not check.ok:
            await query.answer(_reply(check), show_alert=True)
            return
        code = check.order.code if check.order else ""
        if target == OrderStatus.COMPLETED:
            await state.set_state(Ask.amount)
            prompt = words.ASK_AMOUNT.format(code=code)
        else:
            await state.set_state(Ask.reason)
            prompt = words.ASK_REASON.format(code=code)
        await state.set_data({"order_id": callback_data.order_id})  # nothing stale from another job
        await query.answer()
        await tg.bot.send_message(query.from_user.id, prompt)
        return
    result = await _advance(tg, callback_data.order_id, query.from_user.id, target)
    await query.answer(words.STEP_DONE.format(message=_reply(result)) if result.ok else _reply(result),
                       show_alert=not result.ok)
    if result.ok:
        await _show_buttons(query, result.order)
        await tg.deliver()


async def typed_amount(message: Message, tg: TelegramService, state: FSMContext) -> None:
    """The amount after 已完成; next the payment method."""
    data = await state.get_data()
    try:
        fen = parse_yuan(message.text or "")
    except InvalidAmount:
        await message.answer(words.BAD_AMOUNT)
        return
    await state.set_state(Ask.method)
    await state.set_data({"order_id": int(data["order_id"]), "fen": fen})
    await message.answer(
        words.ASK_METHOD.format(amount=format_yuan(fen)),
        reply_markup=cards.payment_keyboard(int(data["order_id"])),
    )


async def typed_reason(message: Message, tg: TelegramService, state: FSMContext) -> None:
    """The reason after 无法完成."""
    data = await state.get_data()
    reason = (message.text or "").strip()
    if not reason:
        await message.answer(words.NEED_REASON)
        return
    await state.clear()
    if message.from_user is None:  # a channel post has no sender to look up
        return
    result = await _advance(tg, int(data["order_id"]), message.from_user.id, OrderStatus.FAILED, reason=reason)
    await message.answer(words.FAILURE_RECORDED if result.ok else _reply(result))
    if result.ok:
        await tg.deliver()


async def press_payment(query: CallbackQuery, callback_data: PayCb, tg: TelegramService, state: FSMContext) -> None:
    """The payment method: the job is completed and the money recorded."""
    if not _in_own_private_chat(query):
        await query.answer(PRIVATE_ONLY, show_alert=True)
        return
    data = await state.get_data()
    if not 0 <= callback_data.m < len(PAYMENT_METHODS):
        await query.answer(words.INVALID_CHOICE, show_alert=True)
        return
    if data.get("order_id") != callback_data.order_id or not data.get("fen"):
        # Replayed or stale button: the amount is not known (any more); start from 已完成 again.
        await query.answer(words.AMOUNT_FIRST, show_alert=True)
        return
    result = await _advance(
        tg,
        callback_data.order_id,
        query.from_user.id,
        OrderStatus.COMPLETED,
        amount_fen=int(data["fen"]),
        method=PAYMENT_METHODS[callback_data.m],
        policy=tg.runtime.settings.amount_policy(),
    )
    if result.ok:
        await state.clear()
    if result.pending_owner:
        # 挂账 or an unusual amount: recorded only once the owner confirms it in WeChat.
        await query.answer("已发给业主确认")
        if isinstance(query.message, Message):
            await query.message.edit_text(_reply(result))
        else:
            await tg.bot.send_message(query.from_user.id, _reply(result))
        await tg.deliver()
        return
    await query.answer("已完成" if result.ok else _reply(result), show_alert=not result.ok)
    if not result.ok or result.order is None:
        return
    if isinstance(query.message, Message):
        await query.message.edit_text(cards.completion_text(result.order))
    else:
        await tg.bot.send_message(query.from_user.id, cards.completion_text(result.order))
    await tg.deliver()


async def start(message: Message, command: CommandObject, tg: TelegramService) -> None:
    """/start (optionally from a deep link job_<id>): resend the contact slip to the holder."""
    arg = command.args or ""
    if message.from_user is None:  # a channel post has no sender to look up
        return
    user_id = message.from_user.id
    if arg.startswith("job_") and arg[4:].isdigit():

        async def work(session: AsyncSession) -> Order | None:
            return await dispatch.held_by(session=session, order_id=int(arg[4:]), telegram_id=user_id)

        order = await tg.transaction(work)
        if order is None:
            await message.answer("这个订单不在您名下，或已经结束。")
            return
        await message.answer(cards.contact_text(order, tg.tz), reply_markup=cards.progress_keyboard(order))
        return
    await message.answer("您好，这里是物业管家平台。接单后，订单详情和业主联系方式会私信发给您；发送 /jobs 查看进行中的订单。")


async def list_jobs(message: Message, tg: TelegramService) -> None:
    """/jobs: the merchant's open jobs, each with its buttons."""
    if message.from_user is None:  # a channel post has no sender to look up
        return
    user_id = message.from_user.id

    async def work(session: AsyncSession) -> list[Order] | None:
        merchant = await merchants.get_by_telegram_id(session=session, telegram_id=user_id)
        if merchant is None:
            return None
        return await dispatch.open_jobs_for_merchant(session=session, merchant_id=merchant.id)

    jobs = await tg.transaction(work)
    if jobs is None:
        await message.answer("您还不是平台登记的商家，请联系平台登记。")
        return
    if not jobs:
        await message.answer("您目前没有进行中的订单。")
        return
    for order in jobs[:10]:
        await message.answer(cards.contact_text(order, tg.tz), reply_markup=cards.progress_keyboard(order))


def build_router() -> Router:
    """Router for the merchant's private chat with the bot."""
    router = Router(name=__name__)
    private = F.chat.type == "private"
    router.callback_query.register(press_step, StepCb.filter())
    router.callback_query.register(press_payment, PayCb.filter())
    router.message.register(start, CommandStart(), private)
    router.message.register(list_jobs, Command("jobs"), private)
    router.message.register(typed_amount, Ask.amount, private, F.text)
    router.message.register(typed_reason, Ask.reason, private, F.text)
    return router
