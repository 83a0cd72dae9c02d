"""Load generator, run as its own process: fires pre-built WeChat requests at a URL.

`python -m bench.loadgen --url http://127.0.0.1:P/wechat --requests FILE --concurrency 16`
FILE holds one JSON object per line: {"query": "...", "body": "..."} (signed and encrypted ahead
of time, so the generator spends its CPU on HTTP only). Prints one JSON object with throughput,
latency percentiles and status counts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from pathlib import Path

import aiohttp

from bench.common import latency_summary


async def fire(url: str, requests: list[dict[str, str]], concurrency: int) -> dict[str, object]:
    """Send every request with `concurrency` requests in flight; measure each one."""
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    replies = 0
    queue = iter(requests)
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=30)

    async def worker(http: aiohttp.ClientSession) -> None:
        nonlocal replies
        for item in queue:
            started = time.perf_counter()
            try:
                async with http.post(f"{url}?{item['query']}", data=item["body"].encode()) as resp:
                    text = await resp.read()
                    statuses[str(resp.status)] += 1
                    if resp.status == 200 and b"<Encrypt>" in text:
                        replies += 1
            except (aiohttp.ClientError, TimeoutError) as exc:
                statuses[type(exc).__name__] += 1
                continue
            latencies.append(time.perf_counter() - started)

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        started = time.perf_counter()
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    ok = statuses.get("200", 0)
    return {
        "concurrency": concurrency,
        "requests": len(requests),
        "ok": ok,
        "encrypted_replies": replies,
        "statuses": dict(statuses),
        "seconds": round(elapsed, 3),
        "throughput_rps": round(ok / elapsed, 1) if elapsed else 0.0,
        **latency_summary(latencies),
    }


def main() -> None:
    """CLI entry: print the run's figures as one JSON line."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--url", required=True)
    ap.add_argument("--requests", required=True, type=Path)
    ap.add_argument("--concurrency", type=int, default=1)
    args = ap.parse_args()
    items = [json.loads(line) for line in args.requests.read_text().splitlines() if line.strip()]
    print(json.dumps(asyncio.run(fire(args.url, items, args.concurrency))))


if __name__ == "__main__":
    main()
