"""Issue 18: the reply a turn stores goes to asyncpg directly, yet stays in the turn's transaction,
on both backends: rolled back with the turn, committed with it, counted as a statement."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import bindparam, event, select, update

from storage import arrival, messages
from storage.base import utcnow
from storage.db import STATEMENTS, create_engine, create_session_factory
from storage.dialog_states import DialogStateRow
from storage.driver import DriverStatement
from storage.messages import InboundMessageLog
from tests.conftest import Backend


async def test_a_stored_reply_commits_and_rolls_back_with_its_turn(backend: Backend) -> None:
    engine = create_engine(backend.database_url)
    sessions = create_session_factory(engine)
    openid = f"o_drv_{uuid.uuid4().hex[:10]}"
    through_sqlalchemy: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_rest: through_sqlalchemy.append(statement))

    async def turn(key: str, reply: str, *, keep: bool) -> None:
        async with sessions() as session:
            await arrival.arrive(session=session, channel="wechat", openid=openid, kind="text", text="你好",
                                 dedupe_key=key, at=utcnow())
            before = STATEMENTS.count
            await messages.record_reply(session=session, dedupe_key=key, text=reply)
            assert STATEMENTS.count == before + 1
            await (session.commit() if keep else session.rollback())

    async def stored(key: str) -> str | None:
        async with sessions() as session:
            return await session.scalar(select(InboundMessageLog.reply).where(InboundMessageLog.dedupe_key == key))

    try:
        await turn(f"{openid}:1", "您好，我是物业管家。", keep=True)
        assert await stored(f"{openid}:1") == "您好，我是物业管家。"
        # on PostgreSQL the UPDATE went to asyncpg, past SQLAlchemy's cursor; SQLite keeps the session
        replies_via_session = [s for s in through_sqlalchemy if "SET reply" in s]
        assert len(replies_via_session) == (0 if backend.database_url.startswith("postgresql") else 1)
        # the turn rolled back: the message and its reply are both gone, as one transaction
        await turn(f"{openid}:2", "不会留下", keep=False)
        assert await stored(f"{openid}:2") is None
    finally:
        await engine.dispose()


async def test_before_the_first_statement_the_session_runs_it(backend: Backend) -> None:
    """asyncpg opens the session's transaction on its first statement: a driver statement sent
    before that would run outside it, so the session sends it and the rollback still holds."""
    engine = create_engine(backend.database_url)
    sessions = create_session_factory(engine)
    key = f"o_drv_{uuid.uuid4().hex[:10]}:1"
    try:
        async with sessions() as session:
            session.add(InboundMessageLog(channel="wechat", user_id="o_drv", kind="text", text="x", dedupe_key=key))
            await session.commit()
        set_reply = messages._SET_REPLY
        assert isinstance(set_reply, DriverStatement) and "$1" in set_reply.sql
        async with sessions() as session:
            await session.connection()  # begun, but asyncpg has no transaction open yet
            await set_reply.execute(session, {"key": key, "reply": "回滚"})
            await session.rollback()
        async with sessions() as session:
            assert await session.scalar(select(InboundMessageLog.reply).where(InboundMessageLog.dedupe_key == key)) == ""
    finally:
        await engine.dispose()


def test_a_statement_whose_values_need_converting_is_refused() -> None:
    """asyncpg gets the values as given, so a JSON value SQLAlchemy would serialise is refused."""
    with pytest.raises(TypeError, match="state"):
        DriverStatement(update(DialogStateRow.__table__).values(state=bindparam("state")))
