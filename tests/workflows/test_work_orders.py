"""Work orders have a life: open → acknowledged → (assigned) → done, or rejected; SLA re-alerts.

Through the WeChat path (owner) and the fake Telegram staff chat (staff commands, alerts).
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.devtools.wechat_sender import text_xml
from storage import staff
from storage.communities import Community
from storage.db import unit_of_work
from storage.workorders import WorkOrder
from tests.broadcasts.kit import add_owner, make_place, say
from tests.conftest import Hub
from tests.telegram.conftest import TgHub, make_world
from tests.workflows.kit import (
    drain,
    latest_complaint,
    latest_work_order,
    new_alerts,
    owner_says,
    owner_texts,
    staff_chat_with,
    staff_says,
)


async def test_a_work_order_goes_open_acknowledged_done_owner_told_twice_with_one_overdue_realert(tg: TgHub) -> None:
    hub = tg.hub
    world = await make_world(hub)
    reply = await owner_says(hub, world.owner_openid, "3号楼楼道灯坏了，晚上黑乎乎的")
    row = await latest_work_order(hub, world.owner_id)
    assert f"工单号 W{row.id}" in reply and "30分钟内" in reply and "！" not in reply
    await drain(hub)
    assert len(staff_chat_with(tg, f"【物业报修 W{row.id}】")) == 1

    assert await new_alerts(tg, 10, f"W{row.id} ") == 0  # within the 30 minutes: nothing to say
    assert await new_alerts(tg, 31, f"工单 W{row.id} 超时未受理") == 1
    assert await new_alerts(tg, 45, f"W{row.id} ") == 0  # re-alerted once, not on every tick
    assert len(staff_chat_with(tg, f"工单 W{row.id} 超时未受理")) == 1

    answer = await staff_says(tg, world, f"/wo_ack W{row.id}")
    assert f"已受理工单 W{row.id}" in answer
    await drain(hub)
    told = owner_texts(hub, world.owner_openid, f"W{row.id}")
    assert len(told) == 1 and "已受理" in told[0] and "24小时内" in told[0]
    assert "未做改动" in await staff_says(tg, world, f"/wo_ack {row.id}")  # the second press changes nothing
    assert await new_alerts(tg, 90, f"W{row.id} ") == 0  # acknowledged: no more acknowledgement alerts

    answer = await staff_says(tg, world, f"/wo_done W{row.id} 已更换3号楼2层楼道灯")
    assert "已完成" in answer
    await drain(hub)
    told = owner_texts(hub, world.owner_openid, f"W{row.id}")
    assert len(told) == 2 and "已更换3号楼2层楼道灯" in told[1] and "打分" in told[1]

    assert "谢谢您的评分" in await say(hub, world.owner_openid, "5")
    done = await latest_work_order(hub, world.owner_id)
    assert done.status == "done" and done.rating == 5 and done.acknowledged_at is not None
    assert done.closed_by_staff_id == world.staff_id
    assert await new_alerts(tg, 60 * 25, f"W{row.id} ") == 0  # done: the 24-hour deadline no longer applies


async def test_a_fix_nobody_finishes_in_24_hours_is_realerted_once_naming_who_holds_it(tg: TgHub) -> None:
    hub = tg.hub
    world = await make_world(hub)
    await owner_says(hub, world.owner_openid, "小区大门的门禁坏了，刷卡进不去")
    row = await latest_work_order(hub, world.owner_id)
    async with unit_of_work(hub.runtime.sessions) as session:
        fixer = await staff.create(session=session, name=f"王师傅{row.id}", openid=f"fixer-{row.id}",
                                   communities=[await session.get(Community, world.community_id)])  # type: ignore[list-item]
    assert f"指派给 {fixer.name}" in await staff_says(tg, world, f"/wo_assign W{row.id} {fixer.name}")
    await drain(hub)
    assert owner_texts(hub, world.owner_openid, f"W{row.id}")[0].startswith(f"您的报修（工单号 W{row.id}）管家已受理")
    assert await new_alerts(tg, 60 * 24 + 1, f"工单 W{row.id} 超时未完成") == 1
    alert = staff_chat_with(tg, f"工单 W{row.id} 超时未完成")
    assert len(alert) == 1 and fixer.name in alert[0]
    assert await new_alerts(tg, 60 * 24 + 30, f"W{row.id} ") == 0


async def test_rejecting_tells_the_owner_why_and_listing_filters_by_state(tg: TgHub) -> None:
    hub = tg.hub
    world = await make_world(hub)
    await owner_says(hub, world.owner_openid, "电梯按钮不亮了")
    row = await latest_work_order(hub, world.owner_id)
    listed = await staff_says(tg, world, "/workorders 待受理")
    assert f"W{row.id} 待受理" in listed
    assert "请写工单号和原因" in await staff_says(tg, world, f"/wo_reject W{row.id}")
    assert "不受理" in await staff_says(tg, world, f"/wo_reject W{row.id} 电梯由电梯公司维保，已转告其热线")
    await drain(hub)
    (told,) = owner_texts(hub, world.owner_openid, f"W{row.id}")
    assert "电梯由电梯公司维保" in told and "人工" in told
    assert f"W{row.id}" not in await staff_says(tg, world, "/workorders")  # closed ones leave the default list
    assert f"W{row.id} 不受理" in await staff_says(tg, world, "/workorders 全部")
    assert "不认识的状态" in await staff_says(tg, world, "/workorders 随便")
    assert "没有工单 W999999" in await staff_says(tg, world, "/wo_ack W999999")


async def test_staff_act_only_in_their_communities_and_two_presses_decide_once(hub: Hub) -> None:
    place = await make_place(hub)
    other = await make_place(hub)
    owner = await add_owner(hub, place, "wo", window_open=True)
    await owner_says(hub, owner, "楼道里的灯坏了好几天了")
    async with hub.runtime.sessions() as session:
        row = await session.scalar(select(WorkOrder).where(WorkOrder.community_id == place.community_id))
        assert row is not None
    assert "无权" in await say(hub, other.staff_openid, f"/wo_ack W{row.id}")

    async def ack(openid: str) -> str:
        status, reply = await hub.post(text_xml(openid, f"/wo_ack W{row.id}"))
        assert status == 200
        return reply.get("Content", "")

    answers = await asyncio.gather(ack(place.staff_openid), ack(place.admin_openid))
    assert sum("已受理工单" in a for a in answers) == 1, answers
    await drain(hub)
    assert len(owner_texts(hub, owner, f"W{row.id}")) == 1  # the owner is told once


async def test_a_low_rating_of_a_fix_becomes_a_complaint_the_owner_hears_the_end_of(tg: TgHub) -> None:
    hub = tg.hub
    world = await make_world(hub)
    await owner_says(hub, world.owner_openid, "地下车库的灯坏了一排")
    row = await latest_work_order(hub, world.owner_id)
    await staff_says(tg, world, f"/wo_done W{row.id} 已更换灯管")
    reply = await say(hub, world.owner_openid, "2")
    complaint = await latest_complaint(hub, world.owner_id)
    assert f"投诉编号 T{complaint.id}" in reply and f"W{row.id}" in reply and "30分钟内" in reply
    assert f"W{row.id}" in complaint.text and complaint.order_id is None
    await say(hub, world.owner_openid, "1")  # a second answer rates nothing more
    assert (await latest_work_order(hub, world.owner_id)).rating == 2
    assert "已结案" in await staff_says(tg, world, f"/close_complaint T{complaint.id} 已补装两盏灯并上门致歉")
    await drain(hub)
    assert any("已补装两盏灯" in t for t in owner_texts(hub, world.owner_openid, f"T{complaint.id}"))


async def test_bad_command_input_gets_a_clear_answer_not_an_error(hub: Hub) -> None:
    place = await make_place(hub)
    for text, expected in (
        ("/wo_ack W123456789012345678901234567890", "工单号写成"),
        ("/wo_ack", "请写工单号"),
        ("/wo_done W1", "请写工单号和处理说明"),
        ("/wo_assign W1", "请写工单号和员工"),
        ("/wo_assign W1 99999999999999999999", "没有员工"),
        ("/complaint_ack T999999999999999999999", "投诉编号写成"),
        ("/close_complaint T1 已处理 赔偿 -5 商家", "赔偿金额写成"),
        ("/close_complaint T1 已处理 赔偿 5 邻居", "赔偿由谁承担"),
    ):
        assert expected in await say(hub, place.staff_openid, text), text
