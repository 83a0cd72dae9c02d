"""Engine, session factory and the one-unit-of-work-per-event helper."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import CursorResult, Result, event, text
from sqlalchemy.engine.interfaces import DBAPIConnection, DBAPICursor
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.files import private_sqlite

log = logging.getLogger(__name__)


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    """Build the async engine; SQLite gets WAL and a busy timeout so readers don't block writers."""
    if url.startswith("sqlite"):
        private_sqlite(url)  # the whole database is personal data: 0600 (issue 14)
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: object) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            if ":memory:" not in url:
                _use_wal(cursor)
            cursor.close()

        return engine
    # JIT off: PostgreSQL JIT-compiles any plan it estimates as expensive, which cost ~0.9 s of a
    # 1.2 s broadcast segment over 300k owners (bench/broadcast.py) and never pays back at our sizes.
    return create_async_engine(
        url, pool_size=pool_size, max_overflow=20, pool_pre_ping=True,
        connect_args={"server_settings": {"jit": "off"}},
    )


def _use_wal(cursor: DBAPICursor) -> None:
    """Switch the file to WAL if it is not yet (migrations do it; this covers older files).

    Switching needs the file to itself and fails at once, busy timeout or not, while another
    connection writes; the file then keeps its rollback journal until a later connection switches
    it, rather than this connection (a request, a health probe) failing.
    """
    cursor.execute("PRAGMA journal_mode")
    row = cursor.fetchone()  # PRAGMA journal_mode always answers one row
    if row is not None and str(row[0]).lower() == "wal":
        return
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
    except Exception as exc:  # the DBAPI's OperationalError: "database is locked"
        log.warning("SQLite stays in rollback-journal mode for now: %s", exc)


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions keep loaded objects usable after commit (replies are rendered after it)."""
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def unit_of_work(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """Open a session, commit at the end, roll back on error; repositories never commit."""
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


async def ping(engine: AsyncEngine) -> None:
    """Raise if the database cannot answer a trivial query."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


def is_postgres(session_or_engine: AsyncSession | AsyncEngine) -> bool:
    """True on PostgreSQL, where row locks (FOR UPDATE SKIP LOCKED) are available."""
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, AsyncSession) else session_or_engine
    return bind.dialect.name == "postgresql"


def rows_affected(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE changed.

    `AsyncSession.execute` is typed as returning a plain `Result`, but for a DML statement it is a
    `CursorResult`, the one that carries `rowcount`; the check keeps that assumption honest.
    """
    if not isinstance(result, CursorResult):
        raise TypeError(f"rows_affected needs the result of an UPDATE or DELETE, got {type(result).__name__}")
    return int(result.rowcount or 0)
