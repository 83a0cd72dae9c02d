"""The NLU result shape and names from shared/CONTRACT.md, for every backend."""

from __future__ import annotations

import re

import pytest

from nlu import INTENTS, SERVICES_BY_LINE, NluResult, create_parser
from nlu.catalog import SERVICES
from nlu.intents import ENTITY_NAMES
from nlu.parser import Parser
from tests.nlu.conftest import NOW

ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
SAMPLES = [
    "明天上午想请个阿姨打扫卫生",
    "我是3号楼2单元1502的业主，电话13812345678",
    "五星好评",
    "电梯坏了",
    "今天天气怎么样",
    "",
    "   ",
    "😀😀😀",
    "a" * 2000,
]


def test_names_are_the_contract() -> None:
    assert len(INTENTS) == 22 and len(set(INTENTS)) == 22
    assert "nlu_fallback" in INTENTS and "cancel_order" in INTENTS
    assert list(SERVICES_BY_LINE) == [
        "旅行管家",
        "车管家",
        "房管家",
        "理财管家",
        "养老管家",
        "配送管家",
        "家政管家",
        "教育管家",
    ]
    assert len(SERVICES) == 33 and len(set(SERVICES)) == 33


def assert_contract(result: NluResult) -> None:
    d = result.to_dict()
    assert set(d) == {"text", "intent", "intent_ranking", "entities"}
    assert set(d["intent"]) == {"name", "confidence"}
    assert d["intent"]["name"] in INTENTS
    assert 0.0 <= d["intent"]["confidence"] <= 1.0
    assert d["intent_ranking"], "ranking must not be empty"
    for r in d["intent_ranking"]:
        assert set(r) == {"name", "confidence"} and r["name"] in INTENTS
    for e in d["entities"]:
        assert set(e) == {"entity", "value", "start", "end"}
        assert e["entity"] in ENTITY_NAMES
        assert 0 <= e["start"] < e["end"] <= len(d["text"])
        if e["entity"] == "service":
            assert e["value"] in SERVICES
        if e["entity"] == "time":
            assert ISO_WITH_OFFSET.match(e["value"]), e["value"]
        if e["entity"] == "rating":
            assert e["value"] in {"1", "2", "3", "4", "5"}


@pytest.mark.parametrize("text", SAMPLES)
async def test_result_shape(backend: Parser, text: str) -> None:
    assert_contract(await backend.parse(text, now=NOW))


async def test_example_from_the_contract(backend: Parser) -> None:
    r = await backend.parse("明天上午想请个阿姨打扫卫生", now=NOW)
    assert r.intent == "order_service"
    assert r.entity("service") == "钟点工"
    assert r.entity("time") == "2026-11-27T09:00:00+08:00"
    assert r.intent_ranking[0].name == r.intent


async def test_entity_helper(backend: Parser) -> None:
    r = await backend.parse("我是3号楼2单元1502的业主，电话13812345678", now=NOW)
    assert r.intent == "bind_house"
    assert (r.entity("building"), r.entity("unit"), r.entity("room")) == ("3", "2", "1502")
    assert r.entity("phone") == "13812345678"
    assert r.entity("quantity") is None or r.entity("quantity").isdigit()


def test_create_parser_is_lazy_and_validates() -> None:
    parser = create_parser("embedded")
    assert getattr(parser, "_model", None) is None  # no training at construction
    with pytest.raises(ValueError):
        create_parser("nope")


async def test_health_embedded(embedded: Parser) -> None:
    assert await embedded.health() == "ok"
