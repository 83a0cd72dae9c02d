"""Issue 18: a turn's first statement logs the message, brings the owner in and says whether staff
hold them, on both backends; a duplicate still has no effect."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from storage import arrival, owners
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
