"""Two `butler scheduler` processes on one PostgreSQL database: every job's work happens once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from bot.devtools.fake_wechat import FakeWeChatAPI
from storage import broadcasts, catalog, communities, merchants, orders, segments, staff, supplier
from storage.base import utcnow
from storage.feedback import Rating
from storage.merchants import Merchant
from storage.orders import OrderStatus
from storage.outbox import OutboxEvent
from storage.owners import BindingStatus, Owner
from storage.surveys import ResponseStatus, Survey, SurveyResponse
from tests.scheduler.kit import TZ
from tests.scheduler.procs import private_postgres, scheduler_env, session_for, spawn, stop_async

CS = "/cgi-bin/message/custom/send"
OFFER = "本周日小区跳蚤市场，欢迎参加"


async def _seed(url: str) -> dict[str, object]:
    today = datetime.now(TZ).date()
    year, q = supplier.previous_quarter(*supplier.quarter_of(today))
    q_start, _ = supplier.quarter_bounds(year, q)
    async with session_for(url) as session:
        c = await communities.create(session=session, name="翠苑")
        svc = await catalog.get_service_by_name(session=session, name="钟点工")
        assert svc is not None
        people = []
        for i in range(5):
            owner = Owner(openid=f"o-{i}", name="业主", community_id=c.id, building="3",
                          binding_status=BindingStatus.VERIFIED, last_message_at=utcnow() - timedelta(hours=1), tags=[])
            session.add(owner)
            people.append(owner)
        member = await staff.create(session=session, name="客服", openid="s-1", communities=[c])
        expired = await merchants.create(session=session, name="过期", telegram_id=1, services=[svc],
                                         qualification_expires=today - timedelta(days=2))
        warned = await merchants.create(session=session, name="快到期", telegram_id=2, services=[svc],
                                        qualification_expires=today + timedelta(days=10))
        poor = await merchants.create(session=session, name="差评", telegram_id=3, services=[svc],
                                      qualification_expires=today + timedelta(days=300))
        await session.flush()
        for score in (1, 2):
            session.add(Rating(owner_id=people[0].id, merchant_id=poor.id, score=score,
                               created_at=datetime(q_start.year, q_start.month, 15, tzinfo=UTC)))
        done = await orders.create(session=session, owner=people[0], service=svc, scheduled_at=None, address="", contact_phone="")
        done.status, done.merchant_id, done.completed_at = OrderStatus.COMPLETED, poor.id, utcnow() - timedelta(hours=25)
        waiting = await orders.create(session=session, owner=people[1], service=svc, scheduled_at=None, address="", contact_phone="")
        waiting.created_at = utcnow() - timedelta(minutes=20)
        open_survey = Survey(key="needs", title="业主需求调查", definition={"questions": []}, allow_repeat=False, is_open=True)
        closed_survey = Survey(key="old", title="旧调查", definition={"questions": []}, allow_repeat=False, is_open=False)
        session.add_all([open_survey, closed_survey])
        await session.flush()
        for survey in (open_survey, closed_survey):
            session.add(SurveyResponse(survey_id=survey.id, owner_id=people[2].id, status=ResponseStatus.IN_PROGRESS,
                                       updated_at=utcnow() - timedelta(hours=26), answers=[]))
        bc = await broadcasts.create_draft(
            session=session, text=OFFER, segment=segments.parse("楼栋=3"), scope=None, staff_id=member.id,
            reply_channel="wechat", reply_to="s-1",
        )
        await broadcasts.confirm(session=session, broadcast=bc, now=utcnow())
        return {"done_code": done.code, "waiting_code": waiting.code, "expired": expired.id, "warned": warned.id,
                "poor": poor.id, "broadcast": bc.id, "owners": [p.openid for p in people]}


async def _until_done(url: str, broadcast_id: int, timeout: float = 60) -> None:
    """Wait until the slowest pieces (report chart, broadcast) are done."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        async with session_for(url) as session:
            bc = await session.get(broadcasts.Broadcast, broadcast_id)
            notes = list(await session.scalars(select(OutboxEvent.payload).where(OutboxEvent.kind == "staff.notify")))
        if bc is not None and bc.status == "done" and any("photo_path" in p for p in notes):
            return
        await asyncio.sleep(0.5)
    raise AssertionError("scheduled work not done in time")


async def test_two_scheduler_processes_run_each_job_once(fake_wechat: FakeWeChatAPI, tmp_path: Path) -> None:
    async with private_postgres() as url:
        seeded = await _seed(url)
        env = scheduler_env(url, fake_wechat.base_url, f"test:{uuid.uuid4().hex}:", tmp_path,  # type: ignore[attr-defined]
                            BUTLER_REPORT_TIME="00:00")
        logs = [tmp_path / "sched-a.log", tmp_path / "sched-b.log"]
        procs = [spawn(env, log) for log in logs]
        try:
            await _until_done(url, seeded["broadcast"])  # type: ignore[arg-type]
            await asyncio.sleep(3)  # more ticks in both processes: still nothing twice
        finally:
            await asyncio.gather(*(stop_async(proc) for proc in procs))
        for log in logs:  # both processes were alive and ticking
            text = log.read_text()
            assert "job followups: first tick" in text and "job broadcasts: first tick" in text, text[-3000:]

        async with session_for(url) as session:
            events = [(e.kind, e.payload) for e in await session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))]
            states = {m.id: m.status for m in await session.scalars(select(Merchant))}
            bc = await session.get(broadcasts.Broadcast, seeded["broadcast"])

        def count(kind: str, needle: str, **match: object) -> int:
            return sum(1 for k, p in events if k == kind and needle in str(p.get("text", ""))
                       and all(p.get(f) == v for f, v in match.items()))

        assert count("owner.notify", seeded["done_code"], openid="o-0") == 1  # 回访 asked once
        assert count("owner.notify", "业主需求调查", openid="o-2") == 1  # reminder once
        assert count("owner.notify", "旧调查") == 0  # never after the survey closed
        assert count("merchant.notify", "过期", merchant_id=seeded["expired"]) == 1
        assert states[seeded["expired"]] == "blacklisted"  # type: ignore[index]
        assert count("merchant.notify", "还有 10 天", merchant_id=seeded["warned"]) == 1
        assert count("merchant.notify", "整改通知", merchant_id=seeded["poor"]) == 1
        assert count("staff.notify", "📊 日报") == 1
        assert count("staff.notify", seeded["waiting_code"]) == 1  # accept-timeout escalation
        assert bc is not None and bc.status == "done"
        assert count("owner.notify", f"广播 #{seeded['broadcast']} 已发送完毕", openid="s-1") == 1
        # At the fake WeChat API: one broadcast message per owner, one follow-up question.
        for openid in seeded["owners"]:  # type: ignore[attr-defined]
            got = [c for c in fake_wechat.calls_to(CS) if c.body["touser"] == openid and c.body["text"]["content"] == OFFER]
            assert len(got) == 1, (openid, len(got))
        asked = [c for c in fake_wechat.calls_to(CS) if seeded["done_code"] in c.body["text"]["content"]]
        assert len(asked) == 1
