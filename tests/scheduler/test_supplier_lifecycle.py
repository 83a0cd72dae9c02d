"""Supplier lifecycle jobs: qualification expiry (blacklist, warning, renew) and quarterly evaluation."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.devtools.fake_telegram import FakeTelegramAPI
from bot.devtools.fake_wechat import FakeWeChatAPI
from scheduler.jobs import run_job
from storage import dispatch, orders
from storage.db import unit_of_work
from storage.feedback import Rating
from storage.merchants import Merchant, MerchantStatus
from storage.supplier import Evaluation
from tests import subproc
from tests.broadcasts.kit import say
from tests.conftest import Backend
from tests.scheduler.kit import TZ, drain, job_ctx, local
from tests.telegram.conftest import TgHub, make_world, start_tg_hub, telegram_settings

BUTLER = str(Path(sys.executable).with_name("butler"))


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


async def _merchant(tg: TgHub, merchant_id: int) -> Merchant:
    async with tg.hub.runtime.sessions() as session:
        found = await session.get(Merchant, merchant_id)
        assert found is not None
        return found


async def test_expired_qualification_blacklists_once_warns_ahead_and_renew_reinstates(tg: TgHub, backend: Backend) -> None:
    today = datetime.now(TZ).date()
    ctx = job_ctx(tg.hub)
    await run_job("qualification_expiry", ctx)  # the shared DB may hold other tests' merchants
    world = await make_world(tg.hub, merchants_spec={
        "过期商家": {"expires": today - timedelta(days=1)},
        "快到期": {"expires": today + timedelta(days=20)},
        "还早": {"expires": today + timedelta(days=200)},
    })
    assert await run_job("qualification_expiry", ctx) == {"blacklisted": 1, "warned": 1}
    assert await run_job("qualification_expiry", ctx) == {"blacklisted": 0, "warned": 0}  # once only
    await drain(tg.hub)
    expired_id, soon_id = world.merchant_ids["过期商家"], world.merchant_ids["快到期"]
    assert (await _merchant(tg, expired_id)).status == MerchantStatus.BLACKLISTED
    [told] = tg.fake.sent_to(world.merchants["过期商家"])
    assert "资质文件已于" in told.text and "过期" in told.text
    [warned] = tg.fake.sent_to(world.merchants["快到期"])
    assert "还有 20 天" in warned.text
    assert tg.fake.sent_to(world.merchants["还早"]) == []
    assert (await _merchant(tg, soon_id)).status == MerchantStatus.ACTIVE

    new_date = today + timedelta(days=365)
    env = os.environ | {"BUTLER_DATABASE_URL": backend.database_url}
    done = (await subproc.run([BUTLER, "merchant", "renew", str(expired_id), "--until", new_date.isoformat()],
                          capture_output=True, text=True, env=env, timeout=120))
    assert done.returncode == 0, done.stderr
    assert "reinstated" in done.stdout
    renewed = await _merchant(tg, expired_id)
    assert (renewed.status, renewed.qualification_expires) == (MerchantStatus.ACTIVE, new_date)
    await drain(tg.hub)
    assert "已恢复接单" in tg.fake.sent_to(world.merchants["过期商家"])[-1].text
    bad = (await subproc.run([BUTLER, "merchant", "renew", str(expired_id), "--until", "2001-01-01"],
                         capture_output=True, text=True, env=env, timeout=120))
    assert bad.returncode != 0 and bad.stderr.startswith("butler: error:")


async def _rate(tg: TgHub, world, merchant: str, scores: list[int], at: datetime) -> None:  # type: ignore[no-untyped-def]
    async with unit_of_work(tg.hub.runtime.sessions) as session:
        for i, score in enumerate(scores):
            session.add(Rating(owner_id=world.owner_id, merchant_id=world.merchant_ids[merchant], score=score,
                               created_at=at + timedelta(minutes=i)))


async def _evaluations(tg: TgHub, merchant_id: int) -> dict[str, tuple[str, str]]:
    async with tg.hub.runtime.sessions() as session:
        rows = await session.scalars(select(Evaluation).where(Evaluation.merchant_id == merchant_id))
        return {e.quarter: (e.outcome, e.resolution) for e in rows}


async def test_quarterly_escalation_rectification_suspension_termination_and_high_credit(tg: TgHub) -> None:
    world = await make_world(tg.hub, merchants_spec={"差评商家": {}, "好评商家": {}, "普通商家": {}})
    bad, good = world.merchant_ids["差评商家"], world.merchant_ids["好评商家"]
    await _rate(tg, world, "好评商家", [5, 5, 4], local(2026, 5, 10))
    await _evaluate(tg, local(2026, 7, 2))  # evaluates 2026Q2
    await _rate(tg, world, "差评商家", [2, 3, 1], local(2026, 8, 15))
    await _rate(tg, world, "好评商家", [5, 5], local(2026, 8, 15))
    await _rate(tg, world, "普通商家", [4, 4], local(2026, 8, 15))

    # Quarter ends below the bar: a rectification notice with a deadline (once, however often it ticks).
    await _evaluate(tg, local(2026, 10, 2))
    await _evaluate(tg, local(2026, 10, 2, 18))
    assert (await _evaluations(tg, bad))["2026Q3"] == ("failed", "")
    notices = [c.text for c in tg.fake.sent_to(world.merchants["差评商家"])]
    assert len(notices) == 1 and "整改通知" in notices[0] and "2026-11-01 前" in notices[0]
    # Consistently above the higher bar: credit level 5, and dispatch lists them first.
    assert (await _merchant(tg, good)).credit_level == 5
    async with unit_of_work(tg.hub.runtime.sessions) as session:
        from storage.catalog import Service
        from storage.owners import Owner

        owner, svc = await session.get(Owner, world.owner_id), await session.get(Service, world.service_id)
        order = await orders.create(session=session, owner=owner, service=svc, scheduled_at=None,  # type: ignore[arg-type]
                                    address="", contact_phone="")
        ranked = await dispatch.eligible_merchants(session=session, order=order, today=local(2026, 10, 2).date())
        assert ranked[0].id == good

    # Still below at the deadline: suspended.
    await _rate(tg, world, "差评商家", [3], local(2026, 10, 20))
    await _evaluate(tg, local(2026, 11, 2))
    assert (await _merchant(tg, bad)).status == MerchantStatus.SUSPENDED
    assert (await _evaluations(tg, bad))["2026Q3"] == ("failed", "suspended")
    assert "暂停向您派单" in tg.fake.sent_to(world.merchants["差评商家"])[-1].text

    # Staff reinstate after the merchant fixed things; the next quarter fails again: cooperation ends.
    admin = await _admin(tg)
    assert "已恢复" in await say(tg.hub, admin, f"/merchant reinstate {bad}")
    await _rate(tg, world, "差评商家", [2, 2], local(2026, 12, 1))
    await _evaluate(tg, local(2027, 1, 3))
    assert (await _merchant(tg, bad)).status == MerchantStatus.TERMINATED
    assert (await _evaluations(tg, bad))["2026Q4"] == ("failed", "terminated")
    assert "合作到此终止" in tg.fake.sent_to(world.merchants["差评商家"])[-1].text
    status = await say(tg.hub, admin, f"/merchant status {bad}")
    assert "已终止合作" in status and "2026Q4" in status and "2026Q3" in status


async def _evaluate(tg: TgHub, at: datetime) -> None:
    await run_job("quarterly_evaluation", job_ctx(tg.hub, at))
    await drain(tg.hub)


async def _admin(tg: TgHub) -> str:
    from storage import staff
    from storage.staff import StaffRole
    from tests.broadcasts.kit import uid

    openid = f"a-{uid()}"
    async with unit_of_work(tg.hub.runtime.sessions) as session:
        await staff.create(session=session, name="管理员", openid=openid, role=StaffRole.ADMIN)
    return openid
