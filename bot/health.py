"""`/healthz` and `/metrics`."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.metrics import OUTBOX_PARKED, OUTBOX_PENDING, REFRESH, REGISTRY
from bot.runtime import Runtime
from storage import outbox
from storage.db import ping, unit_of_work

log = logging.getLogger(__name__)


def outbox_gauges(runtime: Runtime):  # type: ignore[no-untyped-def]
    """A refresher that reads parked and pending outbox counts (issue 16) for /metrics."""

    async def refresh() -> None:
        async with unit_of_work(runtime.sessions) as session:
            found = await outbox.counts(session=session)
        OUTBOX_PARKED.set(found["parked"])
        OUTBOX_PENDING.set(found["pending"])

    return refresh


async def _check(coro: object, timeout: float) -> str:
    try:
        await asyncio.wait_for(coro, timeout)  # type: ignore[arg-type]
    except Exception as exc:  # any failure means "down" for this probe
        return f"down: {type(exc).__name__}"
    return "ok"


async def healthz(request: web.Request, runtime: Runtime) -> web.Response:
    """200 when the database and the store answer; 503 otherwise. NLU is reported, not required."""
    timeout = runtime.settings.health_timeout_seconds
    db, redis = await asyncio.gather(_check(ping(runtime.engine), timeout), _check(runtime.kv.ping(), timeout))
    body: dict[str, str] = {
        "db": db,
        "redis": redis,
        "redis_backend": "redis" if runtime.settings.redis_url else "in-process",
    }
    if not runtime.settings.wechat_token:
        # Reported, not a 503: the database and store are fine, but no WeChat message gets in.
        body["wechat"] = "refusing: BUTLER_WECHAT_TOKEN is not set"
    if runtime.nlu is not None:
        body["nlu"] = await runtime.nlu.health()
        body["nlu_backend"] = runtime.settings.nlu
    status = 200 if db == "ok" and redis == "ok" else 503
    return web.json_response(body, status=status)


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text format."""
    for refresh in request.app.get(REFRESH, []):
        try:
            await asyncio.wait_for(refresh(), 5)
        except Exception as exc:  # a slow or down database must not take the metrics page with it
            log.warning("metrics refresh failed: %r", exc)
    return web.Response(body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})
