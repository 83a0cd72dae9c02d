"""Attack 5: staff commands ran in the merchant group (and any chat), and `/orders@other_bot` ran.

/orders, /report and broadcast previews posted revenue, commission and owner addresses to every
merchant. Now a command outside the staff chat is refused without running (no data, no draft),
even from registered staff, and a command addressed to another bot is ignored altogether.
"""

from __future__ import annotations

from sqlalchemy import func, select

from bot.telegram.staff_commands import WRONG_CHAT
from storage.broadcasts import Broadcast
from tests.security.conftest import register_staff
from tests.telegram.conftest import MERCHANT_CHAT, STAFF_CHAT, TgHub, create_order, make_world


async def _drafts_by(tg: TgHub, staff_telegram_id: int) -> int:
    from storage import staff

    async with tg.hub.runtime.sessions() as session:
        member = await staff.get_by_telegram_id(session=session, telegram_id=staff_telegram_id)
        assert member is not None
        return int(await session.scalar(select(func.count()).select_from(Broadcast).where(Broadcast.staff_id == member.id)) or 0)


async def test_staff_commands_in_the_merchant_group_are_refused_without_data(tg_hub: TgHub) -> None:
    world = await make_world(tg_hub.hub)
    _, code = await create_order(tg_hub.hub, world)
    admin = await register_staff(tg_hub, admin=True)
    before = len(tg_hub.fake.calls_to("sendMessage", chat_id=MERCHANT_CHAT))

    for line in ("/orders", "/report", "/orders 全部", "/broadcasts", "/help"):
        await tg_hub.say(admin, line, chat_id=MERCHANT_CHAT)
    await tg_hub.say(admin, "/broadcast 关注=是 | 周末团购", chat_id=MERCHANT_CHAT)

    said = [c.text for c in tg_hub.fake.calls_to("sendMessage", chat_id=MERCHANT_CHAT)[before:]]
    assert said == [WRONG_CHAT] * 6
    assert tg_hub.fake.calls_to("sendPhoto", chat_id=MERCHANT_CHAT) == []
    assert not [c for c in tg_hub.fake.calls_to("sendMessage", chat_id=MERCHANT_CHAT) if code in c.text and "订单（" in c.text]
    assert await _drafts_by(tg_hub, admin) == 0


async def test_staff_commands_in_a_private_chat_are_refused(tg_hub: TgHub) -> None:
    world = await make_world(tg_hub.hub)
    await create_order(tg_hub.hub, world)
    await tg_hub.say(world.staff_telegram_id, "/orders")  # the private chat with the bot
    sent = tg_hub.fake.sent_to(world.staff_telegram_id)
    assert [c.text for c in sent] == [WRONG_CHAT]


async def test_a_command_for_another_bot_is_ignored(tg_hub: TgHub) -> None:
    world = await make_world(tg_hub.hub)
    await create_order(tg_hub.hub, world)
    before = len(tg_hub.fake.sent_to(STAFF_CHAT))
    await tg_hub.say(world.staff_telegram_id, "/orders@other_bot", chat_id=STAFF_CHAT)
    await tg_hub.say(world.staff_telegram_id, "/orders@other_bot", chat_id=MERCHANT_CHAT)
    assert tg_hub.fake.sent_to(STAFF_CHAT)[before:] == []
    assert not [c for c in tg_hub.fake.sent_to(MERCHANT_CHAT) if "订单" in c.text and "（最近" in c.text]

    # Addressed to us, in the staff chat: it runs.
    me = (await tg_hub.telegram.bot.me()).username
    await tg_hub.say(world.staff_telegram_id, f"/orders@{me}", chat_id=STAFF_CHAT)
    assert tg_hub.fake.sent_to(STAFF_CHAT)[-1].text.startswith("订单（最近")


async def test_preview_buttons_pressed_outside_the_staff_chat_do_nothing(tg_hub: TgHub) -> None:
    world = await make_world(tg_hub.hub)
    qid = await tg_hub.press(world.staff_telegram_id, "sc:/orders", chat_id=MERCHANT_CHAT)
    assert tg_hub.answer_for(qid)["text"] == WRONG_CHAT
    assert not [c for c in tg_hub.fake.sent_to(MERCHANT_CHAT) if "（最近" in c.text]
