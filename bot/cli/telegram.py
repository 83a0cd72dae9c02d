"""`butler telegram poll|set-webhook`: local polling and webhook registration."""

from __future__ import annotations

import asyncio
import logging

import typer

from bot.cli.common import CliError
from bot.settings import Settings

telegram_app = typer.Typer(help="Telegram bot (merchant group and staff chat).", no_args_is_help=True)


def _settings() -> Settings:
    settings = Settings()
    if not settings.telegram_token:
        raise CliError("BUTLER_TELEGRAM_TOKEN is not set")
    return settings


@telegram_app.command("poll")
def poll_command(
    host: str | None = typer.Option(None, "--host", help="Listen address for the WeChat webhook (default BUTLER_HOST)"),
    port: int | None = typer.Option(None, "--port", help="Listen port (default BUTLER_PORT)"),
) -> None:
    """Local development: poll Telegram for updates instead of receiving the webhook."""
    from bot.telegram.polling import run_polling
    from storage.migrate import upgrade

    settings = _settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if settings.is_sqlite:
        asyncio.run(upgrade(settings.database_url))
    asyncio.run(run_polling(settings, host=host or settings.host, port=port or settings.port))


@telegram_app.command("set-webhook")
def set_webhook_command(
    url: str = typer.Argument(..., help="Public HTTPS URL of POST /telegram, e.g. https://hub.example.com/telegram"),
) -> None:
    """Register the webhook with Telegram, with BUTLER_TELEGRAM_WEBHOOK_SECRET as its secret."""
    settings = _settings()
    if not settings.telegram_webhook_secret:
        raise CliError("BUTLER_TELEGRAM_WEBHOOK_SECRET is not set (the webhook refuses updates without it)")
    if not url.startswith("https://"):
        raise CliError("Telegram only delivers webhooks to https:// URLs")

    async def run() -> None:
        from aiogram import Bot
        from aiogram.client.session.aiohttp import AiohttpSession
        from aiogram.client.telegram import TelegramAPIServer

        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_base.rstrip("/")))
        async with Bot(settings.telegram_token, session=session) as bot:
            await bot.set_webhook(
                url, secret_token=settings.telegram_webhook_secret, allowed_updates=["message", "callback_query"]
            )

    try:
        asyncio.run(run())
    except Exception as exc:  # a one-line error, whatever the Bot API said
        raise CliError(f"setWebhook failed: {exc}") from exc
    typer.echo(f"webhook set to {url}")
