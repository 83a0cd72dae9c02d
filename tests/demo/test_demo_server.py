"""`butler demo`: seeded data, the /sim page and its API playing WeChat through the real /wechat."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.app import RUNTIME
from bot.demo import data
from bot.demo.runner import DemoServer, start_demo
from bot.demo.sim import STATIC
from dialogs.hub import WECHAT_MENU
from storage import communities, merchants, messages, owners, staff
from tests.demo.conftest import post, read_sse, wait_event

pytestmark = pytest.mark.asyncio(loop_scope="module")

OWNER = data.OWNERS[0].openid


async def test_demo_data_is_loaded_through_the_repositories(demo: DemoServer) -> None:
    assert demo.seeded.added["communities"] == 2
    # Other features' data, loaded with their own code: every household is in the roster.
    assert demo.seeded.added["roster"] == 30 and demo.seeded.added["activities"] == 2
    assert demo.seeded.added["survey"] == 1 and demo.seeded.skipped == []
    async with demo.app[RUNTIME].sessions() as session:
        assert [c.name for c in await communities.list_all(session=session)] == ["翠苑", "阳光花园"]
        all_owners = list(await session.scalars(select(owners.Owner)))
        assert len(all_owners) == 30
        bound = [o for o in all_owners if o.is_bound]
        assert 0 < len(bound) < 30  # some bound, some not
        assert all(o.community_id and o.room for o in bound)
        rows = list(await session.scalars(select(merchants.Merchant)))
        assert len(rows) == 4
        assert len({s.name for m in rows for s in m.services}) >= 5
        today = date.today()
        expired = [m for m in rows if m.qualification_expires and m.qualification_expires < today]
        assert [m.name for m in expired] == ["老刘水电"]
        assert await session.scalar(select(func.count()).select_from(staff.Staff)) == 2


async def test_sim_page_and_assets_are_served_by_the_app_with_no_cdn(
    demo: DemoServer, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{demo.base_url}/") as resp:
        assert str(resp.url).endswith("/sim")
        html = await resp.text()
    assert "物业管家" in html
    for asset in re.findall(r'(?:src|href)="(/sim/static/[^"]+)"', html):
        async with http.get(f"{demo.base_url}{asset}") as resp:
            assert resp.status == 200, asset
    for path in STATIC.iterdir():
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"https?://|//cdn", text), f"{path.name} loads something from the network"


async def test_owner_message_goes_to_wechat_endpoint_and_reply_comes_back(
    demo: DemoServer, http: aiohttp.ClientSession
) -> None:
    mark = demo.simulator.bus.last_id
    result = await post(http, demo, "/sim/api/wechat/text", {"openid": OWNER, "text": "你好"})
    assert "管家服务" in result["reply"]
    out = await wait_event(demo, lambda e: e["kind"] == "owner.out" and e["openid"] == OWNER, since=mark)
    assert out["via"] == "passive" and "管家服务" in out["text"]
    # The hub really handled it: the message log has it under the owner's openid.
    async with demo.app[RUNTIME].sessions() as session:
        logged = await session.scalar(
            select(func.count()).select_from(messages.InboundMessageLog).where(messages.InboundMessageLog.user_id == OWNER)
        )
    assert logged >= 1


async def test_menu_is_created_through_the_api_and_buttons_send_click_events(
    demo: DemoServer, http: aiohttp.ClientSession
) -> None:
    assert [c.body for c in demo.fake_wechat.calls_to("/cgi-bin/menu/create")] == [WECHAT_MENU]
    assert demo.simulator.wechat.menu == WECHAT_MENU
    result = await post(http, demo, "/sim/api/wechat/event", {"openid": OWNER, "event": "CLICK", "key": "SERVICES"})
    assert "家政管家" in result["reply"]


async def test_messages_the_hub_sends_later_appear_in_the_owner_pane(demo: DemoServer) -> None:
    mark = demo.simulator.bus.last_id
    wechat = demo.app[RUNTIME].wechat
    await wechat.send_text(OWNER, "您的订单已有商家接单")
    # As WeChat renders notices since 2023-05-04: keyword lines under the template's title, no first/remark.
    await wechat.send_template(OWNER, data.WECHAT_TEMPLATE_ORDER, {"character_string2": "AB23", "phrase4": "已接单"})
    cs = await wait_event(demo, lambda e: e["kind"] == "owner.out" and e["via"] == "cs", since=mark)
    assert cs["openid"] == OWNER and cs["text"] == "您的订单已有商家接单"
    notice = await wait_event(demo, lambda e: e["kind"] == "owner.out" and e["via"] == "template", since=mark)
    assert notice["title"] == "服务通知" and notice["text"] == "订单号：AB23\n状态：已接单"


async def test_event_stream_replays_history_then_streams(demo: DemoServer, http: aiohttp.ClientSession) -> None:
    await post(http, demo, "/sim/api/wechat/text", {"openid": OWNER, "text": "谢谢"})
    events = await read_sse(http, f"{demo.base_url}/sim/api/events", count=2)
    assert [e["id"] for e in events] == [1, 2]
    last = demo.simulator.bus.last_id
    fresh = await read_sse(http, f"{demo.base_url}/sim/api/events?since={last - 1}", count=1)
    assert fresh[0]["id"] == last


async def test_a_new_owner_follows_and_is_welcomed(demo: DemoServer, http: aiohttp.ClientSession) -> None:
    owner = await post(http, demo, "/sim/api/wechat/new-owner", {"name": "小周"})
    assert owner["openid"].startswith("o_demo_new_")
    welcome = await wait_event(demo, lambda e: e["kind"] == "owner.out" and e["openid"] == owner["openid"])
    assert welcome["text"]
    async with http.get(f"{demo.base_url}/sim/api/cast") as resp:
        cast = await resp.json()
    assert owner["openid"] in {o["openid"] for o in cast["owners"]}


async def test_bad_requests_get_400_not_500(demo: DemoServer, http: aiohttp.ClientSession) -> None:
    for path, body in [
        ("/sim/api/wechat/text", {"openid": OWNER}),
        ("/sim/api/wechat/text", ["not", "an", "object"]),
        ("/sim/api/telegram/press", {"user_id": "x", "chat_id": 1, "message_id": 1, "data": "a"}),
        ("/sim/api/telegram/say", {"user_id": 1, "chat_id": 1, "text": "  "}),
    ]:
        async with http.post(f"{demo.base_url}{path}", json=body) as resp:
            assert resp.status == 400, (path, body)
    async with http.post(f"{demo.base_url}/sim/api/wechat/text", data=b"{nope") as resp:
        assert resp.status == 400


async def test_restart_keeps_the_data_and_reset_loads_it_fresh(tmp_path: Path) -> None:
    db = tmp_path / "again.db"
    first = await start_demo(db_path=db, port=0, run_scheduler=False)
    await first.close()
    again = await start_demo(db_path=db, port=0, run_scheduler=False)
    await again.close()
    reset = await start_demo(db_path=db, port=0, reset=True, run_scheduler=False)
    await reset.close()
    assert first.seeded.fresh and not again.seeded.fresh and reset.seeded.fresh
