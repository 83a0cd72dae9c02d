"""The WeCom client (wechatpy.enterprise in a thread) against the fake WeCom API server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.devtools.fake_wecom import GETTOKEN, SEND, UPDATE_CARD, UPLOAD, FakeWeComAPI
from bot.outbox_relay import RetryLater
from bot.wechat.client import SendingPaused, SendOutcomeUnknown, WeChatAPIError
from bot.wecom.client import RateLimited, WeComClient
from dialogs.guard import ContentGuard, GuardRefused
from storage.kv import create_store
from tests.conftest import Backend

CARD = {"card_type": "button_interaction", "main_title": {"title": "新订单"}, "task_id": "t1",
        "button_list": [{"text": "接单", "style": 1, "key": "k"}]}


@pytest.fixture
async def fake_wecom() -> AsyncIterator[FakeWeComAPI]:
    fake = FakeWeComAPI()
    await fake.start()
    yield fake
    await fake.close()


def make_client(backend: Backend, fake: FakeWeComAPI, prefix: str, **kw: object) -> WeComClient:
    return WeComClient(corp_id=fake.corp_id, secret=fake.secret, agent_id=str(fake.agent_id), api_base=fake.base_url,
                       kv=create_store(backend.redis_url, prefix=prefix), guard=ContentGuard(["零物业费"]), **kw)  # type: ignore[arg-type]


@pytest.fixture
async def client(backend: Backend, fake_wecom: FakeWeComAPI) -> AsyncIterator[WeComClient]:
    made = make_client(backend, fake_wecom, f"test:{uuid.uuid4().hex}:")
    yield made
    await made.kv.aclose()


async def test_one_token_for_concurrent_calls_and_for_a_second_process(
    backend: Backend, client: WeComClient, fake_wecom: FakeWeComAPI
) -> None:
    await asyncio.gather(*(client.send_text("zhang", f"消息{i}") for i in range(5)))
    assert len(fake_wecom.calls_to(GETTOKEN)) == 1 and len(fake_wecom.sent_to("zhang")) == 5
    if backend.redis_url:  # another process on the same Redis reuses the token
        other = WeComClient(corp_id=fake_wecom.corp_id, secret=fake_wecom.secret, agent_id=str(fake_wecom.agent_id),
                            api_base=fake_wecom.base_url, kv=client.kv, guard=client.guard)
        await other.send_text("li", "你好")
        assert len(fake_wecom.calls_to(GETTOKEN)) == 1


@pytest.mark.parametrize("errcode", [42001, 40014])
async def test_an_expired_or_invalid_token_is_refreshed_once(
    client: WeComClient, fake_wecom: FakeWeComAPI, errcode: int
) -> None:
    await client.send_text("zhang", "第一条")
    if errcode == 42001:
        fake_wecom.expire_token()
    else:
        fake_wecom.fail(SEND, 40014)
    await client.send_text("zhang", "第二条")
    assert len(fake_wecom.calls_to(GETTOKEN)) == 2
    assert [c.body["text"]["content"] for c in fake_wecom.sent_to("zhang")][-1] == "第二条"


async def test_a_token_rejected_after_a_refresh_is_not_retried_again(client: WeComClient, fake_wecom: FakeWeComAPI) -> None:
    fake_wecom.fail(SEND, 42001, times=5)
    with pytest.raises(SendingPaused):
        await client.send_text("zhang", "你好")
    assert len(fake_wecom.calls_to(SEND)) == 2  # bounded: one refresh, one retry


async def test_errcodes_and_transport_map_to_the_wechat_exceptions(client: WeComClient, fake_wecom: FakeWeComAPI) -> None:
    fake_wecom.fail(SEND, 60020)  # e.g. the server's IP is not a trusted IP of the app
    with pytest.raises(WeChatAPIError) as info:
        await client.send_text("zhang", "你好")
    assert info.value.errcode == 60020
    with pytest.raises(GuardRefused):
        await client.send_text("zhang", "本小区零物业费")


async def test_a_slow_answer_is_an_unknown_outcome(backend: Backend, fake_wecom: FakeWeComAPI) -> None:
    client = make_client(backend, fake_wecom, f"test:{uuid.uuid4().hex}:", timeout_seconds=0.3)
    fake_wecom.delay(SEND, 1.0)  # the request reached WeCom; the answer did not come back in time
    with pytest.raises(SendOutcomeUnknown):
        await client.send_text("zhang", "你好")
    await fake_wecom.close()  # nobody listening: nothing was sent, a plain (retryable) error
    with pytest.raises(WeChatAPIError) as info:
        await client.send_text("zhang", "你好")
    assert not isinstance(info.value, SendOutcomeUnknown)
    await client.kv.aclose()


async def test_cards_are_sent_updated_once_and_images_uploaded(
    client: WeComClient, fake_wecom: FakeWeComAPI, tmp_path: Path
) -> None:
    code = await client.send_card("zhang", CARD)
    assert code and fake_wecom.cards_to("zhang")[0].buttons()[0]["text"] == "接单"
    await client.update_card(["zhang"], code, replace_name="已被接单")
    assert fake_wecom.updates_for("zhang")[0].body["button"] == {"replace_name": "已被接单"}
    with pytest.raises(WeChatAPIError):  # a response_code updates a card only once
        await client.update_card(["zhang"], code, replace_name="已被接单")
    image = tmp_path / "report.png"
    image.write_bytes(b"\x89PNG fake")
    await client.send_image("zhang", image)
    assert fake_wecom.calls_to(UPLOAD)[0].body["filename"] == "report.png"
    assert fake_wecom.sent_to("zhang")[-1].body["msgtype"] == "image"
    assert len(fake_wecom.calls_to(UPDATE_CARD)) == 2


@pytest.mark.parametrize("errcode", [45009, 45011, 45033])
async def test_a_rate_limit_pauses_every_sender_with_a_doubling_backoff(
    backend: Backend, fake_wecom: FakeWeComAPI, errcode: int
) -> None:
    prefix = f"test:{uuid.uuid4().hex}:"
    client = make_client(backend, fake_wecom, prefix, pause_seconds=0.4, pause_max_seconds=5)
    fake_wecom.fail(SEND, errcode)
    with pytest.raises(RateLimited) as info:
        await client.send_text("zhang", "第一条")
    assert isinstance(info.value, RetryLater)  # the outbox keeps the row pending: not an attempt, not lost
    calls = len(fake_wecom.calls_to(SEND))
    with pytest.raises(RateLimited):  # paused: WeCom is not asked again meanwhile
        await client.send_text("zhang", "第二条")
    if backend.redis_url:  # another process sharing the store pauses too
        other = make_client(backend, fake_wecom, prefix)
        with pytest.raises(RateLimited):
            await other.send_text("li", "你好")
        await other.kv.aclose()
    assert len(fake_wecom.calls_to(SEND)) == calls
    await asyncio.sleep(0.5)
    fake_wecom.fail(SEND, errcode)  # limited again right after the pause: the next pause is longer
    with pytest.raises(RateLimited):
        await client.send_text("zhang", "第二条")
    await asyncio.sleep(0.5)
    with pytest.raises(RateLimited):
        await client.send_text("zhang", "第二条")
    await asyncio.sleep(0.4)
    await client.send_text("zhang", "第二条")  # the pause is over: sent, and the backoff is reset
    assert fake_wecom.sent_to("zhang")[-1].body["text"]["content"] == "第二条"
    fake_wecom.fail(SEND, errcode)
    with pytest.raises(RateLimited):
        await client.send_text("zhang", "第三条")
    await asyncio.sleep(0.5)
    await client.send_text("zhang", "第三条")
    await client.kv.aclose()
