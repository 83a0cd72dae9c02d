"""Quota, rate limits and unknown outcomes in broadcast sending (issue 15).

45009 (the account's daily API quota) and rate limits do not fail anyone: the broadcast stops with
its remaining rows pending, resumes by itself when the quota window resets, and the sender hears
of the pause once. A call that timed out after reaching WeChat is `unknown`, not failed: it may
have arrived, so it is neither counted as failed nor sent again (a mass send is repeated only with
its clientmsgid, which WeChat deduplicates).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import outbox
from storage.broadcasts import Broadcast, Delivery, DeliveryStatus
from storage.db import unit_of_work
from storage.events import OwnerNotice, StaffAlert

log = logging.getLogger(__name__)

DAILY_QUOTA = 45009
# 45011: the per-minute API frequency limit; -3: our own pause after a persistently rejected token.
RATE_LIMITED = {45011, -3}
PAUSING = {DAILY_QUOTA, *RATE_LIMITED}
OUTCOME_UNKNOWN = -4  # ours: the call timed out or dropped after it went out
UNKNOWN = "unknown"  # Delivery.status of a per-recipient message that may or may not have arrived



@dataclass(frozen=True)
class BroadcastPaused:
    """A broadcast stopped for `errcode`; `pending` recipients go on by themselves at `resumes_at` (local)."""

    broadcast_id: int
    errcode: int
    resumes_at: datetime
    pending: int


@dataclass(frozen=True)
class BroadcastFinished:
    """A broadcast is done; `totals` are storage.broadcasts.counts() of it."""

    broadcast_id: int
    kind: str
    totals: dict[str, Any]


SenderReport = BroadcastPaused | BroadcastFinished
# Words the sender reads about their broadcast: staff wording, supplied by bot/ (bot/wording/broadcast.py).
SenderWording = Callable[[SenderReport], str]


def resumes_at(errcode: int, now: datetime, tz: ZoneInfo, *, rate_pause_seconds: float) -> datetime:
    """When sending may start again: the daily quota resets at local midnight, rate limits soon."""
    if errcode == DAILY_QUOTA:
        local = now.astimezone(tz)
        midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=5, microsecond=0)
        return midnight.astimezone(now.tzinfo)
    return now + timedelta(seconds=rate_pause_seconds)


async def pause_broadcast(
    sessions: async_sessionmaker[AsyncSession], broadcast_id: int, errcode: int, until: datetime, tz: ZoneInfo,
    *, say: SenderWording,
) -> None:
    """Stop the broadcast until `until`, lease handed back; its sender is told of the first pause."""
    async with unit_of_work(sessions) as session:
        broadcast = await session.get(Broadcast, broadcast_id)
        assert broadcast is not None
        first = broadcast.paused_until is None
        await session.execute(
            update(Broadcast).where(Broadcast.id == broadcast_id)
            .values(paused_until=until, pause_reason=str(errcode), lease_until=None)
        )
        if first:
            pending = int(await session.scalar(
                select(func.count()).select_from(Delivery)
                .where(Delivery.broadcast_id == broadcast_id, Delivery.status == DeliveryStatus.PENDING)
            ) or 0)
            paused = BroadcastPaused(broadcast.id, errcode, until.astimezone(tz), pending)
            notify_sender(session, broadcast, say(paused))
    log.warning("broadcast %s paused until %s (errcode %s)", broadcast_id, until, errcode)


def notify_sender(session: AsyncSession, broadcast: Broadcast, text: str) -> None:
    """Tell whoever sent the broadcast, on the channel they used."""
    if broadcast.reply_channel == "wechat" and broadcast.reply_to:
        outbox.emit(session, OwnerNotice(openid=broadcast.reply_to, text=text))
    else:
        outbox.emit(session, StaffAlert(text=text))

