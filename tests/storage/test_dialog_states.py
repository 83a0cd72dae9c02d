"""The durable dialog state (issue 15): upsert, expiry, and the hourly purge, on both backends."""

from __future__ import annotations

import uuid

from bot.wechat.late import housekeeping
from storage import dialog_states
from storage.db import create_engine, create_session_factory, unit_of_work
from tests.conftest import Backend


async def test_state_is_replaced_expires_and_is_purged(backend: Backend) -> None:
    engine = create_engine(backend.database_url)
    sessions = create_session_factory(engine)
    live, gone = f"o_ds_{uuid.uuid4().hex[:8]}", f"o_ds_{uuid.uuid4().hex[:8]}"
    try:
        async with unit_of_work(sessions) as session:
            await dialog_states.put(session=session, openid=live, state={"flow": "order", "step": "time"}, ttl_seconds=600)
            await dialog_states.put(session=session, openid=live, state={"flow": "order", "step": "confirm"}, ttl_seconds=600)
            await dialog_states.put(session=session, openid=gone, state={"flow": "survey"}, ttl_seconds=0)
        async with sessions() as session:
            found = await dialog_states.get(session=session, openid=live)
            assert found is not None and found[0]["step"] == "confirm"  # one row per owner, replaced
            assert await dialog_states.get(session=session, openid=gone) is None  # expired: no dialog
        await housekeeping(sessions)
        async with sessions() as session:
            assert await session.get(dialog_states.DialogStateRow, gone) is None
            assert await session.get(dialog_states.DialogStateRow, live) is not None
    finally:
        await engine.dispose()
