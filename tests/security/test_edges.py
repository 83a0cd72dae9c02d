"""Attack 8 (callbacks) and 7/8 (open endpoints).

Callbacks: 接单 was accepted from a private chat, its data was a sequential `job:N`, `job:abc`
left the button spinning and a huge id logged a traceback. Endpoints: `/metrics` and `/healthz`
answered anyone on the public port with everything they had.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from bot.app import RELAY
from bot.devtools.fake_wechat import FakeWeChatAPI
from bot.telegram.accept import NOT_HERE, STALE
from bot.telegram.cards import MAX_ID, job_data
from bot.telegram.unknown_buttons import UNKNOWN_BUTTON
from tests.conftest import Backend, Hub, make_settings, start_hub
from tests.telegram.conftest import (
    MERCHANT_CHAT,
    TgHub,
    create_order,
    job_button,
    load_order,
    make_world,
)

PROXIED = {"X-Forwarded-For": "203.0.113.9"}  # what a request from the internet carries behind nginx


async def test_accept_from_a_private_chat_is_refused(tg_hub: TgHub) -> None:
    world = await make_world(tg_hub.hub)
    order_id, _ = await create_order(tg_hub.hub, world)
    merchant = world.merchants["张师傅"]
    qid = await tg_hub.press(merchant, job_button(order_id), chat_id=merchant)
    assert tg_hub.answer_for(qid)["text"] == NOT_HERE
    assert (await load_order(tg_hub.hub, order_id)).status == "pending_dispatch"


async def test_sequential_or_forged_job_data_is_not_a_job(tg_hub: TgHub) -> None:
    world = await make_world(tg_hub.hub)
    order_id, _ = await create_order(tg_hub.hub, world)
    merchant = world.merchants["张师傅"]
    await tg_hub.hub.client.app[RELAY].drain()  # the job card is posted
    card = [c for c in tg_hub.fake.calls_to("sendMessage", chat_id=MERCHANT_CHAT) if c.buttons()]
    data = next(b["callback_data"] for c in card for b in c.buttons() if b["callback_data"] == job_button(order_id))
    assert f"job:{order_id}" not in data and not data.endswith(f":{order_id}")  # not the guessable job:N

    old_style = await tg_hub.press(merchant, f"job:{order_id}")
    forged = await tg_hub.press(merchant, job_data(order_id, b"not-the-key"))
    assert tg_hub.answer_for(old_style)["text"] == UNKNOWN_BUTTON
    assert tg_hub.answer_for(forged)["text"] == STALE
    assert (await load_order(tg_hub.hub, order_id)).status == "pending_dispatch"
    # The real button still works.
    won = await tg_hub.press(merchant, data)
    assert tg_hub.answer_for(won)["text"] == "接单成功"


@pytest.mark.parametrize("data", [
    "job:abc", "jb:abc:xxxxxxxxxxxxxxxx", f"jb:{MAX_ID + 1}:xxxxxxxxxxxxxxxx", "jb:99999999999999999999999:x",
    "st:99999999999999999999:go", "pay:1:99999999999", "st:-1:go", "", "💥" * 20,
])
async def test_malformed_callback_data_gets_an_answer_and_no_traceback(
    tg_hub: TgHub, data: str, caplog: pytest.LogCaptureFixture
) -> None:
    user = 4242
    with caplog.at_level(logging.INFO):
        qid = await tg_hub.press(user, data, chat_id=user if data.startswith(("st", "pay")) else MERCHANT_CHAT)
    assert tg_hub.answer_for(qid)["text"] in (UNKNOWN_BUTTON, STALE)
    # The press's own handling (aiogram's dispatcher, our handlers) logs no traceback; the relay's
    # unrelated retries on the session-shared SQLite file are not this test's business.
    mine = [r for r in caplog.records if r.name.startswith(("aiogram", "bot.telegram"))]
    assert not [r for r in mine if r.exc_info or r.levelno >= logging.ERROR]


@pytest.fixture
async def public_hub(backend: Backend, fake_wechat: FakeWeChatAPI) -> AsyncIterator[Hub]:
    running = await start_hub(make_settings(backend, fake_wechat), fake_wechat)
    yield running
    await running.client.close()


async def test_metrics_without_a_token_answer_only_direct_local_callers(public_hub: Hub) -> None:
    remote = await public_hub.client.get("/metrics", headers=PROXIED)
    assert remote.status == 403 and "butler_" not in await remote.text()
    local = await public_hub.client.get("/metrics")
    assert local.status == 200 and "butler_inbound_messages_total" in await local.text()


async def test_metrics_with_a_token_need_the_bearer(backend: Backend, fake_wechat: FakeWeChatAPI) -> None:
    hub = await start_hub(make_settings(backend, fake_wechat, metrics_token="s3cret-metrics"), fake_wechat)
    try:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic s3cret-metrics"}, PROXIED):
            resp = await hub.client.get("/metrics", headers=headers)
            assert resp.status == 401 and "butler_" not in await resp.text(), headers
        ok = await hub.client.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics", **PROXIED})
        assert ok.status == 200 and "butler_inbound_messages_total" in await ok.text()
        detailed = await (await hub.client.get("/healthz", headers={"Authorization": "Bearer s3cret-metrics"})).json()
        assert "redis_backend" in detailed
    finally:
        await hub.client.close()


async def test_healthz_tells_anonymous_callers_only_ok_or_down(public_hub: Hub) -> None:
    resp = await public_hub.client.get("/healthz", headers=PROXIED)
    body = await resp.json()
    assert resp.status == 200
    assert set(body) <= {"db", "redis", "nlu"} and set(body.values()) <= {"ok", "down"}, body
    assert body["db"] == "ok" and body["redis"] == "ok"
    # On the machine itself (operators, the fault tests), the details stay.
    assert "redis_backend" in await (await public_hub.client.get("/healthz")).json()


async def test_healthz_down_details_are_hidden_from_anonymous_callers(fake_wechat: FakeWeChatAPI) -> None:
    down = Backend("db_down", "sqlite+aiosqlite:////nonexistent-dir/butler.db", "")
    hub = await start_hub(make_settings(down, fake_wechat), fake_wechat)
    try:
        resp = await hub.client.get("/healthz", headers=PROXIED)
        assert resp.status == 503 and (await resp.json())["db"] == "down"
    finally:
        await hub.client.close()
