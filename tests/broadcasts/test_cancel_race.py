"""/cancel_broadcast against a sender finishing the same broadcast: one conditional update decides.

The row the command loaded still says 'sending' when the sender commits DONE; cancelling it then
used to overwrite DONE with CANCELLED (the status was set on the loaded object)."""

from __future__ import annotations

from sqlalchemy import update

from bot.runtime import build_runtime
from storage import broadcasts
from storage.base import utcnow
from storage.broadcasts import Broadcast, BroadcastStatus
from storage.db import unit_of_work
from tests.conftest import make_settings


async def _sending(sessions) -> int:  # type: ignore[no-untyped-def]
    async with unit_of_work(sessions) as session:
        row = Broadcast(text="停水通知", status=BroadcastStatus.SENDING, scope=None)
        session.add(row)
        await session.flush()
        return row.id


async def test_a_cancel_that_loses_to_the_finish_changes_nothing(backend, fake_wechat) -> None:  # type: ignore[no-untyped-def]
    runtime = build_runtime(make_settings(backend, fake_wechat))
    try:
        bid = await _sending(runtime.sessions)
        async with unit_of_work(runtime.sessions) as staff_session:
            loaded = await staff_session.get(Broadcast, bid)
            assert loaded is not None and loaded.status == BroadcastStatus.SENDING
            async with unit_of_work(runtime.sessions) as sender_session:  # the sender finishes first
                await sender_session.execute(update(Broadcast).where(Broadcast.id == bid)
                                             .values(status=BroadcastStatus.DONE))
            assert await broadcasts.cancel(session=staff_session, broadcast=loaded, now=utcnow()) is None
            assert loaded.status == BroadcastStatus.DONE  # the caller sees what actually happened
        async with runtime.sessions() as session:
            assert (await session.get(Broadcast, bid)).status == BroadcastStatus.DONE  # type: ignore[union-attr]
    finally:
        await runtime.aclose()


async def test_a_cancel_that_wins_stops_the_broadcast(backend, fake_wechat) -> None:  # type: ignore[no-untyped-def]
    runtime = build_runtime(make_settings(backend, fake_wechat))
    try:
        bid = await _sending(runtime.sessions)
        async with unit_of_work(runtime.sessions) as session:
            loaded = await session.get(Broadcast, bid)
            assert loaded is not None
            assert await broadcasts.cancel(session=session, broadcast=loaded, now=utcnow()) == 0
        async with runtime.sessions() as session:
            row = await session.get(Broadcast, bid)
            assert row is not None and row.status == BroadcastStatus.CANCELLED and row.finished_at is not None
    finally:
        await runtime.aclose()
