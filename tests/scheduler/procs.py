"""Real `butler scheduler` processes against a private PostgreSQL database, for multi-process proofs."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import create_engine, create_session_factory, unit_of_work
from storage.migrate import upgrade_sync
from tests.conftest import (
    PG_ADMIN_URL,
    REDIS_URL,
    TEST_APP_ID,
    _create_pg_database,
    _drop_pg_database,
)

BUTLER = str(Path(sys.executable).with_name("butler"))


@asynccontextmanager
async def private_postgres() -> AsyncIterator[str]:
    """A fresh migrated database nobody else's rows can disturb (scheduled jobs are global)."""
    name = f"butler_sched_{uuid.uuid4().hex[:10]}"
    await _create_pg_database(name)
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    url = f"{base}/{name}"
    await asyncio.to_thread(upgrade_sync, url)
    try:
        yield url
    finally:
        await _drop_pg_database(name)


@asynccontextmanager
async def session_for(url: str) -> AsyncIterator[AsyncSession]:
    """One committed unit of work on a database."""
    engine = create_engine(url, pool_size=2)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            yield session
    finally:
        await engine.dispose()


def scheduler_env(url: str, wechat_base: str, prefix: str, tmp: Path, **extra: str) -> dict[str, str]:
    """Environment for a `butler scheduler` process talking to the fake WeChat API."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUTLER_")}
    env |= {
        "BUTLER_DATABASE_URL": url,
        "BUTLER_REDIS_URL": REDIS_URL,
        "BUTLER_REDIS_PREFIX": prefix,
        "BUTLER_WECHAT_APP_ID": TEST_APP_ID,
        "BUTLER_WECHAT_APP_SECRET": "test-secret",
        "BUTLER_WECHAT_API_BASE": wechat_base,
        "BUTLER_REPORT_DIR": str(tmp),
        "BUTLER_SCHEDULER_TICK_SECONDS": "0.5",
        "BUTLER_BROADCAST_TICK_SECONDS": "0.3",
    }
    return env | extra


def spawn(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start `butler scheduler`, logging to a file."""
    handle = log.open("ab")
    return subprocess.Popen([BUTLER, "scheduler"], env=env, stdout=handle, stderr=subprocess.STDOUT, cwd=log.parent)


def stop(proc: subprocess.Popen[bytes], *, hard: bool = False) -> None:
    """SIGTERM (graceful) or SIGKILL (a crash)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL if hard else signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


async def stop_async(proc: subprocess.Popen[bytes], *, hard: bool = False) -> None:
    """stop() without blocking the event loop (the fake WeChat API in this loop must keep answering)."""
    await asyncio.to_thread(stop, proc, hard=hard)
