"""Shared plumbing for the benchmarks: ports, statistics, a scratch database, child processes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
LOG_DIR = BENCH_DIR / "logs"
PY = sys.executable
# `butler ...` as a child process, independent of PATH (the console script lives in the venv).
BUTLER = [PY, "-c", "from bot.cli import main; main()"]

PG_ADMIN_URL = os.environ.get(
    "BENCH_PG_ADMIN_URL", os.environ.get("BUTLER_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", os.environ.get("BUTLER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))

TOKEN = "benchtoken"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APP_ID = "wx2c2769f8efd9abc2"


def free_port() -> int:
    """A TCP port nobody is listening on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list (q in 0..100)."""
    if not sorted_values:
        return float("nan")
    rank = max(0, min(len(sorted_values) - 1, round(q / 100 * len(sorted_values) + 0.5) - 1))
    return float(sorted_values[rank])


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/max in milliseconds."""
    ordered = sorted(seconds)
    return {
        "n": len(ordered),
        "p50_ms": round(percentile(ordered, 50) * 1000, 2),
        "p95_ms": round(percentile(ordered, 95) * 1000, 2),
        "p99_ms": round(percentile(ordered, 99) * 1000, 2),
        "max_ms": round((ordered[-1] if ordered else float("nan")) * 1000, 2),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2) if ordered else float("nan"),
    }


def rss_mb(pid: int) -> float:
    """Resident set size of a process in MiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User+system CPU time a process has used so far (Linux /proc), contention-independent."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_split(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process so far: system time is mostly socket round trips."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def asyncpg_url(sqlalchemy_url: str) -> str:
    """The plain libpq URL asyncpg.connect takes."""
    return sqlalchemy_url.replace("postgresql+asyncpg://", "postgresql://", 1)


@asynccontextmanager
async def scratch_database(label: str, *, migrate: bool = True) -> AsyncIterator[str]:
    """A fresh PostgreSQL database (SQLAlchemy URL), migrated to heads, dropped afterwards."""
    import asyncpg

    from storage.migrate import upgrade

    name = f"butler_bench_{label}_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    url = f"{base}/{name}"
    try:
        if migrate:
            await upgrade(url)
        yield url
    finally:
        if not os.environ.get("BENCH_KEEP_DB"):
            admin = await asyncpg.connect(PG_ADMIN_URL)
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await admin.close()


def hub_env(*, database_url: str, port: int, wechat_api_base: str, **extra: str) -> dict[str, str]:
    """Environment for a `butler serve`/`butler scheduler` child in safe mode on PostgreSQL+Redis."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUTLER_")}
    if "BUTLER_CACHE_DIR" in os.environ:  # keep the trained NLU model cache
        env["BUTLER_CACHE_DIR"] = os.environ["BUTLER_CACHE_DIR"]
    env.update(
        BUTLER_DATABASE_URL=database_url,
        BUTLER_REDIS_URL=REDIS_URL,
        BUTLER_REDIS_PREFIX=f"bench:{uuid.uuid4().hex[:8]}:",
        BUTLER_HOST="127.0.0.1",
        BUTLER_PORT=str(port),
        BUTLER_WECHAT_TOKEN=TOKEN,
        BUTLER_WECHAT_AES_KEY=AES_KEY,
        BUTLER_WECHAT_APP_ID=APP_ID,
        BUTLER_WECHAT_APP_SECRET="bench-secret",
        BUTLER_WECHAT_API_BASE=wechat_api_base,
        BUTLER_NLU="embedded",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


@dataclass
class Child:
    """A child process started by a benchmark, with its log file."""

    name: str
    proc: asyncio.subprocess.Process
    log_path: Path
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        """The OS process id."""
        return int(self.proc.pid)

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> None:
        """Signal the process and wait for it (SIGKILL after timeout)."""
        if self.proc.returncode is not None:
            return
        self.proc.send_signal(sig)
        try:
            await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


async def spawn(name: str, args: Sequence[str], env: dict[str, str]) -> Child:
    """Start a child process with stdout+stderr going to bench/logs/<name>.log."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log_path = LOG_DIR / f"{name}.log"
    log = log_path.open("wb")
    proc = await asyncio.create_subprocess_exec(*args, env=env, cwd=str(ROOT), stdout=log, stderr=log)
    log.close()
    return Child(name, proc, log_path)


async def wait_http(url: str, *, timeout: float = 120, child: Child | None = None) -> None:
    """Poll until GET url answers 200 (the NLU model may train on a cold cache)."""
    import aiohttp

    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if child is not None and child.proc.returncode is not None:
                raise RuntimeError(f"{child.name} exited ({child.proc.returncode}); see {child.log_path}")
            try:
                async with http.get(url, timeout=aiohttp.ClientTimeout(total=2)) as resp:
                    if resp.status == 200:
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError(f"{url} did not come up within {timeout}s")


async def serve_hub(name: str, env: dict[str, str], port: int, *, extra: Sequence[str] = ()) -> Child:
    """Start `butler serve --no-scheduler [extra…]` and wait until /healthz is green."""
    child = await spawn(name, [*BUTLER, "serve", "--no-scheduler", *extra], env)
    await wait_http(f"http://127.0.0.1:{port}/healthz", child=child)
    return child


async def run_json(args: Sequence[str], *, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a child that prints one JSON object on stdout; return it."""
    proc = await asyncio.create_subprocess_exec(
        *args, cwd=str(ROOT), env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"{args[:3]} failed ({proc.returncode}): {err.decode()[-2000:]}")
    return json.loads(out.decode().strip().splitlines()[-1])
