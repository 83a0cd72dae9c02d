"""Real `butler serve` / `butler scheduler` child processes for fault tests (kill -9 included)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

BUTLER = [sys.executable, "-c", "from bot.cli import main; main()"]
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Worker:
    """One child process and its log."""

    proc: asyncio.subprocess.Process
    log: Path

    def kill9(self) -> None:
        """SIGKILL: no cleanup, no graceful shutdown, like a crash or the OOM killer."""
        if self.proc.returncode is None:
            os.kill(self.proc.pid, signal.SIGKILL)

    async def stop(self) -> None:
        """SIGTERM and wait (SIGKILL if it hangs)."""
        if self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except TimeoutError:
                self.proc.kill()
        await self.proc.wait()


async def start(args: list[str], env: dict[str, str], log: Path, *, health_port: int | None = None) -> Worker:
    """Start `butler <args>`; with health_port, wait until its /healthz answers 200."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("BUTLER_")} | env
    with log.open("ab") as fh:
        proc = await asyncio.create_subprocess_exec(*BUTLER, *args, env=full_env, cwd=str(ROOT), stdout=fh, stderr=fh)
    worker = Worker(proc, log)
    if health_port is not None:
        deadline = time.monotonic() + 90
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if proc.returncode is not None:
                    raise AssertionError(f"butler {args[0]} exited: {log.read_text()[-3000:]}")
                try:
                    async with http.get(f"http://127.0.0.1:{health_port}/healthz") as resp:
                        if resp.status == 200:
                            return worker
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)
        await worker.stop()
        raise AssertionError(f"butler {args[0]} not healthy: {log.read_text()[-3000:]}")
    return worker
