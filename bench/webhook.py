"""Webhook benchmark: the full safe-mode path of one `butler serve` vs the bare wechatpy baseline.

Both servers run as child processes on the same machine, the load generator is a third process,
and the two are measured alternately at each concurrency so background noise hits both alike.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import tempfile
from pathlib import Path
from typing import Any

from bench.common import (
    AES_KEY,
    APP_ID,
    PY,
    TOKEN,
    cpu_seconds,
    cpu_split,
    free_port,
    hub_env,
    run_json,
    scratch_database,
    serve_hub,
    spawn,
    wait_http,
)
from bot.devtools.fake_wechat import FakeWeChatAPI
from bot.devtools.wechat_sender import WeChatSender, text_xml

# What owners actually type: greetings, orders, questions, problems, out-of-scope chatter.
TEXTS = [
    "你好",
    "在吗",
    "明天上午想请个阿姨打扫卫生",
    "家里水管漏水了，能派人来修一下吗",
    "电梯坏了",
    "物业费怎么交",
    "有什么服务",
    "谢谢",
    "周六下午三点帮我约个修空调的师傅",
    "我的订单到哪了",
    "想报个补课班，孩子初二数学",
    "今天天气怎么样",
    "五星",
    "楼道灯不亮了",
    "再见",
]

CONCURRENCY = (1, 16, 64)


def build_requests(n: int, *, owners: int = 1000, seed: int = 8) -> list[dict[str, str]]:
    """n signed, encrypted text messages from `owners` distinct openids, each with a fresh MsgId."""
    rng = random.Random(seed)
    sender = WeChatSender(token=TOKEN, aes_key=AES_KEY, app_id=APP_ID)
    prefix = secrets.token_hex(3)
    out = []
    for _ in range(n):
        openid = f"o_bench_{prefix}_{rng.randrange(owners):05d}"
        query, body = sender.request(text_xml(openid, rng.choice(TEXTS), msg_id=secrets.randbits(62)))
        out.append({"query": query, "body": body.decode()})
    return out


async def load(
    url: str, requests: list[dict[str, str]], concurrency: int, *, server_pid: int | None = None
) -> dict[str, Any]:
    """Run the load generator in its own process against url (and count the server's CPU time)."""
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as fh:
        fh.write("\n".join(json.dumps(r) for r in requests))
        path = Path(fh.name)
    try:
        cpu_before = cpu_seconds(server_pid) if server_pid else 0.0
        split_before = cpu_split(server_pid) if server_pid else (0.0, 0.0)
        result = await run_json(
            [PY, "-m", "bench.loadgen", "--url", url, "--requests", str(path), "--concurrency", str(concurrency)]
        )
        if server_pid:
            used = cpu_seconds(server_pid) - cpu_before
            result["server_cpu_ms_per_request"] = round(1000 * used / max(1, result["ok"]), 3)
            user, system = (after - before for after, before in zip(cpu_split(server_pid), split_before, strict=True))
            result["server_user_ms_per_request"] = round(1000 * user / max(1, result["ok"]), 3)
            result["server_system_ms_per_request"] = round(1000 * system / max(1, result["ok"]), 3)
        return result
    finally:
        path.unlink(missing_ok=True)


def _counts(quick: bool) -> dict[int, int]:
    return {1: 150, 16: 800, 64: 800} if quick else {1: 400, 16: 2500, 64: 2500}


async def run(*, quick: bool = False, rounds: int = 2) -> dict[str, Any]:
    """Measure both servers at each concurrency; keep each side's best round (noise only slows)."""
    fake = FakeWeChatAPI()
    api_base = await fake.start()
    counts = _counts(quick)
    results: dict[str, Any] = {"full": {}, "baseline": {}, "ratio": {}, "cpu_ratio": {}}
    try:
        async with scratch_database("webhook") as db_url:
            hub_port, base_port = free_port(), free_port()
            hub = await serve_hub("webhook-serve", hub_env(database_url=db_url, port=hub_port, wechat_api_base=api_base), hub_port)
            base = await spawn("webhook-baseline", [PY, "-m", "bench.baseline", "--port", str(base_port)], dict(os.environ))
            try:
                await wait_http(f"http://127.0.0.1:{base_port}/healthz", child=base)
                targets = {
                    "full": (f"http://127.0.0.1:{hub_port}/wechat", hub.pid),
                    "baseline": (f"http://127.0.0.1:{base_port}/wechat", base.pid),
                }
                for url, _pid in targets.values():  # warm up caches, pools, prepared statements
                    await load(url, build_requests(300), 8)
                for c in CONCURRENCY:
                    for name, (url, pid) in targets.items():
                        best: dict[str, Any] | None = None
                        for _ in range(rounds):
                            r = await load(url, build_requests(counts[c]), c, server_pid=pid)
                            if best is None or r["throughput_rps"] > best["throughput_rps"]:
                                best = r
                        results[name][str(c)] = best
                    full, bare = results["full"][str(c)], results["baseline"][str(c)]
                    results["ratio"][str(c)] = round(full["throughput_rps"] / bare["throughput_rps"], 3)
                    results["cpu_ratio"][str(c)] = round(
                        bare["server_cpu_ms_per_request"] / full["server_cpu_ms_per_request"], 3
                    )
                    print(
                        f"  webhook c={c}: full {full['throughput_rps']} rps p50 {full['p50_ms']} ms "
                        f"p99 {full['p99_ms']} ms cpu {full['server_cpu_ms_per_request']} ms/req | "
                        f"baseline {bare['throughput_rps']} rps p99 {bare['p99_ms']} ms "
                        f"cpu {bare['server_cpu_ms_per_request']} ms/req | ratio {results['ratio'][str(c)]:.0%}",
                        flush=True,
                    )
            finally:
                await hub.stop()
                await base.stop()
    finally:
        await fake.close()
    c16 = results["full"]["16"]
    results["targets"] = {
        "ratio_c16_ge_0.35": results["ratio"]["16"] >= 0.35,
        "p99_c16_lt_50ms": c16["p99_ms"] < 50,
    }
    return results
