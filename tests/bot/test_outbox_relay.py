"""The outbox relay: an event committed while a drain runs is delivered by that burst, not left
for the sweeper minutes later."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import ClassVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbox_relay import OutboxRelay
from bot.runtime import build_runtime
from storage import outbox
from storage.db import unit_of_work
from storage.events import DomainEvent
from tests.conftest import make_settings


@dataclass(frozen=True)
class First(DomainEvent):
    kind: ClassVar[str] = "test.first"
    n: int


@dataclass(frozen=True)
class Second(DomainEvent):
    kind: ClassVar[str] = "test.second"
    n: int


async def test_a_kick_that_lands_during_a_drain_is_not_lost(backend, fake_wechat) -> None:  # type: ignore[no-untyped-def]
    runtime = build_runtime(make_settings(backend, fake_wechat))
    relay = OutboxRelay(runtime.sessions)
    delivered: list[int] = []

    async def first(event: First, session: AsyncSession) -> None:
        # Another request commits an event and kicks while this drain is busy with the first one.
        async with unit_of_work(runtime.sessions) as other:
            outbox.emit(other, Second(n=2))
        relay.kick()
        delivered.append(event.n)

    async def second(event: Second, session: AsyncSession) -> None:
        delivered.append(event.n)

    relay.register(First, first)
    relay.register(Second, second)
    try:
        async with unit_of_work(runtime.sessions) as session:
            outbox.emit(session, First(n=1))
        relay.kick()
        async with asyncio.timeout(10):
            while len(delivered) < 2:
                await asyncio.sleep(0.02)
        assert delivered == [1, 2]
    finally:
        # The handler appends before its row is marked done: close the relay first, or a busy
        # machine tears the drain down mid-commit and leaves a claimed test.second row behind, on
        # which every later hub in the shared database refuses to start (CI, 2026-12-02).
        await relay.aclose()
        await _forget_test_rows(runtime.sessions)
        await runtime.aclose()


async def _forget_test_rows(sessions) -> None:  # type: ignore[no-untyped-def]
    """Rows of this file's kinds have no handler anywhere else; they must not outlive the test."""
    from sqlalchemy import delete

    async with unit_of_work(sessions) as session:
        await session.execute(delete(outbox.OutboxEvent).where(outbox.OutboxEvent.kind.in_([First.kind, Second.kind])))


async def test_a_row_that_does_not_decode_is_parked_with_its_reason_not_retried(backend, fake_wechat, caplog) -> None:  # type: ignore[no-untyped-def]
    import logging

    from sqlalchemy import select

    from storage.events import JobOffered

    runtime = build_runtime(make_settings(backend, fake_wechat))
    relay = OutboxRelay(runtime.sessions)
    offered: list[int] = []

    async def offer(event: JobOffered, session: AsyncSession) -> None:
        offered.append(event.order_id)

    relay.register(JobOffered, offer)
    try:
        async with unit_of_work(runtime.sessions) as session:
            # Written by another version: same kind, a payload this one cannot read.
            bad = outbox.OutboxEvent(kind=JobOffered.kind, payload={"order": "A1"})
            session.add(bad)
            good = outbox.emit(session, JobOffered(order_id=99))
        with caplog.at_level(logging.ERROR, logger="bot.outbox_relay"):
            await relay.drain()
            await relay.drain()  # a second pass does not pick the parked row up again
        parked_logs = [r for r in caplog.records if f"#{bad.id} parked" in r.getMessage()]
        assert len(parked_logs) == 1, [r.getMessage() for r in parked_logs]
        async with unit_of_work(runtime.sessions) as session:
            rows = {r.id: r for r in await session.scalars(
                select(outbox.OutboxEvent).where(outbox.OutboxEvent.id.in_([bad.id, good.id])))}
        assert offered == [99]
        assert rows[bad.id].parked_at is not None and rows[bad.id].processed_at is None
        assert "lacks 'order_id'" in rows[bad.id].last_error
        assert rows[good.id].processed_at is not None and rows[good.id].parked_at is None
    finally:
        await runtime.aclose()
