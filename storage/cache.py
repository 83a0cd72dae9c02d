"""Per-worker copies of the small tables every owner message reads (issue 18).

The FAQ, the catalog and the activities change a few times a day and were read on almost every
message. Each worker keeps one copy per database (engine) and reloads it when it is older than
MAX_AGE_SECONDS, so a change committed by any process (a `butler content faq-load`, a staff
command in another worker) is seen everywhere within that time, at the cost of one query per
table per worker per MAX_AGE_SECONDS instead of one per message. A commit in this process that
touched a cached table drops the copy at once, and a unit of work reading a table it has itself
changed (not yet committed) reads the database, never the copy.

Cached rows belong to no session (read by a side session of their own): callers only read them.
Anything that writes or links a row (an order's service) loads its own through the session.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Engine, Select, event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session

T = TypeVar("T")
MAX_AGE_SECONDS = 0.5
_CHANGED = "cache_tables_changed"
# Bumped per (engine, table) by every commit in this process that changed the table.
_generations: weakref.WeakKeyDictionary[Engine, dict[str, int]] = weakref.WeakKeyDictionary()


@dataclass
class _Copy(Generic[T]):
    value: T
    loaded_at: float
    generation: tuple[int, ...]


class TableCache(Generic[T]):
    """`await cache.get(session)`: the loader's result, at most MAX_AGE_SECONDS old."""

    def __init__(self, tables: tuple[str, ...], load: Callable[[AsyncSession], Awaitable[T]]) -> None:
        self.tables = tables  # a change to any of them reloads the copy
        self.load = load
        self._copies: weakref.WeakKeyDictionary[Engine, _Copy[T]] = weakref.WeakKeyDictionary()

    async def get(self, session: AsyncSession) -> T:
        """The cached value for the session's database, reloaded through the session when stale."""
        engine = _engine(session.sync_session)
        if engine is None or not session.sync_session.info.get(_CHANGED, set()).isdisjoint(self.tables):
            return await self.load(session)
        generations = _generations.setdefault(engine, {})
        generation = tuple(generations.get(t, 0) for t in self.tables)
        copy = self._copies.get(engine)
        now = time.monotonic()
        if copy is not None and copy.generation == generation and now - copy.loaded_at < MAX_AGE_SECONDS:
            return copy.value
        value = await self.load(session)
        # The generation read before loading: a commit during the load makes this copy stale at once.
        self._copies[engine] = _Copy(value, now, generation)
        return value


async def read_apart(session: AsyncSession, stmt: Select[Any]) -> list[Any]:
    """Rows of stmt, read on the caller's connection by a session of their own and detached.

    A separate identity map: the caller's own objects (perhaps changed, not yet flushed) are
    never handed out or taken from it, and no later rollback of either can expire what every
    other unit of work reads. The side session joins the caller's transaction and leaves it open.
    """
    async with AsyncSession(bind=await session.connection(), expire_on_commit=False) as side:
        rows = list(await side.scalars(stmt))
        side.expunge_all()  # before close(), whose rollback would expire them
        return rows


def _engine(sync_session: Session) -> Engine | None:
    bind = sync_session.get_bind()
    return bind if isinstance(bind, Engine) else getattr(bind, "engine", None)


def _mark(sync_session: Session, tables: set[str]) -> None:
    if tables:
        sync_session.info.setdefault(_CHANGED, set()).update(tables)


@event.listens_for(Session, "after_flush")
def _after_flush(sync_session: Session, _context: Any) -> None:
    _mark(sync_session, {getattr(obj, "__tablename__", "") for obj in (*sync_session.new, *sync_session.dirty,
                                                                        *sync_session.deleted)})


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        _mark(state.session, {str(getattr(table, "name", ""))})


@event.listens_for(Session, "after_commit")
def _after_commit(sync_session: Session) -> None:
    changed = sync_session.info.pop(_CHANGED, None)
    engine = _engine(sync_session) if changed else None
    if engine is not None and changed:
        generations = _generations.setdefault(engine, {})
        for table in changed:
            generations[table] = generations.get(table, 0) + 1


@event.listens_for(Session, "after_rollback")
def _after_rollback(sync_session: Session) -> None:
    sync_session.info.pop(_CHANGED, None)
