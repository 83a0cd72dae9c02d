"""Migration 0010 (issue 15) creates exactly what the models declare."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from storage.db import create_engine
from storage.models import Base
from tests.conftest import Backend

MINE = {"dialog_states", "late_replies", "inbound_messages", "outbox", "broadcasts"}


def _tables(diff: Any) -> set[str]:
    found: set[str] = set()
    for item in diff if isinstance(diff, list) else [diff]:
        for part in item if isinstance(item, tuple) else (item,):
            name = getattr(part, "name", None) if hasattr(part, "columns") else getattr(getattr(part, "table", None), "name", None)
            if isinstance(part, str) and part in MINE:
                found.add(part)
            elif name:
                found.add(name)
    return found


async def test_migration_0010_matches_the_models(backend: Backend) -> None:
    engine = create_engine(backend.database_url)
    try:
        async with engine.connect() as conn:
            diffs = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": False}), Base.metadata)
            )
    finally:
        await engine.dispose()
    assert [d for d in diffs if _tables(d) & MINE] == []
