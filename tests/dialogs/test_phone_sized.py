"""Answers that fit a phone: ~35 realistic owner messages through the WeChat path, and every text.

No reply is longer than about 6 phone lines (15 characters a line) outside the lists the owner
asked for; a greeting is at most 5; list items are at most 15 characters; the whole menu is never
pasted into an unfinished form; no misread gets 好的; no owner reads 商家 or an invented hour.
"""

from __future__ import annotations

import string

from bot.devtools.fake_wechat import FakeWeChatAPI
from dialogs import texts
from tests.conftest import Backend, Hub, make_settings, start_hub
from tests.dialogs.conftest import bound_owner, chat, make_community
from tests.dialogs.phone import LINE_WIDTH, MAX_LINES, list_items, phone_lines, width

# (message, the reply is a list the owner asked for); a message with two requests gets two answers.
TWO_REQUESTS = "帮我约个保洁明天上午来，另外这个月物业费多少"
CONVERSATION = [
    ("你好", False), ("在吗", False), ("有什么服务", True), ("7", True), ("1", False),
    ("钟点工多少钱", False), ("这个月物业费多少", False), ("最近有什么活动", False),
    ("明天上午想请个阿姨打扫卫生", False), ("物业费多少", False), ("有什么服务", False), ("嗯？", False),
    ("1", False), ("我的订单", True), ("取消订单", False), ("否", False),
    (TWO_REQUESTS, False), ("2", False),
    ("楼道灯坏了", False), ("是", False), ("我要投诉保安态度差", False), ("算了", False),
    ("不想再收到推送", False), ("确认", False), ("恢复推送", False), ("好", False),
    ("我没收到消息", False), ("给杨凯发短信", False), ("你好", False), ("这么装逼", False), ("我不需要保洁服务", False),
    ("我想预约", False), ("周六下午3点修空调", False), ("2", False), ("嗯？", False), ("谢谢", False),
    ("再见", False), ("七星彩", False),
]


async def test_replies_to_realistic_messages_fit_a_phone(backend: Backend, fake_wechat: FakeWeChatAPI) -> None:
    # A real owner types slower than this test: the flood limit would answer most of it otherwise.
    hub = await start_hub(make_settings(backend, fake_wechat, flood_burst=1000), fake_wechat)
    try:
        await _walk(hub)
    finally:
        await hub.client.close()


async def _walk(hub: Hub) -> None:
    me, _ = await bound_owner(hub)
    for text, asked_for_list in CONVERSATION:
        reply = await me.say(text)
        assert "太快" not in reply, text
        assert reply, text
        answers = 2 if text == TWO_REQUESTS else 1
        assert phone_lines(reply) <= MAX_LINES * answers, (text, phone_lines(reply), reply)
        if asked_for_list:
            assert all(width(item) <= LINE_WIDTH for item in list_items(reply)), (text, reply)
        assert "商家" not in reply and "09:00" not in reply and "9:00" not in reply, (text, reply)
        assert "「" not in reply and "如有疑问请直接回复" not in reply, (text, reply)
        assert reply.count("！") <= 1, (text, reply)


async def test_greetings_and_the_follow_welcome_are_short(hub: Hub) -> None:
    community = await make_community(hub)
    assert community
    stranger = chat(hub)
    welcome = await stranger.event("subscribe")
    assert phone_lines(welcome, lists=True) <= MAX_LINES and "绑定" in welcome, welcome
    for me in (stranger, (await bound_owner(hub))[0]):
        for hello in ("你好", "在吗"):
            greeting = await me.say(hello)
            assert phone_lines(greeting, lists=True) <= 5, greeting


async def test_a_question_inside_a_form_does_not_paste_the_menu(hub: Hub) -> None:
    me, _ = await bound_owner(hub)
    await me.say("我想预约")
    for question in ("有什么服务", "多少钱", "你好"):
        reply = await me.say(question)
        assert "1. 旅行管家" not in reply and phone_lines(reply, lists=True) <= MAX_LINES, (question, reply)
        assert "什么服务" in reply, reply  # the form's question is asked again


async def test_the_word_the_hello_asks_for_always_opens_the_menu(hub: Hub) -> None:
    me, _ = await bound_owner(hub)
    assert "回复“菜单”" in await me.say("你好")
    for word in ("菜单", "菜单。", "全部服务"):
        assert "8. 教育管家" in await me.say(word), word


async def test_a_misread_never_gets_ok(hub: Hub) -> None:
    me, _ = await bound_owner(hub)
    for text in ("嗯？", "嗯", "好", "不", "是吗"):
        assert not (await me.say(text)).startswith("好的"), text


def _sample(template: str) -> str:
    fields = {f for _, f, _, _ in string.Formatter().parse(template) if f}
    values = {f: "示例内容示例内容" for f in fields}
    values.update({k: v for k, v in {"code": "B7K2QX", "id": "12", "service": "钟点工保洁", "amount": "300",
                                     "time": "12月3日（周四）上午", "household": "翠苑小区3号楼2单元301室",
                                     "phone": "13900001111", "address": "翠苑小区3号楼2单元301室",
                                     "score": "5", "text": "楼道灯坏了好几天了", "worker": "阿姨",
                                     "community": "翠苑小区", "title": "业主需求调研"}.items() if k in fields})
    return template.format(**values)


def test_every_owner_text_fits_six_phone_lines() -> None:
    owner_texts = {
        name: value for name, value in vars(texts).items()
        if name.isupper() and isinstance(value, str) and not name.startswith("STAFF_")
    }
    assert len(owner_texts) > 80
    too_long = {name: phone_lines(_sample(t)) for name, t in owner_texts.items() if phone_lines(_sample(t)) > MAX_LINES}
    assert not too_long, too_long
    for greeting in (texts.GREETING, texts.GREETING_UNBOUND):
        assert phone_lines(greeting) <= 5, greeting
    for welcome in (texts.WELCOME + texts.WELCOME_HOW, texts.WELCOME + texts.WELCOME_BIND):
        assert phone_lines(welcome) <= MAX_LINES, welcome
    bare_ok = [name for name, t in owner_texts.items() if t.startswith("好的") and name in ("NOTHING_PENDING",)]
    assert not bare_ok
