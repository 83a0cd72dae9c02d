"""Staff commands in the WeCom app (issue 17): the shared registry, its authority checks, broadcast
previews with 确认 / 放弃 cards decided once, and the report as an image — against the fake WeCom API."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import update

from bot.app import SERVICES
from bot.devtools.fake_wecom import UPLOAD
from bot.wecom.staff_commands import NOT_STAFF, chunks
from storage import staff
from storage.broadcasts import Broadcast
from storage.db import unit_of_work
from tests.broadcasts.kit import (
    Place,
    add_owner,
    cs_texts_to,
    latest_broadcast_id,
    make_place,
    wait_broadcast,
)
from tests.wecom.conftest import WcHub


async def _on_wecom(wc: WcHub, staff_id: int) -> str:
    userid = f"kf{uuid.uuid4().hex[:10]}"
    async with unit_of_work(wc.hub.runtime.sessions) as session:
        await session.execute(update(staff.Staff).where(staff.Staff.id == staff_id).values(wecom_userid=userid))
    return userid


def _texts(wc: WcHub, userid: str) -> list[str]:
    return [c.text for c in wc.fake.sent_to(userid) if c.body.get("msgtype") == "text"]


async def test_only_a_staff_record_with_the_userid_gives_authority(wc_hub: WcHub) -> None:
    place = await make_place(wc_hub.hub)
    userid = await _on_wecom(wc_hub, place.staff_id)
    stranger = f"nobody{uuid.uuid4().hex[:8]}"

    assert await wc_hub.say(stranger, f"/services {place.community}") == 200
    assert _texts(wc_hub, stranger) == [NOT_STAFF]

    assert await wc_hub.say(userid, "/help") == 200
    assert "/broadcast — " in _texts(wc_hub, userid)[-1]
    assert await wc_hub.say(userid, f"/services {place.community}") == 200
    assert place.community in _texts(wc_hub, userid)[-1]
    # A scoped staff member is not an admin: the registry's role check holds on WeCom too.
    assert await wc_hub.say(userid, f"/services {place.community} 关闭 钟点工") == 200
    assert "需要管理员权限" in _texts(wc_hub, userid)[-1]
    async with wc_hub.hub.runtime.sessions() as session:
        member = await session.get(staff.Staff, place.staff_id)
        assert member is not None and member.last_channel == "wecom"  # where they last acted

    async with unit_of_work(wc_hub.hub.runtime.sessions) as session:  # someone who left
        await session.execute(update(staff.Staff).where(staff.Staff.id == place.staff_id).values(active=False))
    assert await wc_hub.say(userid, "/help") == 200
    assert _texts(wc_hub, userid)[-1] == NOT_STAFF


async def _preview(wc: WcHub, place: Place, userid: str) -> tuple[int, dict[str, str]]:
    assert await wc.say(userid, f"/broadcast 小区={place.community} | 周末亲子活动报名") == 200
    bid = await latest_broadcast_id(wc.hub, place.staff_id)
    assert f"广播预览 #{bid}" in _texts(wc, userid)[-1] and "将发送 1 人" in _texts(wc, userid)[-1]
    card = wc.fake.cards_to(userid)[-1]
    return bid, {b["text"]: b["key"] for b in card.buttons()}


async def test_confirm_and_discard_pressed_at_once_decide_once(wc_hub: WcHub) -> None:
    hub = wc_hub.hub
    place = await make_place(hub)
    owner = await add_owner(hub, place, "a", window_open=True)
    userid = await _on_wecom(wc_hub, place.staff_id)
    bid, buttons = await _preview(wc_hub, place, userid)
    assert buttons == {"确认": f"sc:/confirm {bid}", "放弃": f"sc:/discard {bid}"}

    stranger = f"nobody{uuid.uuid4().hex[:8]}"
    assert await wc_hub.press(stranger, buttons["确认"]) == 200  # not staff: nothing decided
    assert _texts(wc_hub, stranger) == [NOT_STAFF]
    async with hub.runtime.sessions() as session:
        row = await session.get(Broadcast, bid)
        assert row is not None and row.status == "draft"

    before = len(_texts(wc_hub, userid))
    statuses = await asyncio.gather(*(wc_hub.press(userid, buttons[word]) for word in ("确认", "放弃", "确认", "放弃")))
    assert statuses == [200] * 4
    # Exactly one answer per press. The sender's finish report may arrive among them; it is told
    # apart by how it starts, not by "已发送完毕" alone: a press that lost after the sending had
    # finished is told "（已发送完毕）" too, and filtering on the word hid that answer (a flake).
    texts = _texts(wc_hub, userid)[before:]
    answers = [t for t in texts if not t.startswith(f"广播 #{bid} 已发送完毕（")]
    assert len(texts) - len(answers) <= 1 and len(answers) == 4, texts
    won = [a for a in answers if a.startswith((f"广播 #{bid} 已开始发送", f"已放弃广播 #{bid}"))]
    assert len(won) == 1, answers
    lost = [a for a in answers if a not in won]
    row = await wait_broadcast(hub, bid)
    labels = {u.body["button"]["replace_name"] for u in wc_hub.fake.updates_for(userid)}
    if won[0].startswith("已放弃"):  # each loser is told what actually happened
        assert all(a.startswith(f"广播 #{bid} 已被放弃") for a in lost), answers
        assert row.confirmed_at is None and cs_texts_to(hub, owner) == [] and labels == {"已放弃"}
    else:
        assert all(a.startswith((f"广播 #{bid} 已经确认过了", f"未能放弃：广播 #{bid} 已经确认发送")) for a in lost), answers
        assert cs_texts_to(hub, owner) == ["周末亲子活动报名"] and labels == {"已确认"}


async def test_presses_after_the_sending_finished_are_told_so(wc_hub: WcHub) -> None:
    """The race above, made certain: the losing presses arrive once the broadcast is done."""
    hub = wc_hub.hub
    place = await make_place(hub)
    owner = await add_owner(hub, place, "a", window_open=True)
    userid = await _on_wecom(wc_hub, place.staff_id)
    bid, buttons = await _preview(wc_hub, place, userid)
    before = len(_texts(wc_hub, userid))
    assert await wc_hub.press(userid, buttons["确认"]) == 200
    row = await wait_broadcast(hub, bid)
    assert row.status == "done"
    await hub.client.app[SERVICES].relay.drain()  # the finish report, before the late presses
    assert await wc_hub.press(userid, buttons["确认"]) == 200
    assert await wc_hub.press(userid, buttons["放弃"]) == 200
    texts = _texts(wc_hub, userid)[before:]
    # Under load the finish report can be relayed before the press's own answer: either order.
    report = [t for t in texts[:2] if t.startswith(f"广播 #{bid} 已发送完毕（")]
    assert len(report) == 1 and [t for t in texts[:2] if t not in report] == [f"广播 #{bid} 已开始发送，完成后会告诉您结果。"]
    assert texts[2:] == [f"广播 #{bid} 已经确认过了（已发送完毕），不会重复发送。",
                         f"未能放弃：广播 #{bid} 已经确认发送（已发送完毕）。"]
    assert cs_texts_to(hub, owner) == ["周末亲子活动报名"]


async def test_two_confirm_presses_send_once(wc_hub: WcHub) -> None:
    hub = wc_hub.hub
    place = await make_place(hub)
    owner = await add_owner(hub, place, "a", window_open=True)
    userid = await _on_wecom(wc_hub, place.staff_id)
    bid, buttons = await _preview(wc_hub, place, userid)
    await asyncio.gather(wc_hub.press(userid, buttons["确认"]), wc_hub.press(userid, buttons["确认"]))
    await wait_broadcast(hub, bid)
    assert cs_texts_to(hub, owner) == ["周末亲子活动报名"]
    assert any("不会重复发送" in t for t in _texts(wc_hub, userid))
    await hub.client.app[SERVICES].relay.drain()


async def test_the_report_comes_as_an_image_then_its_text(wc_hub: WcHub) -> None:
    place = await make_place(wc_hub.hub)
    userid = await _on_wecom(wc_hub, place.staff_id)
    assert await wc_hub.say(userid, "/report") == 200
    sent = wc_hub.fake.sent_to(userid)
    assert [c.body["msgtype"] for c in sent] == ["image", "text"]
    (upload,) = [c for c in wc_hub.fake.calls_to(UPLOAD) if c.body["filename"].startswith("report-")]
    assert upload.body["size"] > 1000 and upload.params["type"] == "image"
    assert sent[0].body["image"]["media_id"].startswith("MEDIA-")


def test_long_answers_are_cut_into_messages_wecom_accepts() -> None:
    text = "\n".join(f"第{i}行：" + "订单" * 40 for i in range(30))
    pieces = chunks(text)
    assert len(pieces) > 1 and all(len(p.encode()) <= 2000 for p in pieces)
    assert "\n".join(pieces) == text
    assert chunks("一" * 1500) == ["一" * 666, "一" * 666, "一" * 168]
