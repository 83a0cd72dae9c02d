"""Inquiries through the WeChat path: catalog browser, price, property fee, orders, activities,
FAQ (also in the middle of a form), common-area repairs, push opt-out."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select

from storage import activities, communities, faq
from storage.db import unit_of_work
from storage.orders import Order
from storage.workorders import WorkOrder
from tests.conftest import Hub
from tests.dialogs.conftest import bound_owner, chat, events, owner_row, uid


async def _community_id(hub: Hub, name: str) -> int:
    async with hub.runtime.sessions() as session:
        found = await communities.get_by_name(session=session, name=name)
        assert found is not None
        return found.id


async def test_catalog_browser_from_lines_to_a_price_to_an_order(hub: Hub) -> None:
    me, _ = await bound_owner(hub)
    reply = await me.say("有什么服务")
    assert "8. 教育管家" in reply and "7. 家政管家" in reply
    reply = await me.say("7")
    assert "家政管家包含以下服务" in reply and "1. 钟点工" in reply and "回复数字即可" in reply
    reply = await me.say("钟点工")  # words as well as numbers
    assert "日常保洁" in reply and "约 40 元/小时" in reply and "预约" in reply
    assert "什么时间" in await me.say("预约")
    assert "请确认" in await me.say("后天上午9点")
    assert "下单成功" in await me.say("确认")


async def test_price_fee_orders_and_activities(hub: Hub) -> None:
    stranger = chat(hub)
    assert "先绑定房屋" in await stranger.say("物业费多少钱")
    me, community = await bound_owner(hub)  # 30000 yuan a month over 100 households
    assert "每户每月300元" in await me.say("物业费多少钱")
    assert "约 200 元起" in await me.say("审车多少钱")
    assert "没有进行中的订单" in await me.say("我的订单到哪了")
    await me.say("明天上午想请个阿姨打扫卫生")
    await me.say("1")
    owner = await owner_row(hub, me.openid)
    async with hub.runtime.sessions() as session:
        order = await session.scalar(select(Order).where(Order.owner_id == owner.id))
    assert order is not None
    reply = await me.say("我的订单到哪了")
    assert order.code in reply and "钟点工" in reply and "等待接单" in reply and "商家" not in reply
    title = uid("包饺子活动")
    async with unit_of_work(hub.runtime.sessions) as session:
        await activities.add(session=session, title=title, starts_at=_tomorrow(), place="会所",
                             community_id=await _community_id(hub, community))
    reply = await me.say("最近有什么活动")
    assert title in reply and "会所" in reply


def _tomorrow():  # type: ignore[no-untyped-def]
    from storage.base import utcnow

    return utcnow() + timedelta(days=1)


async def test_faq_is_answered_at_top_level_and_in_the_middle_of_a_form(hub: Hub) -> None:
    me, community = await bound_owner(hub)
    async with unit_of_work(hub.runtime.sessions) as session:
        await faq.replace(session=session, community_id=await _community_id(hub, community), entries=[
            ("停车怎么收费", ["停车"], "地面停车每月 150 元，地库每月 300 元。"),
            ("垃圾怎么投放", ["垃圾"], "每天 7:00–9:00、18:00–20:00 在 3 号楼旁定点投放。"),
        ])
    assert "地库每月 300 元" in await me.say("停车场怎么收费")
    assert "什么时间" in await me.say("我想请个钟点工")
    reply = await me.say("垃圾分类怎么投放")
    assert "定点投放" in reply and reply.rstrip().endswith("“尽快”。")  # answered, then asked again
    reply = await me.say("我的订单到哪了")  # an order-status question mid-form
    assert "没有进行中的订单" in reply and "什么时间" in reply
    assert "请确认" in await me.say("后天上午9点")
    assert "预约已取消" in await me.say("算了")
    owner = await owner_row(hub, me.openid)
    async with hub.runtime.sessions() as session:
        assert await session.scalar(select(Order).where(Order.owner_id == owner.id)) is None


async def test_common_area_problem_becomes_a_work_order_for_staff(hub: Hub) -> None:
    me, _ = await bound_owner(hub)
    assert "您是要报修“楼道灯坏了”吗" in await me.say("楼道灯坏了")
    reply = await me.say("是")
    assert "工单号 W" in reply
    owner = await owner_row(hub, me.openid)
    async with hub.runtime.sessions() as session:
        row = await session.scalar(select(WorkOrder).where(WorkOrder.owner_id == owner.id))
    assert row is not None and row.text == "楼道灯坏了"
    assert [e for e in await events(hub, "staff.notify") if f"W{row.id}" in e["text"] and "楼道灯坏了" in e["text"]]


async def test_push_opt_out_and_back_in(hub: Hub) -> None:
    me = chat(hub)
    assert "不再接收活动和优惠推送吗" in await me.say("不想再收到推送")
    assert not (await owner_row(hub, me.openid)).push_opt_out  # asked, not done
    assert "不再给您推送" in await me.say("确认")
    assert (await owner_row(hub, me.openid)).push_opt_out
    assert "重新接收" in await me.say("恢复推送")
    assert "已恢复推送" in await me.say("1")
    assert not (await owner_row(hub, me.openid)).push_opt_out


async def test_without_an_nlu_backend_keywords_and_numbered_choices_still_work(hub: Hub) -> None:
    hub.runtime.nlu = None  # as when the nlu package is unavailable
    me, _ = await bound_owner(hub)
    assert "回复“菜单”" in await me.say("你好")
    assert "7. 家政管家" in await me.say("菜单")
    assert "1. 钟点工" in await me.say("7")
    assert "约 40 元/小时" in await me.say("1")
    assert "什么时间" in await me.say("预约")
    reply = await me.say("周六上午")  # no time parser: the owner's words go to the merchant
    assert "请确认您的预约：钟点工" in reply and "周六上午" in reply
    assert "下单成功" in await me.say("1")
    owner = await owner_row(hub, me.openid)
    async with hub.runtime.sessions() as session:
        order = await session.scalar(select(Order).where(Order.owner_id == owner.id))
    assert order is not None and order.scheduled_at is None and "时间：周六上午" in order.notes


async def test_wechat_menu_is_installed_and_its_buttons_work(hub: Hub, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import asyncio
    import os
    import sys
    from pathlib import Path

    env = {**os.environ, "BUTLER_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'm.db'}",
           "BUTLER_WECHAT_API_BASE": hub.settings.wechat_api_base, "BUTLER_WECHAT_APP_ID": "wx1",
           "BUTLER_WECHAT_APP_SECRET": "s"}
    proc = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("butler")), "content", "wechat-menu", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    [call] = hub.fake_wechat.calls_to("/cgi-bin/menu/create")
    keys = {b.get("key") for top in call.body["button"] for b in [top, *top.get("sub_button", [])]} - {None}
    assert keys == {"SERVICES", "ORDERS", "BIND", "SURVEY", "ACTIVITIES", "HUMAN"}
    me, _ = await bound_owner(hub)
    now = int(time.time())
    assert "没有进行中的订单" in await me.event("CLICK", "ORDERS", at=now)
    # (WeChat dedupes events by sender+CreateTime+Event, so the next click is a second later.)
    assert "8. 教育管家" in await me.event("CLICK", "SERVICES", at=now + 1)
