"""A broadcast through the real WeChat path: segment, preview, confirm, channel per owner, caps."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.app import SERVICES
from storage.broadcasts import Broadcast
from tests.broadcasts.kit import (
    add_owner,
    cs_texts_to,
    deliveries,
    latest_broadcast_id,
    make_place,
    mass_calls_with,
    say,
    wait_broadcast,
)
from tests.conftest import Hub, make_settings, start_hub

OFFER = "本周六上午小区洗车八折，回复「洗车」预约"


async def _ten_owners(hub: Hub):  # type: ignore[no-untyped-def]
    place = await make_place(hub)
    # The segment 楼栋=3 标签=有车 matches exactly these three.
    await add_owner(hub, place, "talking", building="3", tags=("有车",), window_open=True)
    await add_owner(hub, place, "quiet1", building="3", tags=("有车",))
    await add_owner(hub, place, "quiet2", building="3", tags=("有车", "有狗"))
    # Seven who don't match: other buildings, no car, or both.
    for i in range(4):
        await add_owner(hub, place, f"b5-{i}", building="5", tags=("有车",), window_open=True)
    for i in range(3):
        await add_owner(hub, place, f"nocar-{i}", building="3")
    return place


async def test_segment_preview_confirm_channels_and_daily_cap(hub: Hub) -> None:
    place = await _ten_owners(hub)
    o = place.owners
    preview = await say(hub, place.staff_openid, f"/broadcast 小区={place.community} 楼栋=3 标签=有车 | {OFFER}")
    assert "将发送 3 人" in preview, preview
    assert "客服消息 1" in preview and "群发 2" in preview
    assert "回复「确认」" in preview
    # Nothing goes out before the confirmation.
    assert cs_texts_to(hub, o["talking"]) == [] and mass_calls_with(hub, o["quiet1"]) == []

    started = await say(hub, place.staff_openid, "确认")
    assert "已开始发送" in started
    bid = await latest_broadcast_id(hub, place.staff_id)
    done = await wait_broadcast(hub, bid)
    assert done.totals["status"] == {"sent": 3}

    # The right channel per owner: CS inside the 48-hour window, one openid-list mass send otherwise.
    assert cs_texts_to(hub, o["talking"]) == [OFFER]
    [mass] = mass_calls_with(hub, o["quiet1"])
    assert sorted(mass["touser"]) == sorted([o["quiet1"], o["quiet2"]])
    assert mass["clientmsgid"] == f"bc{bid}-m1"
    for label, openid in o.items():
        if label.startswith(("b5", "nocar")):
            assert cs_texts_to(hub, openid) == [] and mass_calls_with(hub, openid) == []
    rows = await deliveries(hub, bid)
    assert {k: (v.channel, v.status) for k, v in rows.items()} == {
        o["talking"]: ("cs", "sent"), o["quiet1"]: ("mass", "sent"), o["quiet2"]: ("mass", "sent"),
    }
    # The finish report goes back to the sender on WeChat.
    await hub.client.app[SERVICES].relay.drain()
    [report] = cs_texts_to(hub, place.staff_openid)
    assert f"广播 #{bid} 已发送完毕" in report and "成功 3" in report

    # A second marketing push the same day is capped: previewed as skipped, and nothing is sent.
    preview2 = await say(hub, place.staff_openid, f"/broadcast 小区={place.community} 楼栋=3 标签=有车 | 周日再送一次")
    assert "将发送 0 人" in preview2 and "今日已收到营销推送 3" in preview2, preview2
    await say(hub, place.staff_openid, "确认")
    bid2 = await latest_broadcast_id(hub, place.staff_id)
    done2 = await wait_broadcast(hub, bid2)
    assert done2.totals["skipped"] == {"daily_cap": 3}
    assert cs_texts_to(hub, o["talking"]) == [OFFER]
    assert len(mass_calls_with(hub, o["quiet1"])) == 1


async def test_notices_use_templates_and_are_not_capped_opted_out_owners_get_no_marketing(backend, fake_wechat) -> None:  # type: ignore[no-untyped-def]
    hub = await start_hub(make_settings(backend, fake_wechat, wechat_template_notice="TPL-NOTICE"), fake_wechat)
    try:
        place = await make_place(hub)
        a = await add_owner(hub, place, "a", window_open=True)
        b = await add_owner(hub, place, "b")
        out = await add_owner(hub, place, "out", opted_out=True, window_open=True)
        gone = await add_owner(hub, place, "gone", following=False)
        preview = await say(hub, place.staff_openid, f"/broadcast 小区={place.community} | 今晚小区团购开抢")
        assert "将发送 2 人" in preview and "已退订推送 1" in preview and "未关注公众号 1" in preview, preview
        await say(hub, place.staff_openid, "确认")
        await wait_broadcast(hub, await latest_broadcast_id(hub, place.staff_id))
        assert cs_texts_to(hub, out) == []

        notice = await say(hub, place.staff_openid, f"/broadcast 小区={place.community} 类型=通知 原因=停水 | 明天上午9点到11点停水")
        assert "（通知）" in notice and "模板消息 3" in notice, notice
        await say(hub, place.staff_openid, "确认")
        bid = await latest_broadcast_id(hub, place.staff_id)
        await wait_broadcast(hub, bid)
        templates = hub.fake_wechat.calls_to("/cgi-bin/message/template/send")
        assert sorted(c.body["touser"] for c in templates) == sorted([a, b, out])
        assert all(c.body["template_id"] == "TPL-NOTICE" for c in templates)
        assert (await deliveries(hub, bid))[gone].reason == "not_following"
    finally:
        await hub.client.close()


async def test_discarding_a_preview_sends_nothing(hub: Hub) -> None:
    place = await make_place(hub)
    a = await add_owner(hub, place, "a", window_open=True)
    await say(hub, place.staff_openid, f"/broadcast 小区={place.community} | 试一下")
    assert "已放弃" in await say(hub, place.staff_openid, "取消")
    async with hub.runtime.sessions() as session:
        n = await session.scalar(select(func.count()).select_from(Broadcast).where(
            Broadcast.staff_id == place.staff_id, Broadcast.status == "cancelled"))
    assert n == 1
    assert cs_texts_to(hub, a) == []


async def test_a_building_broadcast_reaches_only_owners_verified_to_live_there(hub: Hub) -> None:
    """A claim staff have not checked, or a binding left half-way, names a place nobody checked:
    those owners hear the community's broadcasts only when they target the community, never a
    building's (相关信息只发给相关业主)."""
    from sqlalchemy import update

    from storage.db import unit_of_work
    from storage.owners import BindingStatus, Owner

    place = await make_place(hub)
    resident = await add_owner(hub, place, "resident", building="7", window_open=True)
    claimant = await add_owner(hub, place, "claimant", building="7", window_open=True)
    halfway = await add_owner(hub, place, "halfway", building="7", window_open=True, bound=False)
    async with unit_of_work(hub.runtime.sessions) as session:
        await session.execute(update(Owner).where(Owner.openid == claimant).values(binding_status=BindingStatus.PENDING))
    preview = await say(hub, place.staff_openid, f"/broadcast 小区={place.community} 楼栋=7 类型=通知 原因=停水 | 7号楼明天上午停水")
    assert "将发送 1 人" in preview, preview
    await say(hub, place.staff_openid, "确认")
    done = await wait_broadcast(hub, await latest_broadcast_id(hub, place.staff_id))
    assert done.totals["status"] == {"sent": 1}
    assert cs_texts_to(hub, resident) == ["7号楼明天上午停水"]
    assert cs_texts_to(hub, claimant) == [] and cs_texts_to(hub, halfway) == []
