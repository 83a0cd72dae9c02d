"""High-credit merchants get dispatch priority (PRODUCT.md rule 5): for a head start after a card is
posted only they may take it; with none able to take the job, nobody is kept waiting."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import update

from bot.app import RELAY
from bot.devtools.fake_telegram import FakeTelegramAPI
from bot.devtools.fake_wechat import FakeWeChatAPI
from storage.db import unit_of_work
from storage.orders import Order, OrderStatus
from tests.conftest import Backend
from tests.telegram.conftest import (
    TgHub,
    create_order,
    job_button,
    load_order,
    make_world,
    start_tg_hub,
    telegram_settings,
)

HEAD_START = 60


@pytest.fixture
async def tg(backend: Backend, fake_wechat: FakeWeChatAPI, fake_telegram: FakeTelegramAPI) -> AsyncIterator[TgHub]:
    settings = telegram_settings(backend, fake_wechat, fake_telegram,
                                 dispatch_high_credit_head_start_seconds=HEAD_START)
    running = await start_tg_hub(settings, fake_wechat, fake_telegram)
    yield running
    await running.hub.client.close()


async def _posted_card(tg: TgHub, world_spec: dict[str, dict[str, object]]) -> tuple[dict[str, int], int, str]:
    world = await make_world(tg.hub, merchants_spec=world_spec)
    order_id, _ = await create_order(tg.hub, world)
    await tg.hub.client.app[RELAY].drain()
    return world.merchants, order_id, job_button(order_id)


async def _age_card(tg: TgHub, order_id: int, seconds: float) -> None:
    """Move the card's posting time back, as if `seconds` had passed since it went up."""
    order = await load_order(tg.hub, order_id)
    assert order.card_posted_at is not None
    async with unit_of_work(tg.hub.runtime.sessions) as session:
        await session.execute(update(Order).where(Order.id == order_id)
                              .values(card_posted_at=order.card_posted_at - timedelta(seconds=seconds)))


async def test_during_the_head_start_only_a_high_credit_merchant_can_take_the_job(tg: TgHub) -> None:
    m, order_id, data = await _posted_card(tg, {"金牌家政": {"credit": 5}, "普通家政": {}})

    held = tg.answer_for(await tg.press(m["普通家政"], data))
    assert held["show_alert"] in (True, "true") and "高信用" in held["text"] and "秒后" in held["text"], held
    assert (await load_order(tg.hub, order_id)).status == OrderStatus.PENDING_DISPATCH

    won = tg.answer_for(await tg.press(m["金牌家政"], data))
    assert won["text"] == "接单成功"
    order = await load_order(tg.hub, order_id)
    assert order.status == OrderStatus.ACCEPTED and order.merchant is not None and order.merchant.name == "金牌家政"


async def test_after_the_head_start_anyone_eligible_can_take_it(tg: TgHub) -> None:
    m, order_id, data = await _posted_card(tg, {"金牌家政": {"credit": 5}, "普通家政": {}})
    await _age_card(tg, order_id, HEAD_START + 1)
    assert tg.answer_for(await tg.press(m["普通家政"], data))["text"] == "接单成功"


async def test_no_head_start_when_no_high_credit_merchant_could_take_it(tg: TgHub) -> None:
    # The high-credit merchant offers another service, so holding the card would help nobody.
    m, order_id, data = await _posted_card(tg, {"金牌维修": {"credit": 5, "services": ["家居家电维修"]}, "普通家政": {}})
    assert tg.answer_for(await tg.press(m["普通家政"], data))["text"] == "接单成功"
    assert (await load_order(tg.hub, order_id)).status == OrderStatus.ACCEPTED
