"""The outbound WeChat client against the fake API server: token sharing, retries, typed errors."""

from __future__ import annotations

import asyncio
import sys
import textwrap
import time
import uuid

import pytest

from bot.devtools.fake_wechat import FakeWeChatAPI
from bot.wechat.client import (
    NotFollowing,
    QuotaExceeded,
    WeChatAPIError,
    WeChatClient,
    WindowClosed,
)
from dialogs.guard import ContentGuard, GuardRefused
from storage.kv import create_store
from tests.conftest import REDIS_URL, Backend


def make_client(backend: Backend, fake: FakeWeChatAPI, prefix: str, timeout: float = 5.0) -> WeChatClient:
    return WeChatClient(
        app_id="wxapp", app_secret="secret", api_base=fake.base_url,  # type: ignore[attr-defined]
        kv=create_store(backend.redis_url, prefix=prefix), guard=ContentGuard(["零物业费"]),
        timeout_seconds=timeout,
    )


@pytest.fixture
async def client(backend: Backend, fake_wechat: FakeWeChatAPI):  # type: ignore[no-untyped-def]
    made = make_client(backend, fake_wechat, f"test:{uuid.uuid4().hex}:")
    yield made
    await made.aclose()
    await made.kv.aclose()


async def test_token_is_fetched_once_and_reused(client: WeChatClient, fake_wechat: FakeWeChatAPI) -> None:
    await asyncio.gather(*(client.send_text("o1", f"消息{i}") for i in range(5)))
    assert len(fake_wechat.calls_to("/cgi-bin/token")) == 1
    assert len(fake_wechat.calls_to("/cgi-bin/message/custom/send")) == 5


async def test_invalid_token_is_refreshed_once_and_the_call_retried(client: WeChatClient, fake_wechat: FakeWeChatAPI) -> None:
    await client.send_text("o1", "第一条")
    fake_wechat.fail("/cgi-bin/message/custom/send", 40001)
    await client.send_text("o1", "第二条")
    assert len(fake_wechat.calls_to("/cgi-bin/token")) == 2


async def test_persistent_40001_raises_instead_of_looping(client: WeChatClient, fake_wechat: FakeWeChatAPI) -> None:
    fake_wechat.fail("/cgi-bin/message/custom/send", 40001, times=50)
    with pytest.raises(WeChatAPIError) as info:
        await client.send_text("o1", "你好")
    assert info.value.errcode == 40001
    assert len(fake_wechat.calls_to("/cgi-bin/message/custom/send")) == 2
    assert len(fake_wechat.calls_to("/cgi-bin/token")) == 2


@pytest.mark.parametrize(
    ("errcode", "error"), [(45015, WindowClosed), (45047, QuotaExceeded), (45009, QuotaExceeded), (43004, NotFollowing)]
)
async def test_platform_limits_raise_typed_errors(
    client: WeChatClient, fake_wechat: FakeWeChatAPI, errcode: int, error: type[Exception]
) -> None:
    fake_wechat.fail("/cgi-bin/message/custom/send", errcode)
    with pytest.raises(error):
        await client.send_text("o1", "你好")


async def test_every_call_has_a_timeout(backend: Backend, fake_wechat: FakeWeChatAPI) -> None:
    slow = make_client(backend, fake_wechat, f"test:{uuid.uuid4().hex}:", timeout=0.3)
    fake_wechat.delay("/cgi-bin/message/custom/send", 2.0)
    started = time.perf_counter()
    with pytest.raises(WeChatAPIError):
        await slow.send_text("o1", "你好")
    assert time.perf_counter() - started < 1.5
    await slow.aclose()


async def test_guard_blocks_internal_terms_before_any_call(client: WeChatClient, fake_wechat: FakeWeChatAPI) -> None:
    with pytest.raises(GuardRefused):
        await client.send_text("o1", "本小区即将实现零物业费")
    with pytest.raises(GuardRefused):
        await client.mass_send_text(["o1", "o2"], "零 物业费活动")
    assert fake_wechat.calls_to("/cgi-bin/message/custom/send") == []


async def test_api_methods_hit_the_documented_paths(client: WeChatClient, fake_wechat: FakeWeChatAPI) -> None:
    await client.send_news("o1", [{"title": "社区活动", "description": "周六义诊", "url": "", "picurl": ""}])
    await client.send_template("o1", "TPL", {"phrase4": "已接单"})
    await client.mass_send_text(["o1", "o2"], "周末团购", clientmsgid="b1")
    info = await client.user_info("o1")
    tag = await client.create_tag("有车")
    await client.tag_users(tag, ["o1"])
    await client.create_menu({"button": [{"type": "click", "name": "服务", "key": "MENU"}]})
    paths = [c.path for c in fake_wechat.calls if c.path != "/cgi-bin/token"]
    assert paths == [
        "/cgi-bin/message/custom/send", "/cgi-bin/message/template/send", "/cgi-bin/message/mass/send",
        "/cgi-bin/user/info", "/cgi-bin/tags/create", "/cgi-bin/tags/members/batchtagging", "/cgi-bin/menu/create",
    ]
    assert info["openid"] == "o1"
    assert fake_wechat.calls_to("/cgi-bin/message/mass/send")[0].body["clientmsgid"] == "b1"


TOKEN_WORKER = textwrap.dedent(
    """
    import asyncio, sys
    from bot.wechat.client import WeChatClient
    from dialogs.guard import ContentGuard
    from storage.kv import create_store

    async def main(base, redis_url, prefix):
        client = WeChatClient(app_id="wxapp", app_secret="s", api_base=base,
                              kv=create_store(redis_url, prefix=prefix), guard=ContentGuard([]))
        await client.send_text("o1", "来自进程")
        await client.aclose()

    asyncio.run(main(*sys.argv[1:4]))
    """
)


async def test_two_processes_share_one_token_fetch(fake_wechat: FakeWeChatAPI) -> None:
    prefix = f"test:{uuid.uuid4().hex}:"
    fake_wechat.delay("/cgi-bin/token", 0.3)  # widen the race window: both start before either finishes
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", TOKEN_WORKER, fake_wechat.base_url, REDIS_URL, prefix  # type: ignore[attr-defined]
        )
        for _ in range(2)
    ]
    assert [await p.wait() for p in procs] == [0, 0]
    assert len(fake_wechat.calls_to("/cgi-bin/token")) == 1
    assert len(fake_wechat.calls_to("/cgi-bin/message/custom/send")) == 2
