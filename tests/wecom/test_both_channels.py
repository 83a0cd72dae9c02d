"""The dispatch round trip run twice, over Telegram and over WeCom, each against its fake server, on
SQLite and PG+Redis (issue 17): card → 10 simultaneous presses → one winner → the others' cards
updated → slip → progress → completion with an amount → the owner's notices."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.app import RELAY
from bot.devtools.fake_telegram import FakeTelegramAPI
from bot.devtools.fake_wechat import FakeWeChatAPI
from bot.devtools.fake_wecom import FakeWeComAPI, WeComSender
from bot.devtools.wechat_sender import text_xml
from bot.telegram.cards import StepCb
from tests.conftest import TEST_AES_KEY, Backend, Hub, start_hub
from tests.telegram.conftest import (
    MERCHANT_CHAT,
    TgHub,
    World,
    create_order,
    job_button,
    load_order,
    make_world,
    start_tg_hub,
    telegram_settings,
    wechat_to,
)
from tests.wecom.conftest import WECOM_TOKEN, WcHub, wecom_settings, wecom_world

PHONE = "13800138000"


class TelegramDriver:
    def __init__(self, tg: TgHub) -> None:
        self.tg, self.hub = tg, tg.hub
        self.queries: dict[Any, str] = {}

    async def world(self, names: list[str]) -> tuple[World, dict[str, Any]]:
        world = await make_world(self.hub, merchants_spec={n: {} for n in names})
        return world, dict(world.merchants)

    def offered(self, code: str, refs: list[Any]) -> bool:
        return len([c for c in self.tg.fake.sent_to(MERCHANT_CHAT) if code in c.text]) == 1

    async def press_accept(self, ref: Any, order_id: int) -> None:
        self.queries[ref] = await self.tg.press(ref, job_button(order_id))

    def outcome(self, ref: Any) -> str:
        return str(self.tg.answer_for(self.queries[ref])["text"])

    def others_see_taken(self, code: str, losers: list[Any]) -> bool:
        edits = [c for c in self.tg.fake.calls_to("editMessageText", chat_id=MERCHANT_CHAT) if code in c.text]
        return bool(edits) and edits[-1].text.startswith("📌 已接单") and "接单" not in str(edits[-1].params.get("reply_markup", ""))

    def slip_holders(self) -> list[Any]:
        return [c.chat_id for c in self.tg.fake.calls_to("sendMessage") if PHONE in c.text]

    async def step(self, ref: Any, order_id: int, step: str) -> str:
        query = await self.tg.press(ref, StepCb(order_id=order_id, step=step).pack(), chat_id=ref)
        answer = str(self.tg.answer_for(query).get("text", ""))
        return answer or self.tg.fake.sent_to(ref)[-1].text

    async def say(self, ref: Any, text: str) -> str:
        await self.tg.say(ref, text)
        return self.tg.fake.sent_to(ref)[-1].text

    async def pay_on_account(self, ref: Any) -> None:
        button = next(b for b in self.tg.fake.sent_to(ref)[-1].buttons() if b["text"] == "挂账")
        await self.tg.press(ref, button["callback_data"], chat_id=ref)

    def texts_to(self, ref: Any) -> list[str]:
        return [c.text for c in self.tg.fake.sent_to(ref)]


class WeComDriver:
    def __init__(self, wc: WcHub) -> None:
        self.wc, self.hub, self.fake = wc, wc.hub, wc.fake
        self.key = ""

    async def world(self, names: list[str]) -> tuple[World, dict[str, Any]]:
        return await wecom_world(self.hub, names)

    def offered(self, code: str, refs: list[Any]) -> bool:
        cards = [self.fake.cards_to(r) for r in refs]
        self.key = cards[0][0].buttons()[0]["key"]
        return all(len(c) == 1 and code in c[0].text for c in cards)

    async def press_accept(self, ref: Any, order_id: int) -> None:
        assert await self.wc.press(ref, self.key) == 200

    def outcome(self, ref: Any) -> str:
        if any(PHONE in c.text for c in self.fake.cards_to(ref)):
            return "接单成功"
        return [c.text for c in self.fake.sent_to(ref) if c.body["msgtype"] == "text"][-1]

    def others_see_taken(self, code: str, losers: list[Any]) -> bool:
        return all(any(u.body.get("button") == {"replace_name": "已被接单"} for u in self.fake.updates_for(r)) for r in losers)

    def slip_holders(self) -> list[Any]:
        return [c.touser for c in self.fake.calls_to("/cgi-bin/message/send") if PHONE in c.text]

    async def step(self, ref: Any, order_id: int, step: str) -> str:
        assert await self.wc.press(ref, StepCb(order_id=order_id, step=step).pack()) == 200
        return self.fake.sent_to(ref)[-1].text

    async def say(self, ref: Any, text: str) -> str:
        assert await self.wc.say(ref, text) == 200
        return self.fake.sent_to(ref)[-1].text

    async def pay_on_account(self, ref: Any) -> None:
        key = next(b["key"] for b in self.fake.sent_to(ref)[-1].buttons() if b["text"] == "挂账")
        assert await self.wc.press(ref, key) == 200

    def texts_to(self, ref: Any) -> list[str]:
        return [c.text for c in self.fake.sent_to(ref)]


@pytest.fixture(params=["telegram", "wecom"])
async def driver(request: pytest.FixtureRequest, backend: Backend, fake_wechat: FakeWeChatAPI) -> AsyncIterator[Any]:
    if request.param == "telegram":
        fake_tg = FakeTelegramAPI()
        await fake_tg.start()
        tg = await start_tg_hub(telegram_settings(backend, fake_wechat, fake_tg), fake_wechat, fake_tg)
        yield TelegramDriver(tg)
        await tg.hub.client.close()
        await fake_tg.close()
        return
    fake = FakeWeComAPI()
    await fake.start()
    hub: Hub = await start_hub(wecom_settings(backend, fake_wechat, fake), fake_wechat)
    yield WeComDriver(WcHub(hub, fake, WeComSender(WECOM_TOKEN, TEST_AES_KEY, fake.corp_id, fake.agent_id)))
    await hub.client.close()
    await fake.close()


async def test_card_ten_presses_one_winner_slip_progress_and_amount(driver: Any) -> None:
    hub = driver.hub
    names = [f"师傅{i}" for i in range(10)]
    world, refs = await driver.world(names)
    order_id, code = await create_order(hub, world)
    await hub.client.app[RELAY].drain()
    assert driver.offered(code, list(refs.values()))

    await asyncio.gather(*(driver.press_accept(refs[n], order_id) for n in names))
    outcomes = [driver.outcome(refs[n]) for n in names]
    assert sorted(outcomes) == sorted(["接单成功"] + ["手慢了，这单已被其他商家接走"] * 9), outcomes
    (winner,) = [n for n, o in zip(names, outcomes, strict=True) if o == "接单成功"]
    order = await load_order(hub, order_id)
    assert order.status == "accepted" and order.merchant_id == world.merchant_ids[winner]
    holder = refs[winner]
    assert driver.others_see_taken(code, [refs[n] for n in names if n != winner])
    assert driver.slip_holders() == [holder]
    assert len(wechat_to(hub.fake_wechat, world.owner_openid)) == 1

    assert await driver.step(holder, order_id, "go") == "已更新：师傅已出发"
    assert "师傅已出发" in wechat_to(hub.fake_wechat, world.owner_openid)[-1]
    await driver.step(holder, order_id, "done")
    assert driver.texts_to(holder)[-1].startswith(f"订单 {code}：请回复本单金额")
    assert "150.02" in await driver.say(holder, "150.02元")
    await driver.pay_on_account(holder)
    assert "确认金额" in wechat_to(hub.fake_wechat, world.owner_openid)[-1]
    status, reply = await hub.post(text_xml(world.owner_openid, "确认金额"))
    assert status == 200 and "150.02" in reply["Content"]
    await hub.client.app[RELAY].drain()
    order = await load_order(hub, order_id)
    assert order.status == "completed" and order.amount_fen == 15002
    # Accepted, on the way, the amount to confirm, and the completion notice the confirmation sends.
    assert len(wechat_to(hub.fake_wechat, world.owner_openid)) >= 3
    assert any("应结" in t for t in driver.texts_to(holder))


async def test_the_progress_prompts_are_the_shared_words_on_both_channels(driver: Any) -> None:
    from bot.wording import merchant as words

    world, refs = await driver.world(["师傅甲"])
    order_id, code = await create_order(driver.hub, world)
    await driver.hub.client.app[RELAY].drain()
    assert driver.offered(code, list(refs.values()))
    holder = refs["师傅甲"]
    await driver.press_accept(holder, order_id)
    assert driver.outcome(holder) == "接单成功"
    await driver.step(holder, order_id, "done")
    assert driver.texts_to(holder)[-1] == words.ASK_AMOUNT.format(code=code)
    assert await driver.say(holder, "一百多") == words.BAD_AMOUNT
    await driver.step(holder, order_id, "fail")
    assert driver.texts_to(holder)[-1] == words.ASK_REASON.format(code=code)
    assert await driver.say(holder, "业主临时不在家") == words.FAILURE_RECORDED
