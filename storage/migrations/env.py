"""Alembic environment: runs migrations over the async engine for SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from storage.files import private_sqlite
from storage.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    # Batch mode lets ALTER TABLE work on SQLite (it copies the table).
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    url = config.get_main_option("sqlalchemy.url") or ""
    private_sqlite(url)  # `butler db upgrade` may be what creates the file: 0600 from the start
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        if connection.dialect.name == "sqlite" and ":memory:" not in str(engine.url):
            # WAL is a property of the file, set once here: switching needs the file to itself,
            # which the app's own connections cannot count on (see storage/db.py).
            await connection.exec_driver_sql("PRAGMA journal_mode=WAL")
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
