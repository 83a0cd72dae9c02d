"""Where an owner is in a dialog: durable in the database, cached in Redis.

The database row (storage/dialog_states.py) is written in the same unit of work as the answer it
follows, so the two commit together. Redis only caches it: a write invalidates the cache entry
(before the write, and again after the commit), a read fills it from the database. While Redis is
down every read goes to the database, and a Redis that comes back empty (or stale for at most
CACHE_SECONDS) needs no repair.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage import dialog_states
from storage.base import utcnow
from storage.db import is_postgres
from storage.kv import KeyValueStore

log = logging.getLogger(__name__)
# Redis down: the owner still gets answers (the database has the state) rather than silence.
STORE_DOWN = (RedisError, OSError)
# A cache entry outlives no write by more than this, even one whose invalidation failed.
CACHE_SECONDS = 60
_NONE = {"none": True}
OWNER_LOCK_SECONDS = 6  # cached "no dialog pending": most messages come with none


class Flow(StrEnum):
    """The dialogs an owner can be in; each is a Form in dialogs/hub.py's FORMS table."""

    BINDING = "binding"
    ORDER = "order"
    CANCEL_ORDER = "cancel_order"  # saved by the previous release; now read as a CONFIRM (dialogs/confirm.py)
    SURVEY = "survey"
    FOLLOWUP = "followup"
    # One yes/no before an action others see or that changes consent (dialogs/confirm.py).
    CONFIRM = "confirm"


@dataclass
class DialogState:
    """The current form, its pending step, what it collected, and the dialog it interrupted."""

    flow: Flow
    step: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    failures: int = 0
    parent: DialogState | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-safe form for the store."""
        out = asdict(self)
        out["parent"] = self.parent.to_json() if self.parent else None
        return out

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> DialogState:
        """Rebuild from the store."""
        parent = cls.from_json(raw["parent"]) if raw.get("parent") else None
        return cls(
            flow=Flow(raw["flow"]), step=raw.get("step", ""), data=dict(raw.get("data") or {}),
            failures=int(raw.get("failures", 0)), parent=parent,
        )


def cache_key(openid: str) -> str:
    """The Redis name of the owner's cached dialog state."""
    return f"dialog:{openid}"


_PRELOADED = "dialog_preloaded"


def preload(session: AsyncSession, openid: str, found: tuple[dict[str, Any], datetime] | None) -> None:
    """The owner's dialog row as the unit of work's first statement read it (storage/arrival.py).

    Loads in this unit of work answer from it, with no Redis or database read of their own,
    until the turn saves or clears the dialog (then they read again, as always).
    """
    session.info.setdefault(_PRELOADED, {})[openid] = found


async def load(kv: KeyValueStore, openid: str, *, session: AsyncSession) -> DialogState | None:
    """The owner's dialog, or None if there is none (or it expired)."""
    preloaded = session.info.get(_PRELOADED, {})
    if openid in preloaded:
        found = preloaded[openid]
        return None if found is None else DialogState.from_json(found[0])
    try:
        cached = await kv.get_json(cache_key(openid))
    except STORE_DOWN:
        log.warning("dialog cache unavailable; reading the dialog from the database")
        cached, kv_up = None, False
    else:
        kv_up = True
    if cached is not None:
        return None if cached == _NONE else DialogState.from_json(cached)
    found = await dialog_states.get(session=session, openid=openid)
    if kv_up and openid not in _dirty(session):  # never cache what this unit of work may roll back
        ttl = CACHE_SECONDS if found is None else max(1, min(CACHE_SECONDS, int((found[1] - utcnow()).total_seconds())))
        with suppress(*STORE_DOWN):
            await kv.set_json(cache_key(openid), _NONE if found is None else found[0], ttl_seconds=ttl)
    return None if found is None else DialogState.from_json(found[0])


async def save(kv: KeyValueStore, openid: str, state: DialogState, *, ttl_seconds: int, session: AsyncSession) -> None:
    """Store the dialog in the unit of work; every save restarts the expiry clock."""
    await _invalidate(kv, openid, session)
    await dialog_states.put(session=session, openid=openid, state=state.to_json(), ttl_seconds=ttl_seconds)


