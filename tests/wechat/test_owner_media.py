"""Photos, links, voice and locations from owners are used, never parsed as text nor given the menu."""

from __future__ import annotations

import time
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.telegram import cards
from dialogs import texts
from storage.handoffs import Handoff
from storage.orders import Order
from storage.workorders import WorkOrder
from tests.conftest import Hub
from tests.dialogs.conftest import OwnerChat, bound_owner, chat, events, make_community, owner_row
from tests.wechat.conftest import xml_of

ADDRESS = "浙江省杭州市西湖区翠苑小区3号楼"


def _msg(me: OwnerChat, msg_type: str, **fields: str) -> str:
    base = {"ToUserName": "gh_butler", "FromUserName": me.openid, "CreateTime": str(int(time.time())),
            "MsgType": msg_type}
    return xml_of(base | fields | {"MsgId": str(time.time_ns() % 10**15)})


async def _send(me: OwnerChat, msg_type: str, **fields: str) -> str:
    status, reply = await me.hub.post(_msg(me, msg_type, **fields))
    assert status == 200
    return reply.get("Content", "")


def _photo(n: int = 1) -> dict[str, str]:
    return {"PicUrl": f"http://mmbiz.qpic.cn/mmbiz_jpg/leak{n}/0", "MediaId": f"media{n}"}


async def _work_orders(hub: Hub, openid: str) -> list[WorkOrder]:
    owner = await owner_row(hub, openid)
    async with hub.runtime.sessions() as session:
        return list(await session.scalars(select(WorkOrder).where(WorkOrder.owner_id == owner.id)))


async def test_a_shared_location_opens_no_work_order_and_is_acknowledged(hub: Hub) -> None:
    me, _ = await bound_owner(hub)
    reply = await _send(me, "location", Location_X="30.2741", Location_Y="120.1551", Scale="15", Label=ADDRESS)
    assert reply == texts.LOCATION_NOTED.format(place=ADDRESS)
    assert await _work_orders(hub, me.openid) == []


async def test_an_image_during_binding_asks_the_pending_question_again(hub: Hub) -> None:
    community = await make_community(hub)
    me = chat(hub)
    question = await me.say("绑定")
    assert "小区" in question
    reply = await _send(me, "image", **_photo())
    assert texts.MEDIA_IN_FORM in reply and "家政管家" not in reply
    assert question.splitlines()[-1] in reply  # the same question, asked again
    # The next answer answers that question (not a menu the owner never saw).
    assert "楼" in await me.say(community)


async def test_voice_without_recognition_asks_to_type(hub: Hub) -> None:
    me = chat(hub)
    assert await _send(me, "voice", MediaId="m1", Format="amr") == texts.VOICE_NEEDS_TEXT


async def test_a_photo_while_ordering_is_attached_and_only_the_winner_sees_it(hub: Hub) -> None:
    me, _ = await bound_owner(hub)
    reply = await me.say("想请个阿姨打扫卫生")
    assert "哪天" in reply or "时间" in reply, reply
    attached = await _send(me, "image", **_photo(7))
    assert "附在这张订单里" in attached and "我们继续刚才的" in attached
    reply = await me.say("明天上午")
    while "下单成功" not in reply:
        reply = await me.say("1")
    owner = await owner_row(hub, me.openid)
    async with hub.runtime.sessions() as session:
        order = await session.scalar(select(Order).where(Order.owner_id == owner.id))
    assert order is not None
    assert order.attachments == [{"kind": "image", "media_id": "media7", "url": _photo(7)["PicUrl"]}]
    tz = ZoneInfo("Asia/Shanghai")
    card = cards.card_text(order, tz)
    assert "1张照片" in card and _photo(7)["PicUrl"] not in card  # the group sees that there is one
    assert _photo(7)["PicUrl"] in cards.contact_text(order, tz)  # the merchant holding the job opens it


async def test_a_photo_after_a_report_goes_to_that_work_order_and_to_staff(hub: Hub) -> None:
    me, _ = await bound_owner(hub)
    assert "报修" in await me.say("楼道的灯坏了好几天了")  # said back first (issue 13: no action on a guess)
    reported = await me.say("是")
    [row] = await _work_orders(hub, me.openid)
    assert f"W{row.id}" in reported
    reply = await _send(me, "image", **_photo(3))
    assert f"W{row.id}" in reply
    [row] = await _work_orders(hub, me.openid)
    assert row.attachments == [{"kind": "image", "media_id": "media3", "url": _photo(3)["PicUrl"]}]
    notices = await events(hub, "staff.notify", photo_url=_photo(3)["PicUrl"])
    assert len(notices) == 1 and f"W{row.id}" in notices[0]["text"]


async def test_during_a_hand_off_staff_get_the_media_and_platform_events_change_nothing(hub: Hub) -> None:
    me, _ = await bound_owner(hub)
    assert await me.say("人工") == texts.HANDOFF_OPENED
    owner = await owner_row(hub, me.openid)
    async with hub.runtime.sessions() as session:
        handoff = await session.scalar(select(Handoff).where(Handoff.owner_id == owner.id))
    assert handoff is not None
    assert await _send(me, "image", **_photo(5)) == ""
    assert await _send(me, "link", Title="漏水照片", Description="", Url="https://example.com/leak") == ""
    forwarded = await events(hub, "staff.notify", handoff_id=handoff.id)
    assert any(p.get("photo_url") == _photo(5)["PicUrl"] for p in forwarded)
    assert any("漏水照片" in p["text"] and "https://example.com/leak" in p["text"] for p in forwarded)
    async with hub.runtime.sessions() as session:
        before = (await session.get(Handoff, handoff.id)).last_activity_at  # type: ignore[union-attr]
    count = len(forwarded)
    location_report = {"ToUserName": "gh_butler", "FromUserName": me.openid, "CreateTime": str(int(time.time()) + 1),
                       "MsgType": "event", "Event": "LOCATION", "Latitude": "30.27", "Longitude": "120.15",
                       "Precision": "65"}
    template_result = location_report | {"Event": "TEMPLATESENDJOBFINISH", "MsgID": "1", "Status": "success"}
    for body in (location_report, template_result):
        assert await hub.post(xml_of(body)) == (200, {})
    assert len(await events(hub, "staff.notify", handoff_id=handoff.id)) == count
    async with hub.runtime.sessions() as session:
        assert (await session.get(Handoff, handoff.id)).last_activity_at == before  # type: ignore[union-attr]
