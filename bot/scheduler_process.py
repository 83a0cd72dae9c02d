"""The standalone scheduler process: the same jobs `serve` runs, without the web server."""

from __future__ import annotations

import asyncio
import signal

from bot.channels import install_merchant_dispatch
from bot.commands.wiring import install_jobs
from bot.commands.wiring import shutdown as shutdown_staff_commands
from bot.outbox_handlers import register_base_handlers
from bot.outbox_relay import OutboxRelay
from bot.runtime import build_runtime
from bot.settings import Settings
from bot.wechat.late import housekeeping
from scheduler.setup import create_scheduler


async def run_scheduler_forever(settings: Settings) -> None:
    """Start the scheduler and block until SIGINT/SIGTERM."""
    runtime = build_runtime(settings)
    relay = OutboxRelay(runtime.sessions, max_attempts=settings.outbox_max_attempts)
    register_base_handlers(relay, runtime)  # issue 16: every kind handled; Telegram overrides below
    telegram = None
    if settings.telegram_token:  # job cards, staff alerts, merchant notes (bot/telegram/setup.py)
        from bot.telegram.setup import setup_telegram_outbox

        telegram = setup_telegram_outbox(runtime, relay)
    # Issue 17: reposted cards, cancellations and notes reach WeCom merchants too.
    if telegram is not None:
        from bot.telegram.deliveries import TelegramDeliveries

        install_merchant_dispatch(relay, runtime, TelegramDeliveries(telegram))
    else:
        install_merchant_dispatch(relay, runtime, None)
    relay.require()  # issue 16: every declared outbox kind has a handler, or no start
    await relay.verify_pending()
    sched = create_scheduler(settings.tz)
    sched.add_job(relay.drain, "interval", seconds=15, id="outbox-sweep")
    sched.add_job(housekeeping, "interval", hours=1, id="reliability-housekeeping", args=[runtime.sessions])
    install_jobs(sched, runtime, relay)  # follow-ups, supplier lifecycle, report, broadcasts
    sched.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await shutdown_staff_commands(runtime)  # before the scheduler cancels jobs
        sched.shutdown(wait=False)
        if telegram is not None:
            await telegram.bot.session.close()
        await runtime.aclose()
