"""Redis stopped and started while owners are chatting: answers keep coming, dedupe comes back."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from bot.devtools.fake_wechat import FakeWeChatAPI
from bot.devtools.wechat_sender import text_xml
from dialogs import texts
from storage.messages import InboundMessageLog
from tests.conftest import Backend, make_settings, start_hub
from tests.faults.services import PrivateRedis
from tests.faults.traffic import Traffic


async def test_owners_answered_through_a_redis_outage_and_dedupe_resumes(
    postgres_url: str, fake_wechat: FakeWeChatAPI, private_redis: PrivateRedis
) -> None:
    settings = make_settings(Backend("pg+private-redis", postgres_url, private_redis.url), fake_wechat)
    hub = await start_hub(settings, fake_wechat)
    try:
        traffic = Traffic(hub)
        traffic.start()
        await traffic.answered(traffic.owners)  # traffic flows before the outage
        private_redis.stop()
        down_from = len(traffic.results)
        await traffic.answered(2 * traffic.owners)  # and keeps flowing while Redis is down
        down_until = len(traffic.results)
        private_redis.start()
        await traffic.answered(traffic.owners)
        results = await traffic.stop()

        assert down_until > down_from, "no traffic went through while Redis was down"
        assert all(status == 200 for status, _ in results), {s for s, _ in results}
        # Every owner message got a passive answer, even the ones sent while Redis was down.
        assert all(text for _, text in results)
        # Degraded, not apologetic: dialogs run unlocked and stateless, so these are real answers.
        assert texts.BUSY not in {text for _, text in results}
        for _, text in results:
            hub.runtime.guard.check(text)

        # Dedupe works again: a WeChat retry of the same MsgId has its effect once, same reply.
        openid = f"o_fault_{uuid.uuid4().hex[:8]}"
        xml = text_xml(openid, "谢谢")
        first, second = await hub.post(xml), await hub.post(xml)
        assert first[0] == second[0] == 200
        assert first[1]["Content"] == second[1]["Content"]
        async with hub.runtime.sessions() as session:
            logged = await session.scalar(
                select(func.count()).select_from(InboundMessageLog).where(InboundMessageLog.user_id == openid)
            )
        assert logged == 1
    finally:
        await hub.client.close()
