"""Staff over WeCom: a hand-off alert reaches them in the app, their reply reaches the owner (issue 17)."""

from __future__ import annotations

import uuid

from bot.app import RELAY
from storage import staff
from storage.base import utcnow
from storage.db import unit_of_work
from storage.owners import Owner
from tests.telegram.conftest import make_world, wechat_to
from tests.wecom.conftest import WcHub


async def test_a_handoff_round_trip_over_wecom(wc_hub: WcHub) -> None:
    from dialogs import handoff, texts

    hub, fake = wc_hub.hub, wc_hub.fake
    world = await make_world(hub)
    userid, outsider = f"kefu{uuid.uuid4().hex[:8]}", f"other{uuid.uuid4().hex[:8]}"
    async with unit_of_work(hub.runtime.sessions) as session:
        member = await session.get(staff.Staff, world.staff_id)
        assert member is not None
        member.wecom_userid = userid
        await staff.create(session=session, name="别的小区客服", wecom_userid=outsider)  # no communities: out of scope
        owner = await session.get(Owner, world.owner_id)
        assert owner is not None
        owner.last_message_at = utcnow()  # inside WeChat's 48-hour window
        await handoff.open_handoff(session=session, owner=owner, reason="human_agent")
    await hub.client.app[RELAY].drain()

    (alert,) = [c for c in fake.sent_to(userid) if f"#{world.owner_id}" in c.text]
    assert "直接回复本应用即答复业主" in alert.text
    # Staff outside the owner's community may be alerted (the event names none) but cannot answer.
    if fake.sent_to(outsider):
        assert await wc_hub.say(outsider, "我来回复") == 200
        assert fake.sent_to(outsider)[-1].text == texts.STAFF_OUT_OF_SCOPE

    assert await wc_hub.say(userid, "您好，我是客服小李，师傅下午两点上门。") == 200
    assert wechat_to(hub.fake_wechat, world.owner_openid) == ["您好，我是客服小李，师傅下午两点上门。"]
    assert fake.sent_to(userid)[-1].text == "已转发给业主。"
    assert await wc_hub.say(userid, "本小区零物业费") == 200  # the guard answers staff, not the owner
    assert "未转发" in fake.sent_to(userid)[-1].text
    assert await wc_hub.say(userid, "结束") == 200
    assert wechat_to(hub.fake_wechat, world.owner_openid)[-1] == texts.HANDOFF_CLOSED
    assert fake.sent_to(userid)[-1].text == "已结束人工服务。"
    # With no hand-off pending, a text is not relayed anywhere.
    assert await wc_hub.say(userid, "还在吗") == 200
    assert len(wechat_to(hub.fake_wechat, world.owner_openid)) == 2
