"""The standalone scheduler process: the same jobs `serve` runs, without the web server."""

from __future__ import annotations

import asyncio
import signal

from bot.composition import build_services
from bot.settings import Settings
from bot.wechat.late import housekeeping
from scheduler.setup import create_scheduler, register_jobs, stop_scheduler


async def run_scheduler_forever(settings: Settings) -> None:
    """Start the scheduler and block until SIGINT/SIGTERM."""
    # Job cards, staff alerts and merchant notes go to Telegram when it is configured; no updates.
    services = build_services(settings, telegram_updates=False)
    runtime, relay = services.runtime, services.relay
    await relay.verify_pending()
    sched = create_scheduler(settings.tz)
    sched.add_job(relay.drain, "interval", seconds=15, id="outbox-sweep")
    sched.add_job(housekeeping, "interval", hours=1, id="reliability-housekeeping", args=[runtime.sessions])
    register_jobs(sched, services.job_context())  # follow-ups, supplier lifecycle, report, broadcasts
    sched.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await services.stop_sending()  # before the scheduler cancels jobs
        await stop_scheduler(sched)
        await services.aclose()
