"""立项 over the real WeChat path: owners see and order only what their community offers; other asks
are refused politely and counted as demand (daily report, /report, /services). Switched on with the
real `butler service enable|disable` CLI."""

from __future__ import annotations

from datetime import date, timedelta

from bot.devtools.wechat_sender import text_xml
from bot.wording import report as report_words
from dialogs import names, texts
from storage import reports
from storage.db import unit_of_work
from storage.orders import Order
from tests.broadcasts.kit import add_owner, make_place, say
from tests.conftest import Hub, statements_naming
from tests.ownerdb.kit import abutler, demand_rows, today


def _numbered(reply: str) -> list[str]:
    return [line.split(". ", 1)[1] for line in reply.splitlines() if ". " in line and line.split(". ")[0].isdigit()]


async def _orders_of(hub: Hub, openid: str) -> list[Order]:
    from sqlalchemy import select

    from storage.owners import Owner

    async with hub.runtime.sessions() as session:
        owner_id = await session.scalar(select(Owner.id).where(Owner.openid == openid))
        return list(await session.scalars(select(Order).where(Order.owner_id == owner_id)))


async def test_a_fresh_community_offers_every_line(hub: Hub) -> None:
    place = await make_place(hub)
    owner = await add_owner(hub, place, "o")
    menu = _numbered(await say(hub, owner, "菜单"))
    assert len(menu) == 8 and "养老管家" in menu and "教育管家" in menu
    assert names.display("补课") in await say(hub, owner, "补课多少钱")  # owners read display names
    assert await demand_rows(hub, place.community_id) == 0


async def test_enabled_lines_only_and_a_disabled_service_is_refused_and_counted(hub: Hub) -> None:
    place = await make_place(hub)
    owner = await add_owner(hub, place, "o")
    other = await add_owner(hub, place, "p")
    done = (await abutler(hub, "service", "enable", "家政管家", "--community", place.community))
    assert done.returncode == 0 and "enabled" in done.stdout, done.stderr
    assert (await abutler(hub, "service", "enable", "陪聊", "--community", place.community)).returncode == 0

    # The catalog browser shows what is offered: 家政管家 whole, 养老管家 with 陪聊 only.
    menu = _numbered(await say(hub, owner, "菜单"))
    assert menu == ["养老管家", "家政管家"], menu
    services = _numbered(await say(hub, owner, "养老管家"))
    assert services == [names.display("陪聊")]

    # Asking for a service that is not offered: a polite reply, no form left open, demand counted once.
    reply = await say(hub, owner, "我想给孩子报个补课")
    assert reply.startswith("抱歉，") and "还没有开通补课" in reply and "人工" in reply
    assert "养老管家、家政管家" in reply and "好的" not in reply
    assert await say(hub, owner, "我要预约补课") == reply  # asked again the same day: counted once
    assert "还没有开通补课" in await say(hub, other, "补课多少钱")  # a price question is an ask too
    assert await demand_rows(hub, place.community_id) == 2
    assert await _orders_of(hub, owner) == []

    # What is offered can still be ordered.
    reply = await say(hub, owner, "明天上午想请个阿姨打扫卫生")
    assert "联系电话" in reply and "还没有开通" not in reply
    assert "钟点工" in await say(hub, owner, "13800001234")
    assert "订单号" in await say(hub, owner, "1")
    [order] = await _orders_of(hub, owner)
    assert order.service.name == "钟点工"

    # Staff see the offer and the demand: /services and /report (today's figures), and the daily report.
    shown = await say(hub, place.staff_openid, f"/services {place.community}")
    assert "家政管家（全部）" in shown and "养老管家：陪聊" in shown and "补课 2" in shown
    report = await say(hub, place.staff_openid, f"/report {today(hub)}")
    assert "未开通但有业主问" in report and f"【{place.community}】补课 2" in report
    async with unit_of_work(hub.runtime.sessions) as session:
        built = await reports.build(session=session, day=date.fromisoformat(today(hub)), tz=hub.runtime.tz)
    assert f"【{place.community}】补课 2" in report_words.render_text(built)


