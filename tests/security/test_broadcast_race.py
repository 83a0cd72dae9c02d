"""Attack 6: 确认 and 放弃 pressed at the same moment on two processes.

Before: in 6 of 10 rounds both presses were told they had succeeded, and once the discarding staff
member read 已放弃…没有发送任何消息 while the broadcast went out. Here two real `butler serve`
processes share PostgreSQL and Redis; in each of 10 rounds one process gets 确认 and the other
放弃 for the same preview, at once. Exactly one press wins, the other is told what happened, and
a discarded broadcast reaches nobody.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.devtools.fake_telegram import FakeTelegramAPI, callback_update, message_update
from bot.devtools.fake_wechat import FakeWeChatAPI
from storage import staff
from storage.broadcasts import Broadcast, Delivery
from storage.db import create_engine, create_session_factory, unit_of_work
from storage.staff import StaffRole
from tests.broadcasts.kit import add_owner, cs_texts_to, make_place
from tests.conftest import REDIS_URL, TEST_APP_ID, TEST_TOKEN
from tests.telegram.conftest import MERCHANT_CHAT, SECRET, STAFF_CHAT, unique_int
from tests.telegram.test_two_processes import BUTLER, _free_port, _wait_healthy

pytestmark = pytest.mark.slow
ROUNDS = 10


async def _broadcast(hub: Any, broadcast_id: int) -> Broadcast:
    async with hub.runtime.sessions() as session:
        row = await session.get(Broadcast, broadcast_id)
        assert row is not None
        return row


async def test_confirm_and_discard_at_once_on_two_processes_decide_once(
    postgres_url: str, fake_wechat: FakeWeChatAPI, fake_telegram: FakeTelegramAPI, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUTLER_")} | {
        "BUTLER_DATABASE_URL": postgres_url,
        "BUTLER_REDIS_URL": REDIS_URL,
        "BUTLER_REDIS_PREFIX": f"test:{uuid.uuid4().hex}:",
        "BUTLER_WECHAT_TOKEN": TEST_TOKEN,
        "BUTLER_WECHAT_APP_ID": TEST_APP_ID,
        "BUTLER_WECHAT_APP_SECRET": "test-secret",
        "BUTLER_WECHAT_API_BASE": fake_wechat.base_url,  # type: ignore[attr-defined]
        "BUTLER_TELEGRAM_TOKEN": fake_telegram.token,
        "BUTLER_TELEGRAM_API_BASE": fake_telegram.base_url,
        "BUTLER_TELEGRAM_WEBHOOK_SECRET": SECRET,
        "BUTLER_MERCHANT_CHAT_ID": str(MERCHANT_CHAT),
        "BUTLER_STAFF_CHAT_ID": str(STAFF_CHAT),
    }
    ports = [_free_port(), _free_port()]
    logs = [tmp_path / f"serve{i}.log" for i in range(2)]
    procs: list[asyncio.subprocess.Process] = []
    engine = create_engine(postgres_url)
    hub: Any = SimpleNamespace(runtime=SimpleNamespace(sessions=create_session_factory(engine)))
    try:
        for port, log in zip(ports, logs, strict=True):
            procs.append(await asyncio.create_subprocess_exec(
                str(BUTLER), "serve", "--no-scheduler", "--port", str(port),
                env=env, cwd=tmp_path, stdout=log.open("w"), stderr=asyncio.subprocess.STDOUT,
            ))
        admin_tg = unique_int()
        async with unit_of_work(hub.runtime.sessions) as session:
            admin = await staff.create(session=session, name="王经理", telegram_id=admin_tg, role=StaffRole.ADMIN)
            admin_id = admin.id
        places = []
        for _ in range(ROUNDS):
            place = await make_place(hub)
            for label in ("a", "b"):
                await add_owner(hub, place, label, window_open=True)
            places.append(place)
        await asyncio.gather(*(_wait_healthy(p, proc, log) for p, proc, log in zip(ports, procs, logs, strict=True)))

        outcomes: list[tuple[int, str, str, str]] = []  # (broadcast id, winner, confirm answer, discard answer)
        async with aiohttp.ClientSession() as http:

            async def post(port: int, update: dict[str, Any]) -> None:
                async with http.post(f"http://127.0.0.1:{port}/telegram", json=update,
                                     headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as resp:
                    assert resp.status == 200

            for i, place in enumerate(places):
                text = f"第{i}轮：明早9点停水"
                await post(ports[0], message_update(
                    chat_id=STAFF_CHAT, user_id=admin_tg, text=f"/broadcast 小区={place.community} 类型=通知 | {text}"))
                async with hub.runtime.sessions() as session:
                    bid = int(await session.scalar(select(func.max(Broadcast.id)).where(Broadcast.staff_id == admin_id)))
                confirm = callback_update(user_id=admin_tg, data=f"sc:/confirm {bid}", chat_id=STAFF_CHAT, message_id=1)
                discard = callback_update(user_id=admin_tg, data=f"sc:/discard {bid}", chat_id=STAFF_CHAT, message_id=1)
                await asyncio.gather(post(ports[i % 2], confirm), post(ports[(i + 1) % 2], discard))
                answers = {c.params["callback_query_id"]: c.params["text"] for c in fake_telegram.calls_to("answerCallbackQuery")}
                said_confirm = answers[confirm["callback_query"]["id"]]
                said_discard = answers[discard["callback_query"]["id"]]
                row = await _broadcast(hub, bid)
                winner = "discard" if row.status == "cancelled" else "confirm"
                outcomes.append((bid, winner, said_confirm, said_discard))

        for bid, winner, said_confirm, said_discard in outcomes:
            if winner == "confirm":
                assert "已开始发送" in said_confirm, (bid, said_confirm)
                assert said_discard.startswith("未能放弃") and "没有发送任何消息" not in said_discard, (bid, said_discard)
            else:
                assert said_discard == f"已放弃广播 #{bid}，没有发送任何消息。", (bid, said_discard)
                assert "已被放弃" in said_confirm and "已开始发送" not in said_confirm, (bid, said_confirm)

        # Let the confirmed ones finish (each process sends what it confirmed), then count messages.
        confirmed = [bid for bid, winner, *_ in outcomes if winner == "confirm"]
        deadline = asyncio.get_running_loop().time() + 30
        while not all([(await _broadcast(hub, b)).status == "done" for b in confirmed]):
            assert asyncio.get_running_loop().time() < deadline, "confirmed broadcasts did not finish"
            await asyncio.sleep(0.2)
        await asyncio.sleep(0.5)  # a wrongly sent discarded broadcast would have had time to go out too
        for (bid, winner, *_), (i, place) in zip(outcomes, enumerate(places), strict=True):
            for openid in place.owners.values():
                got = [t for t in cs_texts_to(hub_view(fake_wechat), openid) if t.startswith(f"第{i}轮")]
                assert got == ([f"第{i}轮：明早9点停水"] if winner == "confirm" else []), (bid, winner, got)
            if winner == "discard":
                async with hub.runtime.sessions() as session:
                    planned = await session.scalar(select(func.count()).select_from(Delivery).where(Delivery.broadcast_id == bid))
                assert planned == 0
        # Not a test of one lucky ordering: over ten rounds the two outcomes are both possible,
        # and whichever happened, exactly one press decided (asserted above per round).
        assert len(outcomes) == ROUNDS
        print("winners:", [w for _, w, *_ in outcomes])  # noqa: T201  (shown with -s: how the races fell)
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.terminate()
        for proc in procs:
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
        await engine.dispose()


def hub_view(fake_wechat: FakeWeChatAPI) -> Any:
    """cs_texts_to() reads hub.fake_wechat only."""
    return SimpleNamespace(fake_wechat=fake_wechat)
