"""Runs the NLU engineer's bench/nlu.py in its own process and files its figures under "nlu".

Rasa is measured when BUTLER_RASA_URL answers; BENCH_RASA=start makes bench/nlu.py start (and stop)
a Rasa server for the run (minutes on a cold cache, see .ci/rasa-stage).
"""

from __future__ import annotations

import json
import os
from typing import Any

from bench.common import BENCH_DIR, PY, ROOT


async def run(*, quick: bool = False) -> dict[str, Any]:
    """Embedded (and Rasa, when reachable) parse latency over the NLU test utterances."""
    import asyncio

    args = [PY, str(BENCH_DIR / "nlu.py"), "--rounds", "2" if quick else "5"]
    if os.environ.get("BENCH_RASA") == "start":
        args.append("--start-rasa")
    proc = await asyncio.create_subprocess_exec(
        *args, cwd=str(ROOT), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"bench/nlu.py failed: {err.decode()[-1500:]}")
    result: dict[str, Any] = {}
    for line in out.decode().splitlines():
        if line.startswith("{"):
            row = json.loads(line)
            backend = row.get("backend", "embedded")
            result[backend] = row if "p50_ms" in row else f"not measured ({row.get('status', 'unavailable')})"
    return result
