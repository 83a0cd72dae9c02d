"""Helpers for the workflow tests: a hub with Telegram (staff chat) and a fixed-clock job context."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.app import RELAY, SERVICES
from scheduler.context import JobContext
from scheduler.jobs import run_job
from storage.base import utcnow
from storage.feedback import Complaint
from storage.workorders import WorkOrder
from tests.broadcasts.kit import cs_texts_to, say
from tests.conftest import Hub
from tests.telegram.conftest import STAFF_CHAT, TgHub, World


async def drain(hub: Hub) -> None:
    """Deliver what is in the outbox now."""
    await hub.client.app[RELAY].drain()


def job_at(hub: Hub, minutes_from_now: float) -> JobContext:
    """The real job context, its clock moved forward."""
    at = utcnow() + timedelta(minutes=minutes_from_now)
    return replace(hub.client.app[SERVICES].job_context(), clock=lambda: at)


async def new_alerts(tg: TgHub, minutes_from_now: float, needle: str) -> int:
    """Run one tick of the SLA job at a later time and deliver; staff-chat messages it sent with needle.

    Counted by this test's own ids: the database is shared, so the job also handles other tests' rows.
    """
    before = len(staff_chat_with(tg, needle))
    await run_job("workflow_sla", job_at(tg.hub, minutes_from_now))
    await drain(tg.hub)
    return len(staff_chat_with(tg, needle)) - before


async def owner_says(hub: Hub, openid: str, text: str) -> str:
    """An owner's WeChat text; a confirmation question (issue 13's step) is answered 确认."""
    reply = await say(hub, openid, text)
    if ("确认" in reply or "确定" in reply) and ("工单号" not in reply and "投诉编号" not in reply):
        reply = await say(hub, openid, "确认")
    return reply


async def staff_says(tg: TgHub, world: World, text: str) -> str:
    """A command in the Telegram staff chat; returns the bot's answer there."""
    before = len(tg.fake.calls_to("sendMessage", chat_id=STAFF_CHAT))
    resp = await tg.say(world.staff_telegram_id, text, chat_id=STAFF_CHAT)
    assert resp.status == 200
    answers = tg.fake.calls_to("sendMessage", chat_id=STAFF_CHAT)[before:]
    replies = [c.text for c in answers if c.params.get("reply_to_message_id")]
    assert replies, [c.text for c in answers]
    return replies[-1]


def staff_chat_with(tg: TgHub, needle: str) -> list[str]:
    """Staff-chat messages mentioning needle (the shared test database may add others)."""
    return [c.text for c in tg.fake.sent_to(STAFF_CHAT) if needle in c.text]


def owner_texts(hub: Hub, openid: str, needle: str = "") -> list[str]:
    """Customer-service texts the owner received (containing needle)."""
    return [t for t in cs_texts_to(hub, openid) if needle in t]


async def latest_work_order(hub: Hub, owner_id: int) -> WorkOrder:
    """The owner's newest work order."""
    async with hub.runtime.sessions() as session:
        row = await session.scalar(select(WorkOrder).where(WorkOrder.owner_id == owner_id).order_by(WorkOrder.id.desc()))
        assert row is not None
        return row


async def latest_complaint(hub: Hub, owner_id: int) -> Complaint:
    """The owner's newest complaint."""
    async with hub.runtime.sessions() as session:
        row = await session.scalar(select(Complaint).where(Complaint.owner_id == owner_id).order_by(Complaint.id.desc()))
        assert row is not None
        return row


def at(minutes: float) -> datetime:
    """Now plus minutes."""
    return utcnow() + timedelta(minutes=minutes)
