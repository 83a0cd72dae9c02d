"""Progress from the merchant holding the job, ending in the money record."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import update

from bot.app import RELAY
from bot.devtools.wechat_sender import text_xml
from bot.telegram.cards import PayCb, StepCb
from storage import catalog, orders
from storage.db import unit_of_work
from storage.money import PAYMENT_METHODS, PaymentMethod
from tests.telegram.conftest import (
    MERCHANT_CHAT,
    STAFF_CHAT,
    TgHub,
    create_order,
    job_button,
    load_order,
    make_world,
    sends_mentioning,
    wechat_to,
)

CS = "/cgi-bin/message/custom/send"


def owner_texts(tg: TgHub) -> list[str]:
    return wechat_to(tg.hub.fake_wechat, OWNER[0])


OWNER: list[str] = [""]  # the current test's owner openid


async def _accepted_order(tg: TgHub, service: str = "护理") -> tuple[int, str, int, int]:
    world = await make_world(tg.hub, service=service, merchants_spec={"张师傅": {}, "李师傅": {}})
    OWNER[0] = world.owner_openid
    order_id, code = await create_order(tg.hub, world)
    await tg.hub.client.app[RELAY].drain()  # the card is in the group
    holder, other = world.merchants["张师傅"], world.merchants["李师傅"]
    query = await tg.press(holder, job_button(order_id))
    assert tg.answer_for(query)["text"] == "接单成功"
    return order_id, code, holder, other


async def test_full_progress_sequence_ends_in_a_commission_record(tg_hub: TgHub) -> None:
    async with unit_of_work(tg_hub.hub.runtime.sessions) as session:
        await session.execute(update(catalog.Service).where(catalog.Service.name == "护理").values(commission_rate=Decimal("0.250")))
    try:
        order_id, code, holder, other = await _accepted_order(tg_hub)
        step = lambda s: StepCb(order_id=order_id, step=s).pack()  # noqa: E731
        press = lambda user, data: tg_hub.press(user, data, chat_id=user)  # noqa: E731

        # Only the holder may report progress.
        q = await press(other, step("go"))
        assert tg_hub.answer_for(q)["text"] == "只有接单的商家可以更新这个订单"

        q = await press(holder, step("go"))
        assert tg_hub.answer_for(q)["text"] == "已更新：师傅已出发"
        assert "师傅已出发" in owner_texts(tg_hub)[-1]
        # The slip's buttons now offer only what is still possible.
        markup = tg_hub.fake.calls_to("editMessageReplyMarkup", chat_id=holder)[-1].params["reply_markup"]
        assert "已出发" not in str(markup)

        q = await press(holder, step("arr"))
        assert tg_hub.answer_for(q)["text"] == "已更新：师傅已到达"
        assert "师傅已到达" in owner_texts(tg_hub)[-1]

        # Invalid transition: back to 已出发 after arriving.
        q = await press(holder, step("go"))
        answer = tg_hub.answer_for(q)
        assert answer["show_alert"] == "true" and "不能改为「师傅已出发」" in answer["text"]

        # 已完成 asks the amount, then the payment method.
        q = await press(holder, step("done"))
        assert tg_hub.fake.sent_to(holder)[-1].text.startswith(f"订单 {code}：请回复本单金额")
        await tg_hub.say(holder, "一百五")
        assert "金额格式不对" in tg_hub.fake.sent_to(holder)[-1].text
        await tg_hub.say(holder, "150.02元")
        choice = tg_hub.fake.sent_to(holder)[-1]
        assert [b["text"] for b in choice.buttons()] == [m.value for m in PAYMENT_METHODS]
        on_account = next(b for b in choice.buttons() if b["text"] == "挂账")
        assert "150.02" in choice.text and len(on_account["callback_data"].encode()) <= 64
        assert PayCb.unpack(on_account["callback_data"]) == PayCb(order_id=order_id, m=3)

        q = await press(holder, on_account["callback_data"])
        # 挂账 waits for the owner's confirmation of the amount in WeChat (issue 14).
        assert tg_hub.answer_for(q)["text"] == "已发给业主确认"
        assert "150.02元" in owner_texts(tg_hub)[-1] and "确认金额" in owner_texts(tg_hub)[-1]
        assert (await load_order(tg_hub.hub, order_id)).status == "arrived"
        # Accepted, on the way, arrived, the amount to confirm: four notices, nothing else.
        assert len(owner_texts(tg_hub)) == 4
        status, reply = await tg_hub.hub.post(text_xml(OWNER[0], "确认金额"))
        assert status == 200 and "月底统一结算" in reply["Content"] and "150.02" in reply["Content"]
        await tg_hub.hub.client.app[RELAY].drain()

        order = await load_order(tg_hub.hub, order_id)
        assert order.status == "completed" and order.completed_at is not None
        assert order.amount_fen == 15002 and order.payment_method == PaymentMethod.ON_ACCOUNT
        # 25% of 15002 fen = 3750.5 -> rounds half up to 3751 (never banker's 3750).
        assert order.commission_fen == 3751 and order.payout_fen == 15002 - 3751
        assert "平台佣金 37.51 元" in tg_hub.fake.sent_to(holder)[-1].text
        card = [c for c in tg_hub.fake.calls_to("editMessageText", chat_id=MERCHANT_CHAT) if code in c.text][-1].text
        assert card.startswith("✅ 已完成")

        # Finished jobs take no more steps; a replayed payment press changes nothing.
        q = await press(holder, on_account["callback_data"])
        assert tg_hub.answer_for(q)["text"] == "请先点「已完成」并输入金额"
        q = await press(holder, step("done"))
        assert "不能改为" in tg_hub.answer_for(q)["text"]
        async with unit_of_work(tg_hub.hub.runtime.sessions) as session:
            history = [e.status for e in await orders.list_events(session=session, order_id=order_id)]
        assert history == ["accepted", "on_the_way", "arrived", "arrived", "completed"]  # the 2nd: amount proposed
    finally:
        async with unit_of_work(tg_hub.hub.runtime.sessions) as session:
            await session.execute(update(catalog.Service).where(catalog.Service.name == "护理").values(commission_rate=Decimal("0.200")))


async def test_cannot_complete_with_a_reason_alerts_staff(tg_hub: TgHub) -> None:
    order_id, code, holder, _ = await _accepted_order(tg_hub, service="水电暖气管道")
    await tg_hub.press(holder, StepCb(order_id=order_id, step="fail").pack(), chat_id=holder)
    assert "请回复无法完成的原因" in tg_hub.fake.sent_to(holder)[-1].text
    await tg_hub.say(holder, "需要更换整段管道，需物业停水")
    assert "平台会联系业主重新安排" in tg_hub.fake.sent_to(holder)[-1].text
    assert "需要更换整段管道" in owner_texts(tg_hub)[-1] and "重新安排" in owner_texts(tg_hub)[-1]
    (alert,) = sends_mentioning(tg_hub.fake, STAFF_CHAT, code)
    assert code in alert.text and "无法完成" in alert.text
    order = await load_order(tg_hub.hub, order_id)
    assert order.status == "failed" and order.failure_reason == "需要更换整段管道，需物业停水"
