"""Operations commands and survey-driven targeting, over WeChat: /orders /assign /merchant /record_survey /survey_invite."""

from __future__ import annotations

from sqlalchemy import select

from dialogs.survey_spec import parse_spec, spec_to_json
from storage import catalog, merchants, orders, surveys
from storage.communities import Community
from storage.db import unit_of_work
from storage.merchants import Merchant
from storage.owners import Owner
from storage.surveys import SurveyResponse
from tests.broadcasts.kit import (
    add_owner,
    cs_texts_to,
    latest_broadcast_id,
    make_place,
    say,
    uid,
    wait_broadcast,
)
from tests.conftest import Hub

SURVEY = {
    "title": "车主调查", "intro": "两个问题。", "allow_repeat": False,
    "questions": [
        {"key": "has_car", "type": "yesno", "text": "您家有车吗？", "labels": ["有", "没有"]},
        {"key": "wants", "type": "multi", "text": "想要哪些服务？", "options": ["洗车", "保养", "年审"], "required": False},
    ],
    "tags": [{"when": {"has_car": "有"}, "tag": "有车"}],
}


async def _survey(hub: Hub) -> str:
    key = f"cars_{uid()}"
    spec = parse_spec(SURVEY | {"key": key})
    async with unit_of_work(hub.runtime.sessions) as session:
        await surveys.upsert_survey(session=session, key=key, title=spec.title, definition=spec_to_json(spec), allow_repeat=False)
    return key


async def _owner_id(hub: Hub, openid: str) -> int:
    async with hub.runtime.sessions() as session:
        found = await session.scalar(select(Owner.id).where(Owner.openid == openid))
        assert found is not None
        return int(found)


async def test_recorded_survey_answers_drive_targeting_and_invites_skip_finished_owners(hub: Hub) -> None:
    place = await make_place(hub)
    key = await _survey(hub)
    car = await add_owner(hub, place, "car", window_open=True)
    nocar = await add_owner(hub, place, "nocar", window_open=True)
    fresh = await add_owner(hub, place, "fresh", window_open=True)

    done = await say(hub, place.staff_openid, f"/record_survey {key} {await _owner_id(hub, car)} 入户 has_car=有 wants=洗车,年审")
    assert "已登记【车主调查】" in done and "渠道 入户" in done
    await say(hub, place.staff_openid, f"/record_survey {key} {await _owner_id(hub, nocar)} 电话 has_car=没有")
    assert "未登记" in await say(hub, place.staff_openid, f"/record_survey {key} {await _owner_id(hub, fresh)} 入户 has_car=也许")
    async with hub.runtime.sessions() as session:
        channels = sorted(r.channel for r in await session.scalars(
            select(SurveyResponse).join(surveys.Survey).where(surveys.Survey.key == key)))
    assert channels == ["door_visit", "phone_visit"]

    # Target by a specific answer, and by the tag the answer set.
    preview = await say(hub, place.staff_openid, f"/broadcast 小区={place.community} 问卷.{key}.wants=洗车 | 洗车八折")
    assert "将发送 1 人" in preview, preview
    assert "将发送 1 人" in await say(hub, place.staff_openid, f"/broadcast 小区={place.community} 标签=有车 | 洗车八折")
    assert "没有题目" in await say(hub, place.staff_openid, f"/broadcast 问卷.{key}.color=红 | x")

    # The invitation skips owners who already finished it.
    invite = await say(hub, place.staff_openid, f"/survey_invite {key} 小区={place.community}")
    assert "将发送 1 人" in invite and "车主调查" in invite, invite
    await say(hub, place.staff_openid, "确认")
    await wait_broadcast(hub, await latest_broadcast_id(hub, place.staff_id))
    [text] = cs_texts_to(hub, fresh)
    assert "【车主调查】" in text and "回复“问卷”" in text
    assert cs_texts_to(hub, car) == [] and cs_texts_to(hub, nocar) == []
    # The owner answers the invitation by chatting (the survey dialog takes it from here).
    # Other tests' surveys may still be open in the shared database: then the owner picks this one.
    reply = await say(hub, fresh, "问卷")
    if "请选择" in reply:
        [pick] = [line.split(".", 1)[0] for line in reply.splitlines() if "车主调查" in line]
        reply = await say(hub, fresh, pick)
    assert "有车" in reply, reply


async def test_orders_assign_and_merchant_admin(hub: Hub) -> None:
    place = await make_place(hub)
    owner = await add_owner(hub, place, "o", window_open=True)
    async with unit_of_work(hub.runtime.sessions) as session:
        svc = await catalog.get_service_by_name(session=session, name="钟点工")
        row = await session.scalar(select(Owner).where(Owner.openid == owner))
        order = await orders.create(session=session, owner=row, service=svc, scheduled_at=None,  # type: ignore[arg-type]
                                    address="1号楼1单元101室", contact_phone="13800000000")
        # Scoped to this community: an unscoped merchant would serve (and be suggested for) every test's orders.
        community = await session.get(Community, place.community_id)
        merchant = await merchants.create(session=session, name=f"张师傅{uid()}", telegram_id=int(uid(), 16),
                                          services=[svc], communities=[community])  # type: ignore[list-item]
        code, merchant_id = order.code, merchant.id
    listing = await say(hub, place.staff_openid, "/orders")
    assert code in listing and "等待商家接单" in listing
    assert code not in await say(hub, place.staff_openid, "/orders 已完成")
    other = await make_place(hub)
    assert code not in await say(hub, other.staff_openid, "/orders")  # out of scope
    assert "无权" in await say(hub, other.staff_openid, f"/assign {code} {merchant_id}")
    assigned = await say(hub, place.staff_openid, f"/assign {code} {merchant_id}")
    assert assigned.startswith("✅") and code in assigned

    assert "管理员" in await say(hub, place.staff_openid, f"/merchant suspend {merchant_id} 多次迟到")
    status = await say(hub, place.staff_openid, f"/merchant status {merchant_id}")
    assert "正常" in status and "信用等级 3" in status
    assert "已暂停" in await say(hub, place.admin_openid, f"/merchant suspend {merchant_id} 多次迟到")
    async with hub.runtime.sessions() as session:
        assert (await session.get(Merchant, merchant_id)).status == "suspended"  # type: ignore[union-attr]
    assert "已恢复" in await say(hub, place.admin_openid, f"/merchant reinstate {merchant_id}")
    assert "用法" in await say(hub, place.admin_openid, "/merchant fire 1")


async def test_opting_out_and_back_in_is_honoured_by_broadcasts(hub: Hub) -> None:
    place = await make_place(hub)
    owner = await add_owner(hub, place, "o", window_open=True)
    await say(hub, owner, "以后不要再给我推送广告了")
    reply = await say(hub, owner, "是")  # an opt-out is confirmed first
    async with hub.runtime.sessions() as session:
        opted = await session.scalar(select(Owner.push_opt_out).where(Owner.openid == owner))
    assert opted, reply
    assert "已退订推送 1" in await say(hub, place.staff_openid, f"/broadcast 小区={place.community} | 新品上架")
    await say(hub, place.staff_openid, "取消")
    await say(hub, owner, "恢复推送")
    await say(hub, owner, "是")
    assert "将发送 1 人" in await say(hub, place.staff_openid, f"/broadcast 小区={place.community} | 新品上架")
