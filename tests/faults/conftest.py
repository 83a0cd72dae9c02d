"""Fixtures for fault tests: private servers (never the shared ones) and traffic helpers."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from storage.migrate import upgrade
from tests.faults.services import PrivatePostgres, PrivateRedis


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    """A Redis of this test's own, which it may kill and restart."""
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def private_pg() -> Iterator[PrivatePostgres]:
    """A PostgreSQL cluster of the fault tests' own (initdb once per session)."""
    server = PrivatePostgres()
    server.init()
    yield server
    server.destroy()


@pytest.fixture
async def private_pg_url(private_pg: PrivatePostgres) -> AsyncIterator[str]:
    """A fresh migrated database on the private cluster."""
    name = f"faults_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(private_pg.admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = private_pg.url(name)
    await upgrade(url)
    yield url
    if private_pg.datadir is not None:
        await asyncio.sleep(0)
