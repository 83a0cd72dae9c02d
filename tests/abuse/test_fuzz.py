"""Hypothesis fuzzing: the XML parser, the webhook and the dialogs never let an exception escape.

Every reply that comes back passes the content guard; a handler exception would show up as the
BUSY apology (the webhook's fallback), so the dialog fuzz also requires that it never appears.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.devtools.fake_wechat import FakeWeChatAPI
from bot.devtools.wechat_sender import text_xml
from bot.wechat.protocol import MalformedMessage, cdata_safe, parse_xml, to_event
from dialogs import texts
from dialogs.events import InboundMessage
from tests.conftest import Backend, Hub, make_settings, start_hub

FIELDS = ("ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "MsgId", "Event",
          "EventKey", "Recognition", "Location_X", "Location_Y", "Label", "Latitude", "Longitude")
MSG_TYPES = ("text", "voice", "location", "event", "image", "link", "", "TEXT")
# Printable XML 1.0 characters (the XML spec forbids most control characters in a document).
xml_chars = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\ufffe\uffff",
                          min_codepoint=0x20)
xml_text = st.text(alphabet=xml_chars, max_size=80)


def _xml(fields: dict[str, str]) -> str:
    body = "".join(f"<{k}><![CDATA[{cdata_safe(v)}]]></{k}>" for k, v in fields.items())
    return f"<xml>{body}</xml>"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512) | st.text(max_size=512))
def test_parse_xml_only_ever_raises_malformed(raw: bytes | str) -> None:
    try:
        fields = parse_xml(raw)
    except MalformedMessage:
        return
    with contextlib.suppress(MalformedMessage):
        assert isinstance(to_event(fields), InboundMessage)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(st.sampled_from(FIELDS), xml_text, max_size=len(FIELDS)),
    st.sampled_from(MSG_TYPES),
    st.sampled_from(["", "0", "1795709937", "-5", "9" * 30, "abc", "1.5"]),
)
def test_well_formed_messages_become_events_or_malformed(
    fields: dict[str, str], msg_type: str, create_time: str
) -> None:
    fields = {**fields, "MsgType": msg_type, "CreateTime": create_time}
    parsed = parse_xml(_xml(fields))
    assert parsed == {k: v.strip() for k, v in fields.items()}  # CDATA round-trips, ']]>' included
    try:
        event = to_event(parsed)
    except MalformedMessage:
        return
    assert event.user_id == parsed["FromUserName"]
    if msg_type == "text":
        assert event.text == parsed.get("Content", "")


@pytest.mark.parametrize(
    "evil",
    [
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><xml><Content>&b;</Content></xml>',
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><Content>&e;</Content></xml>',
        "<xml><Content>unclosed",
        "<notxml><FromUserName>o</FromUserName></notxml>",
    ],
)
def test_entity_tricks_and_broken_documents_are_malformed(evil: str) -> None:
    with pytest.raises(MalformedMessage):
        parse_xml(evil)


@pytest.fixture
async def fuzz_hub(backend: Backend, fake_wechat: FakeWeChatAPI) -> AsyncIterator[Hub]:
    """The hub with the flood limit off: here one owner sends many messages on purpose."""
    running = await start_hub(make_settings(backend, fake_wechat, flood_burst=0), fake_wechat)
    yield running
    await running.client.close()


@pytest.fixture
async def plain_fuzz_hub(backend: Backend, fake_wechat: FakeWeChatAPI) -> AsyncIterator[Hub]:
    """An account in plaintext mode (no EncodingAESKey): with one set, plaintext POSTs are refused."""
    running = await start_hub(make_settings(backend, fake_wechat, flood_burst=0, wechat_aes_key=""), fake_wechat)
    yield running
    await running.client.close()


# Openers that steer the fuzz into the dialogs (binding, surveys, orders, hand-off) before noise.
OPENERS = ["", "绑定", "问卷", "下单", "我要请个阿姨", "人工", "取消", "我的订单", "评价", "3号楼2单元1502",
           "明天上午", "13812345678", "五星", "零物业费", "零 物业费是真的吗", "]]></Content><MsgType>event",
           "<script>", "'; DROP TABLE owners; --", "1", "是", "不", "退订", "订阅"]
owner_text = st.builds(
    lambda opener, tail: opener + tail,
    st.sampled_from(OPENERS),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\ufffe\uffff",
                                   min_codepoint=0x20), max_size=60)
    | st.sampled_from(["", "好的", "？？？", "😀" * 50, "啊" * 600, "\t \n"]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 2), owner_text), min_size=1, max_size=6))
async def test_dialogs_answer_any_text_without_an_escaped_exception(
    fuzz_hub: Hub, conversation: list[tuple[int, str]]
) -> None:
    owners = [f"o_fuzz_{uuid.uuid4().hex[:8]}" for _ in range(3)]
    for who, text in conversation:
        status, reply = await fuzz_hub.post(text_xml(owners[who], text))
        assert status == 200
        content = reply.get("Content", "")
        assert content != texts.BUSY  # BUSY is what an exception inside the dialogs turns into
        fuzz_hub.runtime.guard.check(content)  # every reply passes the guard


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=2048))
async def test_webhook_never_answers_500_to_a_signed_garbage_body(plain_fuzz_hub: Hub, body: bytes) -> None:
    sender = plain_fuzz_hub.sender(encrypted=False)
    query, _ = sender.request("<xml/>")
    resp = await plain_fuzz_hub.client.post(f"/wechat?{query}", data=body)
    assert resp.status in (200, 400, 413)
