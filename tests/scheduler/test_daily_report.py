"""The daily KPI report: figures per community and line, plan targets, and a PNG in the staff chat."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.devtools.fake_telegram import FakeTelegramAPI
from bot.devtools.fake_wechat import FakeWeChatAPI
from scheduler.jobs import run_job
from storage import orders, reports
from storage.catalog import Service
from storage.communities import Community
from storage.db import unit_of_work
from storage.orders import OrderStatus
from storage.owners import Owner
from tests.broadcasts.kit import say
from tests.conftest import Backend
from tests.scheduler.kit import TZ, drain, job_ctx, local
from tests.telegram.conftest import STAFF_CHAT, TgHub, make_world, start_tg_hub, telegram_settings


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegramAPI]:
    fake = FakeTelegramAPI()
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def tg(backend: Backend, fake_wechat: FakeWeChatAPI, fake_telegram: FakeTelegramAPI, tmp_path) -> AsyncIterator[TgHub]:  # type: ignore[no-untyped-def]
    settings = telegram_settings(backend, fake_wechat, fake_telegram, report_dir=str(tmp_path))
    running = await start_tg_hub(settings, fake_wechat, fake_telegram)
    yield running
    await running.hub.client.close()


async def _done(tg: TgHub, world, service: str, amount: int, commission: int, at) -> None:  # type: ignore[no-untyped-def]
    async with unit_of_work(tg.hub.runtime.sessions) as session:
        owner = await session.get(Owner, world.owner_id)
        svc = await session.get(Service, world.service_id) if service == world.service_name else None
        if svc is None:
            from storage import catalog

            svc = await catalog.get_service_by_name(session=session, name=service)
        order = await orders.create(session=session, owner=owner, service=svc, scheduled_at=None,  # type: ignore[arg-type]
                                    address="", contact_phone="")
        order.status, order.completed_at = OrderStatus.COMPLETED, at
        order.created_at = at - timedelta(hours=2)
        order.amount_fen, order.commission_fen = amount, commission


async def test_daily_report_is_posted_once_with_a_chart(tg: TgHub) -> None:
    world = await make_world(tg.hub)
    async with unit_of_work(tg.hub.runtime.sessions) as session:
        c = await session.get(Community, world.community_id)
        assert c is not None
        c.property_fee_monthly_fen = 3_000_000  # ¥30,000 a month
    # 2026-11-20 is the report day; 钟点工 has run every week for four weeks (a regular line).
    for week in range(4):
        await _done(tg, world, "钟点工", 8000, 1600, local(2026, 11, 20, 15) - timedelta(days=7 * week))
    await _done(tg, world, "家居家电维修", 30000, 60, local(2026, 11, 20, 11))
    await _done(tg, world, "钟点工", 5000, 1000, local(2026, 11, 19, 11))  # the day before: not counted

    early = job_ctx(tg.hub, local(2026, 11, 21, 7, 30))  # before 08:00: not yet
    assert not await run_job("daily_report", early)
    ctx = job_ctx(tg.hub, local(2026, 11, 21, 8, 5))
    assert await run_job("daily_report", ctx)
    assert not await run_job("daily_report", job_ctx(tg.hub, local(2026, 11, 21, 9)))  # once a day
    await drain(tg.hub)

    [photo] = [c for c in tg.fake.calls_to("sendPhoto", chat_id=STAFF_CHAT) if "日报 2026-11-20" in c.text]
    assert photo.files and max(photo.files.values()) > 1000  # a real PNG was uploaded
    posted = "\n".join(c.text for c in tg.fake.calls_to("sendMessage", chat_id=STAFF_CHAT)) + photo.text
    section = posted
    assert "钟点工：下单 1，完成 1，营业额 ¥80.00，佣金 ¥16.00" in section
    assert "家居家电维修：下单 1，完成 1，营业额 ¥300.00，佣金 ¥0.60" in section
    assert "1/2 达标（未达标：家政管家·家居家电维修）" in section  # ¥0.60 is under the ¥1-a-day target
    assert "常态运行项目：1/2（家政管家·钟点工）" in section

    async with tg.hub.runtime.sessions() as session:
        built = await reports.build(session=session, day=local(2026, 11, 20).astimezone(TZ).date(), tz=TZ)
    mine = next(c for c in built.communities if c.community_id == world.community_id)
    assert mine.month_commission_fen == 1600 * 3 + 60 + 1000  # Nov 6, 13, 20 + repair + the 19th
    assert mine.month_fee_target_fen == 3_000_000 // 2 * 20 // 30


async def test_report_command_answers_with_text_and_chart(tg: TgHub) -> None:
    world = await make_world(tg.hub)
    await tg.say(world.staff_telegram_id, "/report 2026-11-20", chat_id=STAFF_CHAT)
    [photo] = [c for c in tg.fake.calls_to("sendPhoto", chat_id=STAFF_CHAT) if "日报 2026-11-20" in c.text]
    assert photo.files
    assert "日期写法" in await _wechat_report(tg, "/report 昨天")


async def _wechat_report(tg: TgHub, text: str) -> str:
    from storage import staff
    from tests.broadcasts.kit import uid

    openid = f"s-{uid()}"
    async with unit_of_work(tg.hub.runtime.sessions) as session:
        await staff.create(session=session, name="客服", openid=openid)
    return await say(tg.hub, openid, text)


def test_butler_report_prints_the_report_and_writes_the_chart(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os
    import subprocess
    import sys
    from pathlib import Path

    butler = str(Path(sys.executable).with_name("butler"))
    env = os.environ | {"BUTLER_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'butler.db'}"}
    out = tmp_path / "chart.png"
    done = subprocess.run([butler, "report", "--date", "2026-11-20", "--out", str(out)],
                          capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "📊 日报 2026-11-20" in done.stdout and out.stat().st_size > 1000
