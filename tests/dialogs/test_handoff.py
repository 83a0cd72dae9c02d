"""Hand-off to staff end to end: owner side through the WeChat path, staff side through the domain
functions the Telegram staff chat calls (relay_staff_reply / close_handoff), with the owner's
replies delivered by the real outbox relay to the fake WeChat customer-service API."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from dialogs import handoff, texts
from storage.base import utcnow
from storage.db import unit_of_work
from storage.handoffs import Handoff, HandoffStatus
from storage.outbox import OutboxEvent
from tests.conftest import Backend, Hub, make_settings, start_hub
from tests.dialogs.conftest import (
    bound_owner,
    chat,
    drain,
    events,
    owner_row,
    sent_texts,
    staff_member,
)


async def _handoff_of(hub: Hub, openid: str) -> Handoff:
    owner = await owner_row(hub, openid)
    async with hub.runtime.sessions() as session:
        row = await session.scalar(select(Handoff).where(Handoff.owner_id == owner.id).order_by(Handoff.id.desc()))
        assert row is not None
        return row


async def test_handoff_round_trip(hub: Hub) -> None:
    me, community = await bound_owner(hub)
    await me.say("我家热水器一直漏水，怎么处理")
    assert await me.say("转人工") == texts.HANDOFF_OPENED
    held = await _handoff_of(hub, me.openid)
    assert held.status == HandoffStatus.OPEN and held.reason == "human_agent"
    [alert] = await events(hub, "staff.notify", handoff_id=held.id)
    assert community in alert["text"] and "3号楼2单元301室" in alert["text"] and "热水器一直漏水" in alert["text"]

    # While staff hold it, the bot is quiet and the owner's words go to the staff chat.
    assert await me.say("师傅今天能来吗") == ""
    forwarded = await events(hub, "staff.notify", handoff_id=held.id)
    assert len(forwarded) == 2 and "师傅今天能来吗" in forwarded[1]["text"]

    member = await staff_member(hub, community=community)
    async with unit_of_work(hub.runtime.sessions) as session:
        refused = await handoff.relay_staff_reply(
            session=session, kv=hub.runtime.kv, handoff_id=held.id, staff_telegram_id=member, text="您好，师傅下午两点到。"
        )
    assert refused is None
    await drain(hub)
    assert "您好，师傅下午两点到。" in sent_texts(hub, me.openid)

    async with unit_of_work(hub.runtime.sessions) as session:
        await handoff.close_handoff(session=session, kv=hub.runtime.kv, handoff_id=held.id, staff_telegram_id=member)
    await drain(hub)
    assert texts.HANDOFF_CLOSED in sent_texts(hub, me.openid)
    assert "管家服务" in await me.say("你好")  # the bot answers again
    async with unit_of_work(hub.runtime.sessions) as session:
        late = await handoff.relay_staff_reply(session=session, kv=hub.runtime.kv, handoff_id=held.id, staff_telegram_id=member, text="还在吗")
    assert late == texts.STAFF_HANDOFF_CLOSED


async def test_two_fallbacks_in_a_row_hand_off(hub: Hub) -> None:
    me = chat(hub)
    assert await me.say("你们会唱歌吗") == texts.NOT_UNDERSTOOD
    assert await me.say("今天天气怎么样") == texts.HANDOFF_OPENED
    assert (await _handoff_of(hub, me.openid)).reason == "nlu_fallback"


async def test_a_reply_outside_the_48_hour_window_is_refused_with_a_reason(hub: Hub) -> None:
    me, _ = await bound_owner(hub)
    await me.say("人工")
    held = await _handoff_of(hub, me.openid)
    member = await staff_member(hub, admin=True)
    async with unit_of_work(hub.runtime.sessions) as session:
        owner = await session.get(type(await owner_row(hub, me.openid)), held.owner_id)
        owner.last_message_at = utcnow() - timedelta(hours=49)  # type: ignore[union-attr]
    async with unit_of_work(hub.runtime.sessions) as session:
        reason = await handoff.relay_staff_reply(session=session, kv=hub.runtime.kv, handoff_id=held.id, staff_telegram_id=member, text="您好")
    assert reason is not None and "48 小时" in reason and "13900001111" in reason
    async with hub.runtime.sessions() as session:
        rows = await session.scalars(select(OutboxEvent).where(OutboxEvent.kind == "owner.notify"))
        assert not [r for r in rows if r.payload.get("openid") == me.openid]


async def test_thirty_minutes_of_silence_ends_the_handoff(backend: Backend, fake_wechat) -> None:  # type: ignore[no-untyped-def]
    # 3 s stands for 30 minutes: long enough that a loaded machine answers 在吗 inside it.
    running = await start_hub(make_settings(backend, fake_wechat, handoff_idle_seconds=3), fake_wechat)
    try:
        me = chat(running)
        await me.say("人工")
        assert await me.say("在吗") == ""
        await asyncio.sleep(3.2)
        assert "管家服务" in await me.say("你好")
        held = await _handoff_of(running, me.openid)
        assert held.status == HandoffStatus.CLOSED and held.closed_reason == "timeout"
    finally:
        await running.client.close()
