"""Telegram and WeCom both configured: a job goes to the group *and* to WeCom merchants; a merchant on
both gets private messages on the channel they last acted on (issue 17)."""

from __future__ import annotations

import uuid

from sqlalchemy import update

from bot.app import RELAY
from bot.devtools.fake_telegram import FakeTelegramAPI
from bot.devtools.fake_wechat import FakeWeChatAPI
from bot.devtools.fake_wecom import FakeWeComAPI, WeComSender
from storage import merchants
from storage.db import unit_of_work
from tests.conftest import TEST_AES_KEY, Backend
from tests.telegram.conftest import (
    MERCHANT_CHAT,
    create_order,
    job_button,
    load_order,
    make_world,
    start_tg_hub,
    telegram_settings,
)
from tests.wecom.conftest import WECOM_TOKEN, WcHub

PHONE = "13800138000"


async def test_one_job_on_both_channels_and_the_slip_follows_the_press(
    backend: Backend, fake_wechat: FakeWeChatAPI, fake_telegram: FakeTelegramAPI, fake_wecom: FakeWeComAPI
) -> None:
    settings = telegram_settings(
        backend, fake_wechat, fake_telegram, wecom_corp_id=fake_wecom.corp_id, wecom_secret=fake_wecom.secret,
        wecom_agent_id=str(fake_wecom.agent_id), wecom_api_base=fake_wecom.base_url, wecom_token=WECOM_TOKEN,
        wecom_aes_key=TEST_AES_KEY,
    )
    tg = await start_tg_hub(settings, fake_wechat, fake_telegram)
    wc = WcHub(tg.hub, fake_wecom, WeComSender(WECOM_TOKEN, TEST_AES_KEY, fake_wecom.corp_id, fake_wecom.agent_id))
    try:
        world = await make_world(tg.hub, merchants_spec={"双通道": {}, "只用电报": {}})
        both = f"wc{uuid.uuid4().hex[:10]}"
        async with unit_of_work(tg.hub.runtime.sessions) as session:
            await session.execute(update(merchants.Merchant).where(merchants.Merchant.id == world.merchant_ids["双通道"])
                                  .values(wecom_userid=both))
        order_id, code = await create_order(tg.hub, world)
        await tg.hub.client.app[RELAY].drain()
        assert len([c for c in fake_telegram.sent_to(MERCHANT_CHAT) if code in c.text]) == 1
        (card,) = fake_wecom.cards_to(both)
        assert code in card.text

        # A press on Telegram by the other merchant loses to nothing yet; the WeCom press wins first.
        assert await wc.press(both, card.buttons()[0]["key"]) == 200
        query = await tg.press(world.merchants["只用电报"], job_button(order_id))
        assert tg.answer_for(query)["text"] == "手慢了，这单已被其他商家接走"
        order = await load_order(tg.hub, order_id)
        assert order.merchant_id == world.merchant_ids["双通道"]
        assert order.merchant is not None and order.merchant.last_channel == "wecom"
        # The slip went to WeCom, where they pressed, and not to their Telegram chat.
        assert [c.touser for c in fake_wecom.calls_to("/cgi-bin/message/send") if PHONE in c.text] == [both]
        assert not [c for c in fake_telegram.calls_to("sendMessage") if PHONE in c.text]
        # The group card shows the job taken.
        edits = [c for c in fake_telegram.calls_to("editMessageText", chat_id=MERCHANT_CHAT) if code in c.text]
        assert edits and edits[-1].text.startswith("📌 已接单")
    finally:
        await tg.hub.client.close()


async def test_staff_on_both_get_alerts_where_they_last_acted(
    backend: Backend, fake_wechat: FakeWeChatAPI, fake_telegram: FakeTelegramAPI, fake_wecom: FakeWeComAPI
) -> None:
    from storage import outbox, staff
    from storage.events import StaffAlert
    from tests.telegram.conftest import STAFF_CHAT

    settings = telegram_settings(
        backend, fake_wechat, fake_telegram, wecom_corp_id=fake_wecom.corp_id, wecom_secret=fake_wecom.secret,
        wecom_agent_id=str(fake_wecom.agent_id), wecom_api_base=fake_wecom.base_url, wecom_token=WECOM_TOKEN,
        wecom_aes_key=TEST_AES_KEY,
    )
    tg = await start_tg_hub(settings, fake_wechat, fake_telegram)
    wc = WcHub(tg.hub, fake_wecom, WeComSender(WECOM_TOKEN, TEST_AES_KEY, fake_wecom.corp_id, fake_wecom.agent_id))
    try:
        world = await make_world(tg.hub)
        userid = f"kf{uuid.uuid4().hex[:10]}"
        async with unit_of_work(tg.hub.runtime.sessions) as session:
            await session.execute(update(staff.Staff).where(staff.Staff.id == world.staff_id).values(wecom_userid=userid))

        async def alert(text: str) -> bool:
            async with unit_of_work(tg.hub.runtime.sessions) as session:
                outbox.emit(session, StaffAlert(text=text, community_id=world.community_id))
            await tg.hub.client.app[RELAY].drain()
            assert any(text in c.text for c in fake_telegram.sent_to(STAFF_CHAT))  # the staff chat always
            return any(c.text == text for c in fake_wecom.sent_to(userid))

        assert await alert("【提醒】一")  # never acted yet: both
        await tg.say(world.staff_telegram_id, "/help", chat_id=STAFF_CHAT)
        assert not await alert("【提醒】二")  # last acted in the Telegram staff chat: read it there
        assert await wc.say(userid, "/help") == 200
        assert await alert("【提醒】三")  # last acted in the WeCom app
    finally:
        await tg.hub.client.close()
