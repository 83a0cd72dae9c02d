"""WeChat menu buttons (CLICK events): each press is a new command, never an answer to the list or
question the owner was looking at, whether that is the catalog browser or a form's pending step."""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from datetime import timedelta

import pytest
from sqlalchemy import select

from dialogs import followup, texts
from storage import activities, communities, surveys
from storage.base import utcnow
from storage.db import unit_of_work
from storage.feedback import Rating
from storage.orders import Order
from tests.conftest import Hub
from tests.dialogs.conftest import OwnerChat, bound_owner, chat, owner_row, uid
from tests.dialogs.test_followup import completed_order

# WeChat dedupes events by sender+CreateTime+Event(+EventKey): every click gets its own second.
_clock = itertools.count(int(time.time()))


async def click(me: OwnerChat, key: str) -> str:
    return await me.event("CLICK", key, at=next(_clock))


async def add_activity(hub: Hub, community: str) -> str:
    title = uid("包饺子活动")
    async with unit_of_work(hub.runtime.sessions) as session:
        found = await communities.get_by_name(session=session, name=community)
        assert found is not None
        await activities.add(session=session, title=title, starts_at=utcnow() + timedelta(days=1), place="会所",
                             community_id=found.id)
    return title


@asynccontextmanager
async def open_survey(hub: Hub) -> AsyncIterator[str]:
    """A one-question survey, open while the block runs (then closed: the database is shared)."""
    key, title = uid("menu_"), f"小调研{uid()}"
    definition = {"key": key, "title": title, "intro": "一个问题。",
                  "questions": [{"key": "pets", "type": "yesno", "text": "您家养宠物吗？", "labels": ["有", "没有"]}]}
    async with unit_of_work(hub.runtime.sessions) as session:
        row = await surveys.upsert_survey(session=session, key=key, title=title, definition=definition,
                                          allow_repeat=False)
    try:
        yield title
    finally:
        async with unit_of_work(hub.runtime.sessions) as session:
            closing = await surveys.get(session=session, survey_id=row.id)
            assert closing is not None
            closing.is_open = False


# What each button answers with, for a bound owner with no orders and one upcoming activity.
_MENU_ANSWERS = {
    "SERVICES": "8. 教育管家",
    "ORDERS": texts.ORDERS_NONE,
    "ACTIVITIES": "{activity}",
    "BIND": "您已绑定",
    "SURVEY": "调研",
    "HUMAN": texts.HANDOFF_OPENED,
}


@pytest.mark.parametrize("key", list(_MENU_ANSWERS))
async def test_a_menu_click_wins_over_the_catalog_browser_and_closes_it(hub: Hub, key: str) -> None:
    me, community = await bound_owner(hub)
    activity = await add_activity(hub, community)
    assert "8. 教育管家" in await me.say("有哪些服务")
    assert "1. 钟点工" in await me.say("7")  # the browser now waits for a pick among 家政管家's services
    # (A survey of this test's own, so 参与调研 does not depend on what other tests left open.)
    async with open_survey(hub) if key == "SURVEY" else nullcontext():
        reply = await click(me, key)
    assert _MENU_ANSWERS[key].format(activity=activity) in reply
    assert "家政管家包含" not in reply and "钟点工】" not in reply
    # The list the owner was browsing is gone: "1" is no longer 钟点工.
    after = await me.say("1")
    assert "钟点工】" not in after
    if key == "SERVICES":  # …but a fresh catalog opened by the click is live
        assert "旅行管家包含以下服务" in after


async def test_menu_clicks_answer_without_an_nlu_backend(hub: Hub) -> None:
    hub.runtime.nlu = None  # as when the nlu package is unavailable: the button says what it wants
    me, community = await bound_owner(hub)
    activity = await add_activity(hub, community)
    assert activity in await click(me, "ACTIVITIES")
    assert texts.ORDERS_NONE in await click(me, "ORDERS")
    assert "8. 教育管家" in await click(me, "SERVICES")


async def test_a_menu_click_mid_order_is_answered_and_the_order_resumes(hub: Hub) -> None:
    me, community = await bound_owner(hub)
    activity = await add_activity(hub, community)
    assert "什么时间" in await me.say("我想请个钟点工")
    for key, answer in (("SERVICES", "家政"), ("ACTIVITIES", activity), ("ORDERS", texts.ORDERS_NONE),
                        ("BIND", "您已绑定")):
        reply = await click(me, key)
        assert answer in reply and "我们继续刚才的" in reply and "什么时间" in reply, (key, reply)
    assert "请确认" in await me.say("后天上午9点")
    assert "下单成功" in await me.say("确认")
    owner = await owner_row(hub, me.openid)
    async with hub.runtime.sessions() as session:
        assert await session.scalar(select(Order).where(Order.owner_id == owner.id)) is not None


async def test_a_menu_click_on_a_numbered_binding_step_is_not_taken_as_the_choice(hub: Hub) -> None:
    me = chat(hub)
    assert "请选择您所在的小区" in await me.say("绑定")
    reply = await click(me, "SERVICES")
    # The catalog as one line (a second numbered list would compete with the pending one)…
    assert "旅行、车" in reply and "没有找到这个小区" not in reply and "请选择您所在的小区" in reply
    # …and the button of the dialog already running asks its question again.
    reply = await click(me, "BIND")
    assert texts.WELCOME_BACK in reply and "请选择您所在的小区" in reply


async def test_a_survey_button_mid_order_runs_the_survey_then_the_order_resumes(hub: Hub) -> None:
    me, _ = await bound_owner(hub)
    assert "什么时间" in await me.say("我想请个钟点工")
    async with open_survey(hub) as title:
        reply = await click(me, "SURVEY")
        if texts.SURVEY_PICK in reply:  # other open surveys share the database
            reply = await me.say(title)
        assert "您家养宠物吗" in reply
        reply = await me.say("没有")
    assert texts.SURVEY_DONE in reply and "什么时间" in reply
    assert "请确认" in await me.say("后天上午9点")


async def test_a_menu_click_on_a_free_text_step_is_not_stored_as_the_answer(hub: Hub) -> None:
    me, community = await bound_owner(hub)
    activity = await add_activity(hub, community)
    order_id, _ = await completed_order(hub, me.openid)
    async with unit_of_work(hub.runtime.sessions) as session:
        assert await followup.start_followup(session=session, kv=hub.runtime.kv, order_id=order_id) == followup.Start.ASKED
    assert await me.say("5") == texts.FOLLOWUP_COMMENT  # any text answers the comment step
    reply = await click(me, "ACTIVITIES")
    assert activity in reply and texts.FOLLOWUP_COMMENT in reply
    assert await me.say("阿姨很细心") == texts.FOLLOWUP_DONE
    async with hub.runtime.sessions() as session:
        rating = await session.scalar(select(Rating).where(Rating.order_id == order_id))
    assert rating is not None and rating.comment == "阿姨很细心"
