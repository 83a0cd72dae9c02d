"""Migration 0013 (issue 17): WeCom userids and the last channel, matching the models, reversible."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from storage.db import create_engine
from storage.migrate import alembic_config, upgrade_sync
from storage.models import Base
from tests.conftest import Backend

MINE = {"merchants", "staff"}


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


async def test_migration_0013_matches_the_models(backend: Backend) -> None:
    engine = create_engine(backend.database_url)
    try:
        async with engine.connect() as conn:
            diffs = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": False}), Base.metadata)
            )
    finally:
        await engine.dispose()
    assert [d for d in diffs if _tables(d) & MINE] == []


def _columns(path: Path, table: str) -> dict[str, int]:
    with sqlite3.connect(path) as db:
        return {row[1]: row[3] for row in db.execute(f"PRAGMA table_info({table})")}  # name -> notnull


def test_migration_0013_downgrades_and_upgrades_again(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade_sync(url)
    assert _columns(path, "merchants")["telegram_id"] == 0 and "wecom_userid" in _columns(path, "staff")
    with sqlite3.connect(path) as db:  # a WeCom-only merchant cannot survive the downgrade
        db.execute("INSERT INTO merchants (name, wecom_userid, status, credit_level, created_at) "
                   "VALUES ('企微师傅', 'zhang', 'active', 3, '2026-12-01 00:00:00')")
    command.downgrade(alembic_config(url), "0012")
    merchants = _columns(path, "merchants")
    assert "wecom_userid" not in merchants and merchants["telegram_id"] == 1
    assert "last_channel" not in _columns(path, "staff")
    upgrade_sync(url)
    assert "last_channel" in _columns(path, "merchants")
