"""No action on a guess, through the WeChat path: consent, complaints, work orders, orders, ratings.

Each case is a message the embedded NLU misreads or that names an action the owner refuses; the
row counts in the database show whether anything happened. Confirmations are dialog states, so
they also survive a restart (on the embedded backend the second app shares the first one's store).
"""

from __future__ import annotations

import asyncio

import fakeredis
from sqlalchemy import func, select

from dialogs import state
from dialogs.state import DialogState, Flow
from storage.db import unit_of_work
from storage.feedback import Complaint, Rating
from storage.orders import Order, OrderStatus
from storage.workorders import WorkOrder
from tests.conftest import Backend, Hub, make_settings, start_hub
from tests.dialogs.conftest import bound_owner, chat, owner_row
from tests.dialogs.test_followup import completed_order


async def count(hub: Hub, model: type, owner_id: int) -> int:
    async with hub.runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(model.owner_id == owner_id)) or 0)


async def test_messages_the_nlu_reads_as_opt_out_or_in_leave_consent_alone(hub: Hub) -> None:
    me, _ = await bound_owner(hub)
    for text in ("我没收到消息", "给杨凯发短信", "收到消息了吗"):
        reply = await me.say(text)
        assert "推送" not in reply, (text, reply)
        assert "好的" not in await me.say("是")  # nothing was asked, so a yes confirms nothing
        assert not (await owner_row(hub, me.openid)).push_opt_out, text
    await me.say("不想再收到推送")
    await me.say("确认")
    assert (await owner_row(hub, me.openid)).push_opt_out
    await me.say("测试消息")
    await me.say("是")
    assert (await owner_row(hub, me.openid)).push_opt_out  # "测试消息" is no opt-in either


async def test_an_opt_out_is_asked_and_done_only_after_the_owner_confirms(hub: Hub) -> None:
    me, _ = await bound_owner(hub)
    reply = await me.say("不想再收到推送")
    assert "不再接收活动和优惠推送吗" in reply and "“是”" in reply
    assert not (await owner_row(hub, me.openid)).push_opt_out
    assert "不再给您推送" in await me.say("确认")
    assert (await owner_row(hub, me.openid)).push_opt_out
    assert "重新接收" in await me.say("恢复推送")
    assert "这次不做处理" in await me.say("不用了")
    assert (await owner_row(hub, me.openid)).push_opt_out


async def test_a_yes_with_a_few_words_confirms_and_a_question_does_not(hub: Hub) -> None:
    me, _ = await bound_owner(hub)
    owner = await owner_row(hub, me.openid)
    await me.say("楼道灯坏了")
    assert "工单号" not in await me.say("是吗？")  # a question: nothing happens
    assert await count(hub, WorkOrder, owner.id) == 0
    await me.say("楼道灯坏了")
    assert "工单号" in await me.say("是的，麻烦了")
    assert await count(hub, WorkOrder, owner.id) == 1


async def test_a_yes_character_glued_to_a_word_confirms_nothing(hub: Hub) -> None:
    """好臭啊 ("so smelly"), 对面… ("opposite"), 是我家… ("it is my…") start with a yes-character
    but are new messages: the pending work order is not filed."""
    me, _ = await bound_owner(hub)
    owner = await owner_row(hub, me.openid)
    for text in ("好臭啊", "对面楼在装修", "是我家的灯不亮"):
        await me.say("楼道灯坏了")
        assert "工单号" not in await me.say(text), text
        assert await count(hub, WorkOrder, owner.id) == 0, text
    for n, yes in enumerate(("好啊", "对对对"), start=1):  # a particle or more yes-words: still a yes
        await me.say("楼道灯坏了")
        assert "工单号" in await me.say(yes), yes
        assert await count(hub, WorkOrder, owner.id) == n


async def test_anything_but_yes_is_a_new_message_and_nothing_happens(hub: Hub) -> None:
    me, _ = await bound_owner(hub)
    await me.say("不想再收到推送")
    assert "每户每月300元" in await me.say("这个月物业费多少")  # answered as a new message
    assert "好的" not in await me.say("是")  # the question was dropped with that message
    assert not (await owner_row(hub, me.openid)).push_opt_out
    await me.say("不想再收到推送")
    assert "不再给您推送" not in await me.say("嗯？")  # 嗯 is no yes
    assert not (await owner_row(hub, me.openid)).push_opt_out


async def test_chit_chat_opens_no_complaint_and_a_real_one_is_confirmed_first(hub: Hub) -> None:
    me, _ = await bound_owner(hub)
    owner = await owner_row(hub, me.openid)
    await me.say("这么装逼")
    await me.say("你好")
    assert await count(hub, Complaint, owner.id) == 0
    assert "您是想投诉" in await me.say("我要投诉保安态度太差")
    assert await count(hub, Complaint, owner.id) == 0
    await me.say("对")
    assert await count(hub, Complaint, owner.id) == 1


