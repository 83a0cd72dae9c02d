"""Bot API faults: 429 retry_after, no-op edits, supergroup migration, blocked users, cancellation."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import RELAY
from bot.devtools.fake_telegram import FakeTelegramAPI
from bot.devtools.fake_wechat import FakeWeChatAPI
from storage import orders, outbox
from storage.db import unit_of_work
from storage.events import MerchantNote
from storage.outbox import OutboxEvent
from tests.conftest import Backend
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
)

SUPERGROUP = -1009990001111


async def _events(tg: TgHub, kind: str) -> list[OutboxEvent]:
    async with unit_of_work(tg.hub.runtime.sessions) as session:
        return list(await session.scalars(select(OutboxEvent).where(OutboxEvent.kind == kind).order_by(OutboxEvent.id)))


async def test_429_then_success_posts_the_card_once(tg_hub: TgHub) -> None:
    world = await make_world(tg_hub.hub)
    order_id, code = await create_order(tg_hub.hub, world)
    tg_hub.fake.rate_limit("sendMessage", retry_after=1, match=lambda params: code in str(params.get("text")))
    await tg_hub.hub.client.app[RELAY].drain()

    refused, accepted = sends_mentioning(tg_hub.fake, MERCHANT_CHAT, code)
    assert accepted.at - refused.at >= 0.9  # waited retry_after, then sent once
    mine = [key for key, m in tg_hub.fake.messages.items() if code in m["text"]]
    assert len(mine) == 1  # one card exists in the group
    assert (await load_order(tg_hub.hub, order_id)).card_message_id == mine[0][1]


async def test_429_with_a_long_wait_is_left_to_the_sweeper(tg_hub: TgHub) -> None:
    world = await make_world(tg_hub.hub)
    order_id, code = await create_order(tg_hub.hub, world)
    # Over the bounded wait: give up for now.
    tg_hub.fake.rate_limit("sendMessage", retry_after=60, match=lambda params: code in str(params.get("text")))
    relay = tg_hub.hub.client.app[RELAY]
    await relay.drain()
    assert (await load_order(tg_hub.hub, order_id)).card_message_id is None
    mine = [e for e in await _events(tg_hub, "order.created") if e.payload.get("order_id") == order_id]
    assert mine[0].processed_at is None and mine[0].attempts == 1
    await relay.drain()  # the next sweep succeeds
    assert (await load_order(tg_hub.hub, order_id)).card_message_id is not None
    assert len([m for m in tg_hub.fake.messages.values() if code in m["text"]]) == 1


async def test_message_is_not_modified_is_ignored(tg_hub: TgHub) -> None:
    bot = tg_hub.telegram.bot
    sent = await bot.send_message(MERCHANT_CHAT, "卡片")
    await bot.edit_message_text(text="卡片（已接单）", chat_id=MERCHANT_CHAT, message_id=sent.message_id)
    # Identical content: Telegram answers 400 "message is not modified"; that is not a failure.
    assert await bot.edit_message_text(text="卡片（已接单）", chat_id=MERCHANT_CHAT, message_id=sent.message_id) is True
    assert tg_hub.fake.calls_to("editMessageText")[-1].text == "卡片（已接单）"


async def test_group_migrated_to_supergroup_is_followed_and_remembered(
    backend: Backend, fake_wechat: FakeWeChatAPI, fake_telegram: FakeTelegramAPI
) -> None:
    settings = telegram_settings(backend, fake_wechat, fake_telegram)
    tg = await start_tg_hub(settings, fake_wechat, fake_telegram)
    try:
        fake_telegram.migrate_chat(MERCHANT_CHAT, SUPERGROUP)
        world = await make_world(tg.hub)
        order_id, code = await create_order(tg.hub, world)
        await tg.hub.client.app[RELAY].drain()
        assert [c.chat_id for c in fake_telegram.calls_to("sendMessage") if code in c.text][-2:] == [MERCHANT_CHAT, SUPERGROUP]
        assert (await load_order(tg.hub, order_id)).card_chat_id == SUPERGROUP
        assert await tg.telegram.service.chats.merchant_chat() == SUPERGROUP

        _, code2 = await create_order(tg.hub, world)
        await tg.hub.client.app[RELAY].drain()
        # No detour via the old id.
        assert [c.chat_id for c in fake_telegram.calls_to("sendMessage") if code2 in c.text] == [SUPERGROUP]
    finally:
        await tg.hub.client.close()
    if backend.name == "postgres_redis":
        # A restarted process (same Redis) goes straight to the supergroup.
        again = await start_tg_hub(settings, fake_wechat, fake_telegram)
        try:
            assert await again.telegram.service.chats.merchant_chat() == SUPERGROUP
        finally:
            await again.hub.client.close()


async def test_cancelled_order_closes_the_card_and_tells_the_merchant(tg_hub: TgHub) -> None:
    world = await make_world(tg_hub.hub)
    order_id, code = await create_order(tg_hub.hub, world)
    await tg_hub.hub.client.app[RELAY].drain()
    merchant = world.merchants["张师傅"]
    await tg_hub.press(merchant, job_button(order_id))
    async with unit_of_work(tg_hub.hub.runtime.sessions) as session:
        order = await orders.get(session=session, order_id=order_id)
        assert order is not None
        await orders.cancel(session=session, order=order, reason="业主临时有事")
    await tg_hub.hub.client.app[RELAY].drain()
    card = [c for c in tg_hub.fake.calls_to("editMessageText", chat_id=MERCHANT_CHAT) if code in c.text][-1]
    assert card.text.startswith("❌ 已取消")
    assert "已取消，请不要上门" in tg_hub.fake.sent_to(merchant)[-1].text
    # A press on the cancelled card is refused.
    query = await tg_hub.press(world.merchants["张师傅"], job_button(order_id))
    assert tg_hub.answer_for(query)["text"] == "该订单已取消或已结束"


async def test_merchant_notify_reaches_the_merchant_or_asks_them_to_start_the_bot(tg_hub: TgHub) -> None:
    world = await make_world(tg_hub.hub, merchants_spec={"张师傅": {}, "李师傅": {}})
    tg_hub.fake.block_user(world.merchants["李师傅"])
    async with unit_of_work(tg_hub.hub.runtime.sessions) as session:
        outbox.emit(session, MerchantNote(merchant_id=world.merchant_ids["张师傅"], text="本月结算单已生成"))
        outbox.emit(session, MerchantNote(merchant_id=world.merchant_ids["李师傅"], text="本月结算单已生成"))
    await tg_hub.hub.client.app[RELAY].drain()
    assert tg_hub.fake.sent_to(world.merchants["张师傅"])[-1].text == "本月结算单已生成"
    (hint,) = sends_mentioning(tg_hub.fake, MERCHANT_CHAT, f"tg://user?id={world.merchants['李师傅']}")
    assert "?start=" in hint.text and f"tg://user?id={world.merchants['李师傅']}" in hint.text
    failed = [
        e for e in await _events(tg_hub, "merchant.notify")
        if e.last_error and e.payload["merchant_id"] in world.merchant_ids.values()
    ]
    assert len(failed) == 1 and failed[0].processed_at is not None  # permanent: not retried forever


async def test_a_press_is_answered_even_when_the_database_is_down(
    fake_wechat: FakeWeChatAPI, fake_telegram: FakeTelegramAPI
) -> None:
    from bot.telegram.cards import StepCb

    down = Backend("db_down", "sqlite+aiosqlite:////nonexistent-dir/butler.db", "")  # cannot be opened
    tg = await start_tg_hub(telegram_settings(down, fake_wechat, fake_telegram), fake_wechat, fake_telegram)
    try:
        query = await tg.press(12345, job_button(1))
        assert tg.answer_for(query) == {"callback_query_id": query, "text": "系统繁忙，请稍后再按一次", "show_alert": "true"}
        query = await tg.press(12345, StepCb(order_id=1, step="go").pack(), chat_id=12345)
        assert tg.answer_for(query)["text"] == "系统繁忙，请稍后再试"
    finally:
        await tg.hub.client.close()
