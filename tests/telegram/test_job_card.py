"""Job cards: posted to the merchant group when an order awaits dispatch, without owner details."""

from __future__ import annotations

from bot.app import RELAY
from bot.telegram.cards import JobCb
from storage.events import JobOffered, MerchantNote, StaffAlert
from tests.telegram.conftest import (
    MERCHANT_CHAT,
    SECRET,
    TgHub,
    create_order,
    load_order,
    make_world,
    sends_mentioning,
)


async def test_card_shows_the_job_but_not_the_owner(tg_hub: TgHub) -> None:
    world = await make_world(tg_hub.hub)
    order_id, code = await create_order(tg_hub.hub, world)
    await tg_hub.hub.client.app[RELAY].drain()

    cards = sends_mentioning(tg_hub.fake, MERCHANT_CHAT, code)
    assert len(cards) == 1
    text = cards[0].text
    assert code in text and "钟点工" in text and "翠苑" in text and "3号楼" in text and "打扫卫生" in text
    for secret in ("王女士", "13800138000", "13912345678", "301", "2单元"):
        assert secret not in text, secret
    (button,) = cards[0].buttons()
    assert button["text"] == "接单"
    assert len(button["callback_data"].encode()) <= 64
    assert JobCb.unpack(button["callback_data"]).order_id == order_id

    order = await load_order(tg_hub.hub, order_id)
    assert order.card_chat_id == MERCHANT_CHAT and order.card_message_id is not None
    assert order.card_posted_at is not None

    # A replayed order.created (or a second relay) never posts a second card.
    await tg_hub.hub.client.app[RELAY].drain()
    assert len(sends_mentioning(tg_hub.fake, MERCHANT_CHAT, code)) == 1


async def test_webhook_requires_the_secret_header(tg_hub: TgHub) -> None:
    update = {"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": 5, "type": "private"}, "text": "hi"}}
    assert (await tg_hub.post(update, secret=None)).status == 401
    assert (await tg_hub.post(update, secret="wrong")).status == 401
    assert (await tg_hub.post(update, secret=SECRET)).status == 200
    resp = await tg_hub.hub.client.post(
        "/telegram", data=b"{not json", headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert resp.status == 400


def test_card_notes_hide_phones_and_rooms() -> None:
    from bot.telegram.cards import redact

    assert redact("打扫卫生，电话13912345678，301室") == "打扫卫生，电话***，***"
    assert "301" not in redact("2单元301 打扫") and "1201" not in redact("3-1201 家电维修")
    assert redact("+86 139 1234 5678 联系") == "*** 联系"
    # Ordinary numbers stay: times, quantities, areas.
    assert redact("周六上午 10点以后，需要2个阿姨，面积120平") == "周六上午 10点以后，需要2个阿姨，面积120平"


async def test_the_scheduler_process_delivers_cards_too(backend, fake_wechat, fake_telegram) -> None:  # type: ignore[no-untyped-def]
    """`butler scheduler` registers the same deliveries (setup_telegram_outbox) on its own relay."""
    from bot.outbox_relay import OutboxRelay
    from bot.runtime import build_runtime
    from bot.telegram.setup import setup_telegram_outbox
    from tests.telegram.conftest import start_tg_hub, telegram_settings

    settings = telegram_settings(backend, fake_wechat, fake_telegram)
    web = await start_tg_hub(settings, fake_wechat, fake_telegram)  # only to seed through a Hub
    runtime = build_runtime(settings)
    relay = OutboxRelay(runtime.sessions)
    service = setup_telegram_outbox(runtime, relay)
    try:
        world = await make_world(web.hub)
        order_id, code = await create_order(web.hub, world)
        assert {JobOffered, StaffAlert, MerchantNote} <= set(relay.handlers)
        await relay.drain()
        assert len(sends_mentioning(fake_telegram, MERCHANT_CHAT, code)) == 1
        assert (await load_order(web.hub, order_id)).card_message_id is not None
    finally:
        await service.bot.session.close()
        await runtime.aclose()
        await web.hub.client.close()


async def test_a_local_time_reaches_the_card_unchanged_on_every_backend(tg_hub: TgHub) -> None:
    """The order dialog resolves 明天上午9点 in BUTLER_TZ (+08:00); SQLite keeps no offset, so the
    stored value must be UTC or the card would read 09:00 as UTC and show 17:00."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    world = await make_world(tg_hub.hub)
    local_nine = datetime(2030, 5, 18, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    order_id, code = await create_order(tg_hub.hub, world, scheduled_at=local_nine)
    await tg_hub.hub.client.app[RELAY].drain()
    (card,) = sends_mentioning(tg_hub.fake, MERCHANT_CHAT, code)
    assert "5月18日（周六）上午 09:00" in card.text, card.text
    assert (await load_order(tg_hub.hub, order_id)).scheduled_at == local_nine
