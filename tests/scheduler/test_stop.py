"""Stopping the scheduler lets a running job finish (bounded) and leaves no task behind.

A job cancelled mid-query while the engine was disposed kept its SQLite connection thread alive,
and `butler scheduler` hung after SIGTERM (scheduler/setup.py: stop_scheduler)."""

from __future__ import annotations

import asyncio

from scheduler.setup import create_scheduler, stop_scheduler


async def test_a_running_job_finishes_before_the_scheduler_stops() -> None:
    started, finished = asyncio.Event(), []

    async def job() -> None:
        started.set()
        await asyncio.sleep(0.3)  # e.g. a tick's unit of work, mid-query
        finished.append(True)

    sched = create_scheduler("Asia/Shanghai")
    sched.add_job(job)  # runs at once
    sched.start()
    await asyncio.wait_for(started.wait(), 10)
    await stop_scheduler(sched, grace_seconds=10)
    assert finished == [True]
    assert not sched.running


async def test_a_job_past_the_grace_is_cancelled_and_unwinds() -> None:
    started, unwound = asyncio.Event(), []

    async def job() -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        finally:
            unwound.append(True)  # where a unit of work returns its connection

    sched = create_scheduler("Asia/Shanghai")
    sched.add_job(job)
    sched.start()
    await asyncio.wait_for(started.wait(), 10)
    loop = asyncio.get_running_loop()
    began = loop.time()
    await stop_scheduler(sched, grace_seconds=0.2)
    assert unwound == [True] and loop.time() - began < 5
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()] == []
