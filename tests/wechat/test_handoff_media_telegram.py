"""During a hand-off the staff chat gets the owner's photo itself (Telegram sendPhoto with WeChat's
PicUrl), and the link with its title and URL, through the real relay and the fake Bot API server."""

from __future__ import annotations

import asyncio
import time
import uuid

from bot.app import RELAY
from dialogs import texts
from tests.dialogs.conftest import OwnerChat
from tests.telegram.conftest import STAFF_CHAT, TgHub, fake_telegram, make_world, tg_hub
from tests.wechat.conftest import xml_of

__all__ = ["fake_telegram", "tg_hub"]  # fixtures


async def _until(tg: TgHub, found):  # type: ignore[no-untyped-def]
    relay = tg.hub.client.app[RELAY]
    deadline = asyncio.get_running_loop().time() + 10
    while not (value := found()) and asyncio.get_running_loop().time() < deadline:
        await relay.drain()
        await asyncio.sleep(0.05)
    return value


async def test_staff_get_the_photo_itself_and_the_link_with_its_url(tg_hub: TgHub) -> None:
    hub = tg_hub.hub
    world = await make_world(hub)
    owner = OwnerChat(hub, world.owner_openid)
    assert await owner.say("转人工") == texts.HANDOFF_OPENED
    tag = uuid.uuid4().hex[:8]
    photo_url = f"http://mmbiz.qpic.cn/mmbiz_jpg/{tag}/0"
    base = {"ToUserName": "gh_butler", "FromUserName": world.owner_openid, "CreateTime": str(int(time.time()))}
    image = base | {"MsgType": "image", "PicUrl": photo_url, "MediaId": f"m{tag}", "MsgId": str(time.time_ns() % 10**15)}
    link = base | {"MsgType": "link", "Title": f"漏水视频{tag}", "Description": "", "Url": f"https://v.qq.com/{tag}",
                   "MsgId": str(time.time_ns() % 10**15 + 1)}
    for body in (image, link):
        assert await hub.post(xml_of(body)) == (200, {})

    photos = await _until(tg_hub, lambda: [c for c in tg_hub.fake.calls_to("sendPhoto", chat_id=STAFF_CHAT)
                                           if c.params.get("photo") == photo_url])
    assert len(photos) == 1 and "【业主消息 #" in photos[0].text
    links = await _until(tg_hub, lambda: [c for c in tg_hub.fake.sent_to(STAFF_CHAT)
                                          if f"漏水视频{tag}" in c.text and f"https://v.qq.com/{tag}" in c.text])
    assert len(links) == 1
