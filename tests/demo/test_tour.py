"""The guided tour plays the whole story through the simulated platforms, start to finish."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from bot.demo.runner import DemoServer, start_demo
from tests.demo.conftest import post, wait_event

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def fast_demo(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DemoServer]:
    """The demo with the follow-up due one second after completion and short pauses."""
    db = Path(tmp_path_factory.mktemp("tour")) / "butler-demo.db"
    server = await start_demo(db_path=db, port=0, reset=True, followup_delay_hours=1 / 3600, scheduler_tick_seconds=1.0)
    server.simulator.tour.pause = 0.1
    yield server
    await server.close()


async def test_play_scenario_runs_every_step(fast_demo: DemoServer, http: aiohttp.ClientSession) -> None:
    assert (await post(http, fast_demo, "/sim/api/tour/start", {}))["started"] is True
    assert (await post(http, fast_demo, "/sim/api/tour/start", {}))["started"] is False  # one at a time
    end = await wait_event(
        fast_demo, lambda e: e["kind"] == "tour" and e["state"] in ("done", "failed"), timeout=90
    )
    assert end["state"] == "done", end["caption"]
    steps = [e for e in fast_demo.simulator.bus.history if e["kind"] == "tour" and e["state"] == "running"]
    assert [e["index"] for e in steps] == list(range(1, end["total"] + 1))
    history = fast_demo.simulator.bus.history
    # What the visitor sees along the way, pane by pane.
    assert any(e["kind"] == "tg.alert" and "资质" in e["text"] for e in history)  # expired merchant refused
    assert any(e["kind"] == "owner.out" and e.get("via") == "template" and "状态：已接单" in e["text"] for e in history)
    assert any(e["kind"] == "owner.out" and e.get("via") == "mass" for e in history)
    photo = next(e for e in history if e.get("photo"))
    async with http.get(f"{fast_demo.base_url}{photo['photo']}") as resp:
        assert resp.status == 200 and (await resp.read()).startswith(b"\x89PNG")


async def test_the_tour_can_be_replayed_on_the_same_data(fast_demo: DemoServer, http: aiohttp.ClientSession) -> None:
    mark = fast_demo.simulator.bus.last_id
    await post(http, fast_demo, "/sim/api/tour/start", {})
    end = await wait_event(
        fast_demo, lambda e: e["kind"] == "tour" and e["state"] in ("done", "failed"), since=mark, timeout=90
    )
    assert end["state"] == "done", end["caption"]  # already bound, broadcast capped: still a story


async def test_tour_can_be_stopped(fast_demo: DemoServer, http: aiohttp.ClientSession) -> None:
    fast_demo.simulator.tour.pause = 5
    mark = fast_demo.simulator.bus.last_id
    await post(http, fast_demo, "/sim/api/tour/start", {})
    await post(http, fast_demo, "/sim/api/tour/stop", {})
    stopped = await wait_event(fast_demo, lambda e: e["kind"] == "tour" and e["state"] == "stopped", since=mark)
    assert stopped["caption"]
    assert not fast_demo.simulator.tour.running
