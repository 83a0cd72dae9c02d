"""A fake WeChat API server (aiohttp) that records calls, for tests, benchmarks and the demo.

It speaks the real endpoints' shapes, so our real client code runs against it over HTTP.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.wechat.notices import violations


@dataclass
class RecordedCall:
    """One API call as the fake received it."""

    path: str
    params: dict[str, str]
    body: dict[str, Any]


@dataclass
class FakeWeChatAPI:
    """Records calls; `fail(path, errcode, times)` and `delay(path, seconds)` inject faults."""

    calls: list[RecordedCall] = field(default_factory=list)
    tokens_issued: list[str] = field(default_factory=list)
    _faults: dict[str, deque[int]] = field(default_factory=lambda: defaultdict(deque))
    _delays: dict[str, float] = field(default_factory=dict)
    _server: TestServer | None = None
    listeners: list[Any] = field(default_factory=list)
    template_msgids: list[int] = field(default_factory=list)
    _clientmsgids: dict[str, int] = field(default_factory=dict)

    def fail(self, path: str, errcode: int, times: int = 1) -> None:
        """Answer the next `times` calls to path with errcode."""
        self._faults[path].extend([errcode] * times)

    def clear_faults(self, path: str) -> None:
        """Stop answering path with injected errcodes (e.g. the daily quota window reset)."""
        self._faults[path].clear()

    def delay(self, path: str, seconds: float) -> None:
        """Sleep before answering calls to path (to exercise client timeouts)."""
        self._delays[path] = seconds

    def calls_to(self, path: str) -> list[RecordedCall]:
        """Recorded calls to one path."""
        return [c for c in self.calls if c.path == path]

    def app(self) -> web.Application:
        """The aiohttp application."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    async def start(self, port: int = 0) -> str:
        """Start on 127.0.0.1 and return the base URL."""
        self._server = TestServer(self.app(), host="127.0.0.1", port=port)
        await self._server.start_server()
        return str(self._server.make_url("")).rstrip("/")

    async def close(self) -> None:
        """Stop the server."""
        if self._server is not None:
            await self._server.close()

    async def _handle(self, request: web.Request) -> web.Response:
        path = request.path
        raw = await request.text()
        body: dict[str, Any] = json.loads(raw) if raw.strip() else {}
        call = RecordedCall(path=path, params=dict(request.query), body=body)
        self.calls.append(call)
        for listener in self.listeners:
            listener(call)
        if path in self._delays:
            await asyncio.sleep(self._delays[path])
        if self._faults[path]:
            errcode = self._faults[path].popleft()
            return web.json_response({"errcode": errcode, "errmsg": f"fake error {errcode}"})
        if path == "/cgi-bin/token":
            token = f"TOKEN-{len(self.tokens_issued) + 1}-{secrets.token_hex(4)}"
            self.tokens_issued.append(token)
            return web.json_response({"access_token": token, "expires_in": 7200})
        if request.query.get("access_token") not in self.tokens_issued[-1:]:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        return web.json_response(self._answer(path, request.query, body))

    def _answer(self, path: str, query: Any, body: dict[str, Any]) -> dict[str, Any]:
        if path == "/cgi-bin/message/template/send":
            # WeChat silently drops first/remark, over-long values and line breaks (since
            # 2023-05-04); refusing them here makes a regression visible in tests.
            problems = violations(body.get("data") or {})
            if problems:
                return {"errcode": 47003, "errmsg": "argument invalid! " + "; ".join(problems)}
            msgid = secrets.randbits(40)
            self.template_msgids.append(msgid)
            return {"errcode": 0, "errmsg": "ok", "msgid": msgid}
        if path == "/cgi-bin/message/mass/send":
            # WeChat deduplicates mass sends by clientmsgid: a repeat is refused with 45065.
            key = body.get("clientmsgid")
            if key and key in self._clientmsgids:
                return {"errcode": 45065, "errmsg": "clientmsgid exist", "msg_id": self._clientmsgids[key]}
            msg_id = secrets.randbits(40)
            if key:
                self._clientmsgids[key] = msg_id
            return {"errcode": 0, "errmsg": "send job submission success", "msg_id": msg_id}
        if path == "/cgi-bin/user/info":
            return {"subscribe": 1, "openid": query.get("openid"), "nickname": "业主", "tagid_list": []}
        if path == "/cgi-bin/tags/create":
            return {"tag": {"id": 100 + len(self.calls), "name": body["tag"]["name"]}}
        return {"errcode": 0, "errmsg": "ok"}
