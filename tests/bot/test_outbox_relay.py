"""The outbox relay: an event committed while a drain runs is delivered by that burst, not left
for the sweeper minutes later."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbox_relay import OutboxRelay
from bot.runtime import build_runtime
from storage import outbox
from storage.db import unit_of_work
from tests.conftest import make_settings


async def test_a_kick_that_lands_during_a_drain_is_not_lost(backend, fake_wechat) -> None:  # type: ignore[no-untyped-def]
    runtime = build_runtime(make_settings(backend, fake_wechat))
    relay = OutboxRelay(runtime.sessions)
    tag = uuid.uuid4().hex[:8]
    first_kind, second_kind = f"test.first.{tag}", f"test.second.{tag}"
    delivered: list[str] = []

    async def first(payload: dict[str, Any], session: AsyncSession) -> None:
        # Another request commits an event and kicks while this drain is busy with the first one.
        async with unit_of_work(runtime.sessions) as other:
            outbox.emit(other, second_kind, n=2)
        relay.kick()
        delivered.append(first_kind)

    async def second(payload: dict[str, Any], session: AsyncSession) -> None:
        delivered.append(second_kind)

    relay.register(first_kind, first)
    relay.register(second_kind, second)
    try:
        async with unit_of_work(runtime.sessions) as session:
            outbox.emit(session, first_kind, n=1)
        relay.kick()
        async with asyncio.timeout(10):
            while len(delivered) < 2:
                await asyncio.sleep(0.02)
        assert delivered == [first_kind, second_kind]
    finally:
        await runtime.aclose()
