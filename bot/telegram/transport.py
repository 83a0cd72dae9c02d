"""Bot API robustness: 429 retry_after, ignored no-op edits, and chats that migrate to supergroups.

`ResilientRequests` is an aiogram *session* middleware, so every call the bot makes (webhook
handlers and outbox deliveries alike) gets the same treatment. `ChatDirectory` resolves the
merchant and staff chat ids: Settings gives the initial value, and a migration observed at run
time is persisted in Redis so every process (and the next restart) follows the new id.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramBadRequest, TelegramMigrateToChat, TelegramRetryAfter
from aiogram.methods import (
    EditMessageCaption,
    EditMessageReplyMarkup,
    EditMessageText,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType

from storage.kv import KeyValueStore

log = logging.getLogger(__name__)

_EDITS = (EditMessageText, EditMessageReplyMarkup, EditMessageCaption)


def _as_int(value: str | int | None) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        return None


class ChatDirectory:
    """Where the merchant group and staff chat are now (following supergroup migrations)."""

    def __init__(self, kv: KeyValueStore, *, merchant_chat_id: str, staff_chat_id: str) -> None:
        self.kv = kv
        self._configured = {"merchant": _as_int(merchant_chat_id), "staff": _as_int(staff_chat_id)}

    async def _get(self, role: str) -> int | None:
        configured = self._configured[role]
        if configured is None:
            return None
        try:
            moved = await self.kv.get(f"tg:migrated:{configured}")
        except Exception:  # Redis down: the configured chat, rather than no alert at all (issue 15)
            log.warning("chat migrations unavailable; using the configured %s chat", role)
            return configured
        return int(moved) if moved else configured

    async def merchant_chat(self) -> int | None:
        """The merchant group, or None when not configured."""
        return await self._get("merchant")

    async def staff_chat(self) -> int | None:
        """The staff chat, or None when not configured."""
        return await self._get("staff")

    async def resolve(self, chat_id: int) -> int:
        """Any chat id after known migrations (e.g. a card stored before the group migrated)."""
        moved = await self.kv.get(f"tg:migrated:{chat_id}")
        return int(moved) if moved else chat_id

    async def migrated(self, old: int, new: int) -> None:
        """Remember a group→supergroup migration for every process."""
        log.warning("telegram chat %s migrated to supergroup %s", old, new)
        await self.kv.set(f"tg:migrated:{old}", str(new))
        # A chain (migrated twice) resolves in one hop from the configured id.
        for role, configured in self._configured.items():
            if configured is not None and await self.kv.get(f"tg:migrated:{configured}") == str(old):
                log.warning("telegram %s chat now %s", role, new)
                await self.kv.set(f"tg:migrated:{configured}", str(new))


class ResilientRequests(BaseRequestMiddleware):
    """Retry 429s after retry_after (bounded), follow migrate_to_chat_id, swallow no-op edits."""

    def __init__(self, chats: ChatDirectory, *, max_retries: int = 3, max_wait_seconds: float = 10.0) -> None:
        self.chats = chats
        self.max_retries = max_retries
        self.max_wait_seconds = max_wait_seconds

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Any:
        attempt = 0
        while True:
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                attempt += 1
                if attempt > self.max_retries or exc.retry_after > self.max_wait_seconds:
                    raise
                log.info("telegram 429 on %s; retrying in %ss", method.__api_method__, exc.retry_after)
                await asyncio.sleep(exc.retry_after)
            except TelegramMigrateToChat as exc:
                attempt += 1
                old = getattr(method, "chat_id", None)
                if old is None or attempt > self.max_retries:
                    raise
                await self.chats.migrated(int(old), exc.migrate_to_chat_id)
                method = method.model_copy(update={"chat_id": exc.migrate_to_chat_id})
            except TelegramBadRequest as exc:
                if isinstance(method, _EDITS) and "message is not modified" in exc.message:
                    # Pressing a button twice re-renders the same card; Telegram calls that an error.
                    return True
                raise
