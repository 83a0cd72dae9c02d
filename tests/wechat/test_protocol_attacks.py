"""No way in through the protocol: replays, an empty token, odd numbers and short ciphertext."""

from __future__ import annotations

import logging
import time
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.accesslog import RedactingAccessLogger, redact_query
from bot.app import create_app
from bot.devtools.fake_wechat import FakeWeChatAPI
from bot.devtools.wechat_sender import WeChatSender, sign, text_xml
from storage.messages import InboundMessageLog
from storage.owners import Owner
from tests.conftest import TEST_AES_KEY, TEST_APP_ID, Backend, Hub, make_settings, start_hub
from tests.wechat.conftest import openid, xml_of


async def _post(hub: Hub, query: str, body: bytes) -> tuple[int, str]:
    resp = await hub.client.post(f"/wechat?{query}", data=body)
    return resp.status, await resp.text()


async def test_a_captured_safe_mode_url_replayed_with_a_plaintext_admin_body_is_refused(hub: Hub) -> None:
    admin = openid()
    sender = hub.sender()
    query, body = sender.request(text_xml(openid(), "你好"))
    assert (await _post(hub, query, body))[0] == 200
    # The attacker keeps timestamp, nonce and signature, drops encrypt_type, and claims to be an admin.
    params = dict(p.split("=", 1) for p in query.split("&"))
    replay = urlencode({k: params[k] for k in ("timestamp", "nonce", "signature")})
    forged = text_xml(admin, "/orders 全部").encode()
    assert (await _post(hub, replay, forged))[0] == 403
    async with hub.runtime.sessions() as session:
        logged = await session.scalar(select(func.count()).select_from(InboundMessageLog)
                                      .where(InboundMessageLog.user_id == admin))
    assert logged == 0


async def test_plaintext_mode_refuses_a_known_timestamp_and_nonce_with_another_body(
    backend: Backend, fake_wechat: FakeWeChatAPI
) -> None:
    hub = await start_hub(make_settings(backend, fake_wechat, wechat_aes_key=""), fake_wechat)
    try:
        sender = hub.sender(encrypted=False)
        owner = openid()
        query, body = sender.request(text_xml(owner, "你好"))
        first = await _post(hub, query, body)
        again = await _post(hub, query, body)  # WeChat's own retry: same URL, same body
        assert first[0] == again[0] == 200 and first[1] == again[1]
        status, _ = await _post(hub, query, text_xml(openid(), "/merchant suspend 1").encode())
        assert status == 403
    finally:
        await hub.client.close()


async def test_an_empty_token_refuses_every_request_and_says_so(
    backend: Backend, fake_wechat: FakeWeChatAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="bot.app")
    hub = await start_hub(make_settings(backend, fake_wechat, wechat_token="", wechat_aes_key=""), fake_wechat)
    try:
        assert any("BUTLER_WECHAT_TOKEN" in r.message for r in caplog.records if r.levelno == logging.ERROR)
        ts, nonce = str(int(time.time())), "n0"
        get = await hub.client.get("/wechat?" + urlencode({"signature": sign("", ts, nonce), "timestamp": ts,
                                                             "nonce": nonce, "echostr": "e"}))
        assert get.status == 403
        admin = openid()
        query, body = WeChatSender(token="").request(text_xml(admin, "/help"))
        assert (await _post(hub, query, body))[0] == 403
        health = await (await hub.client.get("/healthz")).json()
        assert "BUTLER_WECHAT_TOKEN" in health["wechat"]
    finally:
        await hub.client.close()


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_400_digit_timestamp_is_a_400(hub: Hub, method: str) -> None:
    ts, nonce = "9" * 400, "n1"
    query = urlencode({"signature": sign(hub.settings.wechat_token, ts, nonce), "timestamp": ts, "nonce": nonce,
                       "echostr": "e", "encrypt_type": "aes", "msg_signature": "x"})
    resp = await hub.client.request(method, f"/wechat?{query}", data=b"<xml/>")
    assert resp.status == 400


async def test_a_correctly_signed_one_block_encrypt_is_a_400(hub: Hub) -> None:
    ts, nonce = str(int(time.time())), "n2"
    encrypt = "QUJDREVGR0hJSktMTU5PUA=="  # 16 bytes: one AES block, too short for the length header
    query = urlencode({"timestamp": ts, "nonce": nonce, "encrypt_type": "aes",
                       "msg_signature": sign(hub.settings.wechat_token, ts, nonce, encrypt)})
    status, _ = await _post(hub, query, f"<xml><Encrypt>{encrypt}</Encrypt></xml>".encode())
    assert status == 400


