"""The hand-off round trip across both platforms: the owner on WeChat (signed+encrypted XML), staff
in the Telegram staff chat (the issue-5 fake Bot API server), replies back over the WeChat
customer-service API (the fake WeChat server)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from functools import partial
from typing import TypeVar

from bot.app import RELAY
from bot.devtools.fake_telegram import RecordedCall, bot_message_json
from dialogs import texts
from tests.dialogs.conftest import OwnerChat
from tests.telegram.conftest import STAFF_CHAT, TgHub, fake_telegram, make_world, tg_hub, wechat_to

__all__ = ["fake_telegram", "tg_hub"]  # fixtures
T = TypeVar("T")


async def _delivered(tg_hub: TgHub, found: Callable[[], T]) -> T:
    """found() once the relay has delivered what it looks for (or its last value after 10 s).

    Deliveries run after the commit (a webhook waits for them only so long), and a drain stops
    early after a failed event, so this drains again until found() is truthy.
    """
    relay = tg_hub.hub.client.app[RELAY]
    deadline = asyncio.get_running_loop().time() + 10
    while not (value := found()) and asyncio.get_running_loop().time() < deadline:
        await relay.drain()
        await asyncio.sleep(0.05)
    return value


def _staff_chat_sends(tg_hub: TgHub, *needles: str) -> Callable[[], list[RecordedCall]]:
    """This test's sends to the staff chat: the database is shared by the session, so the relay
    also delivers other tests' leftover alerts here; only text unique to this test picks its own."""
    return lambda: [c for c in tg_hub.fake.sent_to(STAFF_CHAT) if all(n in c.text for n in needles)]


async def test_handoff_round_trip_through_wechat_and_the_telegram_staff_chat(tg_hub: TgHub) -> None:
    hub = tg_hub.hub
    world = await make_world(hub)
    owner = OwnerChat(hub, world.owner_openid)
    tag = uuid.uuid4().hex[:8]
    await owner.say(f"我家热水器一直漏水，编号{tag}")
    assert await owner.say("转人工") == texts.HANDOFF_OPENED
    [alert] = await _delivered(tg_hub, _staff_chat_sends(tg_hub, "【转人工】", f"(#{world.owner_id})", f"编号{tag}"))
    alert_id = next(k[1] for k, m in tg_hub.fake.messages.items() if k[0] == STAFF_CHAT and m["text"] == alert.text)
    alert_msg = bot_message_json(chat_id=STAFF_CHAT, message_id=alert_id, text=alert.text)
    to_owner = partial(wechat_to, hub.fake_wechat, world.owner_openid)

    await tg_hub.say(world.staff_telegram_id, "您好，师傅下午两点上门。", chat_id=STAFF_CHAT, reply_to=alert_msg)
    assert await _delivered(tg_hub, to_owner) == ["您好，师傅下午两点上门。"]

    # The bot stays quiet; the owner's answer goes to the staff chat instead.
    assert await owner.say(f"好的，下午我在家（{tag}）") == ""
    assert await _delivered(tg_hub, _staff_chat_sends(tg_hub, "【业主消息 #", f"好的，下午我在家（{tag}）"))

    await tg_hub.say(world.staff_telegram_id, "结束", chat_id=STAFF_CHAT, reply_to=alert_msg)
    assert (await _delivered(tg_hub, lambda: to_owner()[1:]))[-1] == texts.HANDOFF_CLOSED
    assert "管家服务" in await owner.say("你好")  # the bot answers again
