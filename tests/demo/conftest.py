"""A running `butler demo` (real server, fake platforms, demo data) shared by a module's tests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from bot.demo.runner import DemoServer, start_demo


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def demo(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DemoServer]:
    """The demo on a fresh SQLite file and a free port."""
    db = Path(tmp_path_factory.mktemp("demo")) / "butler-demo.db"
    server = await start_demo(db_path=db, port=0, reset=True, run_scheduler=False)
    yield server
    await server.close()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A client session for the tests' own requests to /sim."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as session:
        yield session


async def post(http: aiohttp.ClientSession, demo: DemoServer, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST JSON to the simulator API like the page does."""
    async with http.post(f"{demo.base_url}{path}", json=body) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def wait_event(
    demo: DemoServer, match: Callable[[dict[str, Any]], bool], *, since: int = 0, timeout: float = 10.0
) -> dict[str, Any]:
    """The first simulator event after `since` that matches."""
    return await demo.simulator.bus.wait_for(match, timeout=timeout, since=since)


async def read_sse(http: aiohttp.ClientSession, url: str, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
    """Read `count` events from an SSE stream."""
    events: list[dict[str, Any]] = []

    async def run() -> None:
        async with http.get(url) as resp:
            assert resp.headers["Content-Type"].startswith("text/event-stream")
            async for raw in resp.content:
                line = raw.decode().strip()
                if line.startswith("data: "):
                    events.append(json.loads(line[6:]))
                    if len(events) >= count:
                        return

    await asyncio.wait_for(run(), timeout)
    return events
