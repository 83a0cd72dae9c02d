"""PostgreSQL restarted while owners are confirming orders: the confirmations caught mid-commit
are rolled back whole — the order AND the dialog step — so the owner's next "1" places the order.

On the old code the dialog lived in Redis alone: the confirming turn had already cleared it when
the commit failed, so the owner's resend was no longer an answer and the order was lost.
Counted per owner: lost (no order) and duplicated (two orders, or a message handled twice).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import asyncpg
from sqlalchemy import func, select

from bot.devtools.fake_wechat import FakeWeChatAPI
from bot.devtools.wechat_sender import text_xml
from storage.messages import InboundMessageLog
from storage.orders import Order
from storage.outbox import OutboxEvent
from tests.conftest import REDIS_URL, Backend, make_settings, start_hub
from tests.dialogs.conftest import OwnerChat, bound_owner, owner_row
from tests.faults.services import PrivatePostgres

OWNERS = 4
CS = "/cgi-bin/message/custom/send"


async def test_postgres_restart_mid_order_loses_no_order_and_doubles_none(
    private_pg: PrivatePostgres, private_pg_url: str, fake_wechat: FakeWeChatAPI
) -> None:
    hub = await start_hub(make_settings(Backend("private-pg+redis", private_pg_url, REDIS_URL), fake_wechat), fake_wechat)
    statuses: list[int] = []

    def cs_texts(openid: str) -> list[str]:
        return [c.body["text"]["content"] for c in fake_wechat.calls_to(CS) if c.body.get("touser") == openid]
    msg_ids: list[str] = []

    async def say(me: OwnerChat, text: str) -> str:
        msg_id = int(uuid.uuid4().int % 2**62)
        msg_ids.append(f"msg:{me.openid}:{msg_id}")  # the dedupe key: sender + MsgId
        status, reply = await hub.post(text_xml(me.openid, text, msg_id=msg_id))
        statuses.append(status)
        return reply.get("Content", "")

    async def up_to_the_confirmation(me: OwnerChat) -> None:
        reply = await say(me, "明天上午想请个阿姨打扫卫生")
        for _ in range(4):  # answer the questions; the confirming turn hangs at its commit
            assert "确认" in reply, reply
            reply = await say(me, "1")
            if not reply:
                return
        raise AssertionError(f"the order went through despite the locked outbox: {reply}")

    try:
        chats = [(await bound_owner(hub))[0] for _ in range(OWNERS)]
        conn = await asyncpg.connect(private_pg_url.replace("postgresql+asyncpg://", "postgresql://"))
        await conn.execute("BEGIN; LOCK TABLE outbox IN SHARE ROW EXCLUSIVE MODE")  # commits that emit wait
        await asyncio.gather(*(up_to_the_confirmation(me) for me in chats))
        await asyncio.to_thread(private_pg.stop, "fast")  # the stuck commits die with their connections
        with contextlib.suppress(Exception):
            await conn.close()
        await asyncio.to_thread(private_pg.start)
        await asyncio.sleep(1)  # the late answers (系统繁忙) go out by customer-service message
        replies = [await say(me, "1") for me in chats]  # each owner tries again, as the apology asks
        for _ in range(100):  # on a loaded machine a reply may miss the 4 s mark and come by CS
            if all("下单成功" in r or any("下单成功" in t for t in cs_texts(me.openid)) for me, r in zip(chats, replies, strict=True)):
                break
            await asyncio.sleep(0.1)
    finally:
        await hub.client.close()

    assert all(status == 200 for status in statuses), statuses  # never a 500
    lost = duplicated = 0
    async with hub.runtime.sessions() as session:
        for me, reply in zip(chats, replies, strict=True):
            owner = await owner_row(hub, me.openid)
            orders = list(await session.scalars(select(Order).where(Order.owner_id == owner.id)))
            lost += not orders or ("下单成功" not in reply and not any("下单成功" in t for t in cs_texts(me.openid)))
            duplicated += max(0, len(orders) - 1)
            for order in orders:
                created = await session.scalar(select(func.count()).select_from(OutboxEvent).where(
                    OutboxEvent.kind == "order.created", OutboxEvent.payload["order_id"].as_integer() == order.id))
                duplicated += max(0, int(created or 0) - 1)
        for key in msg_ids:
            logged = await session.scalar(select(func.count()).select_from(InboundMessageLog)
                                          .where(InboundMessageLog.dedupe_key == key))
            duplicated += max(0, int(logged or 0) - 1)
    assert (lost, duplicated) == (0, 0), replies
