"""Helpers for scheduler tests: a job context on a running hub with a fixed clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.app import RELAY, SERVICES
from scheduler.context import JobContext
from tests.conftest import Hub

TZ = ZoneInfo("Asia/Shanghai")


def local(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    """A Shanghai wall-clock time as an aware UTC datetime."""
    return datetime(y, m, d, hh, mm, tzinfo=TZ).astimezone(UTC)


def job_ctx(hub: Hub, at: datetime | None = None) -> JobContext:
    """The process's real job context (sessions, store, relay kick, settings), optionally at a fixed time."""
    ctx = hub.client.app[SERVICES].job_context()
    return ctx if at is None else replace(ctx, clock=lambda: at)


async def drain(hub: Hub) -> None:
    """Deliver what the jobs put in the outbox."""
    await hub.client.app[RELAY].drain()
