"""The guided tour: the main story played step by step through the simulated platforms.

bind → order → dispatch → accept → complete → follow-up rating → broadcast, in about two minutes.
Each step acts like a person would (a message, a button press) and waits to see the hub answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.demo import data

if TYPE_CHECKING:
    from bot.demo.sim import Simulator

log = logging.getLogger(__name__)

# The tour's owner is in the roster but not yet bound, so the story starts from the beginning.
TOUR_OWNER = next(o for o in data.OWNERS if not o.bound and o.community == "翠苑")
GOOD_MERCHANT = data.MERCHANTS[0]
EXPIRED_MERCHANT = next(m for m in data.MERCHANTS if m.expired)
ADMIN = data.STAFF[0]
WAIT_SECONDS = 20.0


class TourFailed(Exception):
    """The hub did not answer a step as the story expects."""


@dataclass
class Step:
    """One narrated step."""

    caption: str
    run: Callable[[Tour], Awaitable[None]]
    # Which owner / merchant / tab the page should show while the step plays.
    focus: dict[str, Any] = field(default_factory=dict)


class Tour:
    """Runs the steps as a background task and narrates them as `tour` events."""

    def __init__(self, sim: Simulator, *, pause: float = 5.0) -> None:
        self.sim = sim
        self.pause = pause
        self.task: asyncio.Task[None] | None = None
        self.context: dict[str, Any] = {}

    @property
    def running(self) -> bool:
        """True while the tour plays."""
        return self.task is not None and not self.task.done()

    def start(self) -> bool:
        """Start the tour unless it already runs."""
        if self.running:
            return False
        self.task = asyncio.create_task(self._play())
        return True

    async def stop(self) -> None:
        """Stop a running tour."""
        if self.running and self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.sim.bus.publish("tour", state="stopped", caption="演示已停止")

    async def _play(self) -> None:
        from bot.demo.tour_steps import STEPS

        self.context = {}
        total = len(STEPS)
        for index, step in enumerate(STEPS, start=1):
            self.sim.bus.publish(
                "tour", state="running", index=index, total=total, caption=step.caption, **step.focus
            )
            try:
                await step.run(self)
            except (TourFailed, TimeoutError) as exc:
                log.warning("tour step %d failed: %s", index, exc)
                self.sim.bus.publish(
                    "tour", state="failed", index=index, total=total, caption=f"{step.caption}：{exc or '等待超时'}"
                )
                return
            await asyncio.sleep(self.pause)
        self.sim.bus.publish("tour", state="done", index=total, total=total, caption="演示完成：完整流程都走通了")

    # --- what steps are made of --------------------------------------------------------------

    async def owner_says(self, text: str, openid: str = TOUR_OWNER.openid) -> str:
        """The tour's owner types a message; returns the passive reply."""
        await asyncio.sleep(self.pause / 2)
        mark = self.mark
        reply = await self.sim.wechat.send_text(openid, text)
        if reply:
            return reply
        # No passive reply in time: the hub sends it through the customer-service API instead.
        return await self.owner_hears(lambda _t: True, since=mark, openid=openid)

    async def owner_hears(
        self, match: Callable[[str], bool], *, since: int, openid: str = TOUR_OWNER.openid,
        wait: float = WAIT_SECONDS,
    ) -> str:
        """Wait for a message to the owner (passive reply, customer-service or template)."""
        event = await self.sim.bus.wait_for(
            lambda e: e["kind"] == "owner.out" and e.get("openid") == openid
            and match(f"{e.get('title', '')}\n{e.get('text', '')}"),
            timeout=wait,
            since=since,
        )
        return f"{event.get('title', '')}\n{event.get('text', '')}"

    async def merchant_says(self, merchant_id: int, text: str) -> None:
        """A merchant writes to the bot in their private chat."""
        await asyncio.sleep(self.pause / 2)
        await self.sim.telegram.say(user_id=merchant_id, chat_id=merchant_id, text=text)

    async def staff_says(self, staff_id: int, text: str) -> None:
        """A staff member writes in the staff chat."""
        await asyncio.sleep(self.pause / 2)
        await self.sim.telegram.say(user_id=staff_id, chat_id=data.STAFF_CHAT_ID, text=text)

    async def card(self, pane: str, match: Callable[[dict[str, Any]], bool], *, since: int) -> dict[str, Any]:
        """Wait for a bot message (new or edited) in a pane that satisfies match."""
        return await self.sim.bus.wait_for(
            lambda e: e["kind"] in ("tg.message", "tg.edit") and e.get("pane") == pane and match(e),
            timeout=WAIT_SECONDS,
            since=since,
        )

    async def press(self, card: dict[str, Any], label: str, user_id: int) -> None:
        """Press the first button on a card whose text contains label."""
        for row in card.get("buttons") or []:
            for button in row:
                if label in button["text"]:
                    await asyncio.sleep(self.pause / 2)
                    await self.sim.telegram.press(
                        user_id=user_id, chat_id=card["chat_id"], message_id=card["message_id"], data_=button["data"]
                    )
                    return
        raise TourFailed(f"卡片上没有「{label}」按钮")

    @property
    def mark(self) -> int:
        """The newest event id: wait only for what happens after this point."""
        return self.sim.bus.last_id
