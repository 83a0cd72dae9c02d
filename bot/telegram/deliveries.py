"""Outbox handlers that reach Telegram: job cards, contact slips, staff alerts, merchant notes.

Registered on the OutboxRelay by `register_outbox_handlers` (bot/app.py and the scheduler
process). Each handler runs after the domain commit, inside the relay's unit of work, so what it
records (the card's message id, a handoff mapping) commits together with "delivered".
"""

from __future__ import annotations

import logging
from contextlib import suppress
from pathlib import Path

from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import FSInputFile, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbox_relay import OutboxRelay, PermanentFailure
from bot.telegram import cards
from bot.telegram.service import TelegramService
from bot.wording import merchant as merchant_words
from bot.wording import staff as staff_words
from storage import dispatch, merchants, orders
from storage.events import (
    HandoffMessage,
    JobCancelled,
    JobCompleted,
    JobOffered,
    JobProgress,
    JobReposted,
    JobTaken,
    MerchantNote,
    StaffAlert,
)
from storage.orders import Order, OrderStatus

log = logging.getLogger(__name__)

HANDOFF_TTL_SECONDS = 30 * 24 * 3600
TELEGRAM_TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024


def staff_message_key(chat_id: int, message_id: int) -> str:
    """Where the handoff/complaint behind a staff-chat message is remembered."""
    return f"tg:staffmsg:{chat_id}:{message_id}"


async def _order(session: AsyncSession, order_id: int) -> Order:
    order = await orders.get(session=session, order_id=order_id)
    if order is None:
        raise PermanentFailure(f"order {order_id} not found")
    await session.refresh(order)  # the relay's session may hold an older copy
    return order