async def test_the_same_msgid_from_two_owners_is_two_messages_each_answered_to_its_sender(hub: Hub) -> None:
    first, second = openid(), openid()
    replies = [await hub.post(text_xml(who, "你好", msg_id=424242424242)) for who in (first, second)]
    assert [status for status, _ in replies] == [200, 200]
    assert [reply["ToUserName"] for _, reply in replies] == [first, second]
    async with hub.runtime.sessions() as session:
        rows = await session.scalar(select(func.count()).select_from(InboundMessageLog)
                                    .where(InboundMessageLog.user_id.in_([first, second])))
    assert rows == 2


async def test_two_texts_without_msgid_in_one_second_are_two_messages_and_a_retry_is_one(hub: Hub) -> None:
    who, at = openid(), str(int(time.time()))
    base = {"ToUserName": "gh_butler", "FromUserName": who, "CreateTime": at, "MsgType": "text"}
    hello, services = xml_of(base | {"Content": "你好"}), xml_of(base | {"Content": "有什么服务"})
    for xml in (hello, hello, services):
        assert (await hub.post(xml))[0] == 200
    async with hub.runtime.sessions() as session:
        keys = list(await session.scalars(select(InboundMessageLog.dedupe_key).where(InboundMessageLog.user_id == who)))
    assert len(keys) == 2 and all(k.startswith("hash:") for k in keys)


async def test_a_create_time_a_year_ahead_does_not_hold_the_window_open(hub: Hub) -> None:
    who = openid()
    ahead = int(time.time()) + 365 * 86400
    xml = text_xml(who, "你好").replace(f"<CreateTime>{int(time.time())}</CreateTime>", f"<CreateTime>{ahead}</CreateTime>")
    assert str(ahead) in xml
    assert (await hub.post(xml))[0] == 200
    async with hub.runtime.sessions() as session:
        owner = await session.scalar(select(Owner).where(Owner.openid == who))
    assert owner is not None and owner.last_message_at is not None
    assert abs(owner.last_message_at.timestamp() - time.time()) < 60


async def test_the_access_log_redacts_signatures_nonces_and_openids(
    backend: Backend, fake_wechat: FakeWeChatAPI, caplog: pytest.LogCaptureFixture
) -> None:
    assert redact_query("/wechat?a=1&nonce=n&openid=o") == "/wechat?a=1&nonce=***&openid=***"
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    settings = make_settings(backend, fake_wechat)
    server = TestServer(create_app(settings), host="127.0.0.1")
    await server.start_server(access_log_class=RedactingAccessLogger)  # as `butler serve` runs it
    client = TestClient(server)
    await client.start_server()
    try:
        sender = WeChatSender(token=settings.wechat_token, aes_key=TEST_AES_KEY, app_id=TEST_APP_ID)
        who = openid()
        query, body = sender.request(text_xml(who, "你好"))
        query += f"&openid={who}"
        resp = await client.post(f"/wechat?{query}", data=body)
        assert resp.status == 200
    finally:
        await client.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert lines and any("/wechat?" in line for line in lines)
    params = dict(p.split("=", 1) for p in query.split("&"))
    for name in ("signature", "msg_signature", "nonce"):
        assert all(params[name] not in line for line in lines), name
    assert all(who not in line for line in lines)


async def test_a_retry_re_encrypted_under_the_same_timestamp_and_nonce_still_gets_through(hub: Hub) -> None:
    sender, ts = hub.sender(), int(time.time())
    xml = text_xml(openid(), "你好")
    (q1, b1), (q2, b2) = sender.request(xml, timestamp=ts, nonce="same"), sender.request(xml, timestamp=ts, nonce="same")
    assert b1 != b2  # AES's random prefix: a new ciphertext for the same message
    first, again = await _post(hub, q1, b1), await _post(hub, q2, b2)
    assert first[0] == again[0] == 200
    assert sender.open_reply(first[1], q1)["Content"] == sender.open_reply(again[1], q2)["Content"]
    other = sender.request(text_xml(openid(), "/orders 全部"), timestamp=ts, nonce="same")
    assert (await _post(hub, *other))[0] == 403
