"""接单: the first eligible press wins; the others are told why not; the owner hears at once."""

from __future__ import annotations

from datetime import date, timedelta

from bot.app import RELAY
from bot.devtools.fake_telegram import BOT_USERNAME
from storage.merchants import MerchantStatus
from tests.telegram.conftest import (
    MERCHANT_CHAT,
    TgHub,
    create_order,
    job_button,
    load_order,
    make_world,
    unique_int,
    wechat_to,
)

CS = "/cgi-bin/message/custom/send"


async def test_first_eligible_press_wins_and_everyone_hears_why(tg_hub: TgHub) -> None:
    world = await make_world(
        tg_hub.hub,
        merchants_spec={
            "张师傅": {},
            "李师傅": {},
            "过期商家": {"expires": date.today() - timedelta(days=1)},
            "暂停商家": {"status": MerchantStatus.SUSPENDED},
            "修车铺": {"services": ["修车"]},
        },
    )
    order_id, code = await create_order(tg_hub.hub, world)
    await tg_hub.hub.client.app[RELAY].drain()
    data = job_button(order_id)
    m = world.merchants

    # Ineligible presses first: they don't take the job.
    expired = await tg_hub.press(m["过期商家"], data)
    suspended = await tg_hub.press(m["暂停商家"], data)
    wrong_service = await tg_hub.press(m["修车铺"], data)
    stranger = await tg_hub.press(unique_int(), data)
    assert tg_hub.answer_for(expired) == {"callback_query_id": expired, "text": "您的资质已过期，请联系平台更新", "show_alert": "true"}
    assert tg_hub.answer_for(suspended)["text"] == "您的账号已暂停接单，请联系平台"
    assert tg_hub.answer_for(wrong_service)["text"] == "您未登记提供该项服务"
    assert "不是平台登记的商家" in tg_hub.answer_for(stranger)["text"]
    assert (await load_order(tg_hub.hub, order_id)).status == "pending_dispatch"
    assert wechat_to(tg_hub.hub.fake_wechat, world.owner_openid) == []

    winner = await tg_hub.press(m["张师傅"], data)
    assert tg_hub.answer_for(winner)["text"] == "接单成功"
    # Within the same request cycle: the owner's WeChat notice, the card edit, the private slip.
    (notice,) = wechat_to(tg_hub.hub.fake_wechat, world.owner_openid)
    assert code in notice and "张师傅" in notice
    edits = [c for c in tg_hub.fake.calls_to("editMessageText", chat_id=MERCHANT_CHAT) if code in c.text]
    assert len(edits) == 1 and "接单商家：张师傅" in edits[0].text and not edits[0].buttons()
    (slip,) = tg_hub.fake.sent_to(m["张师傅"])
    assert "王女士" in slip.text and "13800138000" in slip.text and "3号楼2单元301室" in slip.text
    assert {b["text"] for b in slip.buttons()} == {"已出发", "已到达", "已完成", "无法完成"}

    late = await tg_hub.press(m["李师傅"], data)
    assert tg_hub.answer_for(late)["text"] == "手慢了，这单已被其他商家接走"
    again = await tg_hub.press(m["张师傅"], data)
    assert tg_hub.answer_for(again)["text"] == "这单已经是您的了"

    order = await load_order(tg_hub.hub, order_id)
    assert order.status == "accepted" and order.merchant_id == world.merchant_ids["张师傅"]
    assert len(wechat_to(tg_hub.hub.fake_wechat, world.owner_openid)) == 1
    assert tg_hub.fake.sent_to(m["李师傅"]) == []


async def test_template_notice_when_configured(backend, fake_wechat, fake_telegram) -> None:  # type: ignore[no-untyped-def]
    from tests.telegram.conftest import start_tg_hub, telegram_settings

    settings = telegram_settings(backend, fake_wechat, fake_telegram, wechat_template_order="TPL-ORDER")
    running = await start_tg_hub(settings, fake_wechat, fake_telegram)
    try:
        world = await make_world(running.hub)
        order_id, code = await create_order(running.hub, world)
        await running.press(world.merchants["张师傅"], job_button(order_id))
        (notice,) = [c for c in fake_wechat.calls_to("/cgi-bin/message/template/send") if c.body["touser"] == world.owner_openid]
        assert notice.body["template_id"] == "TPL-ORDER" and code in str(notice.body["data"])
        assert wechat_to(fake_wechat, world.owner_openid) == []
    finally:
        await running.hub.client.close()


async def test_merchant_who_never_started_the_bot_gets_a_deep_link(tg_hub: TgHub) -> None:
    world = await make_world(tg_hub.hub)
    order_id, _ = await create_order(tg_hub.hub, world)
    merchant = world.merchants["张师傅"]
    tg_hub.fake.block_user(merchant)

    # The card's message is older than 48 h (InaccessibleMessage): the press still works.
    query = await tg_hub.press(merchant, job_button(order_id), inaccessible=True)
    assert tg_hub.answer_for(query)["text"] == "接单成功"
    link = f"https://t.me/{BOT_USERNAME}?start=job_{order_id}"
    group = [c for c in tg_hub.fake.sent_to(MERCHANT_CHAT) if link in c.text]
    assert len(group) == 1 and "王女士" not in group[0].text and "13800138000" not in group[0].text

    # They press Start from the link: now the slip arrives privately.
    refused = len(tg_hub.fake.sent_to(merchant))  # the 403 attempt is recorded too
    tg_hub.fake.unblock_user(merchant)
    await tg_hub.say(merchant, f"/start job_{order_id}")
    (slip,) = tg_hub.fake.sent_to(merchant)[refused:]
    assert "13800138000" in slip.text and slip.buttons()
    # Someone else following the same link learns nothing.
    other = unique_int()
    await tg_hub.say(other, f"/start job_{order_id}")
    assert "13800138000" not in tg_hub.fake.sent_to(other)[0].text
