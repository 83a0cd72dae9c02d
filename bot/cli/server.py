"""`butler serve`, `butler scheduler` and `butler db upgrade`."""

from __future__ import annotations

import asyncio
import logging

import typer
from aiohttp import web

from bot.cli.common import CliError
from bot.outbox_relay import UnhandledOutboxKind
from bot.settings import Settings
from storage.migrate import upgrade

db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _migrate_embedded(settings: Settings) -> None:
    """The embedded default (SQLite) sets itself up; PostgreSQL is migrated by `butler db upgrade`."""
    if settings.is_sqlite:
        asyncio.run(upgrade(settings.database_url))


def serve_command(
    host: str | None = typer.Option(None, "--host", help="Listen address (default BUTLER_HOST)"),
    port: int | None = typer.Option(None, "--port", help="Listen port (default BUTLER_PORT)"),
    no_scheduler: bool = typer.Option(False, "--no-scheduler", help="Don't run scheduled jobs here"),
    channels: str = typer.Option(
        "", "--channels", help="Comma-separated webhooks to serve: wechat, telegram, wecom (default: all configured)"
    ),
) -> None:
    """Run the web server (WeChat + Telegram webhooks) and, by default, the scheduler."""
    from bot.accesslog import RedactingAccessLogger
    from bot.app import CHANNELS, create_app

    chosen = tuple(c.strip() for c in channels.split(",") if c.strip()) or CHANNELS
    unknown = sorted(set(chosen) - set(CHANNELS))
    if unknown:
        raise CliError(f"--channels: unknown channel(s) {', '.join(unknown)}; choose from {', '.join(CHANNELS)}")

    _logging()
    settings = Settings()
    _migrate_embedded(settings)
    try:
        app = create_app(settings, run_scheduler=not no_scheduler, channels=chosen)
        web.run_app(
            app,
            host=host or settings.host,
            port=port or settings.port,
            reuse_port=True,  # several `serve` processes may share one port
            access_log_class=RedactingAccessLogger,  # WeChat's signatures and openids stay out of logs
            print=lambda msg: logging.getLogger("butler").info(msg.strip()),
        )
    except UnhandledOutboxKind as exc:  # issue 16: rows nobody would deliver; refuse to start
        raise CliError(f"refusing to start: {exc}") from exc


def scheduler_command() -> None:
    """Run the scheduler alone, for deployments with several `serve` processes."""
    from bot.scheduler_process import run_scheduler_forever

    _logging()
    settings = Settings()
    _migrate_embedded(settings)
    try:
        asyncio.run(run_scheduler_forever(settings))
    except UnhandledOutboxKind as exc:
        raise CliError(f"refusing to start: {exc}") from exc


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply migrations (Alembic) to BUTLER_DATABASE_URL."""
    settings = Settings()
    asyncio.run(upgrade(settings.database_url))
    typer.echo("database is up to date")
