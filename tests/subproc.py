"""Run a CLI from an async test without blocking the event loop.

`subprocess.run` inside a coroutine freezes the loop for the whole command. A hub running in that
loop may be between the statements of a transaction (a background delivery, a late reply) and
then holds SQLite's write lock until the loop runs again, which it cannot until the command ends:
the command waited out its 30 s busy timeout and failed with "database is locked" (CI, 2026-12-01).
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path


async def run(
    args: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path | str | None = None,
    timeout: float = 120, capture_output: bool = True, text: bool = True, input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Like `subprocess.run(..., capture_output=True, text=True)`, awaited."""
    assert capture_output and text  # the only way the tests call it
    proc = await asyncio.create_subprocess_exec(
        *args, env=dict(env) if env is not None else None, cwd=cwd,
        stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(input.encode() if input is not None else None), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    return subprocess.CompletedProcess(list(args), proc.returncode or 0, out.decode(), err.decode())
