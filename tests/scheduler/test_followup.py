"""回访 end to end: the job asks 24 h after completion, a low rating becomes a complaint staff close."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.devtools.fake_telegram import FakeTelegramAPI
from bot.devtools.fake_wechat import FakeWeChatAPI
from dialogs import handoff, texts
from scheduler.jobs import run_job
from storage import feedback, handoffs, orders, supplier
from storage.base import utcnow
from storage.catalog import Service
from storage.db import unit_of_work
from storage.orders import OrderStatus
from storage.owners import Owner
from tests.broadcasts.kit import cs_texts_to, say
from tests.conftest import Backend
from tests.scheduler.kit import drain, job_ctx
from tests.telegram.conftest import (
    STAFF_CHAT,
    TgHub,
    World,
    make_world,
    start_tg_hub,
    telegram_settings,
)


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


async def _completed_order(tg: TgHub, world, *, hours_ago: float, rated: bool = False) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    async with unit_of_work(tg.hub.runtime.sessions) as session:
        owner, svc = await session.get(Owner, world.owner_id), await session.get(Service, world.service_id)
        order = await orders.create(session=session, owner=owner, service=svc, scheduled_at=None,  # type: ignore[arg-type]
                                    address="3号楼2单元301室", contact_phone="13800138000")
        order.status, order.merchant_id = OrderStatus.COMPLETED, world.merchant_ids["张师傅"]
        order.completed_at = utcnow() - timedelta(hours=hours_ago)
        order.amount_fen, order.commission_fen = 12000, 2400
        if rated:
            await feedback.add_rating(session=session, owner_id=owner.id, order_id=order.id,  # type: ignore[union-attr]
                                      merchant_id=order.merchant_id, score=5)
        return order.id, order.code


async def test_followup_asks_once_and_a_low_rating_becomes_a_complaint_staff_must_close(tg: TgHub) -> None:
    hub = tg.hub
    world = await make_world(hub)
    due_id, due_code = await _completed_order(tg, world, hours_ago=25)
    _, recent_code = await _completed_order(tg, world, hours_ago=2)
    _, rated_code = await _completed_order(tg, world, hours_ago=30, rated=True)

    ctx = job_ctx(hub)
    assert await run_job("followups", ctx) >= 1
    assert not await run_job("followups", ctx)  # never asked twice
    await drain(hub)
    asked = cs_texts_to(hub, world.owner_openid)
    assert len(asked) == 1 and due_code in asked[0] and "打分" in asked[0]
    assert recent_code not in asked[0] and rated_code not in asked[0]

    assert "抱歉" in await say(hub, world.owner_openid, "1")
    filed = await say(hub, world.owner_openid, "师傅迟到两个小时，还没打扫干净")
    assert "投诉编号 T" in filed and "30分钟内" in filed and "人工" in filed  # issue 16: a number and a time frame
    async with hub.runtime.sessions() as session:
        complaint = await session.scalar(select(feedback.Complaint).where(feedback.Complaint.order_id == due_id))
        assert complaint is not None and complaint.status == "open"
        avg, n = await supplier.average_rating(session=session, merchant_id=world.merchant_ids["张师傅"],
                                               since=utcnow() - timedelta(days=1), until=utcnow() + timedelta(minutes=1))
        assert n == 2 and avg is not None and avg < 5  # the low score feeds the merchant's average
    await drain(hub)
    alerts = [c.text for c in tg.fake.sent_to(STAFF_CHAT) if f"T{complaint.id}" in c.text]
    assert alerts, [c.text for c in tg.fake.sent_to(STAFF_CHAT)]

    await tg.say(world.staff_telegram_id, f"/close_complaint {complaint.id} 已电话致歉并安排返工", chat_id=STAFF_CHAT)
    assert "已结案" in tg.fake.calls_to("sendMessage", chat_id=STAFF_CHAT)[-1].text
    async with hub.runtime.sessions() as session:
        closed = await session.get(feedback.Complaint, complaint.id)
        assert closed is not None and closed.status == "closed" and closed.note == "已电话致歉并安排返工"
        assert closed.closed_by_staff_id == world.staff_id


async def _handoff_id(hub, owner_id: int) -> int:  # type: ignore[no-untyped-def]
    async with hub.runtime.sessions() as session:
        held = await handoffs.open_for_owner(session=session, owner_id=owner_id)
        assert held is not None
        return held.id


async def _due_followup_during_a_handoff(tg: TgHub) -> tuple[World, int, str, int]:
    """An order due for its 回访 whose owner is talking to staff: (world, order id, code, hand-off id)."""
    world = await make_world(tg.hub)
    order_id, code = await _completed_order(tg, world, hours_ago=25)
    assert await say(tg.hub, world.owner_openid, "转人工") == texts.HANDOFF_OPENED
    return world, order_id, code, await _handoff_id(tg.hub, world.owner_id)


async def _rating(hub, order_id: int) -> feedback.Rating | None:  # type: ignore[no-untyped-def]
    async with hub.runtime.sessions() as session:
        return await session.scalar(select(feedback.Rating).where(feedback.Rating.order_id == order_id))


async def test_followup_waits_while_staff_hold_the_conversation_and_asks_once_they_let_go(tg: TgHub) -> None:
    hub = tg.hub
    world, order_id, code, handoff_id = await _due_followup_during_a_handoff(tg)
    async with unit_of_work(hub.runtime.sessions) as session:
        assert await handoff.relay_staff_reply(session=session, kv=hub.runtime.kv, handoff_id=handoff_id,
                                               staff_telegram_id=world.staff_telegram_id, text="您好，请问有什么可以帮您？") is None

    ctx = job_ctx(hub)
    await run_job("followups", ctx)  # due, but a person is talking to the owner: not now
    await drain(hub)
    assert not [t for t in cs_texts_to(hub, world.owner_openid) if code in t]
    # What the owner says meanwhile is for the staff member, not a rating.
    assert await say(hub, world.owner_openid, "5") == ""
    await drain(hub)
    assert [c for c in tg.fake.sent_to(STAFF_CHAT) if c.text.startswith(f"【业主消息 #{handoff_id}】")]
    assert await _rating(hub, order_id) is None

    async with unit_of_work(hub.runtime.sessions) as session:
        await handoff.close_handoff(session=session, kv=hub.runtime.kv, handoff_id=handoff_id,
                                    staff_telegram_id=world.staff_telegram_id)
    await run_job("followups", ctx)
    await drain(hub)
    [asked] = [t for t in cs_texts_to(hub, world.owner_openid) if code in t]
    assert "打分" in asked
    assert await say(hub, world.owner_openid, "5") == texts.FOLLOWUP_COMMENT
    rating = await _rating(hub, order_id)
    assert rating is not None and rating.score == 5
    await run_job("followups", ctx)
    await drain(hub)
    assert len([t for t in cs_texts_to(hub, world.owner_openid) if code in t]) == 1  # still asked once


async def test_a_hand_off_nobody_spoke_in_for_too_long_does_not_hold_the_followup_back(tg: TgHub) -> None:
    hub = tg.hub
    world, _, code, handoff_id = await _due_followup_during_a_handoff(tg)
    async with unit_of_work(hub.runtime.sessions) as session:
        held = await handoffs.get(session=session, handoff_id=handoff_id)
        assert held is not None
        held.last_activity_at = utcnow() - timedelta(seconds=hub.settings.handoff_idle_seconds + 60)
    await run_job("followups", job_ctx(hub))
    await drain(hub)
    assert [t for t in cs_texts_to(hub, world.owner_openid) if code in t and "打分" in t]
    async with hub.runtime.sessions() as session:
        ended = await handoffs.get(session=session, handoff_id=handoff_id)
        assert ended is not None and ended.status == handoffs.HandoffStatus.CLOSED


async def test_an_owner_who_asks_for_a_person_instead_of_rating_is_asked_again_after_the_hand_off(tg: TgHub) -> None:
    hub = tg.hub
    world = await make_world(hub)
    order_id, code = await _completed_order(tg, world, hours_ago=25)
    ctx = job_ctx(hub)
    await run_job("followups", ctx)
    await drain(hub)
    assert len([t for t in cs_texts_to(hub, world.owner_openid) if code in t]) == 1

    assert await say(hub, world.owner_openid, "人工") == texts.HANDOFF_OPENED  # instead of a score
    await run_job("followups", ctx)  # the hand-off is open: not now
    await drain(hub)
    assert len([t for t in cs_texts_to(hub, world.owner_openid) if code in t]) == 1

    async with unit_of_work(hub.runtime.sessions) as session:
        await handoff.close_handoff(session=session, kv=hub.runtime.kv, handoff_id=await _handoff_id(hub, world.owner_id),
                                    staff_telegram_id=world.staff_telegram_id)
    await run_job("followups", ctx)
    await drain(hub)
    asked = [t for t in cs_texts_to(hub, world.owner_openid) if code in t]
    assert len(asked) == 2 and "打分" in asked[1]
    assert await say(hub, world.owner_openid, "5") == texts.FOLLOWUP_COMMENT
    rating = await _rating(hub, order_id)
    assert rating is not None and rating.score == 5
