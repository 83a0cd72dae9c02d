"""/wecom under attack: every bad request gets a clear 4xx, never a 500; a retry has its effect once."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlencode

import pytest
from wechatpy.enterprise.crypto import WeChatCrypto

from bot.wechat.protocol import parse_xml
from bot.wecom.webhook import ButtonPress, dedupe_key, to_event
from tests.conftest import TEST_AES_KEY
from tests.wecom.conftest import WECOM_TOKEN, WcHub


async def _raw(wc: WcHub, query: str, body: bytes) -> tuple[int, str]:
    resp = await wc.hub.client.post(f"/wecom?{query}", data=body)
    return resp.status, await resp.text()


async def test_url_verification_echoes_the_decrypted_echostr(wc_hub: WcHub) -> None:
    crypto = WeChatCrypto(WECOM_TOKEN, TEST_AES_KEY, wc_hub.fake.corp_id)
    ts, nonce = str(int(time.time())), "n123"
    envelope = parse_xml(crypto.encrypt_message("<xml>x</xml>", nonce, ts))
    # The console sends the ciphertext of a random string as echostr; reuse an envelope's Encrypt.
    echostr, signature = envelope["Encrypt"], envelope["MsgSignature"]
    query = urlencode({"msg_signature": signature, "timestamp": ts, "nonce": nonce, "echostr": echostr})
    resp = await wc_hub.hub.client.get(f"/wecom?{query}")
    assert resp.status == 200 and await resp.text() == "<xml>x</xml>"
    bad = urlencode({"msg_signature": "0" * 40, "timestamp": ts, "nonce": nonce, "echostr": echostr})
    assert (await wc_hub.hub.client.get(f"/wecom?{bad}")).status == 403
    assert (await wc_hub.hub.client.get("/wecom?echostr=%%%&timestamp=abc")).status == 400


async def test_bad_signature_stale_timestamp_huge_and_garbage_bodies(wc_hub: WcHub) -> None:
    xml = wc_hub.sender.text_xml("zhang", "你好")
    query, body = wc_hub.sender.request(xml)
    forged = urlencode({**{k: v[0] for k, v in parse_qs(query).items()}, "msg_signature": "f" * 40})
    assert (await _raw(wc_hub, forged, body))[0] == 403
    stale_q, stale_b = wc_hub.sender.request(xml, timestamp=int(time.time()) - 3600)
    assert (await _raw(wc_hub, stale_q, stale_b))[0] == 403
    huge = b"<xml><Encrypt>" + b"A" * (wc_hub.hub.settings.max_body_bytes + 10) + b"</Encrypt></xml>"
    assert (await _raw(wc_hub, query, huge))[0] == 413
    for garbage in (b"", b"not xml", b"<xml><Encrypt></Encrypt></xml>", b"<!DOCTYPE x [<!ENTITY a 'b'>]><xml>&a;</xml>",
                    b"<xml><Encrypt>!!!notbase64</Encrypt></xml>", "<xml>中文</xml>".encode()):
        status, _ = await _raw(wc_hub, query, garbage)
        assert 400 <= status < 500, (garbage, status)
    assert (await _raw(wc_hub, "timestamp=99999999999999999999999&nonce=x", body))[0] == 400
    assert (await _raw(wc_hub, "", body))[0] == 400


async def test_a_replayed_timestamp_and_nonce_with_another_message_is_refused(wc_hub: WcHub) -> None:
    ts, nonce = int(time.time()), "replay-nonce"
    assert await wc_hub.post(wc_hub.sender.text_xml("zhang", "第一条"), timestamp=ts, nonce=nonce) == 200
    assert await wc_hub.post(wc_hub.sender.text_xml("zhang", "第二条"), timestamp=ts, nonce=nonce) == 403


async def test_a_retried_callback_is_handled_once(wc_hub: WcHub) -> None:
    xml = wc_hub.sender.text_xml("someone-new", "你好")
    query, body = wc_hub.sender.request(xml)
    assert (await _raw(wc_hub, query, body))[0] == 200
    assert (await _raw(wc_hub, query, body))[0] == 200  # WeCom's retry: same message, same signature
    assert len(wc_hub.fake.sent_to("someone-new")) == 1  # one hello, not two


async def test_without_token_or_key_every_request_is_refused(backend, fake_wechat, fake_wecom) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import start_hub
    from tests.wecom.conftest import wecom_settings

    hub = await start_hub(wecom_settings(backend, fake_wechat, fake_wecom, wecom_token=""), fake_wechat)
    try:
        assert (await hub.client.post("/wecom?timestamp=1&nonce=x", data=b"<xml/>")).status == 403
        assert (await hub.client.get("/wecom?echostr=x")).status == 403
    finally:
        await hub.client.close()


def test_events_are_typed_and_presses_keyed_by_their_response_code() -> None:
    fields = {"FromUserName": "zhang", "MsgType": "event", "Event": "template_card_event", "EventKey": "jb:1:x",
              "TaskId": "t", "ResponseCode": "r1", "CreateTime": "1"}
    assert to_event(fields) == ButtonPress(userid="zhang", key="jb:1:x", task_id="t", response_code="r1")
    assert dedupe_key(fields) != dedupe_key({**fields, "ResponseCode": "r2"})
    assert to_event({"FromUserName": "zhang", "MsgType": "event", "Event": "enter_agent"}) is None


@pytest.mark.parametrize("key", ["jb:1:short", "st:99999999999999:go", "pay:1:77", "zz", "jb:1:" + "A" * 16])
async def test_forged_or_garbage_button_keys_get_a_polite_answer(wc_hub: WcHub, key: str) -> None:
    assert await wc_hub.press("forger", key) == 200
    assert wc_hub.fake.sent_to("forger")[-1].text == "这个按钮已失效，请在最新的订单卡片上操作。"
