"""Profile one `butler serve` worker under webhook load with py-spy (sampling, no code changes).

`python -m bench.profile [--concurrency 16] [--requests 3000]` writes bench/profiles/webhook.folded
(collapsed stacks, open with speedscope or flamegraph.pl) and prints the top frames by inclusive
and by self time, which is how the webhook's costs in docs/deployment.md were found.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
from collections import Counter
from pathlib import Path

from bench.common import BENCH_DIR, PY, free_port, hub_env, scratch_database, serve_hub
from bench.webhook import build_requests, load
from bot.devtools.fake_wechat import FakeWeChatAPI

PROFILES = BENCH_DIR / "profiles"


# Leaves where a sampled thread is off the CPU: waiting in epoll, or preempted right after a
# socket write woke PostgreSQL or Redis on a busy machine (py-spy counts both as active).
OFF_CPU = ("_SelectorSocketTransport.write", "EpollSelector.select")


def summarize(folded: Path, top: int = 25, *, skip_leaves: tuple[str, ...] = ()) -> str:
    """Inclusive and self sample shares per frame from py-spy's raw (collapsed) output.

    `skip_leaves` (e.g. OFF_CPU) drops samples whose innermost frame starts with one of them.
    """
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in folded.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():  # a frame name broken over lines by py-spy
            continue
        frames = stack.split(";")
        if frames[-1].startswith(skip_leaves or ("\0",)):
            continue
        n = int(count)
        total += n
        for frame in set(frames):
            inclusive[frame] += n
        own[frames[-1]] += n
    out = [f"{total} samples", "", "inclusive:"]
    out += [f"{100 * n / total:5.1f}%  {f}" for f, n in inclusive.most_common(top)]
    out += ["", "self:"]
    out += [f"{100 * n / total:5.1f}%  {f}" for f, n in own.most_common(top)]
    return "\n".join(out)


# Where a sample's innermost frame is charged (first match of the frame's file path wins).
LIBRARIES = ("sqlalchemy", "redis", "asyncpg", "aiohttp", "wechatpy", "cryptography", "jieba", "asyncio",
             "nlu/", "dialogs/", "storage/", "bot/")


def by_library(folded: Path, *, skip_leaves: tuple[str, ...] = OFF_CPU) -> str:
    """Sample shares charged to the library of the innermost frame (the table in bench/RESULTS.md).

    SQLAlchemy's async layer runs its sync half in a greenlet, which py-spy shows as stacks of
    their own (no caller frames), so charging by the innermost frame is what counts it fully.
    """
    charged: Counter[str] = Counter()
    total = 0
    for line in folded.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        leaf = stack.split(";")[-1]
        if leaf.startswith(skip_leaves):
            continue
        total += int(count)
        path = leaf[leaf.find("(") + 1:]
        charged[next((lib.rstrip("/") for lib in LIBRARIES if lib in path), "other")] += int(count)
    return "\n".join([f"{total} samples, by library:"] + [f"{100 * n / total:5.1f}%  {lib}" for lib, n in charged.most_common()])


async def profile(concurrency: int, requests: int, seconds: int) -> Path:
    """Start a worker, attach py-spy, drive load, return the folded stacks file."""
    spy = shutil.which("py-spy") or str(Path(PY).parent / "py-spy")
    PROFILES.mkdir(exist_ok=True)
    out = PROFILES / "webhook.folded"
    fake = FakeWeChatAPI()
    api_base = await fake.start()
    try:
        async with scratch_database("profile") as db_url:
            port = free_port()
            hub = await serve_hub("profile-serve", hub_env(database_url=db_url, port=port, wechat_api_base=api_base), port)
            try:
                url = f"http://127.0.0.1:{port}/wechat"
                await load(url, build_requests(300), 8)
                rec = await asyncio.create_subprocess_exec(
                    spy, "record", "--pid", str(hub.pid), "--format", "raw", "--rate", "250",
                    "--duration", str(seconds), "--output", str(out), "--nonblocking",
                    stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
                )
                await asyncio.sleep(0.5)
                result = await load(url, build_requests(requests), concurrency)
                print(f"load during profile: {result['throughput_rps']} rps, p99 {result['p99_ms']} ms")
                await rec.wait()
            finally:
                await hub.stop()
    finally:
        await fake.close()
    return out


def main() -> None:
    """CLI entry."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--seconds", type=int, default=10)
    args = ap.parse_args()
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    folded = asyncio.run(profile(args.concurrency, args.requests, args.seconds))
    summary = summarize(folded)
    (PROFILES / "webhook.txt").write_text(summary + "\n")
    print(summary)


if __name__ == "__main__":
    main()
