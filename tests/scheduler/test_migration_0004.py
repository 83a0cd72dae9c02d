"""Migration 0004 creates exactly what the models of issue 6 declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from storage.db import create_engine
from storage.models import Base
from tests.conftest import Backend

MINE = {"broadcasts", "broadcast_deliveries", "job_claims", "merchant_evaluations"}


def _touches_mine(diff: Any) -> bool:
    items = diff if isinstance(diff, list) else [diff]
    for item in items:
        for part in item:
            names = {getattr(part, "name", None), getattr(getattr(part, "table", None), "name", None), part}
            if any(isinstance(n, str) and n in MINE for n in names):
                return True
    return False


async def test_migration_0004_matches_the_models(backend: Backend) -> None:
    engine = create_engine(backend.database_url)
    try:
        async with engine.connect() as conn:
            diffs = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": False}), Base.metadata)
            )
    finally:
        await engine.dispose()
    assert [d for d in diffs if _touches_mine(d)] == []
