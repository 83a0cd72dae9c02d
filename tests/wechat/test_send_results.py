"""WeChat's send results: recorded against the sends and delivery rows they belong to, never an owner speaking."""

from __future__ import annotations

import secrets
import time
from datetime import timedelta

from sqlalchemy import select, update

from bot.devtools.fake_wechat import FakeWeChatAPI
from storage import outbox, send_results
from storage.base import aware, utcnow
from storage.broadcasts import Broadcast, BroadcastStatus, Delivery, DeliveryStatus
from storage.db import unit_of_work
from storage.events import OwnerNotice
from storage.owners import Owner
from tests.conftest import Backend, Hub, make_settings, start_hub
from tests.dialogs.conftest import bound_owner, drain
from tests.wechat.conftest import xml_of


def _finish(sender: str, event: str, msgid: str, status: str, **counts: int) -> str:
    fields = {"ToUserName": "gh_butler", "FromUserName": sender, "CreateTime": str(int(time.time())),
              "MsgType": "event", "Event": event, "MsgID": msgid, "Status": status}
    return xml_of(fields | {k: str(v) for k, v in counts.items()})


async def _broadcast_rows(hub: Hub, owners: list[Owner], *, channel: str, msgid: str) -> list[int]:
    async with unit_of_work(hub.runtime.sessions) as session:
        broadcast = Broadcast(kind="notice", text="停水通知", segment={}, status=BroadcastStatus.DONE,
                              reply_channel="staff", reply_to="", lease_owner="", mass_batches=0, totals={})
        session.add(broadcast)
        await session.flush()
        rows = [Delivery(broadcast_id=broadcast.id, owner_id=o.id, openid=o.openid, channel=channel,
                         status=DeliveryStatus.SENT, wechat_msgid=msgid, marketing=False) for o in owners]
        session.add_all(rows)
        await session.flush()
        return [r.id for r in rows]


async def _owner(hub: Hub, openid: str) -> Owner:
    async with hub.runtime.sessions() as session:
        owner = await session.scalar(select(Owner).where(Owner.openid == openid))
        assert owner is not None
        return owner


async def test_user_block_fails_the_delivery_marks_the_owner_and_keeps_the_window_shut(hub: Hub) -> None:
    me, _ = await bound_owner(hub)
    three_days_ago = utcnow() - timedelta(days=3)
    async with unit_of_work(hub.runtime.sessions) as session:
        await session.execute(update(Owner).where(Owner.openid == me.openid).values(last_message_at=three_days_ago))
    owner = await _owner(hub, me.openid)
    msgid = str(secrets.randbits(40))
    [delivery_id] = await _broadcast_rows(hub, [owner], channel="template", msgid=msgid)

    status, reply = await hub.post(_finish(me.openid, "TEMPLATESENDJOBFINISH", msgid, "failed:user block"))
    assert (status, reply) == (200, {})  # quiet: the platform is not the owner speaking

    owner = await _owner(hub, me.openid)
    assert owner.blocked is True
    assert abs(aware(owner.last_message_at).timestamp() - three_days_ago.timestamp()) < 1  # type: ignore[arg-type]
    async with hub.runtime.sessions() as session:
        delivery = await session.get(Delivery, delivery_id)
        result = await send_results.get(session=session, msgid=msgid)
    assert delivery is not None and (delivery.status, delivery.reason) == (DeliveryStatus.FAILED, "failed:user block")
    assert result is not None and result.status == "failed:user block"

    # Nothing more goes to them …
    async with unit_of_work(hub.runtime.sessions) as session:
        outbox.emit(session, OwnerNotice(openid=me.openid, text="您的订单已完成。"))
    await drain(hub)
    assert [c for c in hub.fake_wechat.calls if c.body.get("touser") == me.openid] == []
    # … until they write again.
    assert await me.say("你好")
    assert (await _owner(hub, me.openid)).blocked is False


async def test_a_template_notice_is_recorded_and_its_result_matched_by_msgid(
    backend: Backend, fake_wechat: FakeWeChatAPI
) -> None:
    hub = await start_hub(make_settings(backend, fake_wechat, wechat_template_order="TPL-ORDER"), fake_wechat)
    try:
        me, _ = await bound_owner(hub)
        async with unit_of_work(hub.runtime.sessions) as session:
            outbox.emit(session, OwnerNotice(openid=me.openid, notice=True, title="订单已完成",
                        text="您预约的钟点工（订单 AB23）已完成。",
                        fields={"service": "钟点工", "code": "AB23", "status": "已完成", "worker": "王师傅"}))
        await drain(hub)
        [call] = fake_wechat.calls_to("/cgi-bin/message/template/send")
        msgid = str(fake_wechat.template_msgids[-1])
        async with hub.runtime.sessions() as session:
            sent = await send_results.get(session=session, msgid=msgid)
        assert sent is not None and (sent.openid, sent.status) == (me.openid, "sent")
        assert call.body["data"]["character_string2"]["value"] == "AB23"

        # Another owner's result for this msgid changes nothing; the recipient's does.
        await hub.post(_finish("o_someone_else", "TEMPLATESENDJOBFINISH", msgid, "failed:user block"))
        await hub.post(_finish(me.openid, "TEMPLATESENDJOBFINISH", msgid, "success"))
        async with hub.runtime.sessions() as session:
            done = await send_results.get(session=session, msgid=msgid)
            other = await session.scalar(select(Owner).where(Owner.openid == "o_someone_else"))
        assert done is not None and done.status == "success" and other is None
        assert (await _owner(hub, me.openid)).blocked is False
    finally:
        await hub.client.close()


async def test_mphelper_mass_send_result_updates_the_batch_and_creates_no_owner(hub: Hub) -> None:
    first, _ = await bound_owner(hub)
    second, _ = await bound_owner(hub)
    owners = [await _owner(hub, first.openid), await _owner(hub, second.openid)]
    msgid = str(secrets.randbits(40))
    ids = await _broadcast_rows(hub, owners, channel="mass", msgid=msgid)

    body = _finish("mphelper", "MASSSENDJOBFINISH", msgid, "err(30003)", TotalCount=2, FilterCount=2,
                   SentCount=0, ErrorCount=2)
    assert await hub.post(body) == (200, {})
    async with hub.runtime.sessions() as session:
        assert await session.scalar(select(Owner).where(Owner.openid == "mphelper")) is None
        rows = [await session.get(Delivery, i) for i in ids]
        result = await send_results.get(session=session, msgid=msgid)
    assert all(r is not None and (r.status, r.reason) == (DeliveryStatus.FAILED, "err(30003)") for r in rows)
    assert result is not None and (result.total_count, result.sent_count, result.error_count) == (2, 0, 2)
    assert not any(o.blocked for o in [await _owner(hub, first.openid), await _owner(hub, second.openid)])
