"""Migration 0012 matches the models; household references; the 立项 resolution rules."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from storage import communities, service_lines
from storage.db import create_engine, create_session_factory, unit_of_work
from storage.households import HouseholdRef, parse_ref
from storage.models import Base
from tests.conftest import Backend

MINE = {"households", "household_tags", "community_services", "service_demand", "survey_responses"}


def _tables_in(diff: Any) -> set[str]:
    found: set[str] = set()
    for item in diff if isinstance(diff, list) else [diff]:
        for part in item if isinstance(item, tuple) else (item,):
            table = getattr(part, "table", None)
            name = getattr(table, "name", None) or getattr(part, "name", None)
            if isinstance(name, str):
                found.add(name)
            if isinstance(part, str):
                found.add(part)
    return found


async def test_migration_0012_matches_the_models(backend: Backend) -> None:
    engine = create_engine(backend.database_url)
    try:
        async with engine.connect() as conn:
            diffs = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": False}), Base.metadata)
            )
    finally:
        await engine.dispose()
    assert [d for d in diffs if _tables_in(d) & MINE] == []


@pytest.mark.parametrize(("text", "ref"), [
    ("3-2-502", HouseholdRef(building="3", unit="2", room="502")),
    ("翠苑 3-2-502", HouseholdRef(community="翠苑", building="3", unit="2", room="502")),
    ("翠苑3-502", HouseholdRef(community="翠苑", building="3", room="502")),
    ("翠苑/3号楼2单元502室", HouseholdRef(community="翠苑", building="3", unit="2", room="502")),
    ("3栋502", HouseholdRef(building="3", room="502")),
    ("138 1234 5678", HouseholdRef(phone="13812345678")),
    ("+86 13812345678", HouseholdRef(phone="13812345678")),
    ("随便写写", None),
    ("3-2-502-1", None),
    ("'; drop table owners; --", None),
])
def test_household_references(text: str, ref: HouseholdRef | None) -> None:
    assert parse_ref(text) == ref


async def test_offer_rules(backend: Backend) -> None:
    engine = create_engine(backend.database_url)
    sessions = create_session_factory(engine)
    day = date(2026, 12, 1)
    try:
        async with unit_of_work(sessions) as session:
            c = await communities.create(session=session, name=f"规则苑{uuid.uuid4().hex[:6]}")

            async def offered() -> set[str]:
                current = await service_lines.offer(session=session, community_id=c.id, today=day)
                assert current is not None
                return set(current.offered)

            async def decide(name: str, enabled: bool, starts: date | None = None) -> None:
                what = await service_lines.target(session=session, name=name)
                assert what is not None
                await service_lines.set_offer(session=session, community_id=c.id, what=what, enabled=enabled,
                                              starts_on=starts)

            assert len(await offered()) == 33  # nothing decided: everything, as before
            await decide("教育管家", False)
            assert len(await offered()) == 28  # only switched something off: the rest stays
            await decide("陪聊", True)
            assert await offered() == {"陪聊"}  # an opt-in: only what is enabled
            await decide("家政管家", True, date(2026, 12, 2))
            assert await offered() == {"陪聊"}  # starts tomorrow
            await decide("家政管家", True, day)
            await decide("护理", False)
            assert await offered() == {"陪聊", "钟点工", "水电暖气管道", "家居家电维修", "废品回收置换"}
            await decide("家政管家", True)  # enabling the whole line again clears the exception
            assert "护理" in await offered()
            assert await service_lines.offer(session=session, community_id=None, today=day) is None
    finally:
        await engine.dispose()
