"""What Telegram handlers and outbox deliveries share: the Bot, the chats, short units of work."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from aiogram import Bot
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbox_relay import OutboxRelay
from bot.runtime import Runtime
from bot.telegram.transport import ChatDirectory
from storage.db import unit_of_work

log = logging.getLogger(__name__)
T = TypeVar("T")
_background: set[asyncio.Future[int]] = set()  # strong refs to drains that outlived the request


@dataclass
class TelegramService:
    """Injected into handlers as `tg`; one per process (per create_app)."""

    bot: Bot
    runtime: Runtime
    relay: OutboxRelay
    chats: ChatDirectory
    deliver_wait_seconds: float = 8.0

    @property
    def tz(self) -> ZoneInfo:
        """BUTLER_TZ."""
        return self.runtime.tz

    def today(self) -> date:
        """The local date (qualification expiry is a calendar date)."""
        return datetime.now(self.tz).date()

    async def transaction(self, work: Callable[[AsyncSession], Awaitable[T]], *, attempts: int = 5) -> T:
        """Run `work` in its own short unit of work, committed before this returns.

        SQLite refuses a write that follows a read when another connection wrote in between
        ("database is locked"); the whole unit is simply retried. PostgreSQL never needs it.
        """
        for attempt in range(1, attempts + 1):
            try:
                async with unit_of_work(self.runtime.sessions) as session:
                    return await work(session)
            except OperationalError as exc:
                if "locked" not in str(exc) or attempt == attempts:
                    raise
                await asyncio.sleep(0.05 * attempt)
        raise AssertionError("unreachable")

    async def deliver(self) -> None:
        """Deliver what the last commit emitted before the webhook request ends (bounded wait).

        Awaiting a drain (rather than kick()) guarantees a drain starts after our commit; the
        shield keeps a slow delivery from being cancelled half-way, the sweeper covers the rest.
        """
        task = asyncio.ensure_future(self.relay.drain())
        _background.add(task)
        task.add_done_callback(_background.discard)
        try:
            await asyncio.wait_for(asyncio.shield(task), self.deliver_wait_seconds)
        except TimeoutError:
            log.warning("outbox delivery still running after %ss; continuing in background", self.deliver_wait_seconds)
        except Exception:
            log.exception("outbox delivery failed; the sweeper will retry")

    async def username(self) -> str:
        """The bot's @username (cached by aiogram after the first getMe)."""
        me = await self.bot.me()
        return me.username or ""

    async def deep_link(self, payload: str) -> str:
        """A t.me link that opens a private chat with the bot and sends /start <payload>."""
        return f"https://t.me/{await self.username()}?start={payload}"
