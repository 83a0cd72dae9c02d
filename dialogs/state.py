"""Where an owner is in a dialog, kept in Redis (answers themselves are already in the database)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from redis.exceptions import RedisError

from storage.kv import KeyValueStore

log = logging.getLogger(__name__)
# Redis down: the owner still gets answers (as if no dialog were pending) rather than silence.
STORE_DOWN = (RedisError, OSError)


class Flow(StrEnum):
    """The dialogs an owner can be in; each is a Form in dialogs/hub.py's FORMS table."""

    BINDING = "binding"
    ORDER = "order"
    CANCEL_ORDER = "cancel_order"  # saved by the previous release; now read as a CONFIRM (dialogs/confirm.py)
    SURVEY = "survey"
    FOLLOWUP = "followup"
    # One yes/no before an action others see or that changes consent (dialogs/confirm.py).
    CONFIRM = "confirm"


@dataclass
class DialogState:
    """The current form, its pending step, what it collected, and the dialog it interrupted."""

    flow: Flow
    step: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    failures: int = 0
    parent: DialogState | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-safe form for the store."""
        out = asdict(self)
        out["parent"] = self.parent.to_json() if self.parent else None
        return out

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> DialogState:
        """Rebuild from the store."""
        parent = cls.from_json(raw["parent"]) if raw.get("parent") else None
        return cls(
            flow=Flow(raw["flow"]), step=raw.get("step", ""), data=dict(raw.get("data") or {}),
            failures=int(raw.get("failures", 0)), parent=parent,
        )


def _key(openid: str) -> str:
    return f"dialog:{openid}"


async def load(kv: KeyValueStore, openid: str) -> DialogState | None:
    """The owner's dialog, or None if there is none (or it expired)."""
    try:
        raw = await kv.get_json(_key(openid))
    except STORE_DOWN:
        log.warning("dialog store unavailable; answering without dialog state", exc_info=True)
        return None
    return DialogState.from_json(raw) if raw else None


async def save(kv: KeyValueStore, openid: str, state: DialogState, *, ttl_seconds: int) -> None:
    """Store the dialog; every save restarts the expiry clock."""
    try:
        await kv.set_json(_key(openid), state.to_json(), ttl_seconds=ttl_seconds)
    except STORE_DOWN:
        log.warning("dialog store unavailable; dialog state not saved", exc_info=True)


async def clear(kv: KeyValueStore, openid: str) -> None:
    """Forget the owner's dialog."""
    try:
        await kv.delete(_key(openid))
    except STORE_DOWN:
        log.warning("dialog store unavailable; dialog state not cleared", exc_info=True)


@asynccontextmanager
async def owner_turn(kv: KeyValueStore, openid: str, *, wait: float = 25) -> AsyncIterator[None]:
    """Hold the owner's conversation lock (across processes) so their messages never interleave.

    If the store is down the turn runs unlocked: answering matters more than strict ordering.
    """
    try:
        lock = kv.lock(f"owner:{openid}", timeout=30, wait=wait)
        await lock.__aenter__()
    except STORE_DOWN:
        log.warning("owner lock unavailable; handling %s unlocked", openid)
        yield
        return
    try:
        yield
    finally:
        with suppress(*STORE_DOWN):  # if it fails, the lock's TTL frees it
            await lock.__aexit__(None, None, None)
