"""Staff over WeCom: a hand-off alert reaches them in the app, their reply reaches the owner (issue 17)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from sqlalchemy import update

from bot.app import RELAY, SERVICES
from storage import outbox, staff
from storage.base import utcnow
from storage.db import unit_of_work
from storage.events import StaffAlert
from storage.owners import Owner
from tests.telegram.conftest import make_world, wechat_to
from tests.wecom.conftest import WcHub


async def test_a_handoff_round_trip_over_wecom(wc_hub: WcHub) -> None:
    from dialogs import handoff, texts

    hub, fake = wc_hub.hub, wc_hub.fake
    world = await make_world(hub)
    userid, outsider = f"kefu{uuid.uuid4().hex[:8]}", f"other{uuid.uuid4().hex[:8]}"
    async with unit_of_work(hub.runtime.sessions) as session:
        member = await session.get(staff.Staff, world.staff_id)
        assert member is not None
        member.wecom_userid = userid
        await staff.create(session=session, name="别的小区客服", wecom_userid=outsider)  # no communities: out of scope
        owner = await session.get(Owner, world.owner_id)
        assert owner is not None
        owner.last_message_at = utcnow()  # inside WeChat's 48-hour window
        await handoff.open_handoff(session=session, owner=owner, reason="human_agent")
    await hub.client.app[RELAY].drain()

    (alert,) = [c for c in fake.sent_to(userid) if f"#{world.owner_id}" in c.text]
    assert "直接回复本应用即答复业主" in alert.text
    assert "直接回复本消息" not in alert.text and alert.text.count("答复业主") == 1  # said once, the WeCom way
    # Staff outside the owner's community may be alerted (the event names none) but cannot answer.
    if fake.sent_to(outsider):
        assert await wc_hub.say(outsider, "我来回复") == 200
        assert fake.sent_to(outsider)[-1].text == texts.STAFF_OUT_OF_SCOPE

    assert await wc_hub.say(userid, "您好，我是客服小李，师傅下午两点上门。") == 200
    assert wechat_to(hub.fake_wechat, world.owner_openid) == ["您好，我是客服小李，师傅下午两点上门。"]
    assert fake.sent_to(userid)[-1].text == "已转发给业主。"
    assert await wc_hub.say(userid, "本小区零物业费") == 200  # the guard answers staff, not the owner
    assert "未转发" in fake.sent_to(userid)[-1].text
    assert await wc_hub.say(userid, "结束") == 200
    assert wechat_to(hub.fake_wechat, world.owner_openid)[-1] == texts.HANDOFF_CLOSED
    assert fake.sent_to(userid)[-1].text == "已结束人工服务。"
    # With no hand-off pending, a text is not relayed anywhere.
    assert await wc_hub.say(userid, "还在吗") == 200
    assert len(wechat_to(hub.fake_wechat, world.owner_openid)) == 2


async def _wecom_staff(wc: WcHub, community_id: int, n: int) -> list[str]:
    userids = [f"kf{uuid.uuid4().hex[:10]}" for _ in range(n)]
    async with unit_of_work(wc.hub.runtime.sessions) as session:
        from storage.communities import Community

        community = await session.get(Community, community_id)
        for i, userid in enumerate(userids):
            await staff.create(session=session, name=f"客服{i}", wecom_userid=userid,
                               communities=[community] if community else [])
    return userids


async def test_the_daily_report_alert_brings_its_chart(wc_hub: WcHub, tmp_path: Path) -> None:
    world = await make_world(wc_hub.hub)
    (userid,) = await _wecom_staff(wc_hub, world.community_id, 1)
    chart = tmp_path / "daily.png"
    chart.write_bytes(b"\x89PNG" + b"0" * 2048)
    async with unit_of_work(wc_hub.hub.runtime.sessions) as session:
        outbox.emit(session, StaffAlert(text="【日报】昨日订单 3 单", community_id=world.community_id,
                                        photo_path=str(chart)))
    await wc_hub.hub.client.app[RELAY].drain()
    sent = wc_hub.fake.sent_to(userid)
    assert [c.body["msgtype"] for c in sent] == ["image", "text"] and sent[1].text == "【日报】昨日订单 3 单"


async def test_a_rate_limited_alert_waits_and_reaches_everyone_once(wc_hub: WcHub) -> None:
    hub, fake = wc_hub.hub, wc_hub.fake
    world = await make_world(hub)
    async with unit_of_work(hub.runtime.sessions) as session:  # the scoped member is on WeChat too
        await session.execute(update(staff.Staff).where(staff.Staff.id == world.staff_id).values(openid=f"s-{uuid.uuid4().hex[:8]}"))
        member = await session.get(staff.Staff, world.staff_id)
        assert member is not None
        openid = member.openid
    first, second, third = await _wecom_staff(wc_hub, world.community_id, 3)
    client = hub.client.app[SERVICES].merchants.wecom.client
    client.pause_seconds = 0.3
    text = f"【投诉】业主反映电梯故障 {uuid.uuid4().hex[:6]}"
    fake.fail_to(second, 45033)  # WeCom: too many concurrent calls, for the second member
    async with unit_of_work(hub.runtime.sessions) as session:
        outbox.emit(session, StaffAlert(text=text, community_id=world.community_id))
    relay = hub.client.app[RELAY]
    await relay.drain()
    assert [c.text for c in fake.sent_to(first)] == [text] and fake.sent_to(third) == []  # paused, not dropped
    rows = await _rows(hub, text)
    assert [(r.processed_at, r.attempts) for r in rows] == [(None, 0)]  # still pending, no attempt used
    await asyncio.sleep(0.4)
    await relay.drain()
    for userid in (first, second, third):
        assert [c.text for c in fake.sent_to(userid) if c.body.get("msgtype") == "text"][-1:] == [text]
    assert len([c for c in fake.sent_to(first)]) == 1  # the one reached before the pause is not sent it again
    wechat = [c for c in hub.fake_wechat.calls_to("/cgi-bin/message/custom/send") if c.body.get("touser") == openid]
    assert len(wechat) == 1  # the WeChat copy was not repeated by the retry
    assert (await _rows(hub, text))[0].processed_at is not None


async def _rows(hub: object, text: str) -> list[outbox.OutboxEvent]:
    from sqlalchemy import select

    async with hub.runtime.sessions() as session:  # type: ignore[attr-defined]
        rows = await session.scalars(select(outbox.OutboxEvent).where(outbox.OutboxEvent.kind == "staff.notify"))
        return [r for r in rows if r.payload.get("text") == text]


async def test_a_text_with_nothing_pending_gets_the_hello_that_fits_who_typed(wc_hub: WcHub) -> None:
    """The merchants' hello promises order cards: staff and unregistered members get their own."""
    from bot.wecom.merchants import HELLO, STAFF_HELLO, UNREGISTERED
    from tests.wecom.conftest import wecom_world

    hub, fake = wc_hub.hub, wc_hub.fake
    world, merchant_ids = await wecom_world(hub, ["张师傅"])
    kefu, stranger = f"kefu{uuid.uuid4().hex[:8]}", f"nobody{uuid.uuid4().hex[:8]}"
    async with unit_of_work(hub.runtime.sessions) as session:
        member = await session.get(staff.Staff, world.staff_id)
        assert member is not None
        member.wecom_userid = kefu
    for userid, expected in ((merchant_ids["张师傅"], HELLO), (kefu, STAFF_HELLO), (stranger, UNREGISTERED)):
        assert await wc_hub.say(userid, "你好") == 200
        assert fake.sent_to(userid)[-1].text == expected, userid
    assert "卡片" not in STAFF_HELLO + UNREGISTERED and "零物业费" not in STAFF_HELLO + UNREGISTERED
