"""45009 (the daily API quota) mid-broadcast, and sends that time out after reaching WeChat.

The broadcast pauses with everyone left still pending, the sender hears of it once, and it goes on
by itself when the quota window resets. Timed-out sends are `unknown`, never failed or resent.
Counted over every recipient: losses (no message and not accounted as unknown) and duplicates.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.app import SERVICES
from bot.devtools.fake_wechat import FakeWeChatAPI, RecordedCall
from storage.base import aware, utcnow
from storage.broadcasts import Broadcast
from tests.broadcasts.kit import (
    add_owner,
    deliveries,
    latest_broadcast_id,
    make_place,
    outbox_events,
    say,
    wait_broadcast,
)
from tests.conftest import REDIS_URL, Backend, Hub, make_settings, start_hub
from tests.faults.proxy import DelayingProxy

CS = "/cgi-bin/message/custom/send"
TEXT = "物业通知：本周六上午停水检修，请提前储水"
OWNERS, QUOTA_AT, SLOW = 30, 12, {3, 6, 9}  # the 12th send hits the quota; sends 3, 6, 9 time out


@pytest.fixture
async def quota_hub(postgres_url: str, fake_wechat: FakeWeChatAPI) -> AsyncIterator[Hub]:
    seen: list[str] = []

    def hold(path: str, body: dict[str, Any]) -> float:
        if path != CS or body.get("text", {}).get("content") != TEXT:
            return 0.0
        seen.append(body["touser"])
        return 1.2 if len(seen) in SLOW else 0.0  # the 3rd, 6th and 9th send: answer too late

    proxy = DelayingProxy(fake_wechat.base_url, hold=hold)  # type: ignore[attr-defined]
    base = await proxy.start()
    settings = make_settings(Backend("pg+redis", postgres_url, REDIS_URL), fake_wechat, wechat_api_base=base,
                             outbound_timeout_seconds=0.5, broadcast_rate_per_second=200)
    hub = await start_hub(settings, fake_wechat)
    yield hub
    await hub.client.close()
    await proxy.close()


async def test_45009_pauses_the_broadcast_and_it_resumes_when_the_quota_resets(
    quota_hub: Hub, fake_wechat: FakeWeChatAPI
) -> None:
    hub = quota_hub
    place = await make_place(hub)
    for i in range(OWNERS):
        await add_owner(hub, place, f"w{i}", building="7", window_open=True)  # all by customer-service message

    refused: list[str] = []  # calls WeChat answered with 45009 (they delivered nothing)
    exhausted = [False]

    def quota(call: RecordedCall) -> None:
        if call.path != CS or call.body.get("text", {}).get("content") != TEXT:
            return
        if len([c for c in fake_wechat.calls_to(CS) if c.body["text"]["content"] == TEXT]) == QUOTA_AT:
            fake_wechat.fail(CS, 45009, times=10_000)  # used up for the rest of the day
            exhausted[0] = True
        if exhausted[0]:
            refused.append(call.body["touser"])

    fake_wechat.listeners.append(quota)
    await say(hub, place.staff_openid, f"/broadcast 小区={place.community} 楼栋=7 | {TEXT}")
    assert "已开始发送" in await say(hub, place.staff_openid, "确认")
    bid = await latest_broadcast_id(hub, place.staff_id)
    sender = hub.client.app[SERVICES].sender
    for _ in range(3):  # the scheduler ticks on; a paused broadcast sends nothing
        await sender.run_once()
    async with hub.runtime.sessions() as session:
        paused = await session.get(Broadcast, bid)
        assert paused is not None
    rows = await deliveries(hub, bid)
    status = Counter(d.status for d in rows.values())
    assert paused.status == "sending" and paused.paused_until is not None and paused.pause_reason == "45009"
    assert status == {"sent": QUOTA_AT - 1 - len(SLOW), "unknown": len(SLOW), "pending": OWNERS - QUOTA_AT + 1}, status
    # Resumes at the start of the next quota day (local midnight), not before.
    resumes = aware(paused.paused_until).astimezone(ZoneInfo(hub.settings.tz))
    assert resumes > utcnow() and (resumes.hour, resumes.minute) == (0, 0)
    calls_while_paused = len([c for c in fake_wechat.calls_to(CS) if c.body["text"]["content"] == TEXT])

    # The quota window resets: WeChat accepts again, and the next ticks finish the broadcast.
    fake_wechat.clear_faults(CS)
    exhausted[0] = False
    sender.clock = lambda: utcnow() + timedelta(days=1)
    done = await wait_broadcast(hub, bid)
    assert calls_while_paused == QUOTA_AT  # the paused ticks made no calls at all

    # What reached owners: every call WeChat accepted (the slow ones included: they arrived).
    reached = Counter(c.body["touser"] for c in fake_wechat.calls_to(CS) if c.body["text"]["content"] == TEXT)
    reached.subtract(Counter(refused))
    lost = [o for o in place.owners.values() if reached[o] == 0]
    duplicated = [o for o in place.owners.values() if reached[o] > 1]
    assert (len(lost), len(duplicated)) == (0, 0)
    assert len(refused) == 1  # one call hit the quota; none was made while paused
    rows = await deliveries(hub, bid)
    assert Counter(d.status for d in rows.values()) == {"sent": OWNERS - len(SLOW), "unknown": len(SLOW)}
    assert done.totals["status"].get("failed", 0) == 0
    # The timed-out ones reached WeChat exactly once each and were never sent again.
    assert all(reached[o] == 1 for o, d in rows.items() if d.status == "unknown")

    # The sender was told once of the pause, and the final report accounts for the unknown ones.
    await hub.client.app[SERVICES].relay.drain()
    texts_to_staff = [p["text"] for p in await outbox_events(hub, "owner.notify", openid=place.staff_openid)]
    assert sum("已暂停" in t for t in texts_to_staff) == 1, texts_to_staff
    assert any(f"广播 #{bid} 已发送完毕" in t and "可能未送达" in t for t in texts_to_staff)


MASS = "/cgi-bin/message/mass/send"


async def test_a_mass_send_timing_out_after_delivery_is_repeated_only_with_its_clientmsgid(
    postgres_url: str, fake_wechat: FakeWeChatAPI
) -> None:
    mass_calls: list[str] = []

    def hold(path: str, body: dict[str, Any]) -> float:
        if path != MASS or body.get("text", {}).get("content") != "本周末社区集市，欢迎光临":
            return 0.0
        mass_calls.append(body["clientmsgid"])
        return 1.2 if len(mass_calls) == 2 else 0.0  # the second batch's answer comes too late

    proxy = DelayingProxy(fake_wechat.base_url, hold=hold)  # type: ignore[attr-defined]
    base = await proxy.start()
    hub = await start_hub(make_settings(Backend("pg+redis", postgres_url, REDIS_URL), fake_wechat, wechat_api_base=base,
                                        outbound_timeout_seconds=0.5, broadcast_rate_per_second=200,
                                        broadcast_mass_batch=5), fake_wechat)
    try:
        place = await make_place(hub)
        for i in range(15):  # out of the customer-service window: openid-list mass sends of 5
            await add_owner(hub, place, f"m{i}", building="8")
        await say(hub, place.staff_openid, f"/broadcast 小区={place.community} 楼栋=8 类型=营销 | 本周末社区集市，欢迎光临")
        await say(hub, place.staff_openid, "确认")
        bid = await latest_broadcast_id(hub, place.staff_id)
        done = await wait_broadcast(hub, bid)
        rows = await deliveries(hub, bid)
    finally:
        await hub.client.close()
        await proxy.close()

    calls = [c.body for c in fake_wechat.calls_to(MASS) if c.body["touser"][0] in rows]
    assert len(calls) == 4 and len({c["clientmsgid"] for c in calls}) == 3  # the timed-out one, once more
    accepted: dict[str, list[str]] = {}
    for body in calls:  # WeChat acts on a clientmsgid once; a repeat is refused with 45065
        accepted.setdefault(body["clientmsgid"], body["touser"])
    reached = Counter(o for touser in accepted.values() for o in touser)
    lost = [o for o in place.owners.values() if reached[o] == 0]
    duplicated = [o for o in place.owners.values() if reached[o] > 1]
    assert (len(lost), len(duplicated)) == (0, 0)
    assert done.totals["status"] == {"sent": 15}
