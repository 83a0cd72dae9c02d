"""The workflow tests run the hub with Telegram (the staff chat) and the fake WeChat API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.devtools.fake_telegram import FakeTelegramAPI
from bot.devtools.fake_wechat import FakeWeChatAPI
from tests.conftest import Backend
from tests.telegram.conftest import TgHub, start_tg_hub, telegram_settings

COMPANY_HOTLINE = "400-800-1234"


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegramAPI]:
    """A running fake Bot API server."""
    fake = FakeTelegramAPI()
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def tg(backend: Backend, fake_wechat: FakeWeChatAPI, fake_telegram: FakeTelegramAPI) -> AsyncIterator[TgHub]:
    """The hub with the staff chat on the fake Telegram server and a company-wide hotline."""
    settings = telegram_settings(backend, fake_wechat, fake_telegram, hotline=COMPANY_HOTLINE)
    running = await start_tg_hub(settings, fake_wechat, fake_telegram)
    yield running
    await running.hub.client.close()
