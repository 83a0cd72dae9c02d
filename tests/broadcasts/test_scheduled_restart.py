"""A scheduled broadcast lives in the database: it is sent by whichever process runs when it falls due."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import update

from bot.app import RUNTIME, create_app
from bot.devtools.fake_wechat import FakeWeChatAPI
from storage.base import utcnow
from storage.broadcasts import Broadcast
from storage.db import unit_of_work
from tests.broadcasts.kit import add_owner, cs_texts_to, latest_broadcast_id, make_place, say
from tests.conftest import Backend, Hub, make_settings, start_hub


async def test_a_scheduled_broadcast_survives_a_restart(backend: Backend, fake_wechat: FakeWeChatAPI) -> None:
    settings = make_settings(backend, fake_wechat, broadcast_tick_seconds=0.2, scheduler_jobs="broadcasts")
    first = await start_hub(settings, fake_wechat)
    place = await make_place(first)
    owner = await add_owner(first, place, "o", window_open=True)
    await say(first, place.staff_openid, f"/broadcast 小区={place.community} | 明早8点电梯检修 at 2030-06-01 08:00")
    assert "已定时" in await say(first, place.staff_openid, "确认")
    due = await latest_broadcast_id(first, place.staff_id)
    await say(first, place.staff_openid, f"/broadcast 小区={place.community} | 这条留到以后 at 2031-01-01 08:00")
    await say(first, place.staff_openid, "确认")
    later = await latest_broadcast_id(first, place.staff_id)
    await first.client.close()  # the process stops; nothing was sent
    assert cs_texts_to(first, owner) == []

    # Time passes while nothing runs: the first broadcast falls due.
    async with unit_of_work(first.runtime.sessions) as session:
        await session.execute(update(Broadcast).where(Broadcast.id == due).values(scheduled_at=utcnow() - timedelta(minutes=1)))

    app = create_app(settings, run_scheduler=True)  # a fresh process with the scheduler
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    second = Hub(client=client, runtime=app[RUNTIME], settings=settings, fake_wechat=fake_wechat)
    try:
        for _ in range(100):
            if cs_texts_to(second, owner):
                break
            await asyncio.sleep(0.1)
        assert cs_texts_to(second, owner) == ["明早8点电梯检修"]
        for _ in range(50):
            async with second.runtime.sessions() as session:
                row = await session.get(Broadcast, due)
                pending = await session.get(Broadcast, later)
            if row is not None and row.status == "done":
                break
            await asyncio.sleep(0.1)
        assert row is not None and row.status == "done"
        assert pending is not None and pending.status == "scheduled"  # not due yet: untouched
    finally:
        await client.close()
