"""Order intake end to end through the WeChat path: entities + profile fill the slots."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from storage.orders import Order, OrderStatus
from tests.conftest import Hub
from tests.dialogs.conftest import add_roster, bound_owner, chat, events, make_community, owner_row


async def test_cleaning_request_becomes_a_confirmed_order_in_at_most_two_questions(hub: Hub) -> None:
    me, _ = await bound_owner(hub)
    questions = 0
    reply = await me.say("明天上午想请个阿姨打扫卫生")
    while "下单成功" not in reply:
        questions += 1
        assert questions <= 2, reply
        assert "钟点工" in reply and "确认" in reply, reply
        reply = await me.say("1")
    assert "订单号" in reply
    owner = await owner_row(hub, me.openid)
    async with hub.runtime.sessions() as session:
        order = await session.scalar(select(Order).where(Order.owner_id == owner.id))
    assert order is not None
    assert order.status == OrderStatus.PENDING_DISPATCH and order.service.name == "钟点工"
    assert order.scheduled_at is not None and order.code in reply
    assert order.contact_phone == "13900001111" and "3号楼2单元301室" in order.address
    assert len(await events(hub, "order.created", order_id=order.id)) == 1


async def test_unbound_owner_binds_first_and_the_order_continues(hub: Hub) -> None:
    community = await make_community(hub)
    await add_roster(hub, community, "8", "1", "602", "13711112222")
    me = chat(hub)
    reply = await me.say("明天上午想请个阿姨打扫卫生")
    assert "先绑定房屋" in reply and "请选择您所在的小区" in reply
    await me.say(community)
    await me.say("8号楼1单元602")
    reply = await me.say("13711112222")
    assert "绑定成功" in reply and "请确认您的预约" in reply and "钟点工" in reply and "8号楼1单元602室" in reply
    assert "下单成功" in await me.say("1")


async def test_cancel_order_after_confirmation(hub: Hub) -> None:
    me, _ = await bound_owner(hub)
    assert "没有进行中的订单" in await me.say("取消订单")
    await me.say("明天上午想请个阿姨打扫卫生")
    created = await me.say("确认下单")
    code = created.split("订单号 ")[1].split("。")[0]
    reply = await me.say("取消订单")
    assert code in reply and "确定要取消" in reply
    assert "保留不变" in await me.say("2")
    await me.say("取消订单")
    assert f"订单 {code} 已取消" in await me.say("1")
    async with hub.runtime.sessions() as session:
        order = await session.scalar(select(Order).where(Order.code == code))
    assert order is not None and order.status == OrderStatus.CANCELLED
    assert len(await events(hub, "order.cancelled", order_id=order.id)) == 1


async def test_one_owners_concurrent_messages_are_processed_one_at_a_time(hub: Hub) -> None:
    community = await make_community(hub)
    me = chat(hub)
    await me.say("绑定")
    await me.say(community)
    # Both answers are numbers, valid for building and for unit: interleaved, both would be
    # taken as the building; in order, one is the building and the other the unit.
    await asyncio.gather(me.say("3"), me.say("2"))
    owner = await owner_row(hub, me.openid)
    assert {owner.building, owner.unit} == {"3", "2"}
    assert "手机号" in await me.say("301")
