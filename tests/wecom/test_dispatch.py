"""A job over WeCom: cards → 10 simultaneous presses → one winner → the others' cards updated → slip →
progress → completion with an amount → the owner's notices (issue 17)."""

from __future__ import annotations

import asyncio

from bot.app import RELAY
from bot.devtools.wechat_sender import text_xml
from tests.telegram.conftest import create_order, load_order, wechat_to
from tests.wecom.conftest import WcHub, wecom_world

LOST = "手慢了，这单已被其他商家接走"


async def test_ten_presses_one_winner_then_slip_progress_and_money(wc_hub: WcHub) -> None:
    hub, fake = wc_hub.hub, wc_hub.fake
    names = [f"企微师傅{i}" for i in range(10)]
    world, userids = await wecom_world(hub, names)
    order_id, code = await create_order(hub, world)
    await hub.client.app[RELAY].drain()

    # One interactive card per eligible merchant, no owner details on it.
    offers = {n: fake.cards_to(u) for n, u in userids.items()}
    assert all(len(cards) == 1 for cards in offers.values()), offers
    card = offers[names[0]][0]
    assert code in card.text and "13800138000" not in card.text and "13912345678" not in card.text
    assert [b["text"] for b in card.buttons()] == ["接单"]
    key = card.buttons()[0]["key"]

    statuses = await asyncio.gather(*(wc_hub.press(userids[n], key) for n in names))
    assert statuses == [200] * 10
    order = await load_order(hub, order_id)
    assert order.status == "accepted"
    (winner,) = [n for n in names if world.merchant_ids[n] == order.merchant_id]
    losers = [n for n in names if n != winner]

    # Every loser was told, once, and their card no longer offers 接单.
    for name in losers:
        texts = [c.text for c in fake.sent_to(userids[name]) if c.body["msgtype"] == "text"]
        assert texts == [LOST], (name, texts)
        assert any(u.body.get("button") == {"replace_name": "已被接单"} for u in fake.updates_for(userids[name]))
    assert any(u.body.get("button") == {"replace_name": "已接单"} for u in fake.updates_for(userids[winner]))
    # The owner heard once; only the winner got the owner's phone, as a slip card with progress buttons.
    notices = wechat_to(hub.fake_wechat, world.owner_openid)
    assert len(notices) == 1 and code in notices[0]
    # This order's slips only (other tests' pending rows in the shared database carry the same phone).
    with_phone = [c for c in fake.calls_to("/cgi-bin/message/send") if "13800138000" in c.text and code in c.text]
    assert [c.touser for c in with_phone] == [userids[winner]]
    slip = with_phone[0]
    assert [b["text"] for b in slip.buttons()] == ["已出发", "已到达", "已完成", "无法完成"]
    step = {b["text"]: b["key"] for b in slip.buttons()}
    holder = userids[winner]

    # A loser pressing a progress button changes nothing.
    assert await wc_hub.press(userids[losers[0]], step["已出发"]) == 200
    assert fake.sent_to(userids[losers[0]])[-1].text == "只有接单的商家可以更新这个订单"

    assert await wc_hub.press(holder, step["已出发"]) == 200
    assert fake.sent_to(holder)[-1].text == "已更新：师傅已出发"
    assert "师傅已出发" in wechat_to(hub.fake_wechat, world.owner_openid)[-1]
    refreshed = fake.updates_for(holder)[-1].body["template_card"]
    assert "已出发" not in [b["text"] for b in refreshed["button_list"]]

    assert await wc_hub.press(holder, step["已完成"]) == 200
    assert fake.sent_to(holder)[-1].text.startswith(f"订单 {code}：请回复本单金额")
    await wc_hub.say(holder, "一百五")
    assert "金额格式不对" in fake.sent_to(holder)[-1].text
    await wc_hub.say(holder, "150.02元")
    methods = fake.sent_to(holder)[-1]
    assert "150.02" in methods.text
    on_account = next(b["key"] for b in methods.buttons() if b["text"] == "挂账")
    assert await wc_hub.press(holder, on_account) == 200
    # 挂账 waits for the owner's confirmation in WeChat, as on Telegram.
    assert "确认金额" in wechat_to(hub.fake_wechat, world.owner_openid)[-1]
    status, reply = await hub.post(text_xml(world.owner_openid, "确认金额"))
    assert status == 200 and "150.02" in reply["Content"]
    await hub.client.app[RELAY].drain()

    order = await load_order(hub, order_id)
    assert order.status == "completed" and order.amount_fen == 15002
    # The owner's confirmation and the settlement note reach the merchant on the channel they use.
    texts = [c.text for c in fake.sent_to(holder) if c.body["msgtype"] == "text"]
    assert any(t.startswith("业主已确认") for t in texts) and any("应结给您 120.02 元" in t for t in texts)
    # A replayed payment press after completion changes nothing.
    assert await wc_hub.press(holder, on_account) == 200
    assert fake.sent_to(holder)[-1].text == "请先点「已完成」并输入金额"
    assert (await load_order(hub, order_id)).amount_fen == 15002


async def test_a_retried_offer_does_not_offer_anyone_twice(wc_hub: WcHub) -> None:
    from storage import outbox
    from storage.db import unit_of_work
    from storage.events import JobOffered

    hub, fake = wc_hub.hub, wc_hub.fake
    names = ["企微甲", "企微乙", "企微丙"]
    world, userids = await wecom_world(hub, names)
    fake.fail_to(userids["企微乙"], -1)  # 系统繁忙 on the second card: the first one is already out
    order_id, _code = await create_order(hub, world)
    relay = hub.client.app[RELAY]
    await relay.drain()
    assert [len(fake.cards_to(userids[n])) for n in names] == [1, 1, 0]  # the second one refused
    await relay.drain()  # the outbox retries order.created after that partial success
    async with unit_of_work(hub.runtime.sessions) as session:  # and JobOffered emitted twice
        outbox.emit(session, JobOffered(order_id=order_id))
    await relay.drain()
    assert [len(fake.cards_to(userids[n])) for n in names] == [1, 2, 1]  # the refused one sent again, only it


async def test_a_rate_limit_while_closing_offers_delays_the_updates_and_the_slip_without_loss(wc_hub: WcHub) -> None:
    from bot.app import SERVICES
    from bot.devtools.fake_wecom import UPDATE_CARD

    hub, fake = wc_hub.hub, wc_hub.fake
    hub.client.app[SERVICES].merchants.wecom.client.pause_seconds = 0.3
    names = ["限流甲", "限流乙", "限流丙"]
    world, userids = await wecom_world(hub, names)
    order_id, code = await create_order(hub, world)
    relay = hub.client.app[RELAY]
    await relay.drain()
    key = fake.cards_to(userids["限流甲"])[0].buttons()[0]["key"]
    fake.fail(UPDATE_CARD, 45011)  # 接口调用太频繁
    assert await wc_hub.press(userids["限流甲"], key) == 200
    assert (await load_order(hub, order_id)).status == "accepted"  # the press itself is decided
    slips = [c for c in fake.calls_to("/cgi-bin/message/send") if "13800138000" in c.text]
    assert slips == []  # paused: not sent yet, and not lost
    await asyncio.sleep(0.4)
    await relay.drain()
    for loser in ("限流乙", "限流丙"):
        assert [u.body["button"] for u in fake.updates_for(userids[loser])] == [{"replace_name": "已被接单"}]
    slips = [c.touser for c in fake.calls_to("/cgi-bin/message/send") if "13800138000" in c.text]
    assert slips == [userids["限流甲"]]
