"""Staff commands over POST /telegram (real aiogram, fake Bot API): same registry as WeChat."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from bot.app import SERVICES
from bot.commands.registry import REFUSAL
from bot.devtools.fake_telegram import FakeTelegramAPI, message_update, user_json
from bot.devtools.fake_wechat import FakeWeChatAPI
from storage import staff
from storage.db import unit_of_work
from tests.broadcasts.kit import (
    add_owner,
    cs_texts_to,
    latest_broadcast_id,
    make_place,
    mass_calls_with,
    wait_broadcast,
)
from tests.conftest import Backend
from tests.telegram.conftest import STAFF_CHAT, TgHub, start_tg_hub, telegram_settings, unique_int


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegramAPI]:
    fake = FakeTelegramAPI()
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def tg(backend: Backend, fake_wechat: FakeWeChatAPI, fake_telegram: FakeTelegramAPI) -> AsyncIterator[TgHub]:
    running = await start_tg_hub(telegram_settings(backend, fake_wechat, fake_telegram), fake_wechat, fake_telegram)
    yield running
    await running.hub.client.close()


async def _telegram_staff(tg: TgHub, community_id: int) -> int:
    tid = unique_int()
    async with unit_of_work(tg.hub.runtime.sessions) as session:
        from storage.communities import Community

        c = await session.get(Community, community_id)
        await staff.create(session=session, name="群里的客服", telegram_id=tid, communities=[c] if c else [])
    return tid


def _last_reply(tg: TgHub) -> str:
    sent = tg.fake.calls_to("sendMessage", chat_id=STAFF_CHAT) + tg.fake.calls_to("sendPhoto", chat_id=STAFF_CHAT)
    sent.sort(key=lambda c: c.at)
    return sent[-1].text if sent else ""


async def test_broadcast_with_preview_button_confirm_from_the_staff_chat(tg: TgHub) -> None:
    hub = tg.hub
    place = await make_place(hub)
    a = await add_owner(hub, place, "a", building="3", window_open=True)
    b = await add_owner(hub, place, "b", building="3")
    c = await add_owner(hub, place, "c", building="3")
    await add_owner(hub, place, "x", building="9", window_open=True)
    member = await _telegram_staff(tg, place.community_id)

    resp = await tg.say(member, f"/broadcast 小区={place.community} 楼栋=3 | 周末亲子活动报名", chat_id=STAFF_CHAT)
    assert resp.status == 200
    preview = tg.fake.calls_to("sendMessage", chat_id=STAFF_CHAT)[-1]
    assert "将发送 3 人" in preview.text and "客服消息 1" in preview.text and "群发 2" in preview.text
    buttons = {btn["text"]: btn["callback_data"] for btn in preview.buttons()}
    assert set(buttons) == {"✅ 确认发送", "✖ 取消"}
    assert cs_texts_to(hub, a) == []

    # A non-staff member of the chat pressing the button changes nothing.
    stranger = unique_int()
    qid = await tg.press(stranger, buttons["✅ 确认发送"], chat_id=STAFF_CHAT, message_id=preview.params.get("message_id", 1))
    assert tg.answer_for(qid)["text"] == REFUSAL[:180]
    await tg.press(member, buttons["✅ 确认发送"], chat_id=STAFF_CHAT)
    bid = await latest_broadcast_id(hub, (await _staff_id(tg, member)))
    await wait_broadcast(hub, bid)
    assert cs_texts_to(hub, a) == ["周末亲子活动报名"]
    [mass] = mass_calls_with(hub, b)
    assert sorted(mass["touser"]) == sorted([b, c])
    await hub.client.app[SERVICES].relay.drain()
    assert any(f"广播 #{bid} 已发送完毕" in call.text for call in tg.fake.calls_to("sendMessage", chat_id=STAFF_CHAT))


async def _staff_id(tg: TgHub, telegram_id: int) -> int:
    async with tg.hub.runtime.sessions() as session:
        member = await staff.get_by_telegram_id(session=session, telegram_id=telegram_id)
        assert member is not None
        return member.id


async def test_non_staff_forwarded_and_edited_commands_are_refused(tg: TgHub) -> None:
    place = await make_place(tg.hub)
    member = await _telegram_staff(tg, place.community_id)
    await tg.say(unique_int(), "/orders", chat_id=STAFF_CHAT)
    assert _last_reply(tg) == REFUSAL

    forwarded = message_update(chat_id=STAFF_CHAT, user_id=member, text="/merchant suspend 1")
    forwarded["message"]["forward_origin"] = {"type": "user", "date": int(time.time()), "sender_user": user_json(unique_int())}
    await tg.post(forwarded)
    assert "转发或编辑" in _last_reply(tg)

    edited = message_update(chat_id=STAFF_CHAT, user_id=member, text="/broadcast 关注=是 | 改过的内容")
    edited = {"update_id": edited["update_id"], "edited_message": edited["message"] | {"edit_date": int(time.time())}}
    await tg.post(edited)
    assert "转发或编辑" in _last_reply(tg)

    await tg.say(member, f"/broadcast 小区={place.community} | 我们是零物业费小区", chat_id=STAFF_CHAT)
    assert _last_reply(tg).startswith("不能发送")
    await tg.say(member, "/help", chat_id=STAFF_CHAT)
    assert "/broadcast — " in _last_reply(tg)
