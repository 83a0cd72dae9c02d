"""Degraded, but the same: while Redis is down a WeChat retry still gets the first reply (from
the message log), and a hand-off alert reaches the staff chat at once, exactly once."""

from __future__ import annotations

import asyncio
import secrets
import uuid

from bot.app import RELAY
from bot.devtools.fake_telegram import FakeTelegramAPI
from bot.devtools.fake_wechat import FakeWeChatAPI
from bot.devtools.wechat_sender import text_xml
from dialogs import texts
from tests.conftest import Backend
from tests.faults.services import PrivateRedis
from tests.telegram.conftest import STAFF_CHAT, fake_telegram, start_tg_hub, telegram_settings

__all__ = ["fake_telegram"]  # the fixture, shared with the Telegram tests


async def test_retries_and_handoff_alerts_during_a_redis_outage(
    postgres_url: str, fake_wechat: FakeWeChatAPI, fake_telegram: FakeTelegramAPI, private_redis: PrivateRedis
) -> None:
    settings = telegram_settings(Backend("pg+private-redis", postgres_url, private_redis.url), fake_wechat, fake_telegram)
    tg = await start_tg_hub(settings, fake_wechat, fake_telegram)
    hub = tg.hub
    try:
        await hub.client.app[RELAY].drain()
        private_redis.stop()

        # A WeChat retry (same MsgId) during the outage: the same answer, not an empty "success".
        openid = f"o_deg_{uuid.uuid4().hex[:8]}"
        xml = text_xml(openid, "你们有哪些服务", msg_id=secrets.randbits(62))
        first, again = await hub.post(xml), await hub.post(xml)
        assert first[0] == again[0] == 200
        assert first[1].get("Content") and again[1].get("Content") == first[1]["Content"]

        # A hand-off during the outage: the staff chat hears of it without waiting for a sweep.
        other = f"o_deg_{uuid.uuid4().hex[:8]}"
        before = len(fake_telegram.sent_to(STAFF_CHAT))
        status, reply = await hub.post(text_xml(other, "人工"))
        assert status == 200 and reply["Content"] == texts.HANDOFF_OPENED
        for _ in range(40):  # well under the 15 s sweep
            if len(fake_telegram.sent_to(STAFF_CHAT)) > before:
                break
            await asyncio.sleep(0.05)
        alerts = fake_telegram.sent_to(STAFF_CHAT)[before:]
        assert len(alerts) == 1, [a.text for a in alerts]
        for _ in range(2):  # the sweeps that follow send nothing twice
            await hub.client.app[RELAY].drain()
        assert len(fake_telegram.sent_to(STAFF_CHAT)) == before + 1
    finally:
        private_redis.start()
        await hub.client.close()