class TelegramDeliveries:
    """The handlers, bound to one TelegramService."""

    def __init__(self, tg: TelegramService) -> None:
        self.tg = tg

    async def _post_card(self, session: AsyncSession, order: Order) -> Message:
        chat_id = await self.tg.chats.merchant_chat()
        if chat_id is None:
            raise PermanentFailure("BUTLER_MERCHANT_CHAT_ID is not set")
        message = await self.tg.bot.send_message(
            chat_id, cards.card_text(order, self.tg.tz), reply_markup=cards.card_keyboard(order, self.tg.runtime.settings.callback_key)
        )
        await dispatch.record_card(
            session=session, order_id=order.id, chat_id=message.chat.id, message_id=message.message_id
        )
        return message

    async def _refresh_card(self, order: Order, *, suffix: str = "") -> None:
        if order.card_chat_id is None or order.card_message_id is None:
            return
        try:
            await self.tg.bot.edit_message_text(
                text=cards.card_text(order, self.tg.tz) + suffix,
                chat_id=await self.tg.chats.resolve(order.card_chat_id),
                message_id=order.card_message_id,
                reply_markup=cards.card_keyboard(order, self.tg.runtime.settings.callback_key) if not suffix else None,
            )
        except TelegramBadRequest as exc:
            # Deleted by an admin, or lost in a group migration: the card is cosmetic by now.
            log.info("card of order %s not edited: %s", order.id, exc.message)

    async def order_created(self, event: JobOffered, session: AsyncSession) -> None:
        """Post the job card once, even if JobOffered was emitted twice and relays race."""
        # Row lock (PostgreSQL): a second relay waits, then sees the recorded card and stops.
        order = await dispatch.lock_order(session, event.order_id)
        if order is None:
            raise PermanentFailure(f"order {event.order_id} not found")
        if order.card_message_id is not None or order.status != OrderStatus.PENDING_DISPATCH:
            return
        await self._post_card(session, order)

    async def order_reposted(self, event: JobReposted, session: AsyncSession) -> None:
        """No taker in time: retire the old card and post a fresh one at the bottom of the chat."""
        order = await _order(session, event.order_id)
        if order.status != OrderStatus.PENDING_DISPATCH:
            return
        await self._refresh_card(order, suffix=merchant_words.CARD_REPOSTED)
        await self._post_card(session, order)

    async def order_changed(self, event: JobProgress, session: AsyncSession) -> None:
        """Progress: the card shows the holder and the current status."""
        await self._refresh_card(await _order(session, event.order_id))

    async def order_accepted(self, event: JobTaken, session: AsyncSession) -> None:
        """Show who took the job, and give the taker the owner's details privately."""
        order = await _order(session, event.order_id)
        await self._refresh_card(order)
        if order.merchant is None or order.status != OrderStatus.ACCEPTED:
            return
        await self.send_contact(order)

    async def send_contact(self, order: Order) -> bool:
        """Private slip with progress buttons; if the merchant never started the bot, a deep link."""
        assert order.merchant is not None
        if order.merchant.telegram_id is None:
            raise PermanentFailure(f"merchant {order.merchant.id} has no Telegram id")
        try:
            await self.tg.bot.send_message(
                order.merchant.telegram_id,
                cards.contact_text(order, self.tg.tz),
                reply_markup=cards.progress_keyboard(order),
            )
            return True
        except TelegramForbiddenError:
            await self._ask_to_start(order.merchant.telegram_id, order.merchant.name, f"job_{order.id}")
            return False

    async def _ask_to_start(self, telegram_id: int, name: str, payload: str) -> None:
        chat_id = await self.tg.chats.merchant_chat()
        if chat_id is None:
            raise PermanentFailure("merchant cannot be reached privately and no merchant chat is set")
        link = await self.tg.deep_link(payload)
        mention = f'<a href="tg://user?id={telegram_id}">{_escape(name)}</a>'
        await self.tg.bot.send_message(
            chat_id,
            merchant_words.ASK_TO_START.format(name=mention, link=link),
            parse_mode="HTML",
        )

    async def order_cancelled(self, event: JobCancelled, session: AsyncSession) -> None:
        """Close the card and tell the merchant holding the job not to come."""
        order = await _order(session, event.order_id)
        await self._refresh_card(order)
        if order.merchant is None or order.merchant.telegram_id is None:
            return  # no merchant, or one on WeCom only: the seam tells them there
        try:
            await self.tg.bot.send_message(
                order.merchant.telegram_id,
                merchant_words.job_cancelled(order),
            )
        except TelegramForbiddenError:
            log.info("merchant %s has not started the bot; card edit only", order.merchant.id)

    async def order_completed(self, event: JobCompleted, session: AsyncSession) -> None:
        """The merchant's settlement note: what was collected, the commission, and what it will be paid."""
        order = await _order(session, event.order_id)
        if order.merchant is None or order.status != OrderStatus.COMPLETED or order.amount_fen is None:
            return
        if order.merchant.telegram_id is None:
            return  # a merchant on WeCom only: the seam sends the note there
        try:
            await self.tg.bot.send_message(order.merchant.telegram_id, merchant_words.job_settled(order))
        except TelegramForbiddenError:
            log.info("merchant %s has not started the bot; settlement note only in the statement", order.merchant.id)

    async def merchant_notify(self, event: MerchantNote, session: AsyncSession) -> None:
        """A private message to one merchant."""
        merchant = await merchants.get(session=session, merchant_id=event.merchant_id)
        if merchant is None:
            raise PermanentFailure(f"merchant {event.merchant_id} not found")
        if merchant.telegram_id is None:
            raise PermanentFailure(f"merchant {merchant.id} has no Telegram id")
        try:
            await self.tg.bot.send_message(merchant.telegram_id, event.text[:TELEGRAM_TEXT_LIMIT])
        except TelegramForbiddenError as exc:
            await self._ask_to_start(merchant.telegram_id, merchant.name, "hi")
            raise PermanentFailure(f"merchant {merchant.id} has not started the bot") from exc

    async def staff_notify(self, event: StaffAlert | HandoffMessage, session: AsyncSession) -> None:
        """An alert or a hand-off line to the staff chat; a reply to it reaches the owner behind it."""
        chat_id = await self.tg.chats.staff_chat()
        if chat_id is None:
            raise PermanentFailure("BUTLER_STAFF_CHAT_ID is not set")
        text = event.text
        refs: dict[str, int] = {}
        photo = ""
        if isinstance(event, HandoffMessage):
            text += staff_words.HANDOFF_REPLY_HINT
            refs["handoff_id"] = event.handoff_id
        else:
            photo = event.photo_path
            if event.complaint_id:
                refs["complaint_id"] = event.complaint_id
        photo_url = event.photo_url
        message: Message | None = None
        if photo_url.startswith(("http://", "https://")):
            # An owner's WeChat photo (issue 12): Telegram fetches it; the text names the URL too,
            # so a photo Telegram cannot fetch still reaches staff as a link.
            with suppress(TelegramBadRequest):
                message = await self.tg.bot.send_photo(chat_id, photo_url, caption=text[:CAPTION_LIMIT])
        elif photo and Path(photo).is_file():
            message = await self.tg.bot.send_photo(chat_id, FSInputFile(photo), caption=text[:CAPTION_LIMIT])
        elif photo:
            text += staff_words.PHOTO_MISSING
        if message is None:
            message = await self.tg.bot.send_message(chat_id, text[:TELEGRAM_TEXT_LIMIT])
        elif len(text) > CAPTION_LIMIT:
            await self.tg.bot.send_message(chat_id, text[:TELEGRAM_TEXT_LIMIT])
        if refs:
            try:
                await self.tg.runtime.kv.set_json(
                    staff_message_key(message.chat.id, message.message_id), refs, ttl_seconds=HANDOFF_TTL_SECONDS
                )
            except Exception:
                # Redis down (issue 15): the alert is out and must not be sent again by the sweep;
                # only replying to this one message cannot reach the owner (/close still works).
                log.warning("staff alert %s sent but not remembered for replies", refs, exc_info=True)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def register_outbox_handlers(relay: OutboxRelay, tg: TelegramService) -> TelegramDeliveries:
    """Declare the Telegram deliveries on a relay (web process and scheduler process alike)."""
    deliveries = TelegramDeliveries(tg)
    relay.register(JobOffered, deliveries.order_created)
    relay.register(JobReposted, deliveries.order_reposted)
    relay.register(JobTaken, deliveries.order_accepted)
    relay.register(JobProgress, deliveries.order_changed)
    relay.register(JobCancelled, deliveries.order_cancelled)
    relay.register(JobCompleted, deliveries.order_completed)  # issue 16: these rows used to wait forever
    relay.register(MerchantNote, deliveries.merchant_notify)
    relay.register(StaffAlert, deliveries.staff_notify)
    relay.register(HandoffMessage, deliveries.staff_notify)
    return deliveries
