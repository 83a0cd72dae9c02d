"""NLU latency benchmark: embedded parse p50/p99 and Rasa's HTTP parse, in the same run.

python bench/nlu.py                     # embedded only (+ Rasa if BUTLER_RASA_URL answers)
python bench/nlu.py --start-rasa        # also start nlu/rasa/run.sh serve, measure, stop it
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nlu.embedded import EmbeddedParser  # noqa: E402
from nlu.rasa_client import RasaParser  # noqa: E402
from nlu.trainingdata import EVAL_DIR, TEST_FILE, load  # noqa: E402

NOW = datetime(2026, 11, 26, 10, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50/p99/max in milliseconds."""
    s = sorted(samples)
    return {
        "n": len(s),
        "p50_ms": round(statistics.median(s) * 1000, 3),
        "p99_ms": round(s[min(len(s) - 1, int(len(s) * 0.99))] * 1000, 3),
        "max_ms": round(s[-1] * 1000, 3),
    }


def bench_embedded(texts: list[str], rounds: int) -> dict[str, object]:
    """Warm-up cost, then per-call parse_sync latency."""
    parser = EmbeddedParser()
    start = time.perf_counter()
    parser.warm_up_sync()
    warm = time.perf_counter() - start
    samples = []
    for _ in range(rounds):
        for t in texts:
            t0 = time.perf_counter()
            parser.parse_sync(t, NOW)
            samples.append(time.perf_counter() - t0)
    return {
        "backend": "embedded",
        "warm_up_s": round(warm, 2),
        "cache_hit": parser.cache_hit,
        **percentiles(samples),
    }


async def bench_rasa(url: str, texts: list[str], rounds: int) -> dict[str, object]:
    """Latency of RasaParser.parse (HTTP round trip plus entity normalisation)."""
    parser = RasaParser(url, fallback=EmbeddedParser(), timeout=10)
    await parser.warm_up()
    if await parser.health() != "ok":
        await parser.aclose()
        return {"backend": "rasa", "url": url, "status": "unavailable"}
    await parser.parse("你好", now=NOW)
    samples = []
    for _ in range(rounds):
        for t in texts:
            t0 = time.perf_counter()
            await parser.parse(t, now=NOW)
            samples.append(time.perf_counter() - t0)
    health = await parser.health()
    await parser.aclose()
    return {"backend": "rasa", "url": url, "status": health, **percentiles(samples)}


def start_rasa() -> tuple[subprocess.Popen[bytes], str]:
    """Start nlu/rasa/run.sh serve on a free port and wait until /model/parse answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [str(ROOT / "nlu/rasa/run.sh"), "serve"],
        env={**os.environ, "RASA_PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            out = subprocess.run(
                [
                    "curl",
                    "-fsS",
                    "-m",
                    "5",
                    "-X",
                    "POST",
                    "-d",
                    '{"text":"你好"}',
                    f"{url}/model/parse",
                ],
                capture_output=True,
                timeout=10,
            )
            if b'"intent"' in out.stdout:
                return proc, url
        except subprocess.TimeoutExpired:
            pass
        time.sleep(2)
    stop(proc)
    raise RuntimeError("Rasa did not start")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the Rasa server we started (its whole process group)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def main() -> int:
    """Run the benchmark and print one JSON line per backend."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5, help="passes over the test utterances")
    ap.add_argument(
        "--rasa-url", default=os.environ.get("BUTLER_RASA_URL", "http://127.0.0.1:5005")
    )
    ap.add_argument(
        "--start-rasa", action="store_true", help="start and stop a Rasa server for the run"
    )
    args = ap.parse_args()
    # the test set plus the robustness probes (traditional, emoji, full-width, run-ons…): what
    # owners send, so the clean-up and the clause pass are in the figure
    texts = [ex.text for ex in load(TEST_FILE).examples]
    texts += [ex.text for ex in load(EVAL_DIR / "probes.yml").examples]
    print(json.dumps(bench_embedded(texts, args.rounds), ensure_ascii=False))
    proc = None
    url = args.rasa_url
    try:
        if args.start_rasa:
            proc, url = start_rasa()
        print(
            json.dumps(
                asyncio.run(bench_rasa(url, texts, max(1, args.rounds // 5))), ensure_ascii=False
            )
        )
    finally:
        if proc is not None:
            stop(proc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
