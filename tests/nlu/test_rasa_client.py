"""The Rasa client against a fake Rasa HTTP server, and its fallback when Rasa is down."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
from aiohttp import web

from nlu.embedded import EmbeddedParser
from nlu.rasa_client import RasaParser
from tests.nlu.conftest import NOW

Handler = Callable[[web.Request], Awaitable[web.Response]]


@asynccontextmanager
async def _rasa_server(parse: Handler, root: Handler | None = None) -> AsyncIterator[str]:
    """A real HTTP server on a free port answering POST /model/parse (and GET / when given)."""
    app = web.Application()
    app.router.add_post("/model/parse", parse)
    if root is not None:
        app.router.add_get("/", root)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture()
async def fake_rasa() -> AsyncIterator[tuple[str, list[dict]]]:
    """A real HTTP server speaking Rasa's /model/parse, recording requests."""
    calls: list[dict] = []

    async def parse(request: web.Request) -> web.Response:
        body = await request.json()
        calls.append(body)
        text = body["text"]
        return web.json_response(
            {
                "text": text,
                "intent": {"name": "order_service", "confidence": 0.88},
                "intent_ranking": [
                    {"name": "order_service", "confidence": 0.88},
                    {"name": "some_rasa_only_intent", "confidence": 0.1},
                ],
                # raw Rasa: synonym-mapped value for 阿姨, a surface value for time
                "entities": [
                    {
                        "entity": "service",
                        "value": "阿姨",
                        "start": 7,
                        "end": 9,
                        "extractor": "DIETClassifier",
                    },
                    {"entity": "time", "value": "明天上午", "start": 0, "end": 4},
                ],
            }
        )

    async def root(_: web.Request) -> web.Response:
        return web.Response(text="Hello from Rasa: 3.6.21")

    async with _rasa_server(parse, root) as url:
        yield url, calls


async def test_normalises_rasa_output(
    fake_rasa: tuple[str, list[dict]], embedded: EmbeddedParser
) -> None:
    url, calls = fake_rasa
    parser = RasaParser(url, fallback=embedded)
    r = await parser.parse("明天上午想请个阿姨打扫卫生", now=NOW)
    assert calls == [{"text": "明天上午想请个阿姨打扫卫生"}]
    assert r.intent == "order_service" and r.confidence == pytest.approx(0.88)
    assert [s.name for s in r.intent_ranking] == ["order_service"]  # unknown intents dropped
    assert r.entity("service") == "钟点工"
    assert r.entity("time") == "2026-11-27T09:00:00+08:00"
    assert await parser.health() == "ok"
    await parser.aclose()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_falls_back_when_down(
    embedded: EmbeddedParser, caplog: pytest.LogCaptureFixture
) -> None:
    parser = RasaParser(f"http://127.0.0.1:{_closed_port()}", fallback=embedded, timeout=0.5)
    with caplog.at_level(logging.WARNING, logger="nlu.rasa_client"):
        r = await parser.parse("电梯坏了", now=NOW)
        r2 = await parser.parse("五星", now=NOW)
    assert r.intent == "report_issue" and r2.intent == "rate_service"
    assert any("embedded" in rec.getMessage() for rec in caplog.records)
    assert await parser.health() == "down"
    await parser.aclose()


async def test_rasa_gets_the_cleaned_text_and_the_same_guards(
    fake_rasa: tuple[str, list[dict]], embedded: EmbeddedParser
) -> None:
    url, calls = fake_rasa
    parser = RasaParser(url, fallback=embedded)
    raw = "👍明天上午想請個阿姨打掃衛生"
    r = await parser.parse(raw, now=NOW)
    assert calls[-1] == {"text": "明天上午想请个阿姨打扫卫生"}  # emoji gone, simplified
    svc = next(e for e in r.entities if e.entity == "service")
    assert raw[svc.start : svc.end] == "阿姨打掃衛生"  # offsets index the owner's text
    # the fake always says order_service: the negation guard still reads a refusal
    assert (await parser.parse("我不需要保洁服务", now=NOW)).intent == "deny"
    assert (await parser.parse("翠苑小区", now=NOW)).intent == "nlu_fallback"
    await parser.aclose()


async def test_a_rasa_action_on_what_is_no_request_of_ours_falls_back(
    fake_rasa: tuple[str, list[dict]], embedded: EmbeddedParser
) -> None:
    # the fake says order_service at 0.88 to everything, as DIET did to real smart-speaker
    # requests (CAIS): an action needs the embedded parser not to read the text as out of scope
    url, _ = fake_rasa
    parser = RasaParser(url, fallback=embedded)
    for text in ("我要听广东雨神的歌", "给杨凯发短信", "今天天气怎么样"):
        assert (await parser.parse(text, now=NOW)).intent == "nlu_fallback", text
    assert (await parser.parse("家里空调坏了，想找人修一下", now=NOW)).intent == "order_service"
    await parser.aclose()


