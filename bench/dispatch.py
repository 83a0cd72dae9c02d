"""Dispatch benchmark: order confirmed → job card at the fake Bot API; 接单 → owner notified on WeChat.

The hub runs in this process (create_app on a real local port, PostgreSQL + Redis) with the fake
Bot API and the fake WeChat API beside it; both fakes report each call to a listener, so the clock
stops the moment the card or the notice reaches "Telegram" or "WeChat".
- order → card: from the commit of the confirmed order (orders.create emits `order.created` in the
  same unit of work, as the order dialog does) to sendMessage at the fake Bot API, through the
  outbox relay and aiogram.
- 接单 → owner: from POSTing the merchant's button press to /telegram to the owner's notice at
  the fake WeChat API.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import date, timedelta
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bench.common import AES_KEY, APP_ID, REDIS_URL, TOKEN, latency_summary, scratch_database
from bot.app import RELAY, RUNTIME, create_app
from bot.devtools.fake_telegram import FakeTelegramAPI, callback_update
from bot.devtools.fake_wechat import FakeWeChatAPI
from bot.settings import Settings
from bot.telegram.cards import job_data
from storage import catalog, communities, merchants, orders, staff
from storage.base import utcnow
from storage.db import unit_of_work
from storage.owners import BindingStatus, Owner

SECRET = "bench-tg-secret"
MERCHANT_CHAT = -100777000111
STAFF_CHAT = -100777000222


async def _seed(sessions: Any) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:6]
    async with unit_of_work(sessions) as session:
        community = await communities.create(session=session, name=f"基准小区{tag}")
        svc = await catalog.get_service_by_name(session=session, name="钟点工")
        owner = Owner(openid=f"o_bench_{tag}", name="王女士", community_id=community.id, building="3", unit="2",
                      room="301", phone="13800138000", phone_valid=True, binding_status=BindingStatus.VERIFIED, tags=[])
        session.add(owner)
        merchant = await merchants.create(
            session=session, name="张师傅", telegram_id=900000000 + int(tag, 16) % 10**8, services=[svc],
            communities=[community], qualification_expires=date.today() + timedelta(days=365),
        )
        await staff.create(session=session, name="客服", telegram_id=800000000 + int(tag, 16) % 10**8,
                           communities=[community])
        await session.flush()
        return {"owner_id": owner.id, "openid": owner.openid, "service_id": svc.id, "merchant_tg": merchant.telegram_id}


async def run(*, quick: bool = False) -> dict[str, Any]:
    """Time N orders from commit to card, then N 接单 presses from POST to the owner's notice."""
    n = 30 if quick else 150
    fake_wx, fake_tg = FakeWeChatAPI(), FakeTelegramAPI()
    wx_base = await fake_wx.start()
    await fake_tg.start()
    waiting: dict[str, asyncio.Future[float]] = {}

    def seen(key_text: str) -> None:
        for key, fut in list(waiting.items()):
            if key in key_text and not fut.done():
                fut.set_result(time.perf_counter())

    fake_tg.listeners.append(lambda call: seen(f"tg:{call.chat_id}:{call.text}") if call.method == "sendMessage" else None)
    fake_wx.listeners.append(lambda call: seen(f"wx:{call.body.get('touser', '')}") if "/message/" in call.path else None)
    to_card: list[float] = []
    to_owner: list[float] = []
    try:
        async with scratch_database("dispatch") as db_url:
            settings = Settings(
                _env_file=None, database_url=db_url, redis_url=REDIS_URL, redis_prefix=f"bench:{uuid.uuid4().hex[:8]}:",
                wechat_token=TOKEN, wechat_aes_key=AES_KEY, wechat_app_id=APP_ID, wechat_app_secret="s",
                wechat_api_base=wx_base, telegram_token=fake_tg.token, telegram_api_base=fake_tg.base_url,
                telegram_webhook_secret=SECRET, merchant_chat_id=str(MERCHANT_CHAT), staff_chat_id=str(STAFF_CHAT),
            )  # type: ignore[call-arg]
            app = create_app(settings)
            client = TestClient(TestServer(app, host="127.0.0.1"))
            await client.start_server()
            try:
                runtime, relay = app[RUNTIME], app[RELAY]
                world = await _seed(runtime.sessions)
                await runtime.wechat.access_token()  # the token fetch is a one-off, not dispatch
                for i in range(n + 5):  # the first 5 warm pools, caches and prepared statements
                    async with unit_of_work(runtime.sessions) as session:
                        owner = await session.get(Owner, world["owner_id"])
                        svc = await session.get(catalog.Service, world["service_id"])
                        order = await orders.create(
                            session=session, owner=owner, service=svc, scheduled_at=utcnow() + timedelta(days=1),  # type: ignore[arg-type]
                            address="3号楼2单元301室", contact_phone="13800138000", notes="打扫卫生",
                        )
                        code, order_id = order.code, order.id
                        card = waiting[code] = asyncio.get_running_loop().create_future()
                    started = time.perf_counter()  # committed: the order is confirmed
                    relay.kick()  # what Conversations does after every committed event
                    arrived = await asyncio.wait_for(card, 10)
                    waiting.pop(code)

                    notice = waiting[f"wx:{world['openid']}"] = asyncio.get_running_loop().create_future()
                    update = callback_update(user_id=world["merchant_tg"], data=job_data(order_id, settings.callback_key),
                                             chat_id=MERCHANT_CHAT, message_id=i + 1)
                    pressed = time.perf_counter()
                    resp = await client.post("/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
                    await resp.read()
                    notified = await asyncio.wait_for(notice, 10)
                    waiting.pop(f"wx:{world['openid']}")
                    if i >= 5:
                        to_card.append(arrived - started)
                        to_owner.append(notified - pressed)
            finally:
                await client.close()
    finally:
        await fake_tg.close()
        await fake_wx.close()
    card_s, owner_s = latency_summary(to_card), latency_summary(to_owner)
    return {
        "order_to_card": card_s,
        "accept_to_owner": owner_s,
        "targets": {
            "order_to_card_p95_lt_100ms": card_s["p95_ms"] < 100,
            "accept_to_owner_p95_lt_100ms": owner_s["p95_ms"] < 100,
        },
    }
