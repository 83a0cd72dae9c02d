"""`butler demo --merchants wecom`: the merchant pane is each merchant's chat with the WeCom app,
played through the hub's real /wecom and the fake WeCom API (the default demo is tests/demo's others)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from sqlalchemy import select

from bot.app import RELAY, RUNTIME
from bot.demo import data
from bot.demo.runner import DemoServer, start_demo
from storage import catalog, merchants, orders
from storage.base import utcnow
from storage.db import unit_of_work
from storage.owners import Owner
from tests.demo.conftest import post, wait_event

pytestmark = pytest.mark.asyncio(loop_scope="module")

ZHANG = data.MERCHANTS[0]  # 钟点工 in every community


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def wecom_demo(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DemoServer]:
    db = Path(tmp_path_factory.mktemp("demo-wecom")) / "butler-demo.db"
    server = await start_demo(db_path=db, port=0, reset=True, run_scheduler=False, merchants="wecom")
    yield server
    await server.close()


async def test_the_cast_and_the_page_show_merchants_on_wecom(wecom_demo: DemoServer, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{wecom_demo.base_url}/sim/api/cast") as resp:
        cast = await resp.json()
    assert cast["merchant_channel"] == "wecom"
    assert [m["wecom_userid"] for m in cast["merchants"]] == [m.wecom_userid for m in data.MERCHANTS]
    async with http.get(f"{wecom_demo.base_url}/sim") as resp:
        html = await resp.text()
    assert 'data-testid="wecom-pane"' in html and "/sim/static/wecom.js" in html
    async with wecom_demo.app[RUNTIME].sessions() as session:
        rows = list(await session.scalars(select(merchants.Merchant)))
    assert {(m.telegram_id, m.wecom_userid) for m in rows} == {(None, m.wecom_userid) for m in data.MERCHANTS}


async def test_a_job_card_is_taken_in_the_wecom_pane(wecom_demo: DemoServer, http: aiohttp.ClientSession) -> None:
    demo, bus = wecom_demo, wecom_demo.simulator.bus
    mark = bus.last_id
    async with unit_of_work(demo.app[RUNTIME].sessions) as session:
        owner = await session.scalar(select(Owner).where(Owner.openid == data.OWNERS[0].openid))
        service = await catalog.get_service_by_name(session=session, name="钟点工")
        assert owner is not None and service is not None
        order = await orders.create(session=session, owner=owner, service=service,
                                    scheduled_at=utcnow() + timedelta(days=1), address="1号楼1单元101室",
                                    contact_phone=owner.phone, notes="打扫卫生")
        code = order.code
    await demo.app[RELAY].drain()
    card = await wait_event(demo, lambda e: e["kind"] == "wc.message" and e["userid"] == ZHANG.wecom_userid
                            and any(b["text"] == "接单" for b in e["buttons"]), since=mark)
    assert code in card["text"] and card["msgtype"] == "template_card"

    (take,) = [b["key"] for b in card["buttons"] if b["text"] == "接单"]
    result = await post(http, demo, "/sim/api/wecom/press",
                        {"userid": ZHANG.wecom_userid, "card_id": card["card_id"], "key": take})
    assert result["status"] == 200
    taken = await wait_event(demo, lambda e: e["kind"] == "wc.update" and e["card_id"] == card["card_id"], since=mark)
    assert taken["label"] == "已接单" and taken["buttons"] == []
    slip = await wait_event(demo, lambda e: e["kind"] == "wc.message" and e["userid"] == ZHANG.wecom_userid
                            and any(b["text"] == "已出发" for b in e["buttons"]), since=mark)
    assert code in slip["text"]

    result = await post(http, demo, "/sim/api/wecom/say", {"userid": ZHANG.wecom_userid, "text": "你好"})
    assert result["status"] == 200
    await wait_event(demo, lambda e: e["kind"] == "wc.in" and e["text"] == "你好", since=mark)


async def test_the_wecom_routes_are_only_in_the_wecom_demo(demo: DemoServer, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{demo.base_url}/sim/api/cast") as resp:
        assert (await resp.json())["merchant_channel"] == "telegram"
    async with http.post(f"{demo.base_url}/sim/api/wecom/say", json={"userid": "x", "text": "你好"}) as resp:
        assert resp.status == 404
