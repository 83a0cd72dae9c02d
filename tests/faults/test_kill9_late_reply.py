"""kill -9 of a worker after it answered WeChat's request at the 4 s mark but before its reply
was ready (the message log is locked, so the message is stuck at its first write): the lease
lapses, WeChat's retry takes the message over and answers inside 5 s.

On the old code the message was marked "answered later" for 300 s: every retry got `success`,
nothing was logged and no reply was ever sent. Counted per owner: lost (no answer at all) and
duplicated (answered twice: passively and by customer-service message, or twice by either).
"""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from sqlalchemy import func, select

from bot.devtools.fake_wechat import FakeWeChatAPI
from bot.devtools.wechat_sender import WeChatSender, text_xml
from bot.wechat.protocol import dedupe_key, parse_xml
from storage.db import create_engine, create_session_factory
from storage.messages import InboundMessageLog
from tests.conftest import REDIS_URL, TEST_AES_KEY, TEST_APP_ID, TEST_TOKEN
from tests.faults.processes import start
from tests.faults.services import free_port

pytestmark = pytest.mark.slow
CS = "/cgi-bin/message/custom/send"


@asynccontextmanager
async def message_log_locked(postgres_url: str) -> AsyncIterator[None]:
    """Hold the message log locked (as a long migration or a stuck transaction would), so every
    message blocks at its first write and runs past WeChat's 4 s mark."""
    conn = await asyncpg.connect(postgres_url.replace("postgresql+asyncpg://", "postgresql://"))
    tx = conn.transaction()
    await tx.start()
    await conn.execute("LOCK TABLE inbound_messages IN ACCESS EXCLUSIVE MODE")
    try:
        yield
    finally:
        await tx.rollback()
        await conn.close()


async def test_kill9_after_the_4s_mark_the_retry_takes_over_and_answers_once(
    postgres_url: str, fake_wechat: FakeWeChatAPI, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        "BUTLER_DATABASE_URL": postgres_url, "BUTLER_REDIS_URL": REDIS_URL,
        "BUTLER_REDIS_PREFIX": f"test:{uuid.uuid4().hex}:", "BUTLER_PORT": str(port),
        "BUTLER_WECHAT_TOKEN": TEST_TOKEN, "BUTLER_WECHAT_AES_KEY": TEST_AES_KEY,
        "BUTLER_WECHAT_APP_ID": TEST_APP_ID,
        "BUTLER_WECHAT_APP_SECRET": "s", "BUTLER_WECHAT_API_BASE": fake_wechat.base_url,  # type: ignore[attr-defined]
        "BUTLER_LATE_REPLY_GRACE_SECONDS": "1",  # the sweeper would pounce on any unsettled lease
        "BUTLER_LATE_REPLY_REPLAY_SECONDS": "4",
    }
    sender = WeChatSender(token=TEST_TOKEN, aes_key=TEST_AES_KEY, app_id=TEST_APP_ID)
    url = f"http://127.0.0.1:{port}/wechat"
    openids = [f"o_k4_{uuid.uuid4().hex[:8]}" for _ in range(4)]
    messages = [text_xml(o, "你好", msg_id=secrets.randbits(62)) for o in openids]
    # One more whose retries never come (WeChat gave up, or the network ate them): the sweeper
    # must handle it from its lease record and answer by customer-service message.
    unretried = f"o_k4_noretry_{uuid.uuid4().hex[:6]}"
    orphan = text_xml(unretried, "你好", msg_id=secrets.randbits(62))

    async def deliver(http: aiohttp.ClientSession, xml: str) -> tuple[int, dict[str, str], float]:
        query, body = sender.request(xml)  # each (re)try is signed afresh, as WeChat does
        began = time.monotonic()
        try:
            async with http.post(f"{url}?{query}", data=body, timeout=aiohttp.ClientTimeout(total=10)) as resp:
                text = await resp.text()
                return resp.status, sender.open_reply(text, query) if text != "success" else {}, time.monotonic() - began
        except aiohttp.ClientError:
            return -1, {}, time.monotonic() - began

    first = await start(["serve", "--no-scheduler"], env, tmp_path / "serve1.log", health_port=port)
    try:
        async with message_log_locked(postgres_url), aiohttp.ClientSession() as http:
            answered = await asyncio.gather(*(deliver(http, xml) for xml in [*messages, orphan]))
            await asyncio.sleep(0.6)  # past the 4 s mark, still handling: now it dies
            first.kill9()
            await asyncio.sleep(2)  # the table stays locked a while longer (8 s in the report)
    finally:
        await first.stop()
    assert [(s, r) for s, r, _ in answered] == [(200, {})] * (len(messages) + 1)  # "success" at the deadline
    assert all(3.5 < t < 5 for _, _, t in answered)

    second = await start(["serve"], env, tmp_path / "serve2.log", health_port=port)  # with the sweeper
    passive: dict[str, int] = dict.fromkeys(openids, 0)
    timings: list[float] = []
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(3):  # WeChat's retries
                pending = [(o, xml) for o, xml in zip(openids, messages, strict=True) if not passive[o]]
                results = await asyncio.gather(*(deliver(http, xml) for _, xml in pending))
                for (o, _), (status, reply, took) in zip(pending, results, strict=True):
                    assert status == 200
                    timings.append(took)
                    passive[o] += bool(reply.get("Content"))
                await asyncio.sleep(1)
        for _ in range(200):  # the orphan: answered by the sweeper once its replay time has come
            if any(c.body.get("touser") == unretried for c in fake_wechat.calls_to(CS)):
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(6)  # another sweep (every 5 s) must not send anything on top
    finally:
        await second.stop()

    passive[unretried] = 0
    late = {o: sum(1 for c in fake_wechat.calls_to(CS) if c.body.get("touser") == o) for o in passive}
    answers = {o: passive[o] + late[o] for o in passive}
    lost = [o for o, n in answers.items() if n == 0]
    duplicated = [o for o, n in answers.items() if n > 1]
    assert (len(lost), len(duplicated)) == (0, 0), (passive, late, timings)
    assert max(timings) < 5.0, timings  # every retry, the takeovers included, answered in time
    engine = create_engine(postgres_url)
    try:
        async with create_session_factory(engine)() as session:
            for xml in [*messages, orphan]:
                key = dedupe_key(parse_xml(xml.encode()))
                logged = await session.scalar(
                    select(func.count()).select_from(InboundMessageLog).where(InboundMessageLog.dedupe_key == key)
                )
                assert logged == 1, key  # handled once
    finally:
        await engine.dispose()
