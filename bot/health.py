"""`/healthz` and `/metrics`."""

from __future__ import annotations

import asyncio
import time

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.metrics import REGISTRY
from bot.runtime import Runtime
from storage.db import ping


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
    # Sending paused after a persistent token rejection (issue 15): reported, not a 503, since
    # owners' messages are still received and answered passively.
    paused = await runtime.wechat.shared_pause()
    body["wechat"] = "ok" if not paused else f"paused until {time.strftime('%H:%M:%S', time.localtime(paused))}: access token rejected"
    if runtime.nlu is not None:
        body["nlu"] = await runtime.nlu.health()
        body["nlu_backend"] = runtime.settings.nlu
    status = 200 if db == "ok" and redis == "ok" else 503
    return web.json_response(body, status=status)


async def metrics(_request: web.Request) -> web.Response:
    """Prometheus text format."""
    return web.Response(body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})
