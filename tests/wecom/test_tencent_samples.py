"""WeCom's own published callback samples, replayed against /wecom.

Source: the sample vectors of Tencent's WXBizMsgCrypt SDK for 企业微信 (the C# `Sample.cs` and the
PHP sample shipped with it; the same vectors appear in many projects' tests): token QDG6eK,
EncodingAESKey jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C, corp id wx5823bf96d3bd56c7. They are
from 2014, so the timestamp window is widened to just past their age, as for the WeChat sample.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import pytest

from bot.devtools.fake_wechat import FakeWeChatAPI
from bot.devtools.fake_wecom import FakeWeComAPI
from tests.conftest import Backend, Hub, start_hub
from tests.wecom.conftest import wecom_settings

TOKEN, AES_KEY, CORP_ID = "QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7"
VERIFY = {"msg_signature": "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", "timestamp": "1409659589",
          "nonce": "263014780",
          "echostr": "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="}
VERIFY_ECHO = "1616140317555161061"
MESSAGE_QUERY = {"msg_signature": "477715d11cdb4164915debcba66cb864d751f3e6", "timestamp": "1409659813",
                 "nonce": "1372623149"}
# Decrypts to a text "hello" from the member `mycreate`, MsgId 4561255354251345929, AgentID 218.
MESSAGE_BODY = (
    "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Encrypt><![CDATA["
    "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvu"
    "JTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwG"
    "c2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9"
    "EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0"
    "lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==]]></Encrypt><AgentID><![CDATA[218]]></AgentID></xml>"
)


@pytest.fixture
async def sample_hub(backend: Backend, fake_wechat: FakeWeChatAPI) -> AsyncIterator[tuple[Hub, FakeWeComAPI]]:
    fake = FakeWeComAPI(corp_id=CORP_ID)
    await fake.start()
    age = int(time.time()) - 1409659589 + 3600
    settings = wecom_settings(backend, fake_wechat, fake, wecom_token=TOKEN, wecom_aes_key=AES_KEY,
                              wecom_corp_id=CORP_ID, timestamp_tolerance_seconds=age)
    hub = await start_hub(settings, fake_wechat)
    yield hub, fake
    await hub.client.close()
    await fake.close()


async def test_the_published_url_verification_sample_echoes_its_plaintext(sample_hub) -> None:  # type: ignore[no-untyped-def]
    hub, _ = sample_hub
    resp = await hub.client.get(f"/wecom?{urlencode(VERIFY)}")
    assert resp.status == 200 and await resp.text() == VERIFY_ECHO
    tampered = VERIFY | {"nonce": "263014781"}
    assert (await hub.client.get(f"/wecom?{urlencode(tampered)}")).status == 403


async def test_the_published_message_sample_is_decrypted_answered_once_and_not_acted_on(sample_hub) -> None:  # type: ignore[no-untyped-def]
    hub, fake = sample_hub
    url = f"/wecom?{urlencode(MESSAGE_QUERY)}"
    first = await hub.client.post(url, data=MESSAGE_BODY)
    assert first.status == 200
    retry = await hub.client.post(url, data=MESSAGE_BODY)  # WeCom's retry: same signature, same body
    assert retry.status == 200
    # `mycreate` is nobody's staff or merchant record: one greeting for the message and its retry.
    answers = [c.text for c in fake.sent_to("mycreate")]
    assert len(answers) == 1 and answers[0].startswith("您好"), answers
    # The signature covers the Encrypt field: the same query with another ciphertext is refused.
    forged = await hub.client.post(url, data=MESSAGE_BODY.replace("RypEvHKD8QQ", "RypEvHKD8QR"))
    assert forged.status == 403
