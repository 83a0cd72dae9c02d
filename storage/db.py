"""Engine, session factory and the one-unit-of-work-per-event helper."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import CursorResult, Result, event, text
from sqlalchemy.engine.interfaces import DBAPIConnection, DBAPICursor
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.files import private_sqlite

log = logging.getLogger(__name__)


class StatementCounter:
    """SQL statements sent by this process's engines (issue 18: the bench reads it from /metrics)."""

    def __init__(self) -> None:
        self.count = 0
        # called with the SQL of each statement sent past the engine (storage.driver), which its
        # before_cursor_execute hooks never see (bench.trace_turn lists them)
        self.driver_watchers: list[Callable[[str], None]] = []

    def __call__(self, *_args: object) -> None:  # a before_cursor_execute listener
        self.count += 1

    def sent_by_driver(self, sql: str) -> None:
        """Count a statement sent straight to the driver, and show it to the watchers."""
        self.count += 1
        for watch in self.driver_watchers:
            watch(sql)


STATEMENTS = StatementCounter()


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

        event.listen(engine.sync_engine, "before_cursor_execute", STATEMENTS)
        return engine
    # JIT off: PostgreSQL JIT-compiles any plan it estimates as expensive, which cost ~0.9 s of a
    # 1.2 s broadcast segment over 300k owners (bench/broadcast.py) and never pays back at our sizes.
    # asyncpg's prepared-statement cache stays on (SQLAlchemy's default of 100 per connection).
    engine = create_async_engine(
        url, pool_size=pool_size, max_overflow=20,
        connect_args={"server_settings": {"jit": "off"}},
    )
    event.listen(engine.sync_engine, "before_cursor_execute", STATEMENTS)
    _ping_when_idle(engine)
    return engine


# A connection back in the pool for less than this is not pinged on checkout (issue 18).
PING_AFTER_IDLE_SECONDS = 1.0
_CHECKED_IN = "checked_in_at"


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Pre-ping only connections that sat idle, where a database restart can have closed them.

    pool_pre_ping pinged on every checkout: with asyncpg that is BEGIN, `;` and ROLLBACK, three
    round trips and a transaction for every message (bench/acceptance.py). A connection used a
    moment ago is as good as the ping would show; a dead one in use still fails its request and
    makes the pool drop every connection (SQLAlchemy's disconnect handling), as before.
    """
    pool = engine.sync_engine.pool

    @event.listens_for(pool, "checkin")
    def _checkin(_dbapi: DBAPIConnection, record: Any) -> None:
        if record is not None:
            record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _checkout(dbapi: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get(_CHECKED_IN)
        if idle_since is not None and time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            dbapi.ping()
        except Exception as exc:  # the pool retries the checkout on a fresh connection
            raise DisconnectionError(str(exc)) from exc


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
