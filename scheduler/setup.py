"""Builds the AsyncIOScheduler; jobs are thin and idempotent, so a missed tick is harmless."""

from __future__ import annotations

from apscheduler.schedulers.asyncio import AsyncIOScheduler


def create_scheduler(tz: str) -> AsyncIOScheduler:
    """A scheduler in the business time zone; coalesce missed runs and never overlap a job."""
    return AsyncIOScheduler(
        timezone=tz, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60}
    )
