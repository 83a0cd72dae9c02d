"""Attack 1: anyone in the staff chat spoke as the official account.

A non-registered Telegram user replied to a hand-off alert (the owner got their text) and closed
the hand-off with 结束; staff scoped to another community replied to an owner outside it. Now each
gets one polite refusal, nothing reaches the owner, and the hand-off records the staff id of the
member who did act.
"""

from __future__ import annotations

from sqlalchemy import select

from dialogs import texts
from storage.handoffs import Handoff, HandoffStatus
from tests.security.conftest import handoff_alert, new_community, register_staff
from tests.telegram.conftest import STAFF_CHAT, TgHub, make_world, unique_int, wechat_to


async def _handoff(tg: TgHub, owner_id: int) -> Handoff:
    async with tg.hub.runtime.sessions() as session:
        row = await session.scalar(select(Handoff).where(Handoff.owner_id == owner_id).order_by(Handoff.id.desc()))
        assert row is not None
        return row


def _replies(tg: TgHub, since: int) -> list[str]:
    return [c.text for c in tg.fake.sent_to(STAFF_CHAT)[since:]]


async def test_a_stranger_in_the_staff_chat_cannot_reply_to_an_owner_or_close_the_handoff(tg_hub: TgHub) -> None:
    world = await make_world(tg_hub.hub)
    alert = await handoff_alert(tg_hub, world.owner_id)
    stranger = unique_int()
    before = len(tg_hub.fake.sent_to(STAFF_CHAT))

    await tg_hub.say(stranger, "请把验证码发给我", chat_id=STAFF_CHAT, reply_to=alert)
    await tg_hub.say(stranger, "结束", chat_id=STAFF_CHAT, reply_to=alert)

    assert wechat_to(tg_hub.hub.fake_wechat, world.owner_openid) == []
    assert _replies(tg_hub, before) == [texts.STAFF_NOT_REGISTERED, texts.STAFF_NOT_REGISTERED]
    held = await _handoff(tg_hub, world.owner_id)
    assert held.status == HandoffStatus.OPEN and held.staff_id is None and held.staff_telegram_id is None


async def test_staff_who_left_cannot_reply(tg_hub: TgHub) -> None:
    world = await make_world(tg_hub.hub)
    former = await register_staff(tg_hub, community_ids=[world.community_id], active=False)
    alert = await handoff_alert(tg_hub, world.owner_id)
    await tg_hub.say(former, "您好，我来处理", chat_id=STAFF_CHAT, reply_to=alert)
    assert wechat_to(tg_hub.hub.fake_wechat, world.owner_openid) == []
    assert tg_hub.fake.sent_to(STAFF_CHAT)[-1].text == texts.STAFF_NOT_REGISTERED


async def test_staff_scoped_to_another_community_cannot_reply_or_close(tg_hub: TgHub) -> None:
    world = await make_world(tg_hub.hub)  # the owner lives in this world's community
    elsewhere = await new_community(tg_hub, "阳光花园")
    other_staff = await register_staff(tg_hub, community_ids=[elsewhere])
    alert = await handoff_alert(tg_hub, world.owner_id)

    await tg_hub.say(other_staff, "您好，请提供身份证号", chat_id=STAFF_CHAT, reply_to=alert)
    await tg_hub.say(other_staff, "/close", chat_id=STAFF_CHAT, reply_to=alert)
    assert wechat_to(tg_hub.hub.fake_wechat, world.owner_openid) == []
    assert tg_hub.fake.sent_to(STAFF_CHAT)[-1].text == texts.STAFF_OUT_OF_SCOPE
    assert (await _handoff(tg_hub, world.owner_id)).status == HandoffStatus.OPEN

    # The member scoped to the owner's community can, and the record names them by staff id.
    await tg_hub.say(world.staff_telegram_id, "您好，师傅下午两点上门。", chat_id=STAFF_CHAT, reply_to=alert)
    assert wechat_to(tg_hub.hub.fake_wechat, world.owner_openid) == ["您好，师傅下午两点上门。"]
    await tg_hub.say(world.staff_telegram_id, "结束", chat_id=STAFF_CHAT, reply_to=alert)
    held = await _handoff(tg_hub, world.owner_id)
    assert held.status == HandoffStatus.CLOSED and held.staff_id == world.staff_id
    assert held.staff_telegram_id is None  # the raw platform id is not what the record keeps


async def test_an_admin_may_answer_any_community(tg_hub: TgHub) -> None:
    world = await make_world(tg_hub.hub)
    admin = await register_staff(tg_hub, admin=True)
    alert = await handoff_alert(tg_hub, world.owner_id)
    await tg_hub.say(admin, "您好，我是物业服务中心的王经理。", chat_id=STAFF_CHAT, reply_to=alert)
    assert wechat_to(tg_hub.hub.fake_wechat, world.owner_openid) == ["您好，我是物业服务中心的王经理。"]


async def test_a_command_typed_as_a_reply_runs_as_a_command_and_never_reaches_the_owner(tg_hub: TgHub) -> None:
    world = await make_world(tg_hub.hub)
    alert = await handoff_alert(tg_hub, world.owner_id)
    await tg_hub.say(world.staff_telegram_id, "/orders", chat_id=STAFF_CHAT, reply_to=alert)
    assert wechat_to(tg_hub.hub.fake_wechat, world.owner_openid) == []
    assert "订单" in tg_hub.fake.sent_to(STAFF_CHAT)[-1].text
