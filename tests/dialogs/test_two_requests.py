"""Two requests in one message, the 3-turn order intake and the dates owners read, through WeChat."""

from __future__ import annotations

from sqlalchemy import select

from storage.orders import Order
from tests.conftest import Hub
from tests.dialogs.conftest import bound_owner, owner_row


async def _order_of(hub: Hub, openid: str) -> Order | None:
    owner = await owner_row(hub, openid)
    async with hub.runtime.sessions() as session:
        return await session.scalar(select(Order).where(Order.owner_id == owner.id).order_by(Order.id.desc()))


async def test_a_question_and_an_order_in_one_message_are_both_handled(hub: Hub) -> None:
    me, _ = await bound_owner(hub)
    reply = await me.say("帮我约个保洁明天上午来，另外这个月物业费多少")
    assert "每户每月300元" in reply  # the question is answered …
    assert "请确认您的预约：钟点工" in reply and reply.rstrip().endswith("“2”取消。")  # … and the order taken
    assert "下单成功" in await me.say("1")
    order = await _order_of(hub, me.openid)
    assert order is not None and order.service.name == "钟点工" and order.scheduled_period == "上午"


async def test_two_actions_in_one_message_take_the_first_and_name_the_second(hub: Hub) -> None:
    me, _ = await bound_owner(hub)
    reply = await me.say("帮我约个保洁明天上午来，还有楼道灯坏了")
    assert "请确认您的预约：钟点工" in reply
    assert "您还提到“楼道灯坏了”" in reply  # not silently dropped


async def test_a_question_in_a_forms_answer_is_answered_too(hub: Hub) -> None:
    me, _ = await bound_owner(hub)
    assert "什么时间" in await me.say("我要请个阿姨打扫卫生")
    reply = await me.say("明天上午吧，另外物业费多少")
    assert "每户每月300元" in reply and "请确认您的预约" in reply


async def test_a_bound_owners_order_takes_at_most_three_questions(hub: Hub) -> None:
    me, _ = await bound_owner(hub)
    replies = [await me.say("我想预约")]
    assert "什么服务" in replies[-1]
    replies.append(await me.say("周六下午打扫卫生"))
    assert "请确认您的预约：钟点工" in replies[-1]
    replies.append(await me.say("1"))
    assert "下单成功" in replies[-1] and len(replies) <= 3


async def test_a_period_is_shown_as_said_and_an_hour_only_when_said(hub: Hub) -> None:
    me, _ = await bound_owner(hub)
    reply = await me.say("明天上午想请个阿姨打扫卫生")
    assert "上午" in reply and "9:00" not in reply and "09:00" not in reply and "（周" in reply
    await me.say("1")
    listing = await me.say("我的订单")
    assert "上午" in listing and "9:00" not in listing
    reply = await me.say("周六下午3点修空调")
    assert "（周六）下午3:00" in reply and "15:00" not in reply
