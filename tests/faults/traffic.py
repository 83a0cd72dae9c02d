"""Background owner traffic for fault tests: keeps messages flowing while a server is broken."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.devtools.wechat_sender import text_xml
from tests.conftest import Hub

# Chatter that never opens a dialog or a hand-off, so every message must get a passive answer.
TEXTS = ("你好", "谢谢", "有什么服务", "再见")


@dataclass
class Traffic:
    """Records (status, reply text) of every message sent while running."""

    hub: Hub
    owners: int = 4
    results: list[tuple[int, str]] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self) -> None:
        """One sender loop per owner, each waiting for its reply before sending again."""
        prefix = uuid.uuid4().hex[:8]
        self._tasks = [asyncio.create_task(self._owner(f"o_fault_{prefix}_{i}")) for i in range(self.owners)]

    async def _owner(self, openid: str) -> None:
        for text in itertools.cycle(TEXTS):
            if self._stop.is_set():
                return
            status, reply = await self.hub.post(text_xml(openid, text))
            self.results.append((status, reply.get("Content", "")))
            await asyncio.sleep(0.02)

    async def answered(self, count: int, *, timeout: float = 30) -> None:
        """Wait until `count` more replies have come back: on a loaded CI machine the first ones can
        take longer than any fixed sleep, and a slow answer is not what these tests are about."""
        target = len(self.results) + count
        async with asyncio.timeout(timeout):
            while len(self.results) < target:
                await asyncio.sleep(0.02)

    async def recovered(self, is_real: Callable[[str], bool], *, timeout: float = 30) -> None:
        """Wait until the last reply of every owner's loop is a real answer again."""
        async with asyncio.timeout(timeout):
            while not (len(self.results) >= self.owners and all(is_real(t) for _, t in self.results[-self.owners :])):
                await asyncio.sleep(0.02)

    async def stop(self) -> list[tuple[int, str]]:
        """Stop sending and return what came back."""
        self._stop.set()
        await asyncio.gather(*self._tasks)
        return self.results
