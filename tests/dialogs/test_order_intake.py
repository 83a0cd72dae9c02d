"""Order intake end to end through the WeChat path: entities + profile fill the slots."""

from __future__ import annotations

from sqlalchemy import select

from storage.orders import Order, OrderStatus
from tests.conftest import Hub
from tests.dialogs.conftest import bound_owner, events, owner_row


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
