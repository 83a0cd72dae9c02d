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


def test_recent_results_are_reused_for_the_same_text_and_day(embedded: EmbeddedParser) -> None:
    from datetime import timedelta

    first = embedded.parse_sync("物业费怎么交", NOW)
    assert embedded.parse_sync("物业费怎么交", NOW + timedelta(hours=2)) is first
    # another day is another key: a date can decide what a text means (2月29日)
    assert embedded.parse_sync("物业费怎么交", NOW + timedelta(days=1)) is not first
    assert embedded.parse_sync("物业费怎么交", NOW + timedelta(days=1)).to_dict() == first.to_dict()


def test_a_result_with_a_time_is_never_reused(embedded: EmbeddedParser) -> None:
    from datetime import timedelta

    soon = embedded.parse_sync("半小时后来个保洁", NOW)
    later = embedded.parse_sync("半小时后来个保洁", NOW + timedelta(minutes=10))
    assert soon.entity("time") != later.entity("time")  # resolved against each message's own now


def test_the_cache_is_bounded_and_skips_long_texts(embedded: EmbeddedParser) -> None:
    from nlu import embedded as module

    long_text = "我家" + "厨房水管一直在漏水" * 10
    assert embedded.parse_sync(long_text, NOW) is not embedded.parse_sync(long_text, NOW)
    for i in range(module.CACHE_SIZE + 10):
        embedded.parse_sync(f"你好{i}", NOW)
    assert len(embedded._recent) == module.CACHE_SIZE
