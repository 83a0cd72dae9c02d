"""Three workers sharing PostgreSQL and Redis (in one process, to stay cheap; bench/scale.py does
it with real processes on one port): a WeChat retry storm over all three has its effect once."""

from __future__ import annotations

import asyncio
import secrets
import uuid

from sqlalchemy import func, select

from bot.devtools.fake_wechat import FakeWeChatAPI
from bot.devtools.wechat_sender import text_xml
from bot.wechat.protocol import dedupe_key, parse_xml
from storage.messages import InboundMessageLog
from tests.conftest import REDIS_URL, Backend, make_settings, start_hub


async def test_a_message_retried_on_three_workers_is_handled_once(postgres_url: str, fake_wechat: FakeWeChatAPI) -> None:
    settings = make_settings(Backend("postgres_redis", postgres_url, REDIS_URL), fake_wechat)
    workers = [await start_hub(settings, fake_wechat) for _ in range(3)]  # same DB, same Redis prefix
    try:
        xml = text_xml(f"o_three_{uuid.uuid4().hex[:8]}", "你好", msg_id=secrets.randbits(62))
        results = await asyncio.gather(*(w.post(xml) for w in workers for _ in range(3)))
        assert {status for status, _ in results} == {200}
        assert len({reply.get("Content") for _, reply in results}) == 1  # the same reply to every copy
        key = dedupe_key(parse_xml(xml))  # sender + MsgId
        async with workers[0].runtime.sessions() as session:
            logged = await session.scalar(
                select(func.count()).select_from(InboundMessageLog).where(InboundMessageLog.dedupe_key == key)
            )
        assert logged == 1
    finally:
        for w in workers:
            await w.client.close()
