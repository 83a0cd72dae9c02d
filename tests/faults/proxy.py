"""A delaying proxy in front of the fake WeChat API: the call reaches WeChat (and takes effect),
only its answer comes back late, so the client times out after delivery — the case where a blind
retry would send a message twice."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class DelayingProxy:
    """Forwards every request upstream; `hold(path, body)` says how long to sit on the answer."""

    upstream: str
    hold: Callable[[str, dict[str, Any]], float] = lambda _path, _body: 0.0
    delayed: list[str] = field(default_factory=list)  # paths whose answer was held back
    _server: TestServer | None = None
    _http: aiohttp.ClientSession | None = None

    async def start(self) -> str:
        """Start on 127.0.0.1; returns the base URL to use as BUTLER_WECHAT_API_BASE."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._http = aiohttp.ClientSession()
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()
        return str(self._server.make_url("")).rstrip("/")

    async def close(self) -> None:
        """Stop."""
        if self._server is not None:
            await self._server.close()
        if self._http is not None:
            await self._http.close()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._http is not None
        body = await request.read()
        async with self._http.request(
            request.method, f"{self.upstream}{request.path}", params=request.query, data=body,
            headers={"Content-Type": request.headers.get("Content-Type", "application/json")},
        ) as resp:
            payload, status = await resp.read(), resp.status
        seconds = self.hold(request.path, json.loads(body) if body.strip() else {})
        if seconds:
            self.delayed.append(request.path)
            await asyncio.sleep(seconds)  # delivered upstream already; only the answer is late
        return web.Response(body=payload, status=status, content_type="application/json")
