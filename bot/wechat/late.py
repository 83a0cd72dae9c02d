"""Late replies under a lease, and the sweeper that answers for a worker that died (issue 15).

The webhook answers WeChat within its 5-second window; a reply not ready by then goes out later by
customer-service message. Each such message holds a lease (in Redis for retries, and in the
database for the sweeper), renewed while its worker lives. `settle` gives exactly one party — the
worker, a retry that took over, or the sweeper — the right to send the reply.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import late_replies
from storage.db import unit_of_work
from storage.messages import InboundMessageLog

log = logging.getLogger(__name__)

LEASE_SECONDS = 3.0  # renewed every second: a dead worker's message is free again within 3 s
# The sweeper waits this long past a lapsed lease, so WeChat's own retries (5 s apart) go first.
SWEEP_GRACE_SECONDS = 12.0
# A lapsed lease whose message never committed and was never retried: give up after this long.
GIVE_UP_SECONDS = 120.0


class LateReplies:
    """The database side of late replies; every method degrades (logs) when the database is down."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], send: Callable[[str, str], Awaitable[None]]
    ) -> None:
        self.sessions = sessions
        self.send = send

    async def hold(self, dedupe_key: str, openid: str) -> None:
        """Take or renew the lease on a message being answered late."""
        try:
            async with unit_of_work(self.sessions) as session:
                await late_replies.hold(session=session, dedupe_key=dedupe_key, user_id=openid,
                                        lease_seconds=LEASE_SECONDS)
        except Exception:
            log.warning("late-reply lease for %s not recorded", dedupe_key, exc_info=True)

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

    async def sweep(self) -> int:
        """Send the logged reply of every message whose worker died with its lease; returns how many."""
        sent = 0
        async with unit_of_work(self.sessions) as session:
            lapsed = await late_replies.lapsed(session=session, grace_seconds=SWEEP_GRACE_SECONDS)
        for dedupe_key, openid, reply in lapsed:
            if reply is None and not await self._given_up(dedupe_key):
                continue  # never committed: a retry may still come and handle it
            outcome = "sent" if reply else ("none" if reply == "" else "lost")
            if not await self.settle(dedupe_key, outcome):
                continue
            if not reply:
                if reply is None:
                    log.error("message %s from %s was never handled and never retried", dedupe_key, openid)
                continue
            try:
                await self.send(openid, reply)
                sent += 1
            except Exception:
                # Settled before the call: at most once. The failure is logged for staff to follow up.
                log.exception("recovered reply %s to %s could not be delivered", dedupe_key, openid)
        return sent

    async def _given_up(self, dedupe_key: str) -> bool:
        from datetime import timedelta

        from storage.base import aware, utcnow

        async with self.sessions() as session:
            row = await session.get(late_replies.LateReply, dedupe_key)
        return row is not None and aware(row.created_at) < utcnow() - timedelta(seconds=GIVE_UP_SECONDS)
