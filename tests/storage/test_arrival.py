"""Issue 18: a turn's first statement logs the message, brings the owner in and says whether staff
hold them, on both backends; a duplicate still has no effect."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from storage import arrival, dialog_states, owners
from storage.base import utcnow
from storage.db import create_engine, create_session_factory, unit_of_work
from storage.handoffs import Handoff
from storage.messages import InboundMessageLog
from tests.conftest import Backend


async def test_arrival_logs_creates_touches_and_sees_a_handoff(backend: Backend) -> None:
    engine = create_engine(backend.database_url)
    sessions = create_session_factory(engine)
    openid = f"o_ar_{uuid.uuid4().hex[:10]}"

    async def arrive(key: str, text: str) -> arrival.Arrival:
        async with unit_of_work(sessions) as session:
            return await arrival.arrive(session=session, channel="wechat", openid=openid, kind="text",
                                        text=text, dedupe_key=key, at=utcnow())

    try:
        first = await arrive(f"{openid}:1", "你好")
        # A first contact gets exactly the defaults an owner made through the ORM gets.
        reference = owners.Owner(openid="reference-only")
        async with sessions() as session:
            session.add(reference)
            await session.flush()
            for column in ("nickname", "binding_status", "following", "push_opt_out", "phone_valid", "blocked"):
                assert getattr(first.owner, column) == getattr(reference, column), column
            await session.rollback()
        assert first.in_handoff is False and first.owner.created_at is not None
        assert first.owner.last_message_at is not None
        second = await arrive(f"{openid}:2", "物业费怎么交")
        assert second.owner.id == first.owner.id and second.owner.last_message_at >= first.owner.last_message_at
        async with unit_of_work(sessions) as session:
            session.add(Handoff(owner_id=first.owner.id, reason="human_agent"))
        assert (await arrive(f"{openid}:3", "还在吗")).in_handoff is True
        # A redelivered message: the log's unique key refuses it, and nothing of the turn is kept.
        before = first.owner.last_message_at
        with pytest.raises(IntegrityError):
            await arrive(f"{openid}:1", "你好")
        async with sessions() as session:
            logged = await session.scalar(
                select(func.count()).select_from(InboundMessageLog).where(InboundMessageLog.user_id == openid))
            assert logged == 3
            texts = set(await session.scalars(select(InboundMessageLog.text).where(InboundMessageLog.user_id == openid)))
            assert texts == {"你好", "物业费怎么交", "还在吗"}
            owner = await owners.get_by_openid(session=session, openid=openid)
            assert owner is not None and owner.last_message_at > before  # the third arrival's touch, not rolled into
    finally:
        await engine.dispose()


async def test_arrival_brings_the_pending_dialog_row_unless_it_expired(backend: Backend) -> None:
    engine = create_engine(backend.database_url)
    sessions = create_session_factory(engine)
    live, lapsed = f"o_ar_{uuid.uuid4().hex[:10]}", f"o_ar_{uuid.uuid4().hex[:10]}"

    async def arrive(openid: str) -> arrival.Arrival:
        async with unit_of_work(sessions) as session:
            return await arrival.arrive(session=session, channel="wechat", openid=openid, kind="text",
                                        text="明天上午", dedupe_key=f"{openid}:{uuid.uuid4().hex}", at=utcnow())

    try:
        assert (await arrive(live)).dialog is None  # a first contact has none
        async with unit_of_work(sessions) as session:
            await dialog_states.put(session=session, openid=live, state={"flow": "order", "step": "time"}, ttl_seconds=600)
            await dialog_states.put(session=session, openid=lapsed, state={"flow": "survey"}, ttl_seconds=0)
        found = (await arrive(live)).dialog
        assert found is not None and found[0] == {"flow": "order", "step": "time"} and found[1] > utcnow()
        assert (await arrive(lapsed)).dialog is None  # expired rows are no dialog, as dialog_states.get says
    finally:
        await engine.dispose()
