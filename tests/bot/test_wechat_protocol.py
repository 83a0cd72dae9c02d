"""Protocol-level checks: Tencent's official vector, hostile XML, CDATA escaping, dedupe keys."""

from __future__ import annotations

import pytest
from wechatpy.crypto import WeChatCrypto

from bot.wechat.protocol import (
    MalformedMessage,
    cdata_safe,
    dedupe_key,
    parse_xml,
    render_text_reply,
    to_event,
)
from dialogs.events import MessageKind

# Tencent's sample (also in wechatpy's and the official SDKs' tests).
SAMPLE_TOKEN = "spamtest"
SAMPLE_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
SAMPLE_APP_ID = "wx2c2769f8efd9abc2"
SAMPLE_TIMESTAMP = "1409735669"
SAMPLE_NONCE = "1320562132"
SAMPLE_MSG_SIGNATURE = "5d197aaffba7e9b25a30732f161a50dee96bd5fa"
SAMPLE_ENCRYPT = (
    "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PG"
    "HQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6"
    "tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCO"
    "p3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnh"
    "vQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="
)
SAMPLE_BODY = (
    "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>"
    f"<Encrypt><![CDATA[{SAMPLE_ENCRYPT}]]></Encrypt></xml>"
)

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&lol9;</Content><MsgId>1</MsgId></xml>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><FromUserName>o1</FromUserName><Content>&xxe;</Content></xml>"""


def test_tencent_sample_vector_decrypts_to_the_documented_message() -> None:
    crypto = WeChatCrypto(SAMPLE_TOKEN, SAMPLE_AES_KEY, SAMPLE_APP_ID)
    plain = crypto.decrypt_message(
        {"Encrypt": parse_xml(SAMPLE_BODY)["Encrypt"]}, SAMPLE_MSG_SIGNATURE, SAMPLE_TIMESTAMP, SAMPLE_NONCE
    )
    event = to_event(parse_xml(plain))
    assert event.kind == MessageKind.TEXT
    assert event.text == "abcdteT"
    assert event.user_id == "oyORnuP8q7ou2gfYjqLzSIWZf0rs"
    assert event.dedupe_key == "msg:oyORnuP8q7ou2gfYjqLzSIWZf0rs:6054768590064713728"


@pytest.mark.parametrize(
    "body",
    [BILLION_LAUGHS, EXTERNAL_ENTITY, "<xml><a>unclosed</xml>", "not xml at all", "", "<root/>"],
    ids=["billion-laughs", "external-entity", "unclosed", "not-xml", "empty", "wrong-root"],
)
def test_hostile_or_broken_xml_is_refused(body: str) -> None:
    with pytest.raises(MalformedMessage):
        parse_xml(body.encode())


def test_cdata_terminator_in_user_text_cannot_break_the_reply() -> None:
    nasty = "你好]]><Evil>1</Evil><![CDATA["
    reply = render_text_reply(to_openid="o1", from_account="gh", text=nasty)
    assert parse_xml(reply)["Content"] == nasty
    assert "Evil" not in parse_xml(reply)
    assert cdata_safe("a]]>b") != "a]]>b"


def test_events_dedupe_on_sender_time_and_event() -> None:
    fields = {"FromUserName": "o1", "CreateTime": "123", "MsgType": "event", "Event": "subscribe"}
    assert dedupe_key(fields) == "evt:o1:123:subscribe:"
    assert to_event(fields).kind == MessageKind.SUBSCRIBE


def test_two_different_clicks_in_one_second_are_two_events_but_a_retry_is_one() -> None:
    click = {"FromUserName": "o1", "CreateTime": "123", "MsgType": "event", "Event": "CLICK"}
    services, activities = {**click, "EventKey": "MENU_SERVICES"}, {**click, "EventKey": "MENU_ACTIVITIES"}
    assert dedupe_key(services) != dedupe_key(activities)
    assert dedupe_key(services) == dedupe_key(dict(services))


def test_voice_uses_recognition_and_click_carries_its_key() -> None:
    voice = to_event(
        {"FromUserName": "o1", "CreateTime": "1", "MsgType": "voice", "Recognition": "我要保洁", "MsgId": "9"}
    )
    assert (voice.kind, voice.text) == (MessageKind.VOICE, "我要保洁")
    click = to_event(
        {"FromUserName": "o1", "CreateTime": "1", "MsgType": "event", "Event": "CLICK", "EventKey": "MENU"}
    )
    assert (click.kind, click.event_key) == (MessageKind.CLICK, "MENU")
    location = to_event(
        {"FromUserName": "o1", "CreateTime": "1", "MsgType": "location", "Location_X": "30.1",
         "Location_Y": "120.2", "Label": "翠苑", "MsgId": "10"}
    )
    assert (location.kind, location.latitude, location.longitude) == (MessageKind.LOCATION, 30.1, 120.2)
