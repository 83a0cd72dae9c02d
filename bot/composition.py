"""The composition root: every long-lived service one process holds, built in one place.

`butler serve` (bot/app.py, which adds the web side), `butler scheduler`
(bot/scheduler_process.py) and the demo (through create_app) all start from `build_services`,
so the relay always has every handler before `require()` checks it, and there is exactly one
StaffCommands and one broadcast sender per process. Services are typed attributes here; nothing
is looked up by a string key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.channels import install_merchant_dispatch
from bot.commands.service import StaffCommands
from bot.commands.wiring import build_sender, job_context
from bot.outbox_handlers import register_base_handlers
from bot.outbox_relay import OutboxRelay
from bot.runtime import Runtime, build_runtime
from bot.settings import Settings
from scheduler.context import JobContext
from storage.broadcast_delivery import BroadcastSender

if TYPE_CHECKING:  # aiogram is imported only when a Telegram token is configured
    from bot.channels import MerchantDispatch
    from bot.telegram.deliveries import TelegramDeliveries
    from bot.telegram.service import TelegramService
    from bot.telegram.setup import Telegram


@dataclass
class Services:
    """What one process holds; `telegram` (webhook process) or `telegram_outbox` (scheduler)."""

    runtime: Runtime
    relay: OutboxRelay
    sender: BroadcastSender  # the one broadcast sender: staff commands and the scheduler share it
    staff_commands: StaffCommands
    telegram: Telegram | None = None
    telegram_outbox: TelegramService | None = None
    # Issue 17: merchant events reach every channel (Telegram group, WeCom cards) through one seam.
    merchants: MerchantDispatch | None = None

    def job_context(self) -> JobContext:
        """The context every scheduled job of this process shares."""
        return job_context(self.runtime, self.relay, self.sender)

    async def stop_sending(self) -> None:
        """Let the broadcast sender finish the message in flight (before the scheduler stops)."""
        await self.sender.stop()

    async def aclose(self) -> None:
        """Release connections; the webhook process's Bot session is closed by aiogram's handler."""
        await self.relay.aclose()  # an in-flight delivery ends before its connection is closed
        if self.telegram_outbox is not None:
            await self.telegram_outbox.bot.session.close()
        await self.runtime.aclose()


def build_services(settings: Settings, *, telegram_updates: bool) -> Services:
    """Build (without network I/O) the runtime, the relay with all handlers, commands and Telegram.

    `telegram_updates`: the web process handles Telegram updates (dispatcher and routers); the
    scheduler process only delivers outbox rows to Telegram. Either way Telegram is built only
    when BUTLER_TELEGRAM_TOKEN is set. Raises if an outbox kind is left without a handler.
    """
    runtime = build_runtime(settings)
    relay = OutboxRelay(runtime.sessions, max_attempts=settings.outbox_max_attempts)
    register_base_handlers(relay, runtime)  # issue 16: every kind handled; Telegram overrides below
    sender = build_sender(runtime, relay)
    staff_commands = StaffCommands(runtime, relay, sender)  # issue 6
    services = Services(runtime=runtime, relay=relay, sender=sender, staff_commands=staff_commands)
    if settings.telegram_token:  # merchant dispatch + staff chat (bot/telegram/setup.py)
        if telegram_updates:
            from bot.telegram.setup import build_telegram

            services.telegram = build_telegram(runtime, relay, staff_commands=staff_commands)
        else:
            from bot.telegram.setup import setup_telegram_outbox

            services.telegram_outbox = setup_telegram_outbox(runtime, relay)
    services.merchants = install_merchant_dispatch(
        relay, runtime, _telegram_deliveries(services), staff_commands if telegram_updates else None)
    relay.require()  # issue 16: a declared outbox kind with no handler stops the process here
    return services


def _telegram_deliveries(services: Services) -> TelegramDeliveries | None:
    """The Telegram side of the merchant seam, whichever way this process runs Telegram."""
    if services.telegram is not None:
        return services.telegram.deliveries
    if services.telegram_outbox is not None:
        from bot.telegram.deliveries import TelegramDeliveries

        return TelegramDeliveries(services.telegram_outbox)
    return None
