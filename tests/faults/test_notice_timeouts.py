"""Owner notices through a delaying proxy: WeChat gets the call, the answer comes back too late.

Those notices are recorded `unknown` and staff are told they may not have arrived; the sweeps
that follow never send them again. Losses (an owner neither reached nor reported) and
duplicates (an owner reached twice) are counted over 20 notices and must both be zero.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from sqlalchemy import select

from bot.app import RELAY
from bot.devtools.fake_wechat import FakeWeChatAPI
from storage import outbox
from storage.db import unit_of_work
from storage.events import OwnerNotice
from storage.outbox import OutboxEvent
from tests.conftest import REDIS_URL, Backend, make_settings, start_hub
from tests.faults.proxy import DelayingProxy

CS = "/cgi-bin/message/custom/send"
SLOW = {4, 9, 15}


async def test_notices_that_time_out_after_delivery_are_never_sent_twice(postgres_url: str, fake_wechat: FakeWeChatAPI) -> None:
    openids = [f"o_slow_{uuid.uuid4().hex[:8]}_{i}" for i in range(20)]
    seen: list[str] = []

    def hold(path: str, body: dict[str, Any]) -> float:
        if path != CS or body.get("touser") not in openids:
            return 0.0
        seen.append(body["touser"])
        return 1.0 if len(seen) in SLOW else 0.0  # the 4th, 9th and 15th notice: answer too late

    proxy = DelayingProxy(fake_wechat.base_url, hold=hold)  # type: ignore[attr-defined]
    base = await proxy.start()
    hub = await start_hub(make_settings(Backend("pg+redis", postgres_url, REDIS_URL), fake_wechat,
                                        wechat_api_base=base, outbound_timeout_seconds=0.4), fake_wechat)
    try:
        relay = hub.client.app[RELAY]
        await relay.drain()
        async with unit_of_work(hub.runtime.sessions) as session:
            events = [outbox.emit(session, OwnerNotice(openid=o, text="您预约的保洁已接单，阿姨明天上午九点到。")) for o in openids]
        ids = [e.id for e in events]
        for _ in range(4):  # the kick after the commit, then three 15-second sweeps
            await relay.drain()
        async with hub.runtime.sessions() as session:
            rows = {r.payload["openid"]: r for r in await session.scalars(select(OutboxEvent).where(OutboxEvent.id.in_(ids)))}
            alerts = [e.payload["text"] for e in await session.scalars(
                select(OutboxEvent).where(OutboxEvent.kind == "staff.notify", OutboxEvent.id > max(ids)))]
    finally:
        await hub.client.close()
        await proxy.close()

    reached = Counter(c.body["touser"] for c in fake_wechat.calls_to(CS) if c.body["touser"] in rows)
    unknown = {o for o, r in rows.items() if r.outcome == "unknown"}
    reported = {o for o in unknown if any(o in a and "可能未送达" in a for a in alerts)}
    lost = [o for o in openids if reached[o] == 0 and o not in reported]
    duplicated = [o for o in openids if reached[o] > 1]
    assert (len(lost), len(duplicated)) == (0, 0)
    assert len(unknown) == len(SLOW) and reported == unknown  # each may-not-have-arrived is reported once
    assert len(alerts) == len(SLOW)
    assert all(r.processed_at is not None for r in rows.values())
