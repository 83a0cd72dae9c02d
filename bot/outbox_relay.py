"""Delivers outbox events after their transaction commits, and sweeps up any left behind."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.wording import staff as staff_words
from storage import events, outbox
from storage.db import unit_of_work
from storage.events import DomainEvent, EventDecodeError, StaffAlert

log = logging.getLogger(__name__)

E = TypeVar("E", bound=DomainEvent)
# `async def handler(event: T, session) -> None`, registered for the event type T.
OutboxHandler = Callable[[Any, AsyncSession], Awaitable[None]]


class PermanentFailure(Exception):
    """Delivery can never succeed (e.g. the owner unfollowed); record it and stop retrying."""


class UnhandledOutboxKind(RuntimeError):
    """An event type with no handler: its rows would wait forever, so the process refuses to start."""


class OutcomeUnknown(Exception):
    """The platform may have acted on the call (timeout, dropped connection after sending): the
    event is marked `unknown` and never sent again blindly; staff hear it may not have arrived."""


class RetryLater(Exception):
    """Sending is paused (e.g. a persistently rejected token): not an attempt; stays pending."""


class OutboxRelay:
    """Maps event types to delivery handlers; `kick()` after a commit, `drain()` on a timer."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, max_attempts: int = 5) -> None:
        self.sessions = sessions
        self.max_attempts = max_attempts
        self.handlers: dict[type[DomainEvent], OutboxHandler] = {}
        self._lock = asyncio.Lock()
        self._pending: asyncio.Task[int] | None = None
        self._kicked_while_draining = False
        self._closed = False

    def register(self, event_type: type[E], handler: Callable[[E, AsyncSession], Awaitable[None]]) -> None:
        """Declare who delivers events of a type (a later registration replaces an earlier one)."""
        self.handlers[event_type] = handler

    def require(self, types: tuple[type[DomainEvent], ...] = events.EVENT_TYPES) -> None:
        """Refuse to run unless every event type has a handler (call once wiring is done)."""
        missing = sorted(t.__name__ for t in types if t not in self.handlers)
        if missing:
            raise UnhandledOutboxKind(f"no outbox handler for: {', '.join(missing)}")

    def _kinds(self) -> set[str]:
        return events.kinds(self.handlers)

    async def verify_pending(self, *, timeout: float = 5.0) -> None:
        """Refuse to start on waiting rows of a kind nobody handles (emitted by other code or versions).

        A database that is down or locked must not keep the process from starting (it reports 503
        on /healthz and recovers by itself), so then the check is skipped with a warning.
        """
        async def read() -> set[str]:
            async with unit_of_work(self.sessions) as session:
                return await outbox.pending_kinds(session=session)

        try:
            waiting = await asyncio.wait_for(read(), timeout)
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            log.warning("outbox kinds not verified at start-up (database unavailable): %r", exc)
            return
        missing = sorted(waiting - self._kinds())
        if missing:
            raise UnhandledOutboxKind(f"outbox rows are waiting with no handler for: {', '.join(missing)}")

    def kick(self) -> None:
        """Deliver soon, in the background; coalesces bursts into one drain.

        A kick that lands while a drain runs is remembered, not dropped: that drain may already
        have read past the event just committed, so it drains once more before it finishes.
        """
        if self._closed:
            return  # shutting down: the sweep of the next process delivers what is left
        if self._pending is None or self._pending.done():
            self._pending = asyncio.create_task(self._drain_until_quiet())
        else:
            self._kicked_while_draining = True

    async def aclose(self, *, timeout: float = 10.0) -> None:
        """Let an in-flight drain finish (bounded), before the engine and clients are closed.

        A drain abandoned mid-delivery keeps its connection checked out with a transaction open;
        on SQLite that held the write lock until garbage collection, and other writers failed with
        "database is locked". Cancelled past `timeout`: the claim is committed, so the event is
        settled as in doubt by the next drain rather than sent twice.
        """
        self._closed = True
        pending, self._pending = self._pending, None
        if pending is None or pending.done():
            return
        try:
            await asyncio.wait_for(asyncio.shield(pending), timeout)
        except TimeoutError:
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pending
        except Exception:
            log.warning("outbox drain failed while shutting down", exc_info=True)

    async def _drain_until_quiet(self) -> int:
        handled = 0
        while True:
            self._kicked_while_draining = False
            handled += await self.drain()
            if not self._kicked_while_draining:
                return handled

    async def drain(self, *, batch: int = 50) -> int:
        """Deliver pending events; returns how many were handled."""
        handled = 0
        async with self._lock:  # one drain per process; PostgreSQL row locks cover other processes
            while True:
                claimed, failed = await self._drain_batch(batch)
                handled += claimed - failed
                # A failed event stays pending for the sweeper; don't spin on it now.
                if claimed < batch or failed:
                    return handled

    async def _drain_batch(self, batch: int) -> tuple[int, int]:
        """Claim a batch, then send each event in its own unit of work.

        The claim (send_started_at, the event id being the idempotency key) commits before any
        call, so a process killed mid-call leaves a recorded send that is never repeated blindly.
        """
        failed = 0
        async with unit_of_work(self.sessions) as session:
            await outbox.settle_in_doubt(session=session, on_unknown=report_unknown)
            rows = await outbox.claim_pending(
                session=session, kinds=sorted(self._kinds()), limit=batch, max_attempts=self.max_attempts
            )
            await outbox.mark_started(session=session, event_ids=[e.id for e in rows])
        paused: dict[str, str] = {}  # kind -> why: the rest of that kind waits, other kinds go on
        held: list[int] = []
        for event in rows:
            if event.kind in paused:
                held.append(event.id)
                continue
            try:
                domain_event = events.decode(event.kind, event.payload, self.handlers)
            except EventDecodeError as exc:
                # A row no handler can read would fail forever: set aside now, with the reason.
                log.error("outbox %s #%s parked: %s", event.kind, event.id, exc)
                async with unit_of_work(self.sessions) as session:
                    await outbox.park(session=session, event_id=event.id, reason=str(exc))
                failed += 1
                continue
            handler = self.handlers[type(domain_event)]
            try:
                async with unit_of_work(self.sessions) as session:
                    await handler(domain_event, session)
                    await outbox.mark_done(session=session, event_id=event.id)
                continue
            except PermanentFailure as exc:
                log.info("outbox %s #%s dropped: %s", event.kind, event.id, exc)
                async with unit_of_work(self.sessions) as session:
                    await outbox.mark_done(session=session, event_id=event.id)
                    await outbox.mark_failed(session=session, event_id=event.id, error=str(exc))
                continue
            except OutcomeUnknown as exc:
                log.warning("outbox %s #%s may have been delivered: %r", event.kind, event.id, exc)
                async with unit_of_work(self.sessions) as session:
                    await outbox.mark_unknown(session=session, event_id=event.id, error=repr(exc))
                    report_unknown(session, event.kind, event.payload)
                continue
            except RetryLater as exc:
                log.warning("outbox %s paused: %s", event.kind, exc)
                paused[event.kind] = repr(exc)
                held.append(event.id)
                continue
            except Exception as exc:
                log.warning("outbox %s #%s failed: %r", event.kind, event.id, exc)
                failed += 1
                error = repr(exc)
            async with unit_of_work(self.sessions) as session:  # pending again, for the sweeper
                await outbox.mark_failed(session=session, event_id=event.id, error=error, max_attempts=self.max_attempts)
        if held:  # paused, not attempted: pending again as they were
            async with unit_of_work(self.sessions) as session:
                await outbox.release(session=session, event_ids=held, error="; ".join(sorted(set(paused.values()))))
        return len(rows), failed + len(held)


def report_unknown(session: AsyncSession, kind: str, payload: dict[str, Any]) -> None:
    """Tell staff a message may not have arrived, in the same commit that records it `unknown`."""
    if kind == "staff.notify":
        return  # reporting a lost report would loop
    who = payload.get("openid") or payload.get("merchant_id") or ""
    text = str(payload.get("text", ""))[:80]
    outbox.emit(session, StaffAlert(text=staff_words.MAYBE_NOT_DELIVERED.format(kind=kind, who=who, text=text)))
