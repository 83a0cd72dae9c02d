"""Helpers shared by CLI commands: settings, a database session, one-line errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.settings import Settings
from storage.db import create_engine, create_session_factory, unit_of_work
from storage.migrate import upgrade

T = TypeVar("T")


class CliError(Exception):
    """A user-facing command failure, printed as one line."""


@asynccontextmanager
async def session_scope(settings: Settings) -> AsyncIterator[AsyncSession]:
    """A committed unit of work for one CLI command (SQLite is migrated on first use)."""
    if settings.is_sqlite:
        await upgrade(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            yield session
    finally:
        await engine.dispose()


def run_with_session(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run an async function with a session from the environment's settings."""

    async def runner() -> T:
        async with session_scope(Settings()) as session:
            return await work(session)

    return asyncio.run(runner())