async def clear(kv: KeyValueStore, openid: str, *, session: AsyncSession) -> None:
    """Forget the owner's dialog (in the unit of work)."""
    await _invalidate(kv, openid, session)
    await dialog_states.remove(session=session, openid=openid)


# --- cache invalidation around the commit --------------------------------------------------------

_DIRTY = "dialog_cache_dirty"
_after_commit_tasks: set[asyncio.Task[None]] = set()


def _dirty(session: AsyncSession) -> set[str]:
    return session.info.get(_DIRTY, set())


async def _invalidate(kv: KeyValueStore, openid: str, session: AsyncSession) -> None:
    """Drop the cache entry now and once more after the commit, so a reader that filled it from
    the old row in between cannot leave it stale."""
    session.info.get(_PRELOADED, {}).pop(openid, None)  # the turn's own write: read it back from the database
    with suppress(*STORE_DOWN):
        await kv.delete(cache_key(openid))
    dirty = session.info.setdefault(_DIRTY, set())
    if not dirty:
        def after_commit(_sync_session: Any) -> None:
            keys = [cache_key(o) for o in session.info.pop(_DIRTY, set())]
            task = asyncio.get_running_loop().create_task(_drop(kv, keys))
            _after_commit_tasks.add(task)
            task.add_done_callback(_after_commit_tasks.discard)

        def after_rollback(_sync_session: Any) -> None:
            session.info.pop(_DIRTY, None)

        event.listen(session.sync_session, "after_commit", after_commit, once=True)
        event.listen(session.sync_session, "after_rollback", after_rollback, once=True)  # outermost only
    dirty.add(openid)


async def _drop(kv: KeyValueStore, keys: list[str]) -> None:
    with suppress(*STORE_DOWN):
        await kv.delete(*keys)


# --- one turn at a time per owner ------------------------------------------------------------------

# SQLite has one writer anyway; this keeps turns from interleaving (one lock per event loop).
_SQLITE_WRITERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


@dataclass
class Turn:
    """An owner's turn; `in_redis` False means the lock must be taken in the database instead.

    `seen`: what the `prefetch` keys held when the lock was taken (read in the same round trip);
    empty when Redis is down.
    """

    in_redis: bool
    _local: asyncio.Lock | None = None
    seen: dict[str, str | None] = field(default_factory=dict)

    async def hold_in_database(self, session: AsyncSession, openid: str, *, wait: float = 25) -> None:
        """Redis is down: take the owner's lock in the database, released when the unit of work ends
        (a PostgreSQL transaction-level advisory lock; on SQLite, one writer per process)."""
        if self.in_redis:
            return
        if is_postgres(session):
            await session.execute(text(f"SET LOCAL lock_timeout = '{int(wait * 1000)}ms'"))
            await session.execute(
                text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 15))"), {"k": f"owner:{openid}"}
            )
            return
        writer = _SQLITE_WRITERS.setdefault(asyncio.get_running_loop(), asyncio.Lock())
        await asyncio.wait_for(writer.acquire(), wait)
        self._local = writer


@asynccontextmanager
async def owner_turn(
    kv: KeyValueStore, openid: str, *, wait: float = 25, prefetch: Sequence[str] = ()
) -> AsyncIterator[Turn]:
    """Hold the owner's conversation lock (across processes) so their messages never interleave.

    If Redis is down the caller takes the lock in the database (Turn.hold_in_database).
    """
    try:
        # Short and renewed: a worker killed mid-turn frees the owner within OWNER_LOCK_SECONDS.
        lock = kv.lock(f"owner:{openid}", timeout=OWNER_LOCK_SECONDS, wait=wait, renew=True, prefetch=prefetch)
        seen = await lock.__aenter__()
    except STORE_DOWN:
        log.warning("owner lock unavailable in Redis; locking %s in the database", openid)
        turn = Turn(in_redis=False)
        try:
            yield turn
        finally:
            if turn._local is not None:
                turn._local.release()
        return
    try:
        yield Turn(in_redis=True, seen=seen)
    finally:
        with suppress(*STORE_DOWN):  # if it fails, the lock's TTL frees it
            await lock.__aexit__(None, None, None)
