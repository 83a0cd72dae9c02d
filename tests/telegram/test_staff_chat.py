"""The staff chat: alerts (with photos), and replies to a handoff alert that reach the owner."""

from __future__ import annotations

from pathlib import Path

from bot.app import RELAY
from bot.devtools.fake_telegram import bot_message_json
from storage import outbox
from storage.base import utcnow
from storage.db import unit_of_work
from storage.events import StaffAlert
from storage.owners import Owner
from tests.telegram.conftest import STAFF_CHAT, TgHub, make_world, sends_mentioning, wechat_to

CS = "/cgi-bin/message/custom/send"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000100ffff03000006000557bfab0000000049454e44ae426082")


async def test_staff_notify_with_a_photo(tg_hub: TgHub, tmp_path: Path) -> None:
    photo = tmp_path / "corridor.png"
    photo.write_bytes(PNG)
    async with unit_of_work(tg_hub.hub.runtime.sessions) as session:
        outbox.emit(session, StaffAlert(text="3号楼走廊灯不亮", complaint_id=7, photo_path=str(photo)))
        outbox.emit(session, StaffAlert(text="图片丢了的报修", photo_path=str(tmp_path / "missing.png")))
    await tg_hub.hub.client.app[RELAY].drain()
    (sent,) = [c for c in tg_hub.fake.calls_to("sendPhoto", chat_id=STAFF_CHAT) if c.text == "3号楼走廊灯不亮"]
    assert sent.files == {"photo": len(PNG)} and sent.text == "3号楼走廊灯不亮"
    (fallback,) = sends_mentioning(tg_hub.fake, STAFF_CHAT, "图片丢了的报修")
    assert "图片文件已不存在" in fallback.text


async def test_staff_reply_to_a_handoff_reaches_the_owner_and_closes_it(tg_hub: TgHub) -> None:
    from dialogs import handoff, texts

    world = await make_world(tg_hub.hub)
    async with unit_of_work(tg_hub.hub.runtime.sessions) as session:
        owner = await session.get(Owner, world.owner_id)
        assert owner is not None
        owner.last_message_at = utcnow()  # inside WeChat's 48-hour window
        opened = await handoff.open_handoff(session=session, owner=owner, reason="human_agent")
        handoff_id = opened.id
    await tg_hub.hub.client.app[RELAY].drain()
    (alert,) = [c for c in tg_hub.fake.sent_to(STAFF_CHAT) if "/close" in c.text and f"#{world.owner_id}" in c.text]
    alert_id = next(k[1] for k, m in tg_hub.fake.messages.items() if k[0] == STAFF_CHAT and m["text"] == alert.text)
    alert_msg = bot_message_json(chat_id=STAFF_CHAT, message_id=alert_id, text=alert.text)
    before = len(tg_hub.fake.sent_to(STAFF_CHAT))
    staff_user = world.staff_telegram_id

    # Not a reply, or a reply to something else: left alone (for staff commands).
    await tg_hub.say(staff_user, "大家好", chat_id=STAFF_CHAT)
    await tg_hub.say(staff_user, "收到", chat_id=STAFF_CHAT, reply_to=bot_message_json(chat_id=STAFF_CHAT, message_id=99))
    assert len(tg_hub.fake.sent_to(STAFF_CHAT)) == before

    await tg_hub.say(staff_user, "您好，我是客服小李，师傅下午两点上门。", chat_id=STAFF_CHAT, reply_to=alert_msg)
    # Delivered within the request.
    assert wechat_to(tg_hub.hub.fake_wechat, world.owner_openid) == ["您好，我是客服小李，师傅下午两点上门。"]
    assert tg_hub.fake.sent_to(STAFF_CHAT)[-1].text == "已转发给业主。"

    await tg_hub.say(staff_user, "结束", chat_id=STAFF_CHAT, reply_to=alert_msg)
    assert wechat_to(tg_hub.hub.fake_wechat, world.owner_openid)[-1] == texts.HANDOFF_CLOSED
    assert tg_hub.fake.sent_to(STAFF_CHAT)[-1].text == "已结束人工服务。"

    # After closing, a further reply is refused with the domain's reason.
    await tg_hub.say(staff_user, "还在吗", chat_id=STAFF_CHAT, reply_to=alert_msg)
    assert tg_hub.fake.sent_to(STAFF_CHAT)[-1].text == texts.STAFF_HANDOFF_CLOSED
    assert len(wechat_to(tg_hub.hub.fake_wechat, world.owner_openid)) == 2
    assert handoff_id
