"""Rule entities: time resolution, phone validity, ratings, addresses, services."""

from __future__ import annotations

import pytest

from nlu.embedded import EmbeddedParser
from nlu.entities.slots import extract_address, extract_phones, extract_ratings
from nlu.entities.time import extract_times
from tests.nlu.conftest import NOW

# NOW is Thursday 2026-11-26 10:30 +08:00
TIME_CASES = [
    ("明天上午", "2026-11-27T09:00:00+08:00"),
    ("周六下午三点", "2026-11-28T15:00:00+08:00"),
    ("下周三", "2026-12-02T00:00:00+08:00"),
    ("后天晚上7点", "2026-11-28T19:00:00+08:00"),
    ("国庆", "2027-10-01T00:00:00+08:00"),
    ("5号", "2026-12-05T00:00:00+08:00"),
    ("30号下午", "2026-11-30T14:00:00+08:00"),
    ("今晚", "2026-11-26T19:00:00+08:00"),
    ("明早8点", "2026-11-27T08:00:00+08:00"),
    ("下午两点半", "2026-11-26T14:30:00+08:00"),
    ("12月3日上午10点", "2026-12-03T10:00:00+08:00"),
    ("半小时后", "2026-11-26T11:00:00+08:00"),
    ("周末", "2026-11-28T00:00:00+08:00"),
    ("下个月5号", "2026-12-05T00:00:00+08:00"),
    ("元旦", "2027-01-01T00:00:00+08:00"),
    ("春节", "2027-02-06T00:00:00+08:00"),
    ("中秋节", "2027-09-15T00:00:00+08:00"),
    ("大后天", "2026-11-29T00:00:00+08:00"),
    ("礼拜天早上", "2026-11-29T08:00:00+08:00"),
    ("明天中午1点", "2026-11-27T13:00:00+08:00"),
    ("三点", "2026-11-26T15:00:00+08:00"),
    ("晚上8:30", "2026-11-26T20:30:00+08:00"),
]


@pytest.mark.parametrize(("text", "expected"), TIME_CASES)
def test_time_resolution(text: str, expected: str) -> None:
    found = extract_times(text, NOW)
    assert [e.value for e in found] == [expected]
    assert (found[0].start, found[0].end) == (0, len(text))


@pytest.mark.parametrize("text", ["3号楼2单元", "便宜一点", "快一点来", "有点贵", "13812345678"])
def test_not_times(text: str) -> None:
    assert extract_times(text, NOW) == []


def test_time_inside_sentence_and_naive_now(embedded: EmbeddedParser) -> None:
    r = embedded.parse_sync("麻烦后天晚上7点来修一下空调", NOW.replace(tzinfo=None))
    assert r.entity("time") == "2026-11-28T19:00:00+08:00"
    assert r.entity("service") == "家居家电维修"


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("电话13812345678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 139 1234 5678", "13912345678"),
        ("打19912345678找我", "19912345678"),
    ],
)
def test_valid_mobile_numbers(text: str, phone: str) -> None:
    assert [e.value for e in extract_phones(text)] == [phone]


@pytest.mark.parametrize(
    "text", ["12345678901", "1381234567", "138123456789", "02112345678", "电话11812345678"]
)
def test_invalid_numbers_are_not_phones(text: str) -> None:
    assert extract_phones(text) == []


@pytest.mark.parametrize(
    ("text", "rating"),
    [
        ("五星", "5"),
        ("满分", "5"),
        ("三星", "3"),
        ("2分", "2"),
        ("非常满意", "5"),
        ("一星", "1"),
        ("打4分吧", "4"),
        ("5颗星", "5"),
        ("给10分", "5"),
        ("很不满意", "1"),
        ("一般般", "3"),
        ("不太满意", "2"),
        ("满意", "4"),
        ("好评", "5"),
        ("差评", "1"),
    ],
)
def test_rating_mapping(text: str, rating: str) -> None:
    assert [e.value for e in extract_ratings(text)][:1] == [rating]


@pytest.mark.parametrize("text", ["停水以后生活十分不方便", "十分感谢你们", "电梯十分危险", "等了十分钟"])
def test_shifen_the_adverb_is_no_score(text: str) -> None:
    # 十分 before a word means "very"; only a given or bare 十分 (打十分, 十分！) is a score
    assert extract_ratings(text) == []


@pytest.mark.parametrize("text", ["打十分", "给你们十分", "十分！", "十分吧", "十分满意"])
def test_shifen_the_score(text: str) -> None:
    assert [e.value for e in extract_ratings(text)] == ["5"]


def test_rating_only_on_rating_like_intents(embedded: EmbeddedParser) -> None:
    assert embedded.parse_sync("五星好评", NOW).entity("rating") == "5"
    assert embedded.parse_sync("我想参加满意度调查", NOW).entity("rating") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我是3号楼2单元1502的业主", ("3", "2", "1502")),
        ("三栋二单元601", ("3", "2", "601")),
        ("住3-2-1502", ("3", "2", "1502")),
        ("12幢1单元", ("12", "1", None)),
    ],
)
def test_address(text: str, expected: tuple[str | None, ...]) -> None:
    found = {e.entity: e.value for e in extract_address(text)}
    assert (found.get("building"), found.get("unit"), found.get("room")) == expected


@pytest.mark.parametrize(
    ("text", "service"),
    [
        ("想请个保洁", "钟点工"),
        ("打扫卫生", "钟点工"),
        ("找个阿姨", "钟点工"),
        ("修空调", "家居家电维修"),
        ("洗衣机坏了", "家居家电维修"),
        ("驾校", "学车"),
        ("考驾照", "学车"),
        ("马桶堵了", "水电暖气管道"),
        ("钟点公", "钟点工"),
        ("交一下有线电视费", "代缴费"),
        ("老年大学", "业余爱好老年大学"),
    ],
)
def test_service_canonical(embedded: EmbeddedParser, text: str, service: str) -> None:
    assert embedded.entities(text, NOW)[0].value == service


def test_no_service_for_common_area_word_lookalikes(embedded: EmbeddedParser) -> None:
    assert [e for e in embedded.entities("电梯坏了", NOW) if e.entity == "service"] == []
