"""Normalisation, negation scope and the guards, each on its own (issue 13, items 1 and 2)."""

from __future__ import annotations

import pytest

from nlu.embedded import EmbeddedParser
from nlu.guards import address_only
from nlu.negation import negated, refuses_push
from nlu.normalise import clean
from nlu.requests import split_clauses
from tests.nlu.conftest import NOW


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("電梯壞了，困人了快來", "电梯坏了,困人了快来"),  # OpenCC t2s, NFKC comma
        ("我住３栋２单元５０２", "我住3栋2单元502"),  # full-width digits
        ("电话一三八一二三四五六七八", "电话13812345678"),  # a phone read out digit by digit
        ("手机 138 1234 5678", "手机 13812345678"),  # grouped digits
        ("修空调😀😀明天  来", "修空调 明天 来"),  # emoji and runs of spaces
        ("ＨＥＬＬＯ　管家", "你好 管家"),  # NFKC, then the English greeting read as Chinese
        ("thank you管家", "谢谢管家"),
        ("Thanks, 师傅", "谢谢, 师傅"),
        ("theory", "theory"),  # whole words only: 'the' is no word of ours
        ("给师傅five stars", "给师傅五 星"),
    ],
)
def test_clean(raw: str, cleaned: str) -> None:
    c = clean(raw)
    assert c.text == cleaned
    assert len(c.origin) == len(c.text)


def test_clean_keeps_offsets_into_the_original() -> None:
    raw = "電話：一三八 一二三四 五六七八，謝謝"
    c = clean(raw)
    start = c.text.index("138")
    a, b = c.span(start, start + 11)
    assert raw[a:b] == "一三八 一二三四 五六七八"


def test_entities_index_the_original_text(embedded: EmbeddedParser) -> None:
    raw = "👍我住３栋２单元５０２，電話１３９ ００１１ ２２３３"
    r = embedded.parse_sync(raw, NOW)
    phone = next(e for e in r.entities if e.entity == "phone")
    assert phone.value == "13900112233" and raw[phone.start : phone.end] == "１３９ ００１１ ２２３３"
    room = next(e for e in r.entities if e.entity == "room")
    assert raw[room.start : room.end].startswith("５０２")


@pytest.mark.parametrize(
    ("intent", "text", "expected"),
    [
        ("cancel_order", "我不想取消订单", True),
        ("cancel_order", "帮我取消订单", False),
        ("order_service", "我不需要Ｓ服务", True),
        ("order_service", "别给我约阿姨了", True),
        ("order_service", "家里灯不亮", False),  # a fault, not a refusal
        ("unsubscribe_push", "不想再收到推送", False),  # the negation is the opt-out
        ("unsubscribe_push", "我不想退订", True),
        ("bind_house", "先不绑定", True),
        ("report_issue", "电梯三天不修", False),
        # the owner denies having asked at all
        ("order_service", "我没说要Ｓ啊", True),
        ("cancel_order", "谁说要取消订单了", True),
        ("complain", "我没说过要投诉", True),
        ("order_service", "没让你们来", True),
        ("order_service", "我说要Ｓ", False),
        ("cancel_order", "我想要取消订单", False),
    ],
)
def test_negation_scope(intent: str, text: str, expected: bool) -> None:
    assert negated(intent, text) is expected


def test_push_refusal() -> None:
    assert refuses_push("别再给我推送活动消息了")
    assert not refuses_push("再给我推送吧")


@pytest.mark.parametrize(
    ("text", "alone"),
    [("翠苑小区", True), ("3号楼2单元301", True), ("阳光花园5栋", True), ("电梯坏了翠苑", False),
     ("a2区山水嘉园1栋三单元群租房扰民", False), ("我是3号楼2单元1502的业主", False),
     ("幸福路88号", True), ("解放大街12号", True), ("幸福路88号电梯坏了", False)],
)
def test_address_alone(text: str, alone: bool) -> None:
    from nlu.entities.slots import extract_address

    assert address_only(text, extract_address(text)) is alone


