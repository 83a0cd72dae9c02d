"""Fixtures for the WeChat traffic tests: the hub in safe mode and in plaintext mode."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import AsyncIterator

import pytest

from bot.devtools.fake_wechat import FakeWeChatAPI
from tests.conftest import Backend, Hub, make_settings, start_hub


@pytest.fixture(params=["safe-mode", "plaintext"])
async def any_mode_hub(request: pytest.FixtureRequest, backend: Backend, fake_wechat: FakeWeChatAPI) -> AsyncIterator[Hub]:
    """The hub as an account in safe mode (EncodingAESKey set), then as one in plaintext mode."""
    overrides = {"flood_burst": 0} | ({} if request.param == "safe-mode" else {"wechat_aes_key": ""})
    running = await start_hub(make_settings(backend, fake_wechat, **overrides), fake_wechat)
    running.encrypted = request.param == "safe-mode"  # type: ignore[attr-defined]
    yield running
    await running.client.close()


def openid() -> str:
    return f"o_{uuid.uuid4().hex[:24]}"


def with_sender(xml: str, sender: str) -> str:
    """The sample with its FromUserName replaced (CDATA or not, whitespace kept out)."""
    return re.sub(r"<FromUserName>.*?</FromUserName>", f"<FromUserName><![CDATA[{sender}]]></FromUserName>", xml, count=1)


def xml_of(fields: dict[str, str]) -> str:
    """A flat message body from fields."""
    return "<xml>" + "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items()) + "</xml>"


def now() -> str:
    return str(int(time.time()))
