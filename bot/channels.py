"""The channel seam (issue 17): how the hub reaches merchants and staff, whatever the app.

`MerchantChannel` and `StaffChannel` are what a transport offers; `MerchantDispatch` delivers each
merchant outbox event to every configured channel: a new job goes to the Telegram group *and* as
a card to each eligible WeCom merchant, while private messages (the slip, notes) go to the one
channel the merchant last acted on (`Merchant.channel`).
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbox_relay import OutboxRelay, PermanentFailure
from bot.wording import merchant as merchant_words
from storage import merchants, orders
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
from storage.merchants import Channel, Merchant
from storage.orders import Order, OrderStatus

if TYPE_CHECKING:  # aiogram and WeCom are imported only when they are configured
    from bot.commands.service import StaffCommands
    from bot.telegram.deliveries import TelegramDeliveries
    from bot.wecom.merchants import WeComMerchants

log = logging.getLogger(__name__)


class MerchantChannel(Protocol):
    """One way of reaching merchants."""

    name: str

    def reaches(self, merchant: Merchant | None) -> bool:
        """Whether this merchant can get private messages on this channel."""

    async def offer(self, session: AsyncSession, order: Order) -> int:
        """Offer an open job to the eligible merchants (idempotent); returns how many were reached."""

    async def close_offers(self, order: Order, *, label: str) -> None:
        """Mark the offers taken or closed (接单 replaced by `label`)."""

    async def send_slip(self, order: Order) -> None:
        """The holder's private contact slip with the progress buttons."""

    async def note(self, merchant: Merchant, text: str) -> None:
        """A private note (cancellation, settlement, reassignment)."""


class StaffChannel(Protocol):
    """One way of reaching staff: alerts (hand-off threads included), replies, images, previews."""

    async def alert(self, event: StaffAlert | HandoffMessage, session: AsyncSession) -> int:
        """A staff alert, or a hand-off message whose reply goes back to the owner; how many it reached."""

    async def reply(self, staff_ref: str, text: str) -> None:
        """A command's answer to the staff member who sent it."""

    async def image(self, staff_ref: str, path: Path, caption: str) -> None:
        """A report image."""

    async def preview(self, staff_ref: str, text: str, confirm_key: str, cancel_key: str) -> None:
        """A broadcast preview with 确认 / 放弃 buttons."""


class TelegramMerchants:
    """The Telegram implementation behind MerchantChannel: the existing deliveries, unchanged."""

    name = "telegram"

    def __init__(self, deliveries: TelegramDeliveries) -> None:
        self.deliveries = deliveries

    def reaches(self, merchant: Merchant | None) -> bool:
        return merchant is not None and merchant.telegram_id is not None

    async def offer(self, session: AsyncSession, order: Order) -> int:
        # Exactly the old order.created handler: one card in the group, recorded under a row lock.
        await self.deliveries.order_created(JobOffered(order_id=order.id), session)
        return 1

    async def repost(self, session: AsyncSession, order: Order) -> None:
        await self.deliveries.order_reposted(JobReposted(order_id=order.id), session)

    async def close_offers(self, order: Order, *, label: str) -> None:
        await self.deliveries._refresh_card(order)  # the group card shows the holder / status

    async def send_slip(self, order: Order) -> None:
        await self.deliveries.send_contact(order)

    async def note(self, merchant: Merchant, text: str) -> None:
        from aiogram.exceptions import TelegramForbiddenError

        assert merchant.telegram_id is not None
        try:
            await self.deliveries.tg.bot.send_message(merchant.telegram_id, text[:4096])
        except TelegramForbiddenError:
            log.info("merchant %s has not started the bot", merchant.id)


async def _order(session: AsyncSession, order_id: int) -> Order:
    order = await orders.get(session=session, order_id=order_id)
    if order is None:
        raise PermanentFailure(f"order {order_id} not found")
    await session.refresh(order)
    return order


def settlement_text(order: Order) -> str:
    """The merchant's note after completion: the same words on every channel (bot/wording)."""
    return merchant_words.job_settled(order)