def test_split_clauses() -> None:
    text = "帮我约个保洁明天上午来，另外这个月物业费多少"
    assert [text[a:b] for a, b in split_clauses(text)] == ["帮我约个保洁明天上午来", "另外这个月物业费多少"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我没收到消息", "nlu_fallback"),
        ("收到消息了吗", "nlu_fallback"),
        ("给杨凯发短信", "nlu_fallback"),
        ("测试消息", "nlu_fallback"),
        ("七星彩", "nlu_fallback"),
        ("我想看电视", "nlu_fallback"),
        ("翠苑小区", "nlu_fallback"),
        ("幸福路88号", "nlu_fallback"),  # an address, not 88 = 拜拜: no intent of any kind
        ("邻居在楼梯间堆了好多纸箱，消防通道都过不去", "complain"),  # a neighbour's doing, not a fault
        ("有人把电动车停在楼道口堵住了", "complain"),
        ("电梯里有人被困了快来", "report_issue"),
        ("我没说要保洁啊", "deny"),
        ("我不想取消订单", "deny"),
        ("我不需要保洁服务", "deny"),
        ("不想再收到推送", "unsubscribe_push"),
        ("電梯壞了，困人了快來", "report_issue"),
        ("我住３栋２单元５０２，想约明天上午１０点保洁", "order_service"),
    ],
)
def test_readings_a_person_would_give(embedded: EmbeddedParser, text: str, expected: str) -> None:
    assert embedded.parse_sync(text, NOW).intent == expected


def test_no_service_inside_other_words(embedded: EmbeddedParser) -> None:
    assert embedded.parse_sync("养老保险怎么交", NOW).entity("service") is None
    assert embedded.parse_sync("七星彩", NOW).entity("rating") is None
    assert embedded.parse_sync("家里电视坏了", NOW).entity("service") == "家居家电维修"


def test_long_message_keeps_its_end(embedded: EmbeddedParser) -> None:
    chatter = "今天天气不错，我们一家人出去逛了逛公园，孩子玩得很开心，" * 20
    r = embedded.parse_sync(chatter + "对了，明天上午想约个保洁阿姨来打扫卫生", NOW)
    assert len(chatter) > 500
    assert r.intent == "order_service" and r.entity("service") == "钟点工"
    assert r.entity("time") == "2026-11-27T09:00:00+08:00"


@pytest.mark.parametrize(
    "text", ["米饭给得太少了，菜也一点味道都没有", "这家店的口味越来越差了", "点的菜量太少，味道也一般"]
)
def test_a_comment_on_food_is_no_complaint(embedded: EmbeddedParser, text: str) -> None:
    assert embedded.parse_sync(text, NOW).intent == "nlu_fallback"


def test_a_food_review_is_not_rescued_by_one_of_its_clauses(embedded: EmbeddedParser) -> None:
    # the whole reads as a food comment; its 很满意 clause alone would read as rate_service
    assert embedded.parse_sync("菜量给的挺足的，很满意，就是有点咸", NOW).intent == "nlu_fallback"


def test_food_named_with_the_estate_or_a_service_stays(embedded: EmbeddedParser) -> None:
    from nlu.guards import food_review

    # the guard leaves food alone when the estate, a person or a service of ours is named
    assert not food_review("complain", "社区食堂的饭菜太难吃了老人都吃不下", ())
    assert not food_review("complain", "物业食堂的米饭都是夹生的", ())
    text = "请的保姆阿姨做饭很好吃给她五星"
    assert not food_review("rate_service", text, embedded.entities(text))
    assert food_review("complain", "米饭给得太少了", ())
    assert embedded.parse_sync("请的保姆阿姨做饭很好吃，给她五星", NOW).intent == "rate_service"


def test_a_no_inside_a_long_letter_is_not_the_owners_answer(embedded: EmbeddedParser) -> None:
    # a third party refusing (……但是居委会那边不同意) in one clause does not make the letter a "no"
    letter = (
        "我们几个邻居商量了很久，想在楼下空地搞个小花园，大家都挺支持的，也凑了点钱，"
        "去找了居委会，但是居委会那边不同意，说要走很多程序，我们也不知道该怎么办才好"
    )
    assert len(letter) > 60
    assert embedded.parse_sync(letter, NOW).intent not in ("deny", "affirm")
    assert embedded.parse_sync("不同意", NOW).intent == "deny"


def test_two_requests_in_one_message(embedded: EmbeddedParser) -> None:
    text = "帮我约个保洁明天上午来，另外这个月物业费多少"
    parts = embedded.parse_requests_sync(text, NOW)
    assert [p.intent for p in parts] == ["order_service", "ask_property_fee"]
    assert parts[0].entity("service") == "钟点工"
    svc = next(e for e in parts[0].entities if e.entity == "service")
    assert text[svc.start : svc.end] == "保洁"  # offsets index the whole message
    assert [p.intent for p in embedded.parse_requests_sync("电梯坏了", NOW)] == ["report_issue"]