async def test_rasa_parse_requests_offsets_index_the_message(
    fake_rasa: tuple[str, list[dict]], embedded: EmbeddedParser
) -> None:
    url, calls = fake_rasa
    parser = RasaParser(url, fallback=embedded)
    text = "帮我约个保洁明天上午来，另外这个月物业费多少"
    parts = await parser.parse_requests(text, now=NOW)
    assert [p.text for p in parts] == ["帮我约个保洁明天上午来", "另外这个月物业费多少"]
    assert len(calls) == 2
    for part in parts:
        for e in part.entities:
            assert text[e.start : e.end] in part.text
    await parser.aclose()


@asynccontextmanager
async def _reading_rasa(
    long_over: int, long_reads: str, word: str, word_reads: str, otherwise: str
) -> AsyncIterator[tuple[str, list[str]]]:
    """A Rasa that reads texts longer than ``long_over`` as ``long_reads``, short ones holding
    ``word`` as ``word_reads`` and the rest as ``otherwise``, recording what it was asked."""
    asked: list[str] = []

    async def parse(request: web.Request) -> web.Response:
        text = (await request.json())["text"]
        asked.append(text)
        if len(text) > long_over:
            intent = {"name": long_reads, "confidence": 0.97}
        elif word in text:
            intent = {"name": word_reads, "confidence": 0.91}
        else:
            intent = {"name": otherwise, "confidence": 0.6}
        return web.json_response({"text": text, "intent": intent, "intent_ranking": [intent], "entities": []})

    async with _rasa_server(parse) as url:
        yield url, asked


@pytest.fixture()
async def letter_rasa() -> AsyncIterator[tuple[str, list[str]]]:
    """A Rasa that reads anything long as out of scope (as DIET, trained on short requests, reads
    residents' letters) and a short fault statement as a report."""
    async with _reading_rasa(30, "nlu_fallback", "电梯", "report_issue", "greet") as served:
        yield served


async def test_rasa_reads_a_long_letter_clause_by_clause_like_the_embedded_backend(
    letter_rasa: tuple[str, list[str]], embedded: EmbeddedParser
) -> None:
    url, asked = letter_rasa
    parser = RasaParser(url, fallback=embedded)
    letter = "您好，我是三号楼的住户，已经在这里住了五年多了，一直觉得小区环境不错，可是今天早上，电梯坏了，麻烦派人看看"
    r = await parser.parse(letter, now=NOW)
    assert r.intent == "report_issue" and r.text == letter  # the clause decides, for the whole text
    assert len(asked) > 2 and asked[0] == embedded.prepare(letter).text  # the whole first, then its clauses
    # A short text is one request only; a long one whose clauses say nothing stays out of scope.
    asked.clear()
    assert (await parser.parse("电梯坏了", now=NOW)).intent == "report_issue" and len(asked) == 1
    quiet = "今天天气不错，我们一家人出去散步了，晚上回来吃了顿饭，孩子写完作业就睡了"
    assert (await parser.parse(quiet, now=NOW)).intent == "nlu_fallback"
    await parser.aclose()


@pytest.fixture()
async def story_rasa() -> AsyncIterator[tuple[str, list[str]]]:
    """A Rasa that reads a long story as a complaint (as a model trained on residents' letters
    does) and a short request for a carer as an order."""
    async with _reading_rasa(40, "complain", "护工", "order_service", "nlu_fallback") as served:
        yield served


async def test_rasa_reads_the_owners_request_at_the_end_of_a_long_story(
    story_rasa: tuple[str, list[str]], embedded: EmbeddedParser
) -> None:
    url, asked = story_rasa
    parser = RasaParser(url, fallback=embedded)
    story = ("是这样的，我婆婆上个月做了膝盖手术，现在下楼都困难，我们两口子白天都上班，家里一直没人照看，"
             "之前请的保姆做了两天就走了，我想问问你们能不能帮我安排一个护工，每天上午来就行")
    r = await parser.parse(story, now=NOW)
    assert r.intent == "order_service" and r.text == story
    assert len(asked) == 2 and "护工" in asked[1] and len(asked[1]) < len(asked[0])
    # a letter whose end asks nothing of us in the first person stays what Rasa read
    asked.clear()
    letter = ("我们小区三号楼的电梯从上个月开始就三天两头停运，老人孩子上下楼非常不便，找了物业好几次，"
              "每次都说在联系厂家，到现在也没有修好，希望有关部门督促物业尽快派人维修")
    assert (await parser.parse(letter, now=NOW)).intent == "complain" and len(asked) == 1
    await parser.aclose()


async def test_a_very_long_story_is_read_off_the_loop_the_same_way(
    story_rasa: tuple[str, list[str]], embedded: EmbeddedParser
) -> None:
    url, _ = story_rasa
    parser = RasaParser(url, fallback=embedded)
    story = "我婆婆去年摔过一跤，" * 45 + "我想问问你们能不能帮我安排一个护工"
    assert len(story) > 400
    assert (await parser.parse(story, now=NOW)).intent == "order_service"
    await parser.aclose()
