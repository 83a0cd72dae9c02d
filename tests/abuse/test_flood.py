"""One owner flooding 50 messages a second is limited politely; another owner notices nothing."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bot.devtools.fake_wechat import FakeWeChatAPI
from bot.devtools.wechat_sender import text_xml
from bot.flood import TOO_FAST
from dialogs import texts
from storage.messages import InboundMessageLog
from tests.conftest import Backend, Hub, make_settings, start_hub

FLOOD_RATE = 50  # messages per second
FLOOD_SECONDS = 2.0


@pytest.fixture
async def hub(backend: Backend, fake_wechat: FakeWeChatAPI) -> AsyncIterator[Hub]:
    """A small bucket, so the served part of the flood stays well inside WeChat's 5-second wait."""
    running = await start_hub(make_settings(backend, fake_wechat, flood_burst=5, flood_per_second=2), fake_wechat)
    yield running
    await running.client.close()


async def test_a_flooding_owner_is_rate_limited_without_hurting_others(hub: Hub) -> None:
    flooder, neighbour = f"o_flood_{uuid.uuid4().hex[:8]}", f"o_calm_{uuid.uuid4().hex[:8]}"

    async def flood() -> list[tuple[int, str]]:
        sends = []
        for i in range(int(FLOOD_RATE * FLOOD_SECONDS)):
            sends.append(asyncio.create_task(hub.post(text_xml(flooder, f"在吗{i}"))))
            await asyncio.sleep(1 / FLOOD_RATE)
        return [(status, reply.get("Content", "")) for status, reply in await asyncio.gather(*sends)]

    async def neighbour_chats() -> list[tuple[int, str, float]]:
        out = []
        await asyncio.sleep(0.3)  # start once the flood is under way
        for text in ("你好", "谢谢", "有什么服务", "再见", "你好", "谢谢"):  # a person's pace
            started = time.perf_counter()
            status, reply = await hub.post(text_xml(neighbour, text))
            out.append((status, reply.get("Content", ""), time.perf_counter() - started))
            await asyncio.sleep(0.4)
        return out

    flooded, calm = await asyncio.gather(flood(), neighbour_chats())

    assert all(status == 200 for status, _ in flooded)
    limited = [t for _, t in flooded if t == TOO_FAST]
    served = len(flooded) - len(limited)
    burst, rate = hub.settings.flood_burst, hub.settings.flood_per_second
    # The burst gets through, then about `rate` a second; everything else is told to slow down.
    assert burst <= served <= burst + rate * (FLOOD_SECONDS + 2) + 1, served
    assert len(limited) >= len(flooded) - burst - rate * (FLOOD_SECONDS + 2) - 1
    logged = -1
    for _ in range(50):  # a served message answered late (after 4 s) is still being handled
        async with hub.runtime.sessions() as session:
            logged = await session.scalar(
                select(func.count()).select_from(InboundMessageLog).where(InboundMessageLog.user_id == flooder)
            )
        if logged >= served:
            break
        await asyncio.sleep(0.1)
    assert logged == served  # refused messages cost no database work

    # The neighbour got real answers throughout, promptly.
    assert [s for s, _, _ in calm] == [200] * len(calm)
    assert all(t and t not in (TOO_FAST, texts.BUSY) for _, t, _ in calm), calm
    assert max(seconds for _, _, seconds in calm) < 3.0
