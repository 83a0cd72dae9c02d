"""The hand-off round trip across both platforms: the owner on WeChat (signed+encrypted XML), staff
in the Telegram staff chat (the issue-5 fake Bot API server), replies back over the WeChat
customer-service API (the fake WeChat server)."""

from __future__ import annotations

from bot.app import RELAY
from bot.devtools.fake_telegram import bot_message_json
from dialogs import texts
from tests.dialogs.conftest import OwnerChat
from tests.telegram.conftest import STAFF_CHAT, TgHub, fake_telegram, make_world, tg_hub, wechat_to

__all__ = ["fake_telegram", "tg_hub"]  # fixtures


async def test_handoff_round_trip_through_wechat_and_the_telegram_staff_chat(tg_hub: TgHub) -> None:
    hub = tg_hub.hub
    world = await make_world(hub)
    owner = OwnerChat(hub, world.owner_openid)
    await owner.say("我家热水器一直漏水")
    assert await owner.say("转人工") == texts.HANDOFF_OPENED
    await hub.client.app[RELAY].drain()
    [alert] = [c for c in tg_hub.fake.sent_to(STAFF_CHAT) if f"#{world.owner_id})" in c.text and "热水器一直漏水" in c.text]
    alert_id = next(k[1] for k, m in tg_hub.fake.messages.items() if k[0] == STAFF_CHAT and m["text"] == alert.text)
    alert_msg = bot_message_json(chat_id=STAFF_CHAT, message_id=alert_id, text=alert.text)

    await tg_hub.say(world.staff_telegram_id, "您好，师傅下午两点上门。", chat_id=STAFF_CHAT, reply_to=alert_msg)
    assert wechat_to(hub.fake_wechat, world.owner_openid) == ["您好，师傅下午两点上门。"]

    # The bot stays quiet; the owner's answer goes to the staff chat instead.
    assert await owner.say("好的，下午我在家") == ""
    await hub.client.app[RELAY].drain()
    assert [c for c in tg_hub.fake.sent_to(STAFF_CHAT) if "好的，下午我在家" in c.text]

    await tg_hub.say(world.staff_telegram_id, "结束", chat_id=STAFF_CHAT, reply_to=alert_msg)
    assert wechat_to(hub.fake_wechat, world.owner_openid)[-1] == texts.HANDOFF_CLOSED
    assert "管家服务" in await owner.say("你好")  # the bot answers again
