"""Ten merchants press 接单 at the same moment on two app processes sharing PostgreSQL and Redis."""

from __future__ import annotations

import asyncio

import pytest

from bot.app import RELAY
from bot.devtools.fake_telegram import FakeTelegramAPI
from bot.devtools.fake_wechat import FakeWeChatAPI
from tests.conftest import REDIS_URL, Backend
from tests.telegram.conftest import (
    MERCHANT_CHAT,
    TgHub,
    create_order,
    job_button,
    load_order,
    make_world,
    sends_mentioning,
    start_tg_hub,
    telegram_settings,
    wechat_to,
)

CS = "/cgi-bin/message/custom/send"


@pytest.fixture
def pg_backend(postgres_url: str) -> Backend:
    return Backend("postgres_redis", postgres_url, REDIS_URL)


async def test_ten_presses_over_two_apps_have_exactly_one_winner(
    pg_backend: Backend, fake_wechat: FakeWeChatAPI, fake_telegram: FakeTelegramAPI
) -> None:
    settings = telegram_settings(pg_backend, fake_wechat, fake_telegram)
    # Same database, same Redis prefix: two independent processes' worth of engines, pools, relays.
    first = await start_tg_hub(settings, fake_wechat, fake_telegram)
    second = await start_tg_hub(settings, fake_wechat, fake_telegram)
    try:
        names = [f"师傅{i}" for i in range(10)]
        world = await make_world(first.hub, merchants_spec={n: {} for n in names})
        order_id, code = await create_order(first.hub, world)
        await first.hub.client.app[RELAY].drain()
        assert len(sends_mentioning(fake_telegram, MERCHANT_CHAT, code)) == 1

        data = job_button(order_id)
        hubs: list[TgHub] = [first, second]
        query_ids = await asyncio.gather(
            *(hubs[i % 2].press(world.merchants[n], data) for i, n in enumerate(names))
        )
        answers = [first.answer_for(q)["text"] for q in query_ids]
        winners = [n for n, a in zip(names, answers, strict=True) if a == "接单成功"]
        assert len(winners) == 1, answers
        assert sorted(answers) == sorted(["接单成功"] + ["手慢了，这单已被其他商家接走"] * 9)

        order = await load_order(second.hub, order_id)
        assert order.status == "accepted" and order.merchant_id == world.merchant_ids[winners[0]]

        # Exactly one owner notification, already delivered when the presses returned.
        notices = wechat_to(fake_wechat, world.owner_openid)
        assert len(notices) == 1 and code in notices[0]
        # Exactly one private message with the owner's details, to the winner only.
        # This order's slips only (other tests' pending rows in the shared database carry the same phone).
        with_phone = [c for c in fake_telegram.calls_to("sendMessage") if "13800138000" in c.text and code in c.text]
        assert [c.chat_id for c in with_phone] == [world.merchants[winners[0]]]
        # A sweep on either process finds nothing left to send.
        await asyncio.gather(first.hub.client.app[RELAY].drain(), second.hub.client.app[RELAY].drain())
        assert len(wechat_to(fake_wechat, world.owner_openid)) == 1
        assert len([c for c in fake_telegram.calls_to("sendMessage") if "13800138000" in c.text]) == 1
    finally:
        await first.hub.client.close()
        await second.hub.client.close()


async def test_ten_simultaneous_presses_on_one_app(tg_hub: TgHub) -> None:
    """The same race on each backend (SQLite serialises writers; a locked write is retried)."""
    names = [f"师傅{i}" for i in range(10)]
    world = await make_world(tg_hub.hub, merchants_spec={n: {} for n in names})
    order_id, _ = await create_order(tg_hub.hub, world)
    data = job_button(order_id)
    query_ids = await asyncio.gather(*(tg_hub.press(world.merchants[n], data) for n in names))
    answers = [tg_hub.answer_for(q)["text"] for q in query_ids]
    assert answers.count("接单成功") == 1, answers
    assert len(wechat_to(tg_hub.hub.fake_wechat, world.owner_openid)) == 1
