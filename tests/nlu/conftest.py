"""Fixtures for the NLU tests: one warm embedded parser per session, and the Rasa switch."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from nlu.embedded import EmbeddedParser
from nlu.parser import Parser, create_parser

TZ = ZoneInfo("Asia/Shanghai")
# Thursday 2026-11-26 10:30 local: every time expectation below is relative to it
NOW = datetime(2026, 11, 26, 10, 30, tzinfo=TZ)
RASA_ON = os.environ.get("BUTLER_NLU", "").lower() == "rasa"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "rasa: needs a running Rasa server (BUTLER_NLU=rasa)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip = pytest.mark.skip(reason="set BUTLER_NLU=rasa and BUTLER_RASA_URL to run against Rasa")
    for item in items:
        if "rasa" in item.keywords and not RASA_ON:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def embedded() -> Iterator[EmbeddedParser]:
    """A warm embedded parser shared by the session (training once, or a cache load)."""
    parser = EmbeddedParser(tz="Asia/Shanghai")
    parser.warm_up_sync()
    yield parser


@pytest.fixture(params=["embedded", pytest.param("rasa", marks=pytest.mark.rasa)])
async def backend(
    request: pytest.FixtureRequest, embedded: EmbeddedParser
) -> AsyncIterator[Parser]:
    """Each backend under the same contract tests; Rasa ones run only in the Rasa CI stage."""
    if request.param == "embedded":
        yield embedded
        return
    parser = create_parser(
        "rasa", rasa_url=os.environ.get("BUTLER_RASA_URL", "http://127.0.0.1:5005")
    )
    await parser.warm_up()
    assert await parser.health() == "ok", "Rasa server is not answering"
    yield parser
    await parser.aclose()