def test_time_says_how_precise_it_is(embedded: EmbeddedParser) -> None:
    t = next(e for e in embedded.parse_sync("明天上午来打扫", NOW).entities if e.entity == "time")
    assert (t.value, t.granularity, t.period) == ("2026-11-27T09:00:00+08:00", "period", "上午")
    t = next(e for e in embedded.parse_sync("明天上午10点来打扫", NOW).entities if e.entity == "time")
    assert t.granularity == "minute" and t.to_dict() == {
        "entity": "time", "value": "2026-11-27T10:00:00+08:00", "start": 0, "end": 7
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [("dianti huai le", "report_issue"), ("wuyefei duoshao qian", "ask_property_fee"),
     ("ni hao", "greet"), ("电梯stuck了有人在里面", "report_issue"), ("hello", "greet")],
)
def test_pinyin_and_mixed_english(embedded: EmbeddedParser, text: str, expected: str) -> None:
    assert embedded.parse_sync(text, NOW).intent == expected


def test_pinyin_leaves_english_alone(embedded: EmbeddedParser) -> None:
    assert embedded.prepare("what a nice day").text == "what a nice day"
    r = embedded.parse_sync("dianti huai le", NOW)
    assert r.text == "dianti huai le"  # the result keeps the owner's text


def test_homophone_typos_are_mended_only_towards_frequent_words(embedded: EmbeddedParser) -> None:
    assert embedded.prepare("楼到灯不亮了").text == "楼道灯不亮了"
    assert embedded.prepare("电提坏了").text == "电梯坏了"
    assert embedded.parse_sync("电提坏了", NOW).intent == "report_issue"
    for text in ("新建一个备忘录", "有没有适合老人的活动", "我想预约保洁"):
        assert embedded.prepare(text).text == text


def test_no_homophone_is_mended_inside_or_across_words(embedded: EmbeddedParser) -> None:
    """A typo is two characters that make no word. Each of these pairs has the pinyin of a more
    frequent training word (门尽 → 门禁, 智能 → 只能, 小事 → 小时), and each was mended before
    the word cutter was asked, but sits in or across real words."""
    for text in ("希望部门尽快处理", "你是人工智能吗", "这点小事也要找物业"):
        assert embedded.prepare(text).text == text, text
    assert embedded.prepare("楼到的灯不亮了希望尽快处理").text == "楼道的灯不亮了希望尽快处理"


def test_small_talk_is_no_request_of_its_own(embedded: EmbeddedParser) -> None:
    parts = embedded.parse_requests_sync("你好，我家水管漏了，麻烦派人来修一下，谢谢", NOW)
    assert [p.intent for p in parts] == ["order_service"]
    parts = embedded.parse_requests_sync("你好，电梯坏了。另外物业费怎么交，谢谢", NOW)
    assert [p.intent for p in parts] == ["report_issue", "ask_property_fee"]
    assert parts[0].text.startswith("你好") and parts[1].text.endswith("谢谢")


def test_two_orders_for_two_services_stay_two(embedded: EmbeddedParser) -> None:
    parts = embedded.parse_requests_sync("明天约个保洁，另外再约个师傅修空调", NOW)
    assert [(p.intent, p.entity("service")) for p in parts] == [
        ("order_service", "钟点工"), ("order_service", "家居家电维修")
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("是这样的，我婆婆上个月做了膝盖手术，现在下楼都困难，我们两口子白天都上班，家里一直没人照看，"
         "之前请的保姆做了两天就走了，我想问问你们能不能帮我安排一个护工，每天上午来就行", "order_service"),
        ("你好，我家两个孩子放学早，我们下班晚，吃饭一直是个问题，天天点外卖也不是办法，听楼下邻居说"
         "你们有上门做饭的阿姨，我想了解一下要是一周来五天，一个月多少钱", "ask_price"),
        ("前天在公众号上约了修洗衣机，说好今天上午来，我特意请了假在家等，结果到现在也没人打电话，"
         "页面上还显示已派单，麻烦你们帮我查一下师傅什么时候能到", "ask_order_status"),
        # voice input with no punctuation: the request begins at its words of asking
        ("就是那个我爸今年八十五了耳朵不太好平时一个人在家我们做子女的都在外地工作放心不下他"
         "邻居说他有时候一整天都不出门想来想去所以就想麻烦你们帮我安排个护工每天上门陪陪他", "order_service"),
    ],
)
def test_a_long_story_ending_in_the_owners_own_request(embedded: EmbeddedParser, text: str, expected: str) -> None:
    assert embedded.parse_sync(text, NOW).intent == expected


def test_a_residents_letter_ending_in_a_request_stays_a_grievance(embedded: EmbeddedParser) -> None:
    letter = ("我们小区三号楼的电梯从上个月开始就三天两头停运，老人孩子上下楼非常不便，找了物业好几次，"
              "每次都说在联系厂家，到现在也没有修好，希望有关部门督促物业尽快派人维修")
    assert embedded.parse_sync(letter, NOW).intent in ("complain", "report_issue")