class MerchantDispatch:
    """Merchant outbox kinds → every channel (public side) and the merchant's own channel (private)."""

    def __init__(self, telegram: TelegramMerchants | None, wecom: WeComMerchants | None) -> None:
        self.telegram = telegram
        self.wecom = wecom

    def _private(self, merchant: Merchant | None) -> MerchantChannel | TelegramMerchants | None:
        """The channel a merchant's private messages go to: the one they last acted on, if configured."""
        if merchant is None:
            return None
        preferred = self.wecom if merchant.channel == Channel.WECOM else self.telegram
        if preferred is not None and preferred.reaches(merchant):
            return preferred
        for channel in (self.telegram, self.wecom):
            if channel is not None and channel.reaches(merchant):
                return channel
        return None

    async def _each(self, label: str, calls: list[Any]) -> None:
        """Run one step per channel; a channel that fails, for good or for now, doesn't stop the others.

        A transient failure is raised after every channel had its turn, so the outbox retries the
        whole step: each channel's step is idempotent (the group card is recorded on the order,
        WeCom offers per merchant), so the retry reaches only whoever was missed.
        """
        permanent: list[str] = []
        transient: Exception | None = None
        for call in calls:
            try:
                await call
            except PermanentFailure as exc:
                permanent.append(str(exc))
            except Exception as exc:
                transient = transient or exc
        if transient is not None:
            raise transient
        if permanent and len(permanent) == len(calls):
            raise PermanentFailure(f"{label}: " + "; ".join(permanent))
        for reason in permanent:
            log.info("%s: one channel cannot deliver: %s", label, reason)

    async def order_created(self, event: JobOffered, session: AsyncSession) -> None:
        order = await _order(session, event.order_id)
        await self._each("order.created", [c.offer(session, order) for c in self._channels()])

    async def order_reposted(self, event: JobReposted, session: AsyncSession) -> None:
        order = await _order(session, event.order_id)
        calls: list[Coroutine[Any, Any, object]] = [self.telegram.repost(session, order)] if self.telegram else []
        if self.wecom is not None:
            calls.append(self.wecom.offer(session, order))
        await self._each("order.reposted", calls)

    async def order_accepted(self, event: JobTaken, session: AsyncSession) -> None:
        order = await _order(session, event.order_id)
        await self._each("order.accepted", [c.close_offers(order, label="已被接单") for c in self._channels()])
        if order.merchant is None or order.status != OrderStatus.ACCEPTED:
            return
        private = self._private(order.merchant)
        if private is None:
            raise PermanentFailure(f"merchant {order.merchant.id} has no channel configured here")
        await private.send_slip(order)

    async def order_progress(self, event: JobProgress, session: AsyncSession) -> None:
        if self.telegram is not None:
            await self.telegram.deliveries.order_changed(event, session)

    async def order_cancelled(self, event: JobCancelled, session: AsyncSession) -> None:
        order = await _order(session, event.order_id)
        if self.wecom is not None:
            await self.wecom.close_offers(order, label="已取消")
        private = self._private(order.merchant)
        if self.telegram is not None and (private is self.telegram or order.merchant is None):
            await self.telegram.deliveries.order_cancelled(event, session)  # card edit + note, as before
            return
        if self.telegram is not None:
            await self.telegram.close_offers(order, label="已取消")
        if private is not None and order.merchant is not None:
            await private.note(order.merchant, merchant_words.job_cancelled(order))

    async def order_completed(self, event: JobCompleted, session: AsyncSession) -> None:
        order = await _order(session, event.order_id)
        if order.merchant is None or order.status != OrderStatus.COMPLETED or order.amount_fen is None:
            return
        private = self._private(order.merchant)
        if private is self.telegram and self.telegram is not None:
            await self.telegram.deliveries.order_completed(event, session)
        elif private is not None:
            await private.note(order.merchant, settlement_text(order))

    async def merchant_notify(self, event: MerchantNote, session: AsyncSession) -> None:
        merchant = await merchants.get(session=session, merchant_id=event.merchant_id)
        if merchant is None:
            raise PermanentFailure(f"merchant {event.merchant_id} not found")
        private = self._private(merchant)
        if private is self.telegram and self.telegram is not None:
            await self.telegram.deliveries.merchant_notify(event, session)
        elif private is not None:
            await private.note(merchant, event.text)
        else:
            raise PermanentFailure(f"merchant {merchant.id} has no channel configured here")

    def _channels(self) -> list[Any]:
        return [c for c in (self.telegram, self.wecom) if c is not None]

    def register(self, relay: OutboxRelay) -> None:
        """Take over the merchant kinds on a relay (after each transport registered its own)."""
        relay.register(JobOffered, self.order_created)
        relay.register(JobReposted, self.order_reposted)
        relay.register(JobTaken, self.order_accepted)
        relay.register(JobProgress, self.order_progress)
        relay.register(JobCancelled, self.order_cancelled)
        relay.register(JobCompleted, self.order_completed)
        relay.register(MerchantNote, self.merchant_notify)


def install_merchant_dispatch(
    relay: OutboxRelay, runtime: Any, telegram_deliveries: TelegramDeliveries | None,
    staff_commands: StaffCommands | None = None,
) -> MerchantDispatch | None:
    """Every configured merchant channel behind one dispatcher (serve and scheduler alike).

    With `staff_commands` (the web process), WeCom staff may also run the command registry.

    Returns the WeCom channel's dispatcher, or None when no merchant channel is configured (the
    base handlers then record merchant events as undeliverable).
    """
    telegram = TelegramMerchants(telegram_deliveries) if telegram_deliveries is not None else None
    wecom = None
    if runtime.settings.wecom_enabled:
        from bot.wecom.setup import build_wecom_merchants

        wecom = build_wecom_merchants(runtime, relay)
    if telegram is None and wecom is None:
        return None
    dispatch = MerchantDispatch(telegram, wecom)
    dispatch.register(relay)
    if wecom is not None:  # staff alerts and hand-off replies over WeCom too
        from bot.wecom.staff import WeComStaff
        from bot.wecom.staff_commands import WeComStaffCommands

        commands = WeComStaffCommands(wecom.client, staff_commands, wecom.deliver) if staff_commands else None
        staff_channel = WeComStaff(wecom, commands, telegram_staff=telegram is not None)
        for staff_event in (StaffAlert, HandoffMessage):
            relay.register(staff_event, staff_channel.wrap_alerts(relay.handlers.get(staff_event)))
        wecom.staff_texts = staff_channel.handle_text
        wecom.staff_presses = staff_channel.handle_press
    return dispatch
