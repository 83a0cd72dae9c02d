"""Polling mode for local development: the same app and handlers, updates fetched by getUpdates."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.app import create_app
from bot.settings import Settings
from bot.telegram.setup import TELEGRAM

log = logging.getLogger(__name__)


async def poll(app: web.Application, *, handle_signals: bool = True) -> None:
    """Long-poll updates into the app's Dispatcher until stopped (Ctrl-C or stop_polling())."""
    telegram = app[TELEGRAM]
    # Telegram refuses getUpdates while a webhook is set.
    await telegram.bot.delete_webhook(drop_pending_updates=False)
    await telegram.dispatcher.start_polling(
        telegram.bot,
        handle_signals=handle_signals,
        close_bot_session=False,  # the app's cleanup closes it
        allowed_updates=["message", "callback_query"],
    )


async def run_polling(settings: Settings, *, host: str, port: int) -> None:
    """Serve the WeChat webhook and health endpoints as usual, and poll Telegram instead of a webhook."""
    if not settings.telegram_token:
        raise RuntimeError("BUTLER_TELEGRAM_TOKEN is not set")
    app = create_app(settings, run_scheduler=True)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("serving on http://%s:%s, polling Telegram at %s", host, port, settings.telegram_api_base)
    try:
        await poll(app)
    finally:
        await runner.cleanup()
