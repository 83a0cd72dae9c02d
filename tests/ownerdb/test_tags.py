"""Staff tags (/tag) from the Telegram staff chat and WeChat, used in broadcast segments end to end."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.devtools.fake_telegram import FakeTelegramAPI
from bot.devtools.fake_wechat import FakeWeChatAPI
from storage import staff
from storage.communities import Community
from storage.db import unit_of_work
from storage.households import HouseholdTag
from tests.broadcasts.kit import cs_texts_to, latest_broadcast_id, make_place, say, wait_broadcast
from tests.conftest import Backend
from tests.ownerdb.kit import owner_at
from tests.telegram.conftest import STAFF_CHAT, TgHub, start_tg_hub, telegram_settings, unique_int


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegramAPI]:
    fake = FakeTelegramAPI()
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def tg(backend: Backend, fake_wechat: FakeWeChatAPI, fake_telegram: FakeTelegramAPI) -> AsyncIterator[TgHub]:
    running = await start_tg_hub(telegram_settings(backend, fake_wechat, fake_telegram), fake_wechat, fake_telegram)
    yield running
    await running.hub.client.close()


async def _telegram_staff(tg: TgHub, community_id: int) -> tuple[int, int]:
    tid = unique_int()
    async with unit_of_work(tg.hub.runtime.sessions) as session:
        c = await session.get(Community, community_id)
        member = await staff.create(session=session, name="群里的客服", telegram_id=tid, communities=[c] if c else [])
        return tid, member.id


def _last_reply(tg: TgHub) -> str:
    sent = tg.fake.calls_to("sendMessage", chat_id=STAFF_CHAT)
    sent.sort(key=lambda c: c.at)
    return sent[-1].text if sent else ""


async def test_staff_tags_from_the_staff_chat_drive_a_broadcast(tg: TgHub) -> None:
    hub = tg.hub
    place = await make_place(hub)
    member, member_id = await _telegram_staff(tg, place.community_id)
    grandma = await owner_at(hub, place, "3", "2", "502", tags=("有车",))  # 有车 from an old survey
    grandson = await owner_at(hub, place, "3", "2", "502")
    neighbour = await owner_at(hub, place, "3", "2", "501", tags=("有车",))
    claimer = await owner_at(hub, place, "3", "2", "502", status="pending")  # unverified: inherits nothing

    await tg.say(member, "/tag 3-2-502 +有老人 -有车", chat_id=STAFF_CHAT)
    reply = _last_reply(tg)
    assert "3号楼2单元502室" in reply and "已加标签 有老人" in reply and "已去掉 有车" in reply
    await tg.say(member, "/tag 3-2-502 +有老人", chat_id=STAFF_CHAT)
    assert "未变 有老人" in _last_reply(tg)
    async with hub.runtime.sessions() as session:
        from sqlalchemy import select

        [row] = list(await session.scalars(select(HouseholdTag).where(HouseholdTag.tag == "有老人",
                                                                      HouseholdTag.staff_id == member_id)))
    assert row.source == "staff"

    await tg.say(member, f"/owner {place.community} 3-2-502", chat_id=STAFF_CHAT)
    card = _last_reply(tg)
    assert "有老人（员工）" in card and "有车" not in card and "微信绑定待核实" in card

    # 标签= reaches both verified members of the household; 非标签=有车 now includes them too.
    await tg.say(member, f"/broadcast 小区={place.community} 标签=有老人 | 重阳节敬老活动报名", chat_id=STAFF_CHAT)
    preview = _last_reply(tg)
    assert "将发送 2 人" in preview, preview
    confirm = next(b["callback_data"] for b in tg.fake.calls_to("sendMessage", chat_id=STAFF_CHAT)[-1].buttons()
                   if "确认" in b["text"])
    await tg.press(member, confirm, chat_id=STAFF_CHAT)
    await wait_broadcast(hub, await latest_broadcast_id(hub, member_id))
    assert cs_texts_to(hub, grandma) == ["重阳节敬老活动报名"]
    assert cs_texts_to(hub, grandson) == ["重阳节敬老活动报名"]
    assert cs_texts_to(hub, neighbour) == [] and cs_texts_to(hub, claimer) == []

    preview = await say(hub, place.staff_openid, f"/broadcast 小区={place.community} 非标签=有车 绑定=是 | 你好")
    # Matched: the claimer, plus grandma and grandson (skipped: they had today's marketing push).
    # The neighbour keeps his 有车.
    assert "将发送 1 人" in preview and "跳过 2 人" in preview, preview


async def test_bad_tags_and_scope_are_refused_without_changes(tg: TgHub) -> None:
    hub = tg.hub
    place, other = await make_place(hub), await make_place(hub)
    await owner_at(hub, other, "1", "1", "101")
    member, _ = await _telegram_staff(tg, place.community_id)
    await tg.say(member, "/tag 1-1-101", chat_id=STAFF_CHAT)
    assert "用法" in _last_reply(tg)
    await tg.say(member, f"/tag {other.community} 1-1-101 +有狗", chat_id=STAFF_CHAT)
    assert "无权" in _last_reply(tg)
    await tg.say(member, "/tag 1-1-101 +有狗", chat_id=STAFF_CHAT)
    assert "没有找到" in _last_reply(tg)
    reply = await say(hub, place.admin_openid, f"/tag {other.community} 1-1-101 +有,狗")
    assert "不能用" in reply
    await tg.say(unique_int(), f"/tag {other.community} 1-1-101 +有狗", chat_id=STAFF_CHAT)
    assert "仅限物业工作人员" in _last_reply(tg)
    preview = await say(hub, place.admin_openid, f"/broadcast 小区={other.community} 标签=有狗 | 你好")
    assert "没有匹配的业主" in preview


async def test_two_staff_tagging_a_new_household_at_once_file_one_tag(tg: TgHub) -> None:
    import asyncio

    from sqlalchemy import func, select

    from storage.households import Household

    hub = tg.hub
    place = await make_place(hub)
    await owner_at(hub, place, "7", "1", "701")
    replies = await asyncio.gather(
        say(hub, place.staff_openid, "/tag 7-1-701 +楼长"),
        say(hub, place.admin_openid, f"/tag {place.community} 7-1-701 +楼长"),
    )
    assert sorted("已加标签 楼长" in r for r in replies) == [False, True], replies
    assert any("未变 楼长" in r for r in replies)
    async with hub.runtime.sessions() as session:
        households = int(await session.scalar(select(func.count()).select_from(Household).where(
            Household.community_id == place.community_id)) or 0)
        tags = int(await session.scalar(select(func.count()).select_from(HouseholdTag).join(
            Household, Household.id == HouseholdTag.household_id).where(Household.community_id == place.community_id)) or 0)
    assert (households, tags) == (1, 1)


async def test_admins_switch_lines_from_the_staff_chat_and_staff_may_only_look(tg: TgHub) -> None:
    from storage.staff import StaffRole

    hub = tg.hub
    place = await make_place(hub)
    member, _ = await _telegram_staff(tg, place.community_id)
    admin = unique_int()
    async with unit_of_work(hub.runtime.sessions) as session:
        await staff.create(session=session, name="经理", telegram_id=admin, role=StaffRole.ADMIN)
    owner = await owner_at(hub, place, "2", "1", "201")

    await tg.say(member, f"/services {place.community} 开通 养老管家", chat_id=STAFF_CHAT)
    assert "需要管理员权限" in _last_reply(tg)
    await tg.say(admin, f"/services {place.community} 开通 养老管家", chat_id=STAFF_CHAT)
    reply = _last_reply(tg)
    assert "已开通养老管家" in reply and "养老管家（全部）" in reply
    await tg.say(admin, f"/services {place.community} 关闭 体检", chat_id=STAFF_CHAT)
    assert "已关闭：体检" in _last_reply(tg)
    await tg.say(admin, f"/services {place.community} 开通 修飞机", chat_id=STAFF_CHAT)
    assert "没有名为「修飞机」" in _last_reply(tg)
    await tg.say(admin, f"/services {place.community} 开通 补课 明天", chat_id=STAFF_CHAT)
    assert "日期写法" in _last_reply(tg)

    assert "还没有开通钟点工" in await say(hub, owner, "明天上午想请个阿姨打扫卫生")
    await tg.say(member, f"/services {place.community}", chat_id=STAFF_CHAT)
    shown = _last_reply(tg)
    assert "开通：养老管家：" in shown and "钟点工 1" in shown
