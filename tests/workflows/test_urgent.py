"""Urgent reports (issue 13 item 6): the 24-hour phone first, an urgent work order, a repeating alert."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from dialogs.workflows import urgent_kind
from storage.communities import Community
from storage.owners import Owner
from storage.workorders import WorkOrder
from tests import subproc
from tests.broadcasts.kit import add_owner, make_place, say, uid
from tests.conftest import Hub
from tests.telegram.conftest import TgHub, make_world
from tests.workflows.conftest import COMPANY_HOTLINE
from tests.workflows.kit import drain, latest_work_order, new_alerts, staff_chat_with, staff_says

BUTLER = str(Path(sys.executable).with_name("butler"))


async def abutler(args: list[str], url: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"BUTLER_DATABASE_URL": url}
    return await subproc.run([BUTLER, *args], capture_output=True, text=True, env=env, timeout=120)


async def _community_name(hub: Hub, community_id: int) -> str:
    async with hub.runtime.sessions() as session:
        row = await session.get(Community, community_id)
        assert row is not None
        return row.name


async def test_people_trapped_get_the_hotline_first_and_staff_an_alert_that_repeats_until_acknowledged(tg: TgHub) -> None:
    hub = tg.hub
    world = await make_world(hub)
    name = await _community_name(hub, world.community_id)
    done = (await abutler(["community", "set", name, "--hotline", "0571-8888 6666"], hub.settings.database_url))
    assert done.returncode == 0, done.stderr

    reply = await say(hub, world.owner_openid, "电梯卡住了有人被困")
    row = await latest_work_order(hub, world.owner_id)
    assert reply.startswith("请立即拨打物业24小时值班电话 0571-88886666。")
    assert "警铃" in reply and f"工单号 W{row.id}" in reply
    assert "谢谢" not in reply and "！" not in reply and "!" not in reply
    assert row.kind == "urgent" and row.status == "open"
    await drain(hub)
    assert len(staff_chat_with(tg, f"🚨【紧急工单 W{row.id}】")) == 1

    assert await new_alerts(tg, 2, f"W{row.id} ") == 0
    assert await new_alerts(tg, 6, f"紧急工单 W{row.id} 仍未受理") == 1
    assert await new_alerts(tg, 7, f"W{row.id} ") == 0  # one repeat per interval, not per tick
    assert await new_alerts(tg, 12, f"紧急工单 W{row.id} 仍未受理") == 1
    assert len(staff_chat_with(tg, f"紧急工单 W{row.id} 仍未受理")) == 2

    assert f"已受理工单 W{row.id}" in await staff_says(tg, world, f"/wo_ack W{row.id}")
    assert await new_alerts(tg, 30, f"W{row.id} ") == 0  # acknowledged: the alert stops
    assert len(staff_chat_with(tg, f"紧急工单 W{row.id} 仍未受理")) == 2


async def test_an_emergency_inside_a_form_is_answered_and_the_form_waits(tg: TgHub) -> None:
    hub = tg.hub
    world = await make_world(hub)
    assert "时间" in await say(hub, world.owner_openid, "我想请个钟点工")
    reply = await say(hub, world.owner_openid, "厨房着火了冒烟了")
    assert reply.startswith(f"请立即拨打物业24小时值班电话 {COMPANY_HOTLINE}。")  # no community hotline: company's
    assert "119" in reply
    assert "请确认" in await say(hub, world.owner_openid, "后天上午9点")  # the order form carries on


async def test_an_owner_not_yet_bound_gets_the_company_hotline_and_a_repeat_reuses_the_work_order(tg: TgHub) -> None:
    hub = tg.hub
    openid = f"o-unbound-{uid()}"
    first = await say(hub, openid, "水管爆了家里淹了快来人")
    assert first.startswith(f"请立即拨打物业24小时值班电话 {COMPANY_HOTLINE}。") and "总水阀" in first
    again = await say(hub, openid, "家里被淹了，水到脚踝了")
    async with hub.runtime.sessions() as session:
        owner_id = await session.scalar(select(Owner.id).where(Owner.openid == openid))
        rows = list(await session.scalars(select(WorkOrder).where(WorkOrder.owner_id == owner_id)))
    assert len(rows) == 1 and rows[0].kind == "urgent"  # the same emergency keeps its work order
    assert f"工单号 W{rows[0].id}" in first and f"工单号 W{rows[0].id}" in again
    await drain(hub)
    assert len(staff_chat_with(tg, f"W{rows[0].id}")) == 2  # the owner's new words reached staff too


@pytest.mark.parametrize("text, kind", [
    ("电梯卡住了有人被困！", "trapped"), ("電梯壞了，困人了快來", "trapped"), ("楼下好像有煤气味", "gas"),
    ("闻到燃气泄漏的味道", "gas"), ("楼道里冒烟了", "fire"), ("水管爆了家里淹了快来人", "water"),
    ("没有人被困，就是电梯按钮不亮", None), ("这个月煤气费多少", None), ("楼道灯坏了", None), ("我想请人打扫卫生", None),
])
def test_the_rule_recognises_emergencies_and_not_their_negation(text: str, kind: str | None) -> None:
    assert urgent_kind(text) == kind


async def test_a_bad_hotline_is_refused_in_one_line(hub: Hub) -> None:
    place = await make_place(hub)
    await add_owner(hub, place, "x")
    done = (await abutler(["community", "set", place.community, "--hotline", "call us"], hub.settings.database_url))
    assert done.returncode != 0 and len(done.stderr.strip().splitlines()) == 1 and "hotline" in done.stderr
