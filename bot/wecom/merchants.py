"""The WeCom merchant channel: job offers as cards, the first press wins, slip, progress, money.

A press is decided by the same conditional update as on Telegram (storage/dispatch.accept). The
question a merchant is answering (the amount after 已完成, the reason after 无法完成) waits in the
key-value store, so any process can take the typed answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbox_relay import OutboxRelay, RetryLater
from bot.runtime import Runtime
from bot.telegram.cards import STEP_TARGETS, JobCb, PayCb, StepCb, completion_text
from bot.wecom import cards
from bot.wecom.client import WeComClient
from bot.wecom.webhook import ButtonPress, MemberText, WeComEvent
from bot.wording import merchant as words
from bot.wording.steps import STEP_WORDING
from storage import dispatch, merchants, staff
from storage.db import unit_of_work
from storage.dispatch import AcceptOutcome, Step, StepResult
from storage.merchants import Merchant
from storage.money import PAYMENT_METHODS, InvalidAmount, format_yuan, parse_yuan
from storage.orders import Order, OrderStatus

log = logging.getLogger(__name__)
T = TypeVar("T")

OFFER_TTL = 72 * 3600  # WeCom keeps a response_code usable for 72 hours
ASK_TTL = 3600
BUSY = "系统繁忙，请稍后再按一次"
STALE = "这个按钮已失效，请在最新的订单卡片上操作。"
HELLO = "您好，这里是物业管家平台。新订单会以卡片发给您，点「接单」即可抢单；接单后订单详情和业主联系方式会发到这里。"
# Said to whoever is not a merchant: the merchants' hello would promise them order cards.
STAFF_HELLO = "您好，这里是物业管家员工通道。发送 /help 查看可用命令；业主转人工后，提醒会发到这里，直接回复即答复业主。"
UNREGISTERED = "您好，这里是物业管家平台的商家与员工通道。您的账号还没有登记为商家或员工，如需开通请联系物业管理员。"


async def _hello(session: AsyncSession, userid: str) -> str:
    """The hello that fits who typed: a merchant, a staff member, or someone not registered."""
    if await merchants.get_by_wecom_userid(session=session, userid=userid) is not None:
        return HELLO
    if await staff.get_by_wecom_userid(session=session, userid=userid) is not None:
        return STAFF_HELLO
    return UNREGISTERED


def _offer_key(order_id: int) -> str:
    return f"wecom:offer:{order_id}"


def _reply(result: StepResult) -> str:
    return words.step_reply(result, busy=BUSY)


def _ask_key(userid: str) -> str:
    return f"wecom:ask:{userid}"


class WeComMerchants:
    """MerchantChannel over WeCom, plus the handler for merchants' presses and texts."""

    name = "wecom"

    def __init__(self, client: WeComClient, runtime: Runtime, relay: OutboxRelay) -> None:
        self.client = client
        self.runtime = runtime
        self.relay = relay
        self.kv = runtime.kv
        self.staff_texts: Callable[[MemberText], Awaitable[bool]] | None = None  # bot/wecom/staff.py
        self.staff_presses: Callable[[ButtonPress], Awaitable[None]] | None = None  # preview buttons

    # --- shared plumbing ------------------------------------------------------------------------

    async def transaction(self, work: Callable[[AsyncSession], Awaitable[T]], *, attempts: int = 5) -> T:
        """One short unit of work; SQLite's "database is locked" is retried like on Telegram."""
        for attempt in range(1, attempts + 1):
            try:
                async with unit_of_work(self.runtime.sessions) as session:
                    return await work(session)
            except OperationalError as exc:
                if "locked" not in str(exc) or attempt == attempts:
                    raise
                await asyncio.sleep(0.05 * attempt)
        raise AssertionError("unreachable")

    async def deliver(self) -> None:
        """What the last commit emitted (owner notice, cards, slip), within this callback."""
        try:
            await asyncio.wait_for(asyncio.shield(self.relay.drain()), 8.0)
        except Exception:
            log.warning("outbox delivery after a WeCom press did not finish; the sweeper retries", exc_info=True)

    def today(self) -> Any:
        return datetime.now(self.runtime.tz).date()

    # --- MerchantChannel (outbox side) ----------------------------------------------------------

    def reaches(self, merchant: Merchant | None) -> bool:
        """True when this merchant can get private messages here."""
        return merchant is not None and bool(merchant.wecom_userid)

    async def offer(self, session: AsyncSession, order: Order) -> int:
        """A card to each eligible merchant with a WeCom userid not yet offered; returns how many.

        Idempotent: who was offered is recorded after each card, under a per-order lock, so an
        outbox retry after a partial success, a JobOffered emitted twice, or two relays at once
        never send anyone a second card.
        """
        if order.status != OrderStatus.PENDING_DISPATCH:
            return 0
        async with self.kv.lock(f"wecom-offer:{order.id}", timeout=60, wait=30, renew=True):
            return await self._offer(session, order)

    async def _offer(self, session: AsyncSession, order: Order) -> int:
        eligible = await dispatch.eligible_merchants(session=session, order=order, today=self.today(), limit=500)
        offered: dict[str, str] = await self.kv.get_json(_offer_key(order.id)) or {}
        card = cards.offer_card(order, self.runtime.tz, self.runtime.settings.callback_key)
        sent = 0
        for merchant in eligible:
            userid = merchant.wecom_userid
            if not userid or userid in offered:
                continue
            offered[userid] = await self.client.send_card(userid, card)
            sent += 1
            # Remembered after each send: a failure further on never offers this one twice.
            await self.kv.set_json(_offer_key(order.id), offered, ttl_seconds=OFFER_TTL)
        return sent

    async def close_offers(self, order: Order, *, label: str) -> None:
        """Every offered card but the winner's now reads `label` (已被接单 / 已取消) instead of 接单."""
        offered: dict[str, str] = await self.kv.get_json(_offer_key(order.id)) or {}
        winner = order.merchant.wecom_userid if order.merchant is not None else None
        for userid, code in list(offered.items()):
            text = "已接单" if userid == winner and label == "已被接单" else label
            try:
                await self.client.update_card([userid], code, replace_name=text)
            except RetryLater:  # rate-limited: the retry updates only the cards still offering 接单
                await self.kv.set_json(_offer_key(order.id), offered, ttl_seconds=OFFER_TTL)
                raise
            except Exception as exc:  # a used or expired code: that card is cosmetic by now
                log.info("wecom card of order %s for %s not updated: %r", order.id, userid, exc)
            del offered[userid]
        await self.kv.delete(_offer_key(order.id))

    async def send_slip(self, order: Order) -> None:
        """The contact slip with progress buttons, to the holder."""
        assert order.merchant is not None and order.merchant.wecom_userid
        await self.client.send_card(order.merchant.wecom_userid, cards.slip_card(order, self.runtime.tz))

    async def note(self, merchant: Merchant, text: str) -> None:
        """A private app message."""
        assert merchant.wecom_userid
        await self.client.send_text(merchant.wecom_userid, text)

    # --- inbound (callback side) ----------------------------------------------------------------

    async def handle(self, event: WeComEvent) -> None:
        """A press or a typed text from a member."""
        if isinstance(event, ButtonPress):
            await self._press(event)
        elif isinstance(event, MemberText):
            if self.staff_texts is not None and await self.staff_texts(event):
                return
            await self._typed(event)

    async def _press(self, press: ButtonPress) -> None:
        prefix = press.key.split(":", 1)[0]
        try:
            if prefix == "jb":
                await self._accept(press, JobCb.unpack(press.key))
            elif prefix == "st":
                await self._step(press, StepCb.unpack(press.key))
            elif prefix == "pay":
                await self._pay(press, PayCb.unpack(press.key))
            elif prefix == "sc" and self.staff_presses is not None:
                await self.staff_presses(press)
            else:
                await self.client.send_text(press.userid, STALE)
        except (ValidationError, ValueError, TypeError):
            await self.client.send_text(press.userid, STALE)

    async def _accept(self, press: ButtonPress, data: JobCb) -> None:
        if not data.valid(self.runtime.settings.callback_key):
            log.warning("接单 with a bad signature from wecom %s for order %s", press.userid, data.order_id)
            await self.client.send_text(press.userid, STALE)
            return

        async def work(session: AsyncSession) -> dispatch.AcceptResult:
            return await dispatch.accept(
                session=session, order_id=data.order_id, wecom_userid=press.userid, today=self.today(),
                head_start=timedelta(seconds=self.runtime.settings.dispatch_high_credit_head_start_seconds),
                say=STEP_WORDING,
            )

        try:
            result = await self.transaction(work)
        except Exception:
            log.exception("order %s press by wecom %s failed", data.order_id, press.userid)
            await self.client.send_text(press.userid, BUSY)
            return
        log.info("order %s press by wecom %s: %s", data.order_id, press.userid, result.outcome)
        if result.won:
            await self._replace_button(press, "已接单")
            await self.deliver()  # owner notice, the others' cards, the slip
            return
        if result.outcome in (AcceptOutcome.TAKEN, AcceptOutcome.CLOSED):
            await self._replace_button(press, "已被接单" if result.outcome == AcceptOutcome.TAKEN else "已结束")
        await self.client.send_text(press.userid, words.accept_reply(result))

    async def _replace_button(self, press: ButtonPress, label: str) -> None:
        if not press.response_code:
            return
        try:
            await self.client.update_card([press.userid], press.response_code, replace_name=label)
        except Exception as exc:
            log.info("wecom card of %s not updated: %r", press.userid, exc)

    async def _advance(self, userid: str, order_id: int, target: OrderStatus, **kw: Any) -> StepResult:
        async def work(session: AsyncSession) -> StepResult:
            return await dispatch.advance(session=session, order_id=order_id, wecom_userid=userid, target=target,
                                          say=STEP_WORDING, **kw)

        try:
            return await self.transaction(work)
        except Exception:
            log.exception("order %s: %s by wecom %s failed", order_id, target, userid)
            return StepResult(False, Step.BUSY)

    async def _step(self, press: ButtonPress, data: StepCb) -> None:
        target = STEP_TARGETS.get(data.step)
        if target is None:
            await self.client.send_text(press.userid, STALE)
            return
        if target in (OrderStatus.COMPLETED, OrderStatus.FAILED):
            async def check(session: AsyncSession) -> StepResult:
                return await dispatch.can_advance(session=session, order_id=data.order_id, wecom_userid=press.userid,
                                                  target=target)

            verdict = await self.transaction(check)
            if not verdict.ok:
                await self.client.send_text(press.userid, _reply(verdict))
                return
            code = verdict.order.code if verdict.order else ""
            ask = "amount" if target == OrderStatus.COMPLETED else "reason"
            await self.kv.set_json(_ask_key(press.userid), {"order_id": data.order_id, "ask": ask}, ttl_seconds=ASK_TTL)
            prompt = words.ASK_AMOUNT if ask == "amount" else words.ASK_REASON
            await self.client.send_text(press.userid, prompt.format(code=code))
            return
        result = await self._advance(press.userid, data.order_id, target)
        await self.client.send_text(press.userid, words.STEP_DONE.format(message=_reply(result)) if result.ok
                                    else _reply(result))
        if result.ok and result.order is not None:
            if press.response_code:  # the slip's buttons now offer only what is still possible
                try:
                    await self.client.update_card([press.userid], press.response_code,
                                                  card=cards.slip_card(result.order, self.runtime.tz))
                except Exception as exc:
                    log.info("wecom slip of order %s not refreshed: %r", data.order_id, exc)
            await self.deliver()

    async def _typed(self, message: MemberText) -> None:
        pending = await self.kv.get_json(_ask_key(message.userid))
        if not pending:
            await self.client.send_text(message.userid, await self.transaction(lambda s: _hello(s, message.userid)))
            return
        order_id = int(pending["order_id"])
        if pending.get("ask") == "amount":
            try:
                fen = parse_yuan(message.text)
            except InvalidAmount:
                await self.client.send_text(message.userid, words.BAD_AMOUNT)
                return
            await self.kv.set_json(_ask_key(message.userid), {"order_id": order_id, "ask": "method", "fen": fen},
                                   ttl_seconds=ASK_TTL)
            code = await self.transaction(lambda s: _code(s, order_id))
            await self.client.send_card(message.userid, cards.payment_card(order_id, code, format_yuan(fen)))
            return
        if pending.get("ask") == "reason":
            reason = message.text.strip()
            if not reason:
                await self.client.send_text(message.userid, words.NEED_REASON)
                return
            await self.kv.delete(_ask_key(message.userid))
            result = await self._advance(message.userid, order_id, OrderStatus.FAILED, reason=reason)
            await self.client.send_text(message.userid, words.FAILURE_RECORDED if result.ok else _reply(result))
            if result.ok:
                await self.deliver()
            return
        await self.client.send_text(message.userid, "请点付款方式卡片上的按钮")

    async def _pay(self, press: ButtonPress, data: PayCb) -> None:
        pending = await self.kv.get_json(_ask_key(press.userid)) or {}
        if not 0 <= data.m < len(PAYMENT_METHODS):
            await self.client.send_text(press.userid, words.INVALID_CHOICE)
            return
        if pending.get("order_id") != data.order_id or not pending.get("fen"):
            await self.client.send_text(press.userid, words.AMOUNT_FIRST)
            return
        result = await self._advance(
            press.userid, data.order_id, OrderStatus.COMPLETED, amount_fen=int(pending["fen"]),
            method=PAYMENT_METHODS[data.m], policy=self.runtime.settings.amount_policy(),
        )
        if result.ok:
            await self.kv.delete(_ask_key(press.userid))
            await self._replace_button(press, PAYMENT_METHODS[data.m].value)
        if result.pending_owner:  # 挂账 or an unusual amount: the owner confirms it in WeChat
            await self.client.send_text(press.userid, _reply(result))
            await self.deliver()
            return
        if not result.ok or result.order is None:
            await self.client.send_text(press.userid, _reply(result))
            return
        await self.client.send_text(press.userid, completion_text(result.order))
        await self.deliver()


async def _code(session: AsyncSession, order_id: int) -> str:
    order = await session.get(Order, order_id)
    return order.code if order else ""
