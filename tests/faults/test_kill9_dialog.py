"""`kill -9` of a worker while it is in the middle of owners' messages: after a restart, WeChat's
retries are handled once each, so nothing is lost and nothing is duplicated.

The dead worker's dedupe claims are short-lived (reply deadline + 2 s), so the retries get through;
its per-owner conversation locks live until their TTL (6 s, no longer renewed), so a retry that
comes before is answered through the customer-service API once the lock frees rather than
passively. Either way: exactly one answer.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from bot.devtools.fake_wechat import FakeWeChatAPI
from bot.devtools.wechat_sender import WeChatSender, text_xml
from bot.wechat.protocol import dedupe_key, parse_xml
from storage.db import create_engine, create_session_factory
from storage.messages import InboundMessageLog
from tests.conftest import REDIS_URL, TEST_AES_KEY, TEST_APP_ID, TEST_TOKEN
from tests.faults.processes import start
from tests.faults.services import free_port

pytestmark = pytest.mark.slow
PARSE_SECONDS = 1.2  # a slow NLU keeps every message in flight long enough to be killed mid-way


@pytest.fixture
async def slow_rasa() -> AsyncIterator[str]:
    """A stand-in Rasa server that takes PARSE_SECONDS to answer, so handling is observably slow."""

    async def parse(request: web.Request) -> web.Response:
        body = await request.json()
        await asyncio.sleep(PARSE_SECONDS)
        ranking = [{"name": "greet", "confidence": 0.97}]
        return web.json_response({"text": body["text"], "intent": ranking[0], "intent_ranking": ranking, "entities": []})

    async def root(_request: web.Request) -> web.Response:
        return web.Response(text="Hello from Rasa: 3.6.21")

    app = web.Application()
    app.router.add_post("/model/parse", parse)
    app.router.add_get("/", root)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("")).rstrip("/")
    await server.close()


async def test_kill9_mid_message_then_retries_are_handled_exactly_once(
    postgres_url: str, slow_rasa: str, fake_wechat: FakeWeChatAPI, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        "BUTLER_DATABASE_URL": postgres_url, "BUTLER_REDIS_URL": REDIS_URL,
        "BUTLER_REDIS_PREFIX": f"test:{uuid.uuid4().hex}:", "BUTLER_PORT": str(port),
        "BUTLER_WECHAT_TOKEN": TEST_TOKEN, "BUTLER_WECHAT_AES_KEY": TEST_AES_KEY,
        "BUTLER_WECHAT_APP_ID": TEST_APP_ID, "BUTLER_NLU": "rasa", "BUTLER_RASA_URL": slow_rasa,
        "BUTLER_WECHAT_APP_SECRET": "s", "BUTLER_WECHAT_API_BASE": fake_wechat.base_url,  # type: ignore[attr-defined]
    }
    sender = WeChatSender(token=TEST_TOKEN, aes_key=TEST_AES_KEY, app_id=TEST_APP_ID)
    url = f"http://127.0.0.1:{port}/wechat"
    messages = [text_xml(f"o_kill_{uuid.uuid4().hex[:8]}", "你好", msg_id=secrets.randbits(62)) for _ in range(6)]

    async def deliver(http: aiohttp.ClientSession, xml: str) -> tuple[int, dict[str, str]]:
        query, body = sender.request(xml)  # each (re)try is signed afresh, as WeChat does
        try:
            async with http.post(f"{url}?{query}", data=body, timeout=aiohttp.ClientTimeout(total=10)) as resp:
                return resp.status, sender.open_reply(await resp.text(), query)
        except aiohttp.ClientError:
            return -1, {}

    first = await start(["serve", "--no-scheduler"], env, tmp_path / "serve1.log", health_port=port)
    try:
        async with aiohttp.ClientSession() as http:
            in_flight = [asyncio.create_task(deliver(http, xml)) for xml in messages]
            await asyncio.sleep(PARSE_SECONDS / 2)
            first.kill9()
            cut_off = await asyncio.gather(*in_flight)
    finally:
        await first.stop()
    assert all(status == -1 for status, _ in cut_off), cut_off  # all were killed mid-way

    openids = [xml.split("<FromUserName><![CDATA[")[1].split("]]>")[0] for xml in messages]

    def late_answers() -> dict[str, int]:
        sent = [c.body.get("touser") for c in fake_wechat.calls_to("/cgi-bin/message/custom/send")]
        return {o: sent.count(o) for o in openids if o in sent}

    second = await start(["serve", "--no-scheduler"], env, tmp_path / "serve2.log", health_port=port)
    try:
        async with aiohttp.ClientSession() as http:
            retried = await asyncio.gather(*(deliver(http, xml) for xml in messages))  # WeChat's retries
            again = await asyncio.gather(*(deliver(http, xml) for xml in messages))  # and once more
        # A passive reply to any retry of a message is the one answer the owner sees (WeChat shows the
        # reply to whichever try it is waiting on; every try of one message gets the same reply).
        passive = {o for o, (_, a), (_, b) in zip(openids, retried, again, strict=True)
                   if a.get("Content") or b.get("Content")}
        for _ in range(450):  # until the dead worker's owner locks expire and the late answers go out
            if len(passive | set(late_answers())) == len(openids):
                break
            await asyncio.sleep(0.1)
    finally:
        await second.stop()

    assert [s for s, _ in retried + again] == [200] * 2 * len(messages)  # never a 500
    assert passive | set(late_answers()) == set(openids)  # every owner answered: nothing lost
    assert not passive & set(late_answers()) and all(n == 1 for n in late_answers().values())  # once
    engine = create_engine(postgres_url)
    try:
        async with create_session_factory(engine)() as session:
            for xml in messages:
                key = dedupe_key(parse_xml(xml))  # sender + MsgId
                logged = await session.scalar(
                    select(func.count()).select_from(InboundMessageLog).where(InboundMessageLog.dedupe_key == key)
                )
                assert logged == 1, key  # handled once: nothing duplicated
    finally:
        await engine.dispose()
