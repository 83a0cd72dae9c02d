"""`/healthz` and `/metrics`.

Both sit on the public port (issue 14). `/metrics` answers a caller with the
`BUTLER_METRICS_TOKEN` bearer token, or, with no token configured, only a caller on this machine
talking to us directly (a request relayed by a proxy carries forwarding headers and counts as
remote). `/healthz` answers everyone, but anonymous callers read only "ok"/"down": the error
types and backends are for operators.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import secrets
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.metrics import OUTBOX_PARKED, OUTBOX_PENDING, REFRESH, REGISTRY
from bot.runtime import Runtime
from storage import outbox
from storage.db import ping, unit_of_work

log = logging.getLogger(__name__)


def outbox_gauges(runtime: Runtime) -> Callable[[], Awaitable[None]]:
    """A refresher that reads parked and pending outbox counts (issue 16) for /metrics."""

    async def refresh() -> None:
        async with unit_of_work(runtime.sessions) as session:
            found = await outbox.counts(session=session)
        OUTBOX_PARKED.set(found["parked"])
        OUTBOX_PENDING.set(found["pending"])

    return refresh


async def _check(coro: Awaitable[object], timeout: float) -> str:
    try:
        await asyncio.wait_for(coro, timeout)
    except Exception as exc:  # any failure means "down" for this probe
        return f"down: {type(exc).__name__}"
    return "ok"


_FORWARDED = ("Forwarded", "X-Forwarded-For", "X-Real-IP")


def _is_local(request: web.Request) -> bool:
    """A direct connection from a loopback address (never one relayed by a proxy)."""
    if any(h in request.headers for h in _FORWARDED):
        return False
    try:
        return ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        return False


def _has_token(request: web.Request, token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return bool(token) and scheme.lower() == "bearer" and secrets.compare_digest(given.strip().encode(), token.encode())


def trusted(request: web.Request, token: str) -> bool:
    """Whether the caller may read operational details: the bearer token, or localhost without one."""
    return _has_token(request, token) if token else _is_local(request)


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
    if not runtime.settings.wechat_token:
        # Reported, not a 503: the database and store are fine, but no WeChat message gets in.
        body["wechat"] = "refusing: BUTLER_WECHAT_TOKEN is not set"
    else:
        body["wechat"] = "ok" if not paused else f"paused until {time.strftime('%H:%M:%S', time.localtime(paused))}: access token rejected"
    if runtime.nlu is not None:
        body["nlu"] = await runtime.nlu.health()
        body["nlu_backend"] = runtime.settings.nlu
    status = 200 if db == "ok" and redis == "ok" else 503
    if not trusted(request, runtime.settings.metrics_token):
        body = {k: ("ok" if body[k] == "ok" else "down") for k in ("db", "redis", "nlu") if k in body}
    return web.json_response(body, status=status)


async def metrics(request: web.Request, runtime: Runtime) -> web.Response:
    """Prometheus text format, for the token holder (or localhost when no token is set)."""
    token = runtime.settings.metrics_token
    if not trusted(request, token):
        if token:
            return web.Response(status=401, text="Unauthorized", headers={"WWW-Authenticate": "Bearer"})
        return web.Response(status=403, text="Forbidden: /metrics answers only on localhost")
    for refresh in request.app.get(REFRESH, []):
        try:
            await asyncio.wait_for(refresh(), 5)
        except Exception as exc:  # a slow or down database must not take the metrics page with it
            log.warning("metrics refresh failed: %r", exc)
    return web.Response(body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})
