"""A hub with WeCom pointed at the fake WeCom server, and helpers to call /wecom like WeCom does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import update

from bot.devtools.fake_telegram import FakeTelegramAPI
from bot.devtools.fake_wechat import FakeWeChatAPI
from bot.devtools.fake_wecom import FakeWeComAPI, WeComSender
from storage import merchants
from storage.db import unit_of_work
from tests.conftest import TEST_AES_KEY, Backend, Hub, make_settings, start_hub
from tests.telegram.conftest import World, make_world

WECOM_TOKEN = "wecom-callback-token"


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegramAPI]:
    """A running fake Bot API server (for hubs with both channels)."""
    fake = FakeTelegramAPI()
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def fake_wecom() -> AsyncIterator[FakeWeComAPI]:
    fake = FakeWeComAPI()
    await fake.start()
    yield fake
    await fake.close()


def wecom_settings(backend: Backend, fake_wechat: FakeWeChatAPI, fake_wecom: FakeWeComAPI, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "wecom_corp_id": fake_wecom.corp_id, "wecom_secret": fake_wecom.secret, "wecom_agent_id": str(fake_wecom.agent_id),
        "wecom_api_base": fake_wecom.base_url, "wecom_token": WECOM_TOKEN, "wecom_aes_key": TEST_AES_KEY,
        "dispatch_high_credit_head_start_seconds": 0,
    }
    return make_settings(backend, fake_wechat, **(values | overrides))


@dataclass
class WcHub:
    hub: Hub
    fake: FakeWeComAPI
    sender: WeComSender

    async def post(self, xml: str, **kw: Any) -> int:
        query, body = self.sender.request(xml, **kw)
        resp = await self.hub.client.post(f"/wecom?{query}", data=body)
        await resp.read()
        return resp.status

    async def press(self, userid: str, key: str) -> int:
        return await self.post(self.sender.press_xml(userid, key, self.fake.callback_code(userid)))

    async def say(self, userid: str, text: str) -> int:
        return await self.post(self.sender.text_xml(userid, text))


@pytest.fixture
async def wc_hub(backend: Backend, fake_wechat: FakeWeChatAPI, fake_wecom: FakeWeComAPI) -> AsyncIterator[WcHub]:
    settings = wecom_settings(backend, fake_wechat, fake_wecom)
    hub = await start_hub(settings, fake_wechat)
    yield WcHub(hub, fake_wecom, WeComSender(WECOM_TOKEN, TEST_AES_KEY, fake_wecom.corp_id, fake_wecom.agent_id))
    await hub.client.close()


async def wecom_world(hub: Hub, names: list[str], **kw: Any) -> tuple[World, dict[str, str]]:
    """make_world's merchants, on WeCom only: name -> userid."""
    world = await make_world(hub, merchants_spec={n: {} for n in names}, **kw)
    userids = {n: f"wc{world.merchants[n]}" for n in names}
    async with unit_of_work(hub.runtime.sessions) as session:
        for name, userid in userids.items():
            await session.execute(update(merchants.Merchant).where(merchants.Merchant.id == world.merchant_ids[name])
                                  .values(wecom_userid=userid, telegram_id=None))
    return world, userids
