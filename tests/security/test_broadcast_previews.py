"""Attack 8 (previews): `30 分钟内有效` was not enforced (a 3-day-old preview confirmed), and a typed
确认 confirmed an older draft with different text, not the one just shown. Also: a preview is
confirmed only by the staff member it was shown to, and a notice (通知, which skips opt-outs and
the daily cap) needs the scope and a recorded reason.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from storage.base import utcnow
from storage.broadcasts import Broadcast
from storage.db import unit_of_work
from tests.broadcasts.kit import (
    add_owner,
    cs_texts_to,
    deliveries,
    latest_broadcast_id,
    make_place,
    say,
    wait_broadcast,
)
from tests.conftest import Hub


async def _status(hub: Hub, broadcast_id: int) -> Broadcast:
    async with hub.runtime.sessions() as session:
        row = await session.get(Broadcast, broadcast_id)
        assert row is not None
        return row


async def _age(hub: Hub, broadcast_id: int, by: timedelta) -> None:
    async with unit_of_work(hub.runtime.sessions) as session:
        await session.execute(update(Broadcast).where(Broadcast.id == broadcast_id).values(created_at=utcnow() - by))


async def test_a_preview_older_than_30_minutes_cannot_be_confirmed(hub: Hub) -> None:
    place = await make_place(hub)
    owner = await add_owner(hub, place, "a", window_open=True)
    assert "广播预览" in await say(hub, place.staff_openid, f"/broadcast 小区={place.community} | 三天前的预览")
    bid = await latest_broadcast_id(hub, place.staff_id)
    await _age(hub, bid, timedelta(days=3))

    assert "已超过 30 分钟" in await say(hub, place.staff_openid, f"/confirm {bid}")
    assert "已超过 30 分钟" in await say(hub, place.staff_openid, "确认")
    row = await _status(hub, bid)
    assert row.status == "cancelled" and row.confirmed_at is None
    assert await deliveries(hub, bid) == {} and cs_texts_to(hub, owner) == []

    # 31 minutes is already too late; 29 is not.
    await say(hub, place.staff_openid, f"/broadcast 小区={place.community} | 半小时的预览")
    late = await latest_broadcast_id(hub, place.staff_id)
    await _age(hub, late, timedelta(minutes=31))
    assert "已超过 30 分钟" in await say(hub, place.staff_openid, "确认")
    await say(hub, place.staff_openid, f"/broadcast 小区={place.community} | 还在有效期")
    fresh = await latest_broadcast_id(hub, place.staff_id)
    await _age(hub, fresh, timedelta(minutes=29))
    assert "已开始发送" in await say(hub, place.staff_openid, "确认")
    await wait_broadcast(hub, fresh)
    assert cs_texts_to(hub, owner) == ["还在有效期"]


async def test_a_typed_confirm_never_confirms_an_older_draft(hub: Hub) -> None:
    place = await make_place(hub)
    owner = await add_owner(hub, place, "a", window_open=True)
    await say(hub, place.staff_openid, f"/broadcast 小区={place.community} | 旧的内容：周六团购")
    older = await latest_broadcast_id(hub, place.staff_id)
    # The next preview is refused (no owner matches): the staff member saw no preview at all.
    refused = await say(hub, place.staff_openid, f"/broadcast 小区={place.community} 楼栋=99 | 新的内容")
    assert "没有匹配的业主" in refused
    answer = await say(hub, place.staff_openid, "确认")
    assert "已开始发送" not in answer and "取代" in answer
    assert (await _status(hub, older)).status == "cancelled"
    assert await deliveries(hub, older) == {} and cs_texts_to(hub, owner) == []


async def test_only_the_staff_member_shown_a_preview_can_confirm_it(hub: Hub) -> None:
    place = await make_place(hub)
    await add_owner(hub, place, "a", window_open=True)
    await say(hub, place.staff_openid, f"/broadcast 小区={place.community} | 别人的预览")
    bid = await latest_broadcast_id(hub, place.staff_id)
    answer = await say(hub, place.admin_openid, f"/confirm {bid}")
    assert "没有待确认的广播" in answer
    assert (await _status(hub, bid)).status == "draft"


async def test_scoped_staff_need_their_communities_and_a_reason_for_a_notice(hub: Hub) -> None:
    place = await make_place(hub)
    await add_owner(hub, place, "a", window_open=True)
    no_scope = await say(hub, place.staff_openid, "/broadcast 类型=通知 | 今晚团购（其实是营销）")
    assert "小区=" in no_scope and "广播预览" not in no_scope
    no_reason = await say(hub, place.staff_openid, f"/broadcast 小区={place.community} 类型=通知 | 今晚团购")
    assert "原因" in no_reason and "广播预览" not in no_reason

    preview = await say(hub, place.staff_openid, f"/broadcast 小区={place.community} 类型=通知 原因=停水 | 明早停水")
    assert "（通知）" in preview and "通知原因：停水" in preview
    bid = await latest_broadcast_id(hub, place.staff_id)
    assert (await _status(hub, bid)).notice_reason == "停水"

    # An admin may choose 通知 without naming communities; what is recorded says it was an admin.
    await say(hub, place.admin_openid, f"/broadcast 小区={place.community} 类型=通知 | 燃气检修")
    async with hub.runtime.sessions() as session:
        from sqlalchemy import select

        row = await session.scalar(select(Broadcast).where(Broadcast.text == "燃气检修").order_by(Broadcast.id.desc()))
        assert row is not None and row.notice_reason.startswith("管理员")
