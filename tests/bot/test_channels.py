"""`butler serve --channels` (issue 18): a process serves only the webhooks it is given."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import SERVICES, create_app
from bot.devtools.fake_telegram import FakeTelegramAPI
from bot.devtools.fake_wechat import FakeWeChatAPI
from tests import subproc
from tests.conftest import Backend
from tests.telegram.conftest import telegram_settings

BUTLER = str(Path(sys.executable).with_name("butler"))


@pytest.fixture
async def telegram_api() -> AsyncIterator[FakeTelegramAPI]:
    fake = FakeTelegramAPI()
    await fake.start()
    yield fake
    await fake.close()


def _paths(app: object) -> set[str]:
    return {r.resource.canonical for r in app.router.routes() if r.resource is not None}  # type: ignore[attr-defined]


@pytest.mark.parametrize("backend", ["embedded"], indirect=True)
async def test_a_wechat_only_worker_mounts_no_telegram_webhook(
    backend: Backend, fake_wechat: FakeWeChatAPI, telegram_api: FakeTelegramAPI
) -> None:
    settings = telegram_settings(backend, fake_wechat, telegram_api)
    every = create_app(settings)
    wechat_only = create_app(settings, channels=("wechat",))
    try:
        assert "/wechat" in _paths(every) and any(p.startswith("/telegram") for p in _paths(every))
        assert "/wechat" in _paths(wechat_only)
        assert not any(p.startswith("/telegram") for p in _paths(wechat_only))
        assert wechat_only[SERVICES].telegram is None  # no dispatcher, no update routers
        assert wechat_only[SERVICES].telegram_outbox is not None  # still sends merchant cards
    finally:
        await every[SERVICES].aclose()
        await wechat_only[SERVICES].aclose()


async def test_an_unknown_channel_is_a_one_line_error() -> None:
    done = await subproc.run([BUTLER, "serve", "--channels", "wechat,fax"], timeout=60)
    assert done.returncode != 0
    assert "unknown channel(s) fax" in done.stderr and "Traceback" not in done.stderr