async def test_a_corridor_light_opens_a_work_order_only_after_the_owner_confirms(hub: Hub) -> None:
    me, _ = await bound_owner(hub)
    owner = await owner_row(hub, me.openid)
    reply = await me.say("楼道灯坏了")
    assert "报修“楼道灯坏了”" in reply and "工单号" not in reply
    assert await count(hub, WorkOrder, owner.id) == 0
    assert "工单号" in await me.say("好")
    assert await count(hub, WorkOrder, owner.id) == 1
    await me.say("翠苑小区")  # a bare community name is no report, whatever the NLU says
    await me.say("谢谢")
    assert await count(hub, WorkOrder, owner.id) == 1


async def test_a_refused_service_places_no_order_and_a_refused_cancel_keeps_the_order(hub: Hub) -> None:
    me, _ = await bound_owner(hub)
    owner = await owner_row(hub, me.openid)
    reply = await me.say("我不需要保洁服务")
    assert "不为您预约钟点工" in reply and "确认" not in reply
    assert "下单成功" not in await me.say("1")
    assert await count(hub, Order, owner.id) == 0
    await me.say("明天上午想请个阿姨打扫卫生")
    assert "下单成功" in await me.say("1")
    assert "保持不变" in await me.say("我不想取消订单")
    await me.say("是")
    async with hub.runtime.sessions() as session:
        order = await session.scalar(select(Order).where(Order.owner_id == owner.id))
    assert order is not None and order.status == OrderStatus.PENDING_DISPATCH


async def test_a_rating_outside_a_followup_is_confirmed_and_a_lottery_name_is_none(hub: Hub) -> None:
    me, _ = await bound_owner(hub)
    owner = await owner_row(hub, me.openid)
    await completed_order(hub, me.openid)
    await me.say("七星彩")
    await me.say("物业费多少")
    assert await count(hub, Rating, owner.id) == 0
    assert "打5分吗" in await me.say("给个好评5分")
    await me.say("是")
    assert await count(hub, Rating, owner.id) == 1


async def test_a_menu_button_is_no_yes(hub: Hub) -> None:
    me, _ = await bound_owner(hub)
    await me.say("不想再收到推送")
    assert "进行中的订单" in await me.event("CLICK", "ORDERS")
    assert "好的" not in await me.say("是")
    assert not (await owner_row(hub, me.openid)).push_opt_out


async def test_a_confirmation_survives_a_restart(hub: Hub, backend: Backend) -> None:
    me, _ = await bound_owner(hub)
    await me.say("不想再收到推送")
    host = hub.runtime.kv.client.connection_pool.connection_kwargs["host"] if backend.name == "embedded" else None
    await hub.client.close()
    second = await start_hub(hub.settings, hub.fake_wechat)
    try:
        if host is not None:
            second.runtime.kv.client = fakeredis.FakeAsyncRedis(host=host)
        me.hub = second
        assert "不再给您推送" in await me.say("是")
        assert (await owner_row(second, me.openid)).push_opt_out
    finally:
        await second.client.close()


async def test_a_late_yes_acts_on_nothing(backend: Backend, fake_wechat) -> None:  # type: ignore[no-untyped-def]
    running = await start_hub(make_settings(backend, fake_wechat, confirm_ttl_seconds=1), fake_wechat)
    try:
        me, _ = await bound_owner(running)
        owner = await owner_row(running, me.openid)
        await me_say_and_wait(me, "楼道灯坏了", 1.5)
        assert "超时" in await me.say("是")
        assert await count(running, WorkOrder, owner.id) == 0
    finally:
        await running.client.close()


async def me_say_and_wait(me, text: str, seconds: float) -> None:  # type: ignore[no-untyped-def]
    await me.say(text)
    await asyncio.sleep(seconds)


async def test_an_unbound_owner_is_asked_the_same(hub: Hub) -> None:
    me = chat(hub)
    assert "“是”" in await me.say("不想再收到推送")
    assert not (await owner_row(hub, me.openid)).push_opt_out


async def test_a_stray_hm_at_the_order_summary_places_no_order(hub: Hub) -> None:
    me, _ = await bound_owner(hub)
    owner = await owner_row(hub, me.openid)
    assert "请确认您的预约" in await me.say("明天上午想请个阿姨打扫卫生")
    assert "下单成功" not in await me.say("嗯？")
    assert await count(hub, Order, owner.id) == 0
    assert "下单成功" in await me.say("好的谢谢")


async def test_a_cancel_pending_from_the_previous_release_still_answers(hub: Hub) -> None:
    me, _ = await bound_owner(hub)
    await me.say("明天上午想请个阿姨打扫卫生")
    await me.say("1")
    order = await _latest_order(hub, me.openid)
    # What the previous release saved for "取消订单": a CANCEL_ORDER form waiting on its question.
    legacy = DialogState(flow=Flow.CANCEL_ORDER, step="confirm", data={"order_id": order.id})
    async with unit_of_work(hub.runtime.sessions) as session:
        await state.save(hub.runtime.kv, me.openid, legacy, ttl_seconds=600, session=session)
    assert "已取消" in await me.say("1")
    assert (await _latest_order(hub, me.openid)).status == OrderStatus.CANCELLED


async def _latest_order(hub: Hub, openid: str) -> Order:
    owner = await owner_row(hub, openid)
    async with hub.runtime.sessions() as session:
        found = await session.scalar(select(Order).where(Order.owner_id == owner.id).order_by(Order.id.desc()))
    assert found is not None
    return found
