"""Apply Alembic migrations programmatically (used by `butler db upgrade`, `serve` and tests)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """An Alembic config pointing at our migrations and the given database."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", database_url)
    return cfg


def upgrade_sync(database_url: str, revision: str = "heads") -> None:
    """Migrate to the newest revision of every branch (features add their own branches)."""
    command.upgrade(alembic_config(database_url), revision)


async def upgrade(database_url: str, revision: str = "heads") -> None:
    """Migrate from async code; Alembic's env runs its own loop, so it gets a thread."""
    await asyncio.to_thread(upgrade_sync, database_url, revision)