async def test_a_service_switched_off_inside_a_line_and_a_start_date(hub: Hub) -> None:
    place = await make_place(hub)
    owner = await add_owner(hub, place, "o")
    assert (await abutler(hub, "service", "enable", "家政管家", "--community", place.community)).returncode == 0
    assert (await abutler(hub, "service", "disable", "钟点工", "--community", place.community)).returncode == 0
    later = (date.fromisoformat(today(hub)) + timedelta(days=7)).isoformat()
    done = (await abutler(hub, "service", "enable", "教育管家", "--community", place.community, "--from", later))
    assert done.returncode == 0 and f"from {later}" in done.stdout

    assert "还没有开通钟点工" in await say(hub, owner, "明天上午想请个阿姨打扫卫生")
    assert "还没有开通补课" in await say(hub, owner, "我要预约补课")  # planned, not yet started
    reply = await say(hub, owner, "家里水管漏水了想找师傅修")
    assert "什么时间" in reply and "还没有开通" not in reply  # offered: the order form goes on
    await say(hub, owner, "取消")
    shown = await say(hub, place.staff_openid, f"/services {place.community}")
    assert f"教育管家（{later}起）" in shown and "已关闭：钟点工" in shown


async def test_an_order_form_that_reaches_a_disabled_service_ends_politely(hub: Hub) -> None:
    place = await make_place(hub)
    owner = await add_owner(hub, place, "o")
    assert (await abutler(hub, "service", "enable", "家政管家", "--community", place.community)).returncode == 0
    assert "什么服务" in await say(hub, owner, "我想预约个服务")
    reply = await say(hub, owner, "补课")
    assert "还没有开通补课" in reply
    # The form is closed: a number now is not an answer to it.
    assert "还没有开通" not in await say(hub, owner, "1")
    assert await _orders_of(hub, owner) == []


async def test_bad_cli_input_gets_one_line_errors(hub: Hub) -> None:
    place = await make_place(hub)
    for args, needle in (
        (("service", "enable", "修飞机", "--community", place.community), "no butler line or service"),
        (("service", "enable", "家政管家", "--community", "没有这个小区"), "no community"),
        (("service", "enable", "家政管家", "--community", place.community, "--from", "12/1"), "YYYY-MM-DD"),
    ):
        done = (await abutler(hub, *args))
        assert done.returncode != 0 and needle in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_refusal_wording_follows_the_owner_rules() -> None:
    text = texts.SERVICE_NOT_OFFERED.format(community="翠苑", service="补课")
    assert "！" not in text and "商家" not in text and "平台" not in text and len(text) <= 90
    assert text_xml  # the WeChat path is what the async tests use


async def test_an_unbound_owner_hears_it_once_binding_names_the_community(hub: Hub) -> None:
    from tests.dialogs.conftest import chat
    from tests.ownerdb.kit import add_roster

    place = await make_place(hub)
    await add_roster(hub, place, "6", "1", "601", "13700000601", "孙女士")
    assert (await abutler(hub, "service", "enable", "家政管家", "--community", place.community)).returncode == 0
    me = chat(hub)
    reply = await me.say("想找人陪老人聊天")  # 陪聊: not known to be off until the community is
    assert "绑定" in reply
    number = next(line.split(".")[0] for line in reply.splitlines() if line.endswith(place.community))
    await me.say(number)
    assert "手机号" in await me.say("6号楼1单元601")
    reply = await me.say("13700000601")
    assert "绑定成功" in reply and "还没有开通陪聊" in reply and "人工" in reply
    assert await demand_rows(hub, place.community_id) == 1
    assert await _orders_of(hub, me.openid) == []


async def test_a_bound_owners_turns_read_the_offer_from_the_workers_copy(hub: Hub) -> None:
    """Issue 18: the community's 立项 decisions are a per-worker copy, not two queries per ask."""
    place = await make_place(hub)
    owner = await add_owner(hub, place, "o")
    assert (await abutler(hub, "service", "enable", "家政管家", "--community", place.community)).returncode == 0
    with statements_naming(hub, "FROM community_services") as reads:
        for text in ("菜单", "钟点工多少钱", "补课多少钱", "菜单", "家政管家"):
            assert await say(hub, owner, text)
    assert len(reads.statements) <= min(reads.periods, 4), reads.statements  # the old path read them twice per ask
    assert _numbered(await say(hub, owner, "菜单")) == ["家政管家"]  # and the copy says what is offered
