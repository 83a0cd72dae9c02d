"""An in-process event feed for the simulator page, streamed as server-sent events."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web

HEARTBEAT_SECONDS = 15.0

Match = Callable[[dict[str, Any]], bool]


class EventBus:
    """Keeps recent events (a reloaded page replays them) and fans new ones out to subscribers."""

    def __init__(self, history: int = 1000) -> None:
        self.history: deque[dict[str, Any]] = deque(maxlen=history)
        self._subscribers: set[asyncio.Queue[dict[str, Any]]] = set()
        self._next_id = 1
        self._waiters: list[tuple[Match, asyncio.Future[dict[str, Any]]]] = []

    def publish(self, kind: str, **payload: Any) -> dict[str, Any]:
        """Record an event and hand it to every open stream."""
        event = {"id": self._next_id, "kind": kind, "at": time.time(), **payload}
        self._next_id += 1
        self.history.append(event)
        for queue in list(self._subscribers):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(event)
        for waiter in list(self._waiters):
            match, future = waiter
            if not future.done() and match(event):
                future.set_result(event)
                self._waiters.remove(waiter)
        return event

    async def wait_for(self, match: Match, *, timeout: float, since: int = 0) -> dict[str, Any]:
        """The first event (already seen after id `since`, or future) for which match(event) holds."""
        for event in self.history:
            if event["id"] > since and match(event):
                return event
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        waiter = (match, future)
        self._waiters.append(waiter)
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    @property
    def last_id(self) -> int:
        """Id of the newest event (0 when none)."""
        return self._next_id - 1

    @contextlib.asynccontextmanager
    async def subscription(self) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        """A queue receiving every event published while the context is open."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=10_000)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    async def stream(self, request: web.Request) -> web.StreamResponse:
        """GET handler: replay history after Last-Event-ID, then stream live events."""
        since = int(request.headers.get("Last-Event-ID") or request.query.get("since") or 0)
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        async with self.subscription() as queue:
            sent = since
            for event in list(self.history):
                if event["id"] > sent:
                    await response.write(_frame(event))
                    sent = event["id"]
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    await response.write(b": keep-alive\n\n")
                    continue
                if event["id"] > sent:  # the replay may already have sent it
                    await response.write(_frame(event))
                    sent = event["id"]


def _frame(event: dict[str, Any]) -> bytes:
    data = json.dumps(event, ensure_ascii=False)
    return f"id: {event['id']}\ndata: {data}\n\n".encode()
