"""The order aggregate's dispatch additions: migration 0003 matches the models; cancel and history."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from storage import catalog, communities, orders
from storage.db import create_engine, create_session_factory, unit_of_work
from storage.models import Base
from storage.orders import InvalidTransition, OrderStatus
from storage.outbox import OutboxEvent
from storage.owners import BindingStatus, Owner
from tests.conftest import Backend

MINE = {"orders", "order_events"}


def _tables_in(diff: Any) -> set[str]:
    """Table names a diff entry touches (entries are tuples, or lists of tuples for columns)."""
    found: set[str] = set()
    items = diff if isinstance(diff, list) else [diff]
    for item in items:
        for part in item:
            name = getattr(part, "name", None) if hasattr(part, "columns") else None
            table = getattr(getattr(part, "table", None), "name", None)
            for value in (name, table):
                if isinstance(value, str):
                    found.add(value)
            if isinstance(part, str) and part in MINE:
                found.add(part)
    return found


async def test_migration_0003_matches_the_models(backend: Backend) -> None:
    engine = create_engine(backend.database_url)
    try:
        async with engine.connect() as conn:
            diffs = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": False}), Base.metadata)
            )
    finally:
        await engine.dispose()
    mine = [d for d in diffs if _tables_in(d) & MINE]
    assert mine == []


async def test_cancel_logs_history_and_emits_order_cancelled(backend: Backend) -> None:
    engine = create_engine(backend.database_url)
    sessions = create_session_factory(engine)
    try:
        async with unit_of_work(sessions) as session:
            place = await communities.create(session=session, name=f"测试苑{uuid.uuid4().hex[:6]}")
            # Verified: an unverified owner's order waits without a card (issue 14).
            owner = Owner(openid=f"o-{uuid.uuid4().hex}", community_id=place.id, tags=[],
                          binding_status=BindingStatus.VERIFIED)
            session.add(owner)
            svc = await catalog.get_service_by_name(session=session, name="钟点工")
            assert svc is not None
            order = await orders.create(session=session, owner=owner, service=svc, scheduled_at=None, address="", contact_phone="")
            await orders.cancel(session=session, order=order, reason="不需要了")
            with pytest.raises(InvalidTransition):
                order.move_to(OrderStatus.ACCEPTED)
            events = list(await session.scalars(select(OutboxEvent).where(OutboxEvent.kind.in_(["order.created", "order.cancelled"])).order_by(OutboxEvent.id)))
            kinds = [e.kind for e in events if e.payload.get("order_id") == order.id]
            assert kinds == ["order.created", "order.cancelled"]
            history = await orders.list_events(session=session, order_id=order.id)
            assert [(e.status, e.actor, e.note) for e in history] == [("cancelled", "owner", "不需要了")]
            assert order.failure_reason == "不需要了"
    finally:
        await engine.dispose()
