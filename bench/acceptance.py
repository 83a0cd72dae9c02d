"""Issue 18's acceptance workload: `python -m bench webhook --acceptance [--messages N]`.

Distinct encrypted messages from 2,000 owners (most first contacts during the run), cycling the five
texts below, safe mode, c=16, one `butler serve` pinned to one core with taskset, PostgreSQL + Redis,
against the bare aiohttp + wechatpy echo (pinned to the same core) measured in the same run.

Counts per message: server CPU (/proc), database transactions (pg_stat_database of the scratch
database: xact_commit + xact_rollback; PostgreSQL keeps no per-database statement count without
pg_stat_statements) and Redis commands (INFO total_commands_processed; the Redis server is shared,
so other engineers' traffic inflates this figure on a busy machine).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
from pathlib import Path
from typing import Any

from bench.common import (
    AES_KEY,
    APP_ID,
    BENCH_DIR,
    BUTLER,
    PY,
    REDIS_URL,
    TOKEN,
    asyncpg_url,
    free_port,
    hub_env,
    rss_mb,
    scratch_database,
    spawn,
    wait_http,
)
from bench.webhook import load
from bot.devtools.fake_wechat import FakeWeChatAPI
from bot.devtools.wechat_sender import WeChatSender, text_xml

TEXTS = ("你们有什么服务", "物业费怎么交", "最近有什么活动", "你好", "修空调怎么收费")
OWNERS = 2000
CONCURRENCY = 16
PROFILES = BENCH_DIR / "profiles"


def build(n: int, owners: int = OWNERS) -> list[dict[str, str]]:
    """n messages, owner i % owners sends text i % 5: every owner is new the first time round."""
    sender = WeChatSender(token=TOKEN, aes_key=AES_KEY, app_id=APP_ID)
    prefix = secrets.token_hex(3)
    out = []
    for i in range(n):
        openid = f"o_acc_{prefix}_{i % owners:05d}"
        query, body = sender.request(text_xml(openid, TEXTS[(i // owners + i) % len(TEXTS)], msg_id=secrets.randbits(62)))
        out.append({"query": query, "body": body.decode()})
    return out


def _pinned(args: list[str]) -> list[str]:
    core = os.environ.get("BENCH_CORE", "1")
    return ["taskset", "-c", core, *args] if shutil.which("taskset") else args


async def _xacts(db_url: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(asyncpg_url(db_url))
    try:
        return int(await conn.fetchval(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"))
    finally:
        await conn.close()


async def _redis_commands() -> int:
    import redis.asyncio as aioredis

    client = aioredis.from_url(REDIS_URL)
    try:
        return int((await client.info("stats"))["total_commands_processed"])
    finally:
        await client.aclose()


async def _served_counts(base: str) -> tuple[int, int]:
    """(SQL statements, Redis commands) the served process itself sent so far, from its /metrics."""
    import aiohttp

    async with aiohttp.ClientSession() as http, http.get(f"{base}/metrics") as resp:
        text = await resp.text()
    values = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name in ("butler_sql_statements_total", "butler_redis_commands_total"):
            values[name] = int(float(value))
    # A build without the counters (an older commit, for a before/after run) reports 0.
    return values.get("butler_sql_statements_total", 0), values.get("butler_redis_commands_total", 0)


async def _spy(pid: int, seconds: int) -> asyncio.subprocess.Process | None:
    """py-spy attached to the served process for the measured run (BENCH_PROFILE=1), if installed."""
    spy = shutil.which("py-spy") or str(Path(PY).parent / "py-spy")
    if not os.environ.get("BENCH_PROFILE") or not Path(spy).exists():
        return None
    PROFILES.mkdir(exist_ok=True)
    return await asyncio.create_subprocess_exec(
        spy, "record", "--pid", str(pid), "--format", "raw", "--rate", "200", "--duration", str(seconds),
        "--output", str(PROFILES / "acceptance.folded"), "--nonblocking",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )


async def run(*, messages: int = 40_000) -> dict[str, Any]:
    """Warm both servers, then the full path and the echo once each with the same-sized workload."""
    fake = FakeWeChatAPI()
    api_base = await fake.start()
    try:
        async with scratch_database("acceptance") as db_url:
            hub_port, base_port = free_port(), free_port()
            env = hub_env(database_url=db_url, port=hub_port, wechat_api_base=api_base)
            hub = await spawn("acceptance-serve", _pinned([*BUTLER, "serve", "--no-scheduler", "--channels", "wechat"]), env)
            base = await spawn("acceptance-baseline", _pinned([PY, "-m", "bench.baseline", "--port", str(base_port)]), dict(os.environ))
            try:
                await wait_http(f"http://127.0.0.1:{hub_port}/healthz", child=hub)
                await wait_http(f"http://127.0.0.1:{base_port}/healthz", child=base)
                hub_url, base_url = f"http://127.0.0.1:{hub_port}/wechat", f"http://127.0.0.1:{base_port}/wechat"
                await load(hub_url, build(200, owners=50), 8)  # warm pools and the NLU, 50 owners only
                await load(base_url, build(200, owners=50), 8)
                bare = await load(base_url, build(messages), CONCURRENCY, server_pid=base.pid)
                requests = build(messages)
                served = f"http://127.0.0.1:{hub_port}"
                x0, r0, (s0, c0) = await _xacts(db_url), await _redis_commands(), await _served_counts(served)
                spy = await _spy(hub.pid, 600)  # stopped (SIGINT: py-spy then writes its file) after the run
                full = await load(hub_url, requests, CONCURRENCY, server_pid=hub.pid)
                x1, r1, (s1, c1) = await _xacts(db_url), await _redis_commands(), await _served_counts(served)
                rss = rss_mb(hub.pid)
                if spy is not None:
                    spy.send_signal(signal.SIGINT)
                    await spy.wait()
            finally:
                await hub.stop()
                await base.stop()
    finally:
        await fake.close()
    ok = max(1, full["ok"])
    result = {
        "messages": messages, "owners": OWNERS, "concurrency": CONCURRENCY, "full": full, "baseline": bare,
        "ratio": round(full["throughput_rps"] / bare["throughput_rps"], 3),
        "db_transactions_per_message": round((x1 - x0) / ok, 2),
        "redis_commands_per_message": round((r1 - r0) / ok, 2),
        "sql_statements_per_message": round((s1 - s0) / ok, 2),
        "served_redis_commands_per_message": round((c1 - c0) / ok, 2),
        "load_average": os.getloadavg(),
        "rss_mb_after": rss,
    }
    result["targets"] = {"ratio_ge_0.25": result["ratio"] >= 0.25, "p99_lt_100ms": full["p99_ms"] < 100}
    print(
        f"  acceptance {messages} msgs/{OWNERS} owners c={CONCURRENCY}: full {full['throughput_rps']} rps "
        f"p50 {full['p50_ms']} ms p99 {full['p99_ms']} ms cpu {full['server_cpu_ms_per_request']} ms/msg "
        f"(user {full['server_user_ms_per_request']}, sys {full['server_system_ms_per_request']}) | "
        f"echo {bare['throughput_rps']} rps p99 {bare['p99_ms']} ms cpu {bare['server_cpu_ms_per_request']} ms/msg | "
        f"ratio {result['ratio']:.3f} | db xacts/msg {result['db_transactions_per_message']} "
        f"sql stmts/msg {result['sql_statements_per_message']} "
        f"redis cmds/msg (own client) {result['served_redis_commands_per_message']} "
        f"(server INFO {result['redis_commands_per_message']}) | RSS {rss} MB | load {result['load_average'][0]:.1f}",
        flush=True,
    )
    return result
