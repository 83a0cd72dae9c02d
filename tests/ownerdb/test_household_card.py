"""One owner database over the real WeChat path: a door-visit survey filed for a roster-only household
shows on its card, and reaches the owner who binds there later (card, segments, not asked again)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.surveys import SurveyResponse
from tests.broadcasts.kit import make_place, say
from tests.conftest import Hub
from tests.dialogs.conftest import chat
from tests.ownerdb.kit import add_roster, add_survey, close_survey, owner_at


@pytest.fixture
async def survey(hub: Hub) -> AsyncIterator[tuple[str, str]]:
    """A door-visit survey open for one test."""
    key, title = await add_survey(hub)
    yield key, title
    await close_survey(hub, key)


async def _bind(hub: Hub, community: str, where: str, phone: str) -> str:
    """Bind through the chat as a new follower; returns the openid."""
    me = chat(hub)
    reply = await me.say("我要绑定房子")
    number = next(line.split(".")[0] for line in reply.splitlines() if line.endswith(community))
    await me.say(number)
    assert "手机号" in await me.say(where)
    assert "绑定成功" in await me.say(phone)
    return me.openid


async def test_a_door_visit_survey_for_a_roster_only_household_appears_on_the_card_after_binding(
    hub: Hub, survey: tuple[str, str],
) -> None:
    place = await make_place(hub)
    key, title = survey
    await add_roster(hub, place, "3", "2", "502", "13700000502", "王奶奶")
    staff = place.staff_openid
    where = f"{place.community} 3-2-502"

    card = await say(hub, staff, f"/owner {where}")
    assert "王奶奶 13700000502｜花名册｜未关注微信" in card and "问卷：无" in card

    # Nobody in the household follows the account: the visit is filed against the household.
    reply = await say(hub, staff, f"/record_survey {key} 13700000502 入户 has_car=没有 has_elderly=有")
    assert reply.startswith(f"已登记【{title}】"), reply
    card = await say(hub, staff, f"/owner {where}")
    assert f"{title}｜入户" in card and "（登记到户）" in card
    assert "有老人（问卷）" in card and "有车" not in card
    assert "最近联系" in card and "（入户）" in card
    async with hub.runtime.sessions() as session:
        [response] = list(await session.scalars(select(SurveyResponse).where(
            SurveyResponse.recorded_by_staff_id == place.staff_id)))
    assert response.owner_id is None and response.household_id is not None and response.channel == "door_visit"

    # Before anyone binds, no owner is reached by those answers.
    preview = await say(hub, staff, f"/broadcast 小区={place.community} 问卷.{key}.has_elderly=有 | 重阳节敬老活动")
    assert "没有匹配的业主" in preview

    # The grandson follows the account and binds with his own number (not on the roster).
    grandson = await _bind(hub, place.community, "3号楼2单元502", "13700000502")
    card = await say(hub, staff, "/owner 13700000502")
    assert "微信已绑定（已核实）" in card and f"{title}｜入户" in card and "有老人（问卷）" in card

    # The household's answers and tags now reach him in segments…
    preview = await say(hub, staff, f"/broadcast 小区={place.community} 问卷.{key}.has_elderly=有 | 重阳节敬老活动")
    assert "将发送 1 人" in preview, preview
    await say(hub, staff, "/cancel_broadcast")
    preview = await say(hub, staff, f"/broadcast 小区={place.community} 标签=有老人 | 重阳节敬老活动")
    assert "将发送 1 人" in preview, preview
    # …and he is not asked the same survey again in chat.
    reply = await say(hub, grandson, "我要做问卷")
    assert title not in reply
    await say(hub, grandson, "取消")


async def test_an_unverified_claim_inherits_nothing_from_the_household(hub: Hub, survey: tuple[str, str]) -> None:
    place = await make_place(hub)
    key, _ = survey
    await add_roster(hub, place, "4", "1", "101", "13700000101", "李先生")
    staff = place.staff_openid
    assert (await say(hub, staff, f"/record_survey {key} {place.community}/4-1-101 电话 has_car=有 has_elderly=没有")
            ).startswith("已登记")
    await say(hub, staff, f"/tag {place.community} 4-1-101 +卧底业主")
    await owner_at(hub, place, "4", "1", "101", status="pending", phone="13911112222")
    card = await say(hub, staff, f"/owner {place.community} 4-1-101")
    assert "微信绑定待核实" in card and "卧底业主（员工）" in card
    for segment in (f"问卷.{key}.has_car=有", "标签=卧底业主", "标签=有车"):
        preview = await say(hub, staff, f"/broadcast 小区={place.community} {segment} | 你好")
        assert "没有匹配的业主" in preview, (segment, preview)


async def test_lookups_that_do_not_resolve_get_a_clear_answer(hub: Hub) -> None:
    place, other = await make_place(hub), await make_place(hub)
    await add_roster(hub, other, "9", "9", "909", "13700000909", "赵女士")
    await add_roster(hub, place, "9", "9", "909", "13700009090", "钱先生")
    staff = place.staff_openid
    assert "没有找到" in await say(hub, staff, "/owner 8-8-808")
    assert "用法" in await say(hub, staff, "/owner 随便写写")
    assert "没有名为" in await say(hub, staff, "/owner 火星 1-1-101")
    assert "无权" in await say(hub, staff, f"/owner {other.community} 9-9-909")
    assert "没有找到" in await say(hub, staff, "/owner 13700000909")  # another community's number
    # In scope it resolves by address alone; the admin sees both communities and is asked which.
    assert "钱先生" in await say(hub, staff, "/owner 9-9-909")
    reply = await say(hub, place.admin_openid, "/owner 9-9-909")
    assert "对应 2 户" in reply and place.community in reply and other.community in reply


async def test_the_survey_export_gives_a_household_answer_its_address(
    hub: Hub, survey: tuple[str, str], tmp_path: Path,
) -> None:
    import csv

    from tests.ownerdb.kit import abutler

    place = await make_place(hub)
    key, _ = survey
    await add_roster(hub, place, "5", "3", "303", "13700000303", "周大爷")
    assert (await say(hub, place.staff_openid, f"/record_survey {key} 5-3-303 座谈会 has_car=有 has_elderly=有")
            ).startswith("已登记")
    async with hub.runtime.sessions() as session:
        from storage.surveys import Survey

        survey_id = await session.scalar(select(Survey.id).where(Survey.key == key))
    done = await abutler(hub, "survey", "export", str(survey_id), "--format", "csv", "-o", str(tmp_path / "s.csv"))
    assert done.returncode == 0, done.stderr
    with (tmp_path / "s.csv").open(encoding="utf-8-sig") as fh:
        [row] = list(csv.DictReader(fh))
    assert (row["community"], row["building"], row["unit"], row["room"], row["channel"]) == (
        place.community, "5", "3", "303", "symposium")
    assert row["has_car"] == "有" and row["owner_id"] == ""
