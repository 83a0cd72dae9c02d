"""Model artifact caching and warm-up off the event loop."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlu.embedded import EmbeddedParser
from tests.nlu.conftest import NOW


def test_cache_hit_second_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUTLER_CACHE_DIR", str(tmp_path))
    first = EmbeddedParser()
    first.warm_up_sync()
    assert first.cache_hit is False
    assert list((tmp_path / "nlu").glob("*.npz"))
    second = EmbeddedParser()
    second.warm_up_sync()
    assert second.cache_hit is True
    assert (
        second.parse_sync("我要预约保洁", NOW).intent
        == first.parse_sync("我要预约保洁", NOW).intent
    )


def test_changed_data_is_a_cache_miss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from nlu.model import data_hash

    assert data_hash(b"a") != data_hash(b"b")


async def test_warm_up_runs_off_the_loop() -> None:
    parser = EmbeddedParser()
    await parser.warm_up()
    assert (await parser.parse("你好", now=NOW)).intent == "greet"


# Parse latency is a benchmark (python -m bench nlu), not a timed test: these machines are noisy.
