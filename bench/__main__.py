"""`python -m bench all|webhook|broadcast|dispatch|nlu|memory [--quick]`.

Writes bench/results.json (merged, so one benchmark can be re-run alone) and bench/RESULTS.md, and
prints the table. Needs PostgreSQL and Redis (BENCH_PG_ADMIN_URL / BENCH_REDIS_URL, defaulting to
the test suite's 127.0.0.1 servers).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import logging
import platform
import time
from datetime import UTC, datetime
from typing import Any

from bench.common import BENCH_DIR
from bench.report import render

BENCHMARKS = ("webhook", "broadcast", "dispatch", "nlu", "memory")
RESULTS = BENCH_DIR / "results.json"
TABLE = BENCH_DIR / "RESULTS.md"


async def run_one(name: str, quick: bool) -> dict[str, Any]:
    """Import bench.<name> (bench.nlu_runner for NLU) and run it; failures are recorded, not fatal."""
    module = importlib.import_module(f"bench.{'nlu_runner' if name == 'nlu' else name}")
    started = time.perf_counter()
    try:
        result = await module.run(quick=quick)
    except Exception as exc:  # one broken benchmark must not hide the others' figures
        logging.exception("benchmark %s failed", name)
        result = {"error": f"{type(exc).__name__}: {exc}"}
    result["wall_seconds"] = round(time.perf_counter() - started, 1)
    return result


def with_notes(table: str, previous: str) -> str:
    """The generated table, then the hand-written sections the file already holds (everything
    from its first "## " heading: before/after runs, profiles), which a rerun must not drop."""
    at = previous.find("\n## ")
    return table if at < 0 else table.rstrip("\n") + "\n" + previous[at:]


def main() -> None:
    """Run the chosen benchmarks, merge into results.json, write and print RESULTS.md."""
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument("which", nargs="*", default=["all"], help=f"all or any of {', '.join(BENCHMARKS)}")
    ap.add_argument("--quick", action="store_true", help="fewer requests and owners (a smoke run)")
    ap.add_argument("--acceptance", action="store_true", help="webhook: issue 18's workload (bench/acceptance.py)")
    ap.add_argument("--messages", type=int, default=40_000, help="with --acceptance: how many messages")
    args = ap.parse_args()
    if args.acceptance:
        from bench import acceptance

        print(json.dumps(asyncio.run(acceptance.run(messages=args.messages)), ensure_ascii=False))
        return
    logging.basicConfig(level=logging.WARNING)
    names = list(BENCHMARKS) if "all" in args.which else args.which
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        ap.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    results: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for name in names:
        print(f"== {name}", flush=True)
        results[name] = asyncio.run(run_one(name, args.quick))
        results[name]["quick"] = args.quick
        results[name]["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    results["machine"] = {
        "python": platform.python_version(),
        "cpus": __import__("os").cpu_count(),
        "platform": platform.platform(),
    }
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    table = render(results)
    TABLE.write_text(with_notes(table, TABLE.read_text() if TABLE.exists() else ""))
    print()
    print(table)


if __name__ == "__main__":
    main()
