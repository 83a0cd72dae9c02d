"""PostgreSQL restarted under traffic: requests fail cleanly, then recover in the same process."""

from __future__ import annotations

import asyncio

from bot.devtools.fake_wechat import FakeWeChatAPI
from dialogs import texts
from tests.conftest import REDIS_URL, Backend, make_settings, start_hub
from tests.faults.services import PrivatePostgres
from tests.faults.traffic import Traffic


async def test_postgres_restart_fails_cleanly_and_recovers_without_a_process_restart(
    private_pg: PrivatePostgres, private_pg_url: str, fake_wechat: FakeWeChatAPI
) -> None:
    settings = make_settings(Backend("private-pg+redis", private_pg_url, REDIS_URL), fake_wechat)
    hub = await start_hub(settings, fake_wechat)
    try:
        traffic = Traffic(hub)
        traffic.start()
        await traffic.answered(traffic.owners)  # traffic flows before the outage
        before = len(traffic.results)
        await asyncio.to_thread(private_pg.stop, "fast")  # drops every pooled connection
        await traffic.answered(traffic.owners)  # messages arrive while the database is gone
        health_down = await hub.client.get("/healthz")
        await asyncio.to_thread(private_pg.start)
        await traffic.recovered(lambda text: text != texts.BUSY)  # same process, no restart
        results = await traffic.stop()
        health_up = await hub.client.get("/healthz")

        assert before > 0
        assert all(status == 200 for status, _ in results), {s for s, _ in results}  # never a 500
        assert all(text for _, text in results)  # never silence either
        busy = [t for _, t in results if t == texts.BUSY]
        assert busy, "no request hit the outage"
        # Recovered without restarting the process: the last answers are real ones again.
        assert all(text != texts.BUSY for _, text in results[-traffic.owners :])
        assert health_down.status == 503 and (await health_down.json())["db"] != "ok"
        assert health_up.status == 200
    finally:
        await hub.client.close()
