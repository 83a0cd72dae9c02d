"""The small readers every form relies on: numbered choices, yes/no, numbers, phones, ratings."""

from __future__ import annotations

import pytest

from dialogs import binding, choices, followup
from dialogs.form import Invalid

OPTIONS = ["旅行管家", "车管家", "房管家", "家政管家"]


@pytest.mark.parametrize(("text", "expected"), [
    ("2", "车管家"), ("２", "车管家"), ("二", "车管家"), ("2.", "车管家"), ("车管家", "车管家"),
    ("我选家政管家", "家政管家"), ("家政", "家政管家"), ("5", None), ("管家", None), ("", None),
])
def test_pick_takes_the_number_or_the_words(text: str, expected: str | None) -> None:
    assert choices.pick(text, OPTIONS) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("1 3", ["旅行管家", "房管家"]), ("1，3", ["旅行管家", "房管家"]), ("13", ["旅行管家", "房管家"]),
    ("车管家和家政管家", ["车管家", "家政管家"]), ("9", None),
])
def test_pick_many(text: str, expected: list[str] | None) -> None:
    assert choices.pick_many(text, OPTIONS) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("有", True), ("没有", False), ("1", True), ("2", False), ("是的", True), ("不是", False), ("没有车", False), ("嗯嗯哼", None),
])
def test_yes_no_with_labels(text: str, expected: bool | None) -> None:
    assert choices.yes_no(text, yes="有", no="没有") == expected


@pytest.mark.parametrize(("text", "expected"), [("十二", 12), ("两", 2), ("三零一", 301), ("一百零五", 105), ("3号楼", 3), ("abc", None)])
def test_parse_int(text: str, expected: int | None) -> None:
    assert choices.parse_int(text) == expected


def test_cancel_and_human_words_are_exact() -> None:
    assert choices.is_cancel("算了。") and choices.is_cancel("取消")
    assert not choices.is_cancel("取消订单")  # that is cancel_order, not leaving a form
    assert choices.is_human("转人工") and not choices.is_human("人工智能是什么")


@pytest.mark.parametrize(("text", "ok"), [("13812345678", True), ("+86 138-1234-5678", True), ("12812345678", False), ("1381234567", False)])
def test_mobile_numbers(text: str, ok: bool) -> None:
    assert choices.is_mobile(choices.extract_phone(text)) is ok
    assert isinstance(binding.validate_phone(text), Invalid) is not ok


@pytest.mark.parametrize(("text", "score"), [
    ("5", 5), ("五星", 5), ("4分", 4), ("满意", 4), ("非常满意", 5), ("一般", 3), ("不满意", 2), ("很差", 1), ("非常不满意", 1), ("好", 4),
])
def test_ratings_from_numbers_and_words(text: str, score: int) -> None:
    assert followup.validate_rating(text) == score


@pytest.mark.parametrize("text", ["还没想好", "6", "0", "不知道"])
def test_unusable_ratings(text: str) -> None:
    assert isinstance(followup.validate_rating(text), Invalid)


def test_building_answers_may_carry_the_whole_address() -> None:
    assert binding.validate_building("3号楼2单元301") == {"building": "3", "unit": "2", "room": "301"}
    assert binding.validate_building("5栋") == {"building": "5"}
    assert binding.validate_building("三号楼") == {"building": "3"}
    assert isinstance(binding.validate_building("楼上"), Invalid)
    assert binding.validate_unit("无") == "" and binding.validate_room("1502室") == "1502"
