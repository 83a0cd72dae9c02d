"""Whatever arrives at /wechat, the answer is 200, 400, 403 or 413, nothing is logged at ERROR, and a
normal message is answered afterwards. Requests are built whole: query, headers and body, signed
often enough to reach the decrypt and parse paths (odd base64 lengths, numbers of any size)."""

from __future__ import annotations

import base64
import logging
import time
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.devtools.wechat_sender import sign, text_xml
from tests.conftest import Hub
from tests.wechat.conftest import openid

digits = st.integers(min_value=0, max_value=10**400).map(str)
timestamps = st.one_of(st.just("now"), digits, st.text(max_size=20), st.just(""), st.just("-1"), st.just("1e9"))
b64ish = st.one_of(
    st.binary(max_size=96).map(lambda b: base64.b64encode(b).decode()),
    st.binary(max_size=96).map(lambda b: base64.b64encode(b).decode().rstrip("=")),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef0123456789+/=", max_size=90),
)
bodies = st.one_of(
    st.binary(max_size=512),
    b64ish.map(lambda e: f"<xml><ToUserName>gh</ToUserName><Encrypt><![CDATA[{e}]]></Encrypt></xml>".encode()),
    st.text(max_size=200).map(lambda t: text_xml(openid(), t).encode("utf-8", "surrogatepass")),
    st.just(b"<xml><MsgType>event</MsgType><FromUserName>o</FromUserName><CreateTime>" + b"9" * 500 + b"</CreateTime></xml>"),
)
headers = st.dictionaries(st.sampled_from(["Content-Type", "X-Forwarded-For", "User-Agent", "Accept-Encoding"]),
                          st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=40),
                          max_size=3)


def _encrypt_of(body: bytes) -> str:
    text = body.decode("utf-8", "replace")
    return text.split("<![CDATA[", 1)[1].split("]]>", 1)[0] if "<Encrypt><![CDATA[" in text else ""


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    timestamp=timestamps, nonce=st.text(max_size=12), body=bodies, extra=headers,
    sign_it=st.booleans(), encrypt_type=st.sampled_from(["aes", "", "AES", "none"]),
    junk=st.dictionaries(st.sampled_from(["openid", "echostr", "signature", "msg_signature"]), st.text(max_size=30), max_size=2),
)
async def test_no_request_gets_a_500_or_an_error_log(
    any_mode_hub: Hub, caplog: pytest.LogCaptureFixture, timestamp: str, nonce: str, body: bytes,
    extra: dict[str, str], sign_it: bool, encrypt_type: str, junk: dict[str, str],
) -> None:
    hub = any_mode_hub
    caplog.set_level(logging.WARNING)
    caplog.clear()
    ts = str(int(time.time())) if timestamp == "now" else timestamp
    token = hub.settings.wechat_token
    query: dict[str, str] = {"timestamp": ts, "nonce": nonce} | junk
    if encrypt_type:
        query["encrypt_type"] = encrypt_type
    if sign_it:
        query["signature"] = sign(token, ts, nonce)
        query["msg_signature"] = sign(token, ts, nonce, _encrypt_of(body))
    resp = await hub.client.post(f"/wechat?{urlencode(query)}", data=body, headers=extra)
    assert resp.status in (200, 400, 403, 413), (resp.status, await resp.text())
    resp = await hub.client.get(f"/wechat?{urlencode(query | {'echostr': 'x'})}", headers=extra)
    assert resp.status in (200, 400, 403)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
    who = openid()
    status, reply = await hub.post(text_xml(who, "你好"), encrypted=hub.encrypted)  # type: ignore[attr-defined]
    assert status == 200 and reply["ToUserName"] == who


async def test_a_normal_message_is_answered_after_the_noise(any_mode_hub: Hub) -> None:
    hub = any_mode_hub
    for bad in (b"\x00" * 10, b"<xml><Encrypt>QUJD</Encrypt></xml>", b"<xml>" + b"A" * 70000 + b"</xml>"):
        await hub.client.post("/wechat?" + urlencode({"timestamp": "9" * 400, "nonce": "n"}), data=bad)
    who = openid()
    status, reply = await hub.post(text_xml(who, "菜单"), encrypted=hub.encrypted)  # type: ignore[attr-defined]
    assert status == 200 and reply["ToUserName"] == who and "家政管家" in reply["Content"]
