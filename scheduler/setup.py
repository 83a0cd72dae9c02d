"""Builds the AsyncIOScheduler; jobs are thin and idempotent, so a missed tick is harmless."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from scheduler.context import JobContext
from scheduler.jobs import JOBS, run_job


def create_scheduler(tz: str) -> AsyncIOScheduler:
    """A scheduler in the business time zone; coalesce missed runs and never overlap a job."""
    # "Running job …" twice per tick per job would flood the logs; jobs log what they did instead.
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    return AsyncIOScheduler(
        timezone=tz, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60}
    )


def register_jobs(sched: AsyncIOScheduler, ctx: JobContext) -> None:
    """Fixed interval ticks; what is due lives in database rows, so ticks survive restarts.

    Broadcasts tick faster (a confirmed broadcast also starts at once via the sender's kick).
    """
    # The first tick runs at start-up: work that fell due while no process was running goes now.
    first_run = datetime.now(sched.timezone) + timedelta(seconds=1)
    unknown = set(ctx.config.jobs) - set(JOBS)
    if unknown:
        raise ValueError(f"unknown scheduler job(s): {', '.join(sorted(unknown))}; known: {', '.join(JOBS)}")
    for name in ctx.config.jobs or tuple(JOBS):
        seconds = ctx.config.broadcast_tick_seconds if name == "broadcasts" else ctx.config.tick_seconds
        sched.add_job(run_job, "interval", seconds=seconds, args=[name, ctx], id=f"job-{name}", name=f"job {name}",
                      replace_existing=True, next_run_time=first_run)


async def stop_scheduler(sched: AsyncIOScheduler, *, grace_seconds: float = 10.0) -> None:
    """Stop taking jobs, let running ones finish (bounded), then cancel the rest and let them unwind.

    `shutdown(wait=False)` alone cancels a job mid-query, and the engine was disposed before the
    cancelled task had returned its connection: on SQLite that connection's aiosqlite thread (not a
    daemon) never ended, and `butler scheduler` hung after SIGTERM until killed (seen in the suite
    under load, 2026-12-02).
    """
    # APScheduler 3.x exposes no way to await its running jobs: its asyncio executor keeps their
    # tasks in `_pending_futures` (3.x is in maintenance, so this does not move; checked on 3.11).
    executor = sched._lookup_executor("default")
    running = {f for f in getattr(executor, "_pending_futures", set()) if not f.done()}
    sched.pause()  # no new runs; those in flight go on
    if running:
        await asyncio.wait(running, timeout=grace_seconds)
    sched.shutdown(wait=False)  # cancels whatever is still running, on the loop's next turn
    await asyncio.sleep(0)  # (AsyncIOScheduler defers shutdown with call_soon_threadsafe)
    leftover = {f for f in running if not f.done()}
    if leftover:
        await asyncio.wait(leftover, timeout=2.0)  # let the cancellations close their sessions
