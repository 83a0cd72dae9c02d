"""The press is answered before the slow work; polling mode runs the same handlers."""

from __future__ import annotations

import asyncio
import time

from bot.app import RELAY
from bot.devtools.fake_telegram import callback_update
from bot.telegram.polling import poll
from tests.telegram.conftest import (
    CS_PATH,
    MERCHANT_CHAT,
    TgHub,
    create_order,
    job_button,
    make_world,
    wechat_to,
)


async def test_callback_is_answered_within_a_second_even_when_delivery_is_slow(tg_hub: TgHub) -> None:
    world = await make_world(tg_hub.hub)
    order_id, _ = await create_order(tg_hub.hub, world)
    await tg_hub.hub.client.app[RELAY].drain()
    tg_hub.hub.fake_wechat.delay(CS_PATH, 1.5)  # WeChat is slow today
    started = time.monotonic()
    query = await tg_hub.press(world.merchants["张师傅"], job_button(order_id))
    finished = time.monotonic()
    answered = next(c for c in tg_hub.fake.calls_to("answerCallbackQuery") if c.params["callback_query_id"] == query)
    assert answered.params["text"] == "接单成功"
    assert answered.at - started < 1.0
    # The slow owner notice still went out before the webhook request returned.
    assert finished - started >= 1.5 and len(wechat_to(tg_hub.hub.fake_wechat, world.owner_openid)) == 1


async def test_polling_mode_handles_updates_with_the_same_handlers(tg_hub: TgHub) -> None:
    world = await make_world(tg_hub.hub)
    order_id, _ = await create_order(tg_hub.hub, world)
    app = tg_hub.hub.client.app
    await app[RELAY].drain()
    task = asyncio.create_task(poll(app, handle_signals=False))
    try:
        update = callback_update(
            user_id=world.merchants["张师傅"], data=job_button(order_id), chat_id=MERCHANT_CHAT, message_id=1
        )
        tg_hub.fake.push_update(update)
        await tg_hub.fake.wait_for(lambda: wechat_to(tg_hub.hub.fake_wechat, world.owner_openid), timeout=10)
        answers = [c for c in tg_hub.fake.calls_to("answerCallbackQuery") if c.params["callback_query_id"] == update["callback_query"]["id"]]
        assert answers and answers[0].params["text"] == "接单成功"
        assert tg_hub.fake.calls_to("deleteWebhook")
    finally:
        await tg_hub.telegram.dispatcher.stop_polling()
        await asyncio.wait_for(task, 10)
