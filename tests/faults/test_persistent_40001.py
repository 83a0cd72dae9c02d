"""A persistent 40001 while 50 owners' notices are going out from two processes at once.

The token is refreshed once (one call to the token endpoint across both processes), then all
sending pauses with a backoff instead of fetching a token per message; /healthz says so. When
WeChat accepts the token again every notice goes out exactly once: zero lost, zero duplicated.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

from sqlalchemy import select

from bot.app import RELAY
from bot.devtools.fake_wechat import FakeWeChatAPI
from storage import outbox
from storage.db import unit_of_work
from storage.events import OwnerNotice
from storage.outbox import OutboxEvent
from tests.conftest import Backend, make_settings, start_hub
from tests.faults.services import PrivateRedis

CS = "/cgi-bin/message/custom/send"
OWNERS = 50


async def test_persistent_40001_refreshes_once_then_pauses_and_loses_nothing(
    postgres_url: str, fake_wechat: FakeWeChatAPI, private_redis: PrivateRedis
) -> None:
    settings = make_settings(Backend("pg+private-redis", postgres_url, private_redis.url), fake_wechat,
                             wechat_token_pause_seconds=1.5)
    first = await start_hub(settings, fake_wechat)
    second = await start_hub(settings, fake_wechat)  # a second process: shares only PostgreSQL and Redis
    try:
        await first.runtime.wechat.access_token()  # the token both use until WeChat rejects it
        tag = uuid.uuid4().hex[:8]
        openids = [f"o_tok_{tag}_{i}" for i in range(OWNERS)]
        async with unit_of_work(first.runtime.sessions) as session:
            events = [outbox.emit(session, OwnerNotice(openid=o, text="您的报修已受理，师傅今天下午上门。")) for o in openids]
        ids = [e.id for e in events]
        fake_wechat.fail(CS, 40001, times=100_000)  # WeChat rejects every token, however fresh

        await asyncio.gather(first.client.app[RELAY].drain(), second.client.app[RELAY].drain())
        assert len(fake_wechat.tokens_issued) == 2  # the first token and ONE refresh, across both
        assert len(fake_wechat.calls_to(CS)) <= 4  # each process: one call and one retry, then paused
        health = [await (await h.client.get("/healthz")).json() for h in (first, second)]
        assert all(h["wechat"].startswith("paused") for h in health), health
        async with first.runtime.sessions() as session:
            rows = list(await session.scalars(select(OutboxEvent).where(OutboxEvent.id.in_(ids))))
        assert all(r.processed_at is None and r.attempts == 0 for r in rows)  # paused, not failed

        await asyncio.gather(first.client.app[RELAY].drain(), second.client.app[RELAY].drain())
        assert len(fake_wechat.tokens_issued) == 2  # still paused: no token calls, no sends

        fake_wechat.clear_faults(CS)  # WeChat takes tokens again
        await asyncio.sleep(1.6)  # the pause runs out
        for _ in range(3):  # the 15-second sweeps
            await asyncio.gather(first.client.app[RELAY].drain(), second.client.app[RELAY].drain())
        assert len(fake_wechat.tokens_issued) <= 3  # at most one more refresh for the probe
        delivered = Counter(c.body["touser"] for c in fake_wechat.calls_to(CS)[-OWNERS:] if c.body["touser"] in openids)
        async with first.runtime.sessions() as session:
            rows = list(await session.scalars(select(OutboxEvent).where(OutboxEvent.id.in_(ids))))
        lost = [r.payload["openid"] for r in rows if r.processed_at is None or delivered[r.payload["openid"]] == 0]
        duplicated = [o for o, n in delivered.items() if n > 1]
        assert (len(lost), len(duplicated)) == (0, 0)
        assert (await first.client.get("/healthz")).status == 200
        assert (await (await first.client.get("/healthz")).json())["wechat"] == "ok"
    finally:
        await first.client.close()
        await second.client.close()
