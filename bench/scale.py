"""Horizontal scale, shown: 3 `butler serve` on ONE port (SO_REUSEPORT) + `butler scheduler`.

`python -m bench.scale` (or `bash scripts/scale-demo.sh`) starts the processes on a scratch
PostgreSQL database and the shared Redis, with the fake WeChat and Bot APIs in this process, and
checks across processes:
1. dedupe: one WeChat message delivered 12 times at once (WeChat's retries landing on different
   workers) is logged once and every copy gets the same reply;
2. 接单: five merchants press the same job card at once; exactly one wins, the owner hears once;
3. broadcast: a confirmed broadcast to 60 owners reaches each exactly once although four job
   runners race for it (the 3 serves run their schedulers here too, plus `butler scheduler`);
4. job run: the daily report is posted to the staff chat once.
It also counts how the kernel spread the requests over the three workers. Exit code 0 = all held.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import aiohttp
from sqlalchemy import func, select

from bench.common import BUTLER, LOG_DIR, Child, free_port, hub_env, scratch_database, spawn
from bot.devtools.fake_telegram import FakeTelegramAPI, callback_update
from bot.devtools.fake_wechat import FakeWeChatAPI
from bot.devtools.wechat_sender import WeChatSender, text_xml
from bot.settings import Settings
from bot.telegram.cards import job_data
from bot.wechat.protocol import dedupe_key, parse_xml
from storage import broadcasts, catalog, communities, merchants, orders, segments, staff
from storage.base import utcnow
from storage.db import create_engine, create_session_factory, unit_of_work
from storage.messages import InboundMessageLog
from storage.owners import BindingStatus, Owner

SECRET = "scale-demo-secret"
MERCHANT_CHAT, STAFF_CHAT = -100555000111, -100555000222
BROADCAST_OWNERS = 60


async def _seed(sessions: Any) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:6]
    async with unit_of_work(sessions) as session:
        community = await communities.create(session=session, name=f"示范小区{tag}")
        svc = await catalog.get_service_by_name(session=session, name="钟点工")
        owners = []
        for i in range(BROADCAST_OWNERS):
            owner = Owner(openid=f"o_scale_{tag}_{i:03d}", name="业主", community_id=community.id, building="1",
                          unit="1", room=f"{i:03d}", phone="13800138000", phone_valid=True,
                          binding_status=BindingStatus.VERIFIED, tags=[],
                          last_message_at=utcnow() - timedelta(hours=1 if i % 2 else 100))
            session.add(owner)
            owners.append(owner)
        tg = [950000000 + int(tag, 16) % 10**7 * 10 + k for k in range(5)]
        for k, tg_id in enumerate(tg):
            await merchants.create(session=session, name=f"师傅{k}", telegram_id=tg_id, services=[svc],
                                   communities=[community], qualification_expires=date.today() + timedelta(days=365))
        await staff.create(session=session, name="客服", telegram_id=850000000 + int(tag, 16) % 10**7,
                           communities=[community])
        await session.flush()
        return {"community": community.name, "owner": owners[0], "service": svc, "merchants": tg,
                "openids": [o.openid for o in owners]}


def _reached(fake: FakeWeChatAPI, openids: list[str], needle: str) -> dict[str, int]:
    """How many messages containing needle each owner got (customer-service, template or mass)."""
    counts: dict[str, int] = {}
    for call in fake.calls:
        if needle not in json.dumps(call.body, ensure_ascii=False):
            continue
        to = call.body.get("touser")
        for openid in to if isinstance(to, list) else [to]:
            if openid in openids:
                counts[openid] = counts.get(openid, 0) + 1
    return counts


async def _running(child: Child, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.proc.returncode is not None:
            raise RuntimeError(f"{child.name} exited; see {child.log_path}")
        if "Running on" in child.log_path.read_text(errors="replace"):
            return
        await asyncio.sleep(0.2)
    raise TimeoutError(f"{child.name} did not start")


async def _post_each(url: str, items: list[tuple[str, dict[str, str], Any]]) -> list[tuple[int, str]]:
    """POST concurrently, one fresh connection each, so SO_REUSEPORT spreads them over workers."""
    async def one(query: str, headers: dict[str, str], body: Any) -> tuple[int, str]:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
            kwargs = {"json": body} if isinstance(body, dict) else {"data": body}
            async with http.post(f"{url}{query}", headers=headers, **kwargs) as resp:
                return resp.status, await resp.text()
    return await asyncio.gather(*(one(q, h, b) for q, h, b in items))


async def demo() -> dict[str, Any]:
    """Run the four checks; returns what was observed."""
    fake_wx, fake_tg = FakeWeChatAPI(), FakeTelegramAPI()
    wx_base = await fake_wx.start()
    await fake_tg.start()
    report_dir = tempfile.mkdtemp(prefix="butler-scale-")
    out: dict[str, Any] = {}
    children: list[Child] = []
    try:
        async with scratch_database("scale") as db_url:
            port = free_port()
            env = hub_env(
                database_url=db_url, port=port, wechat_api_base=wx_base,
                BUTLER_TELEGRAM_TOKEN=fake_tg.token, BUTLER_TELEGRAM_API_BASE=fake_tg.base_url,
                BUTLER_TELEGRAM_WEBHOOK_SECRET=SECRET, BUTLER_MERCHANT_CHAT_ID=str(MERCHANT_CHAT),
                BUTLER_STAFF_CHAT_ID=str(STAFF_CHAT), BUTLER_REPORT_TIME="00:00", BUTLER_REPORT_DIR=report_dir,
                BUTLER_SCHEDULER_TICK_SECONDS="2", BUTLER_BROADCAST_TICK_SECONDS="1",
            )
            engine = create_engine(db_url)
            sessions = create_session_factory(engine)
            world = await _seed(sessions)
            for i in range(3):  # same port: the kernel balances accepted connections (SO_REUSEPORT)
                children.append(await spawn(f"scale-serve-{i}", [*BUTLER, "serve"], env))
            children.append(await spawn("scale-scheduler", [*BUTLER, "scheduler"], env))
            for child in children[:3]:
                await _running(child)
            await asyncio.sleep(1)
            base = f"http://127.0.0.1:{port}"
            sender = WeChatSender(token=env["BUTLER_WECHAT_TOKEN"], aes_key=env["BUTLER_WECHAT_AES_KEY"],
                                  app_id=env["BUTLER_WECHAT_APP_ID"])

            # 1. dedupe: one MsgId, 12 deliveries at once
            xml = text_xml(f"o_scale_dedupe_{uuid.uuid4().hex[:6]}", "你好", msg_id=secrets.randbits(62))
            signed = [sender.request(xml) for _ in range(12)]
            answers = await _post_each(f"{base}/wechat?", [(q, {}, b) for q, b in signed])
            replies = {sender.open_reply(text, q).get("Content", "") for (q, _), (_, text) in zip(signed, answers, strict=True)}
            key = dedupe_key(parse_xml(xml))  # sender + MsgId
            async with sessions() as session:
                logged = await session.scalar(select(func.count()).select_from(InboundMessageLog)
                                              .where(InboundMessageLog.dedupe_key == key))
            out["dedupe"] = {"deliveries": 12, "statuses": sorted({s for s, _ in answers}), "logged": logged,
                             "distinct_replies": len(replies), "ok": logged == 1 and len(replies) == 1}

            # 2. 接单: one card, five presses at once, one winner, one owner notice
            async with unit_of_work(sessions) as session:
                owner = await session.get(Owner, world["owner"].id)
                svc = await session.get(catalog.Service, world["service"].id)
                order = await orders.create(session=session, owner=owner, service=svc,  # type: ignore[arg-type]
                                            scheduled_at=utcnow() + timedelta(days=1), address="1号楼1单元000室",
                                            contact_phone="13800138000", notes="打扫卫生")
                order_id, code = order.id, order.code
            await _post_each(f"{base}/wechat?", [(q, {}, b) for q, b in [sender.request(text_xml("o_scale_kick", "你好"))]])
            await fake_tg.wait_for(lambda: [c for c in fake_tg.calls_to("sendMessage", chat_id=MERCHANT_CHAT) if code in c.text],
                                   timeout=30)
            key = Settings(_env_file=None, telegram_token=fake_tg.token).callback_key  # type: ignore[call-arg]
            presses = [callback_update(user_id=m, data=job_data(order_id, key), chat_id=MERCHANT_CHAT,
                                       message_id=1) for m in world["merchants"]]
            headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            await _post_each(f"{base}/telegram", [("", headers, p) for p in presses])
            await asyncio.sleep(1.5)
            answers_cb = [c.params.get("text", "") for c in fake_tg.calls_to("answerCallbackQuery")
                          if c.params.get("callback_query_id") in {p["callback_query"]["id"] for p in presses}]
            cards = [c for c in fake_tg.calls_to("sendMessage", chat_id=MERCHANT_CHAT) if code in c.text]
            owner_notices = [c for c in fake_wx.calls if c.body.get("touser") == world["owner"].openid]
            async with sessions() as session:
                status = (await session.get(orders.Order, order_id)).status  # type: ignore[union-attr]
            winners = sum(1 for t in answers_cb if t == "接单成功")
            out["accept"] = {"presses": len(presses), "answers": answers_cb, "cards_posted": len(cards),
                             "winners": winners, "order_status": str(status), "owner_notices": len(owner_notices),
                             "ok": winners == 1 and len(cards) == 1 and len(owner_notices) == 1}

            # 3. broadcast: 4 job runners race; each owner gets it once
            async with unit_of_work(sessions) as session:
                segment = segments.parse(f"小区={world['community']}")
                draft = await broadcasts.create_draft(session=session, text="本周六小区义诊，欢迎参加。", segment=segment,
                                                      scope=None, staff_id=None, reply_channel="wechat", reply_to="")
                await broadcasts.confirm(session=session, broadcast=draft, now=datetime.now(UTC))
            for _ in range(300):
                if len(_reached(fake_wx, world["openids"], "义诊")) == BROADCAST_OWNERS:
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(3)  # let any would-be duplicate arrive before counting
            reached = _reached(fake_wx, world["openids"], "义诊")
            out["broadcast"] = {"owners": BROADCAST_OWNERS, "reached": len(reached),
                                "max_per_owner": max(reached.values(), default=0),
                                "ok": len(reached) == BROADCAST_OWNERS and max(reached.values(), default=0) == 1}

            # 4. the daily report job: four runners, one post
            await fake_tg.wait_for(lambda: fake_tg.calls_to("sendPhoto", chat_id=STAFF_CHAT), timeout=30)
            await asyncio.sleep(5)  # two more ticks of every runner
            reports = fake_tg.calls_to("sendPhoto", chat_id=STAFF_CHAT)
            out["daily_report"] = {"posted": len(reports), "ok": len(reports) == 1}

            spread = {c.name: c.log_path.read_text(errors="replace").count("POST /") for c in children[:3]}
            out["spread"] = spread
            await engine.dispose()
    finally:
        for child in children:
            await child.stop()
        await fake_tg.close()
        await fake_wx.close()
    out["ok"] = all(v.get("ok") for v in out.values() if isinstance(v, dict) and "ok" in v)
    return out


def main() -> None:
    """Run the demo, print the observations as JSON, exit non-zero if any guarantee failed."""
    result = asyncio.run(demo())
    print(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    (LOG_DIR / "scale.json").write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
