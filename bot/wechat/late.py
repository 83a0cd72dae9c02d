"""Late replies under a lease, and the sweeper that answers for a worker that died (issue 15).

The webhook answers WeChat within its 5-second window; a reply not ready by then goes out later by
customer-service message. Each such message holds a lease (in Redis for retries, and in the
database for the sweeper), renewed while its worker lives. `settle` gives exactly one party — the
worker, a retry that took over, or the sweeper — the right to send the reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.events import Channel, InboundMessage, MessageKind, Reply
from storage import late_replies, outbox
from storage.base import aware, utcnow
from storage.db import unit_of_work
from storage.events import OwnerNotice
from storage.messages import InboundMessageLog

log = logging.getLogger(__name__)

LEASE_SECONDS = 3.0  # renewed every second: a dead worker's message is free again within 3 s
SWEEP_EVERY_SECONDS = 5.0

Handle = Callable[[InboundMessage], Awaitable[Reply | None]]


def event_to_json(event: InboundMessage) -> dict[str, Any]:
    """The message as stored with its lease."""
    out = dataclasses.asdict(event)
    out["received_at"] = event.received_at.isoformat()
    return out


def event_from_json(raw: dict[str, Any]) -> InboundMessage:
    """Rebuild a stored message."""
    return InboundMessage(**{**raw, "channel": Channel(raw["channel"]), "kind": MessageKind(raw["kind"]),
                             "received_at": datetime.fromisoformat(raw["received_at"])})


class LateReplies:
    """The database side of late replies; every method degrades (logs) when the database is down."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, on_emit: Callable[[], None] = lambda: None,
        handle: Handle | None = None, grace_seconds: float = 12.0, replay_after_seconds: float = 30.0,
    ) -> None:
        self.sessions = sessions
        self.on_emit = on_emit  # the outbox relay's kick: deliver what answer() queued, now
        self.handle = handle
        # The sweeper leaves a lapsed lease this long, so WeChat's own retries (5 s apart) go first.
        self.grace_seconds = grace_seconds
        # A message that never committed is handled here only once WeChat's retries are over.
        self.replay_after_seconds = replay_after_seconds
        self._loop: asyncio.Task[None] | None = None

    async def hold(self, event: InboundMessage) -> None:
        """Take or renew the lease on a message being answered late."""
        try:
            async with unit_of_work(self.sessions) as session:
                await late_replies.hold(session=session, dedupe_key=event.dedupe_key, user_id=event.user_id,
                                        lease_seconds=LEASE_SECONDS, event=event_to_json(event))
        except Exception:
            log.warning("late-reply lease for %s not recorded", event.dedupe_key, exc_info=True)

    async def settle(self, dedupe_key: str, outcome: str) -> bool:
        """The one right to answer; if the database cannot say, answer (silence is the worse loss)."""
        try:
            async with unit_of_work(self.sessions) as session:
                if not await late_replies.is_late(session=session, dedupe_key=dedupe_key):
                    return True  # never went the late way: nobody else will send it
                return await late_replies.settle(session=session, dedupe_key=dedupe_key, outcome=outcome)
        except Exception:
            log.warning("late-reply %s not settled in the database", dedupe_key, exc_info=True)
            return True

    async def answer(self, dedupe_key: str, openid: str, text: str, *, outcome: str = "sent") -> bool:
        """Settle the message and queue its reply (`owner.notify`, by customer-service message) in
        the same commit, so the send gets the outbox's guarantees: recorded before the call, an
        unknown outcome reported to staff, never sent twice. False if someone else answered.

        Raises if the database is down: the lease then lapses and the sweeper answers later.
        """
        async with unit_of_work(self.sessions) as session:
            late = await late_replies.is_late(session=session, dedupe_key=dedupe_key)
            if late and not await late_replies.settle(session=session, dedupe_key=dedupe_key,
                                                      outcome=outcome if text else "none"):
                return False
            if text:
                outbox.emit(session, OwnerNotice(openid=openid, text=text))
        if text:
            self.on_emit()
        return True

    async def logged_reply(self, dedupe_key: str) -> str:
        """The reply the message log recorded for a message already handled ('' if none)."""
        try:
            async with self.sessions() as session:
                reply = await session.scalar(
                    select(InboundMessageLog.reply).where(InboundMessageLog.dedupe_key == dedupe_key)
                )
        except Exception:
            log.warning("message log unavailable for %s", dedupe_key, exc_info=True)
            return ""
        return reply or ""

    # --- the sweeper ------------------------------------------------------------------------------

    def start(self) -> None:
        """Sweep every few seconds in this process (each serve process: settle() picks one sender)."""
        if self._loop is None:
            self._loop = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stop sweeping."""
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
            self._loop = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_EVERY_SECONDS)
            try:
                await self.sweep()
            except Exception:
                log.warning("late-reply sweep failed; next one in %s s", SWEEP_EVERY_SECONDS, exc_info=True)

    async def sweep(self) -> int:
        """Answer every message whose worker died with its lease; returns how many were sent.

        Logged already: its recorded reply is sent. Never logged (the worker died before its commit)
        and no retry came: the stored message is handled here, then answered.
        """
        sent = 0
        async with unit_of_work(self.sessions) as session:
            lapsed = await late_replies.lapsed(session=session, grace_seconds=self.grace_seconds)
        for dedupe_key, openid, reply, raw in lapsed:
            if reply is None:
                reply = await self._handle_stored(dedupe_key, raw)
                if reply is None:
                    continue
            if await self.answer(dedupe_key, openid, reply, outcome="recovered") and reply:
                sent += 1
        return sent

    async def _handle_stored(self, dedupe_key: str, raw: dict[str, Any] | None) -> str | None:
        """Handle a message nobody committed; None while a retry may still come (or if we can't)."""
        async with self.sessions() as session:
            row = await session.get(late_replies.LateReply, dedupe_key)
        if row is None or aware(row.created_at) > utcnow() - timedelta(seconds=self.replay_after_seconds):
            return None
        if self.handle is None or not raw:
            log.error("message %s was never handled and cannot be replayed here", dedupe_key)
            return None
        answer = await self.handle(event_from_json(raw))
        # None: the message log already had it (a retry committed meanwhile): its reply then.
        return answer.text if answer is not None else await self.logged_reply(dedupe_key)


async def housekeeping(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Hourly: drop expired dialog states and long-settled late-reply leases (tables stay small)."""
    from storage import dialog_states

    async with unit_of_work(sessions) as session:
        await dialog_states.purge_expired(session=session)
        await late_replies.purge_settled(session=session)
