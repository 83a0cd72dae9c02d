"""The dialog layer's own reading of an owner's words: negation, consent cues, clauses, dates."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from dialogs import dates, names, reading

TZ = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(("text", "intent", "said", "refused"), [
    ("我不需要保洁服务", "order_service", "保洁", True),
    ("我不想取消订单", "cancel_order", "", True),
    ("别给我派人", "order_service", "", True),
    ("不要打扫了", "order_service", "打扫", True),
    ("明天上午想请个阿姨打扫卫生", "order_service", "打扫卫生", False),
    ("不要周末来，明天上午请阿姨打扫", "order_service", "打扫", False),  # the refusal is of another clause
    ("订单先不取消了", "cancel_order", "", True),
    ("我没打算预约", "order_service", "", True),
    ("这个订单不要了", "cancel_order", "", False),  # wants it cancelled: asked to confirm instead
    ("楼道灯不亮了，不用急", "order_service", "", False),  # a courtesy is no refusal
    ("你们别再拖了，我要投诉", "complain", "", False),  # complaints are confirmed, never held back
    ("不用投诉了", "complain", "", False),
    ("不想再收到推送", "unsubscribe_push", "", False),  # the refusal is what an opt-out means
])
def test_negation_holds_back_only_a_refused_action(text: str, intent: str, said: str, refused: bool) -> None:
    assert reading.negated(text, intent, said) is refused


@pytest.mark.parametrize(("text", "out", "back_in"), [
    ("不想再收到推送", True, False),
    ("别再发消息给我了", True, False),
    ("退订", True, False),
    ("不想听", False, False),  # no topic word: the NLU alone never opts out
    ("推送太多了，退订", True, False),
    ("我没收到消息", False, False),
    ("收到消息了吗", False, False),
    ("给杨凯发短信", False, False),
    ("测试消息", False, False),
    ("恢复推送", False, True),
    ("重新接收消息", False, True),
    ("不要恢复推送", True, False),
])
def test_consent_changes_need_words_that_ask_for_them(text: str, out: bool, back_in: bool) -> None:
    assert reading.asks_opt_out(text) is out
    assert reading.asks_opt_in(text) is back_in


def test_a_message_missing_is_recognised() -> None:
    assert reading.missed_message("我没收到消息") and reading.missed_message("通知没收到")
    assert not reading.missed_message("收到消息了吗") and not reading.missed_message("没到时间")


@pytest.mark.parametrize(("text", "parts"), [
    ("帮我约个保洁明天上午来，另外这个月物业费多少", ["帮我约个保洁明天上午来", "这个月物业费多少"]),
    ("楼道灯坏了。还有物业费多少？", ["楼道灯坏了", "物业费多少"]),
    ("我要预约保洁顺便问下物业费", ["我要预约保洁", "物业费"]),
    ("明天上午，打扫卫生", ["明天上午，打扫卫生"]),  # a comma alone does not start a new request
    ("你好", ["你好"]),
])
def test_clauses_split_where_a_second_request_starts(text: str, parts: list[str]) -> None:
    assert reading.clauses(text) == parts


@pytest.mark.parametrize(("words", "period"), [
    ("明天上午", "上午"), ("周六下午", "下午"), ("今晚", "晚上"), ("明天早上", "上午"), ("明天中午", "中午"),
    ("明天上午10点", None), ("下午3点半", None), ("15:30", None), ("明天下午三点", None), ("明天", None),
])
def test_a_period_is_kept_only_when_no_hour_was_said(words: str, period: str | None) -> None:
    assert dates.said_period(words) == period


def test_dates_read_as_owners_write_them() -> None:
    thursday_9 = datetime(2026, 12, 3, 9, 0, tzinfo=TZ)
    assert dates.label(thursday_9) == "12月3日（周四）上午9:00"
    assert dates.label(thursday_9, "上午") == "12月3日（周四）上午"  # never the invented 9:00
    assert dates.label(datetime(2026, 12, 5, 15, 30, tzinfo=TZ)) == "12月5日（周六）下午3:30"
    assert dates.label(datetime(2026, 12, 6, 19, 0, tzinfo=TZ)) == "12月6日（周日）晚上7:00"
    assert dates.label(datetime(2026, 12, 7, 12, 15, tzinfo=TZ)) == "12月7日（周一）中午12:15"
    assert dates.label(datetime(2026, 1, 9, 0, 0, tzinfo=TZ)) == "1月9日（周五）"


def test_display_names_replace_catalog_names_owners_should_not_read() -> None:
    assert names.display("问题少年") == "青少年成长辅导"
    assert names.display("快递最后一公里") == "快递代收代送"
    assert names.display("体检") == "体检"
    assert all(len(shown) <= 15 for shown in names.DISPLAY_NAMES.values())
