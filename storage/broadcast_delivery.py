"""Sending a broadcast: lease, plan, send in rate-limited batches, resume after a crash, report.

Guarantees, for any number of processes:
- one sender per broadcast: the broadcast row is leased (claimed with FOR UPDATE SKIP LOCKED on
  PostgreSQL); a dead sender's lease expires and another process resumes;
- nobody gets a message twice: a per-recipient message (template / customer service) is marked
  `sending` in a committed transaction before the API call, and a resumed sender never resends a
  `sending` row — it records it as `unknown` (`unknown_after_crash`); a mass-send batch gets its
  `clientmsgid` committed before the call, so a resend after a crash is a no-op at WeChat;
- everyone is accounted for: the plan rows exist before the first send and end sent / failed /
  skipped.

The outbound calls go through a `DeliveryGateway` the transport layer provides, so this module
stays free of any platform library.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.broadcast_outcomes import (
    OutcomeRecorder,
)
from storage.broadcast_pause import (
    OUTCOME_UNKNOWN,
    PAUSING,
    BroadcastFinished,
    SenderWording,
    notify_sender,
    pause_broadcast,
    resumes_at,
)
from storage.broadcasts import (
    Broadcast,
    BroadcastStatus,
    Delivery,
    DeliveryChannel,
    DeliveryPolicy,
    DeliveryStatus,
    counts,
    materialise,
)
from storage.db import is_postgres, rows_affected, unit_of_work

log = logging.getLogger(__name__)

# WeChat errcodes with a meaning for delivery.
CLIENTMSGID_USED = 45065


@dataclass(frozen=True)
class SendOutcome:
    """What one API call came back with; errcode 0 means accepted."""

    errcode: int = 0
    errmsg: str = ""
    msgid: str = ""  # WeChat's msgid of an accepted template/mass send (its later result names it)

    @property
    def ok(self) -> bool:
        """Accepted by WeChat (a reused clientmsgid means an earlier identical call was)."""
        return self.errcode in (0, CLIENTMSGID_USED)


class DeliveryGateway(Protocol):
    """The three WeChat ways of reaching an owner; implemented in bot/ over the real client."""

    async def send_template(self, openid: str, text: str, title: str) -> SendOutcome: ...
    async def send_cs(self, openid: str, text: str) -> SendOutcome: ...
    async def mass_send(self, openids: list[str], text: str, clientmsgid: str) -> SendOutcome: ...


@dataclass(frozen=True)
class SendConfig:
    """Throughput knobs."""

    rate_per_second: float = 20.0
    mass_batch_size: int = 5000
    chunk_size: int = 50
    lease_seconds: float = 60.0
    rate_limit_pause_seconds: float = 60.0


class _RateLimiter:
    """At most `rate` calls per second in this process (simple spacing, no bursts)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next_at = 0.0

    async def wait(self) -> None:
        now = time.monotonic()
        if self.next_at > now:
            await asyncio.sleep(self.next_at - now)
        self.next_at = max(now, self.next_at) + self.interval


class BroadcastSender(OutcomeRecorder):
    """Claims due broadcasts and delivers them; `run_once()` is what the scheduler tick calls."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        gateway: DeliveryGateway,
        policy: DeliveryPolicy,
        config: SendConfig | None = None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_outbox: Callable[[], None] | None = None,
        say: SenderWording,
    ) -> None:
        self.sessions = sessions
        self.say = say  # the sender's words about their broadcast (staff wording, from bot/)
        self.gateway = gateway
        self.policy = policy
        self.config = config or SendConfig()
        self.clock = clock
        self.on_outbox = on_outbox
        self.worker_id = uuid.uuid4().hex
        self.limiter = _RateLimiter(self.config.rate_per_second)
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[int] | None = None
        self._stopping = False
        self._mass_unknown = 0

    def kick(self) -> None:
        """Start sending in the background now (after a confirm), instead of at the next tick."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.run_once())

    async def run_once(self) -> int:
        """Send every due broadcast this process can lease; returns how many it finished."""
        finished = 0
        async with self._lock:
            while not self._stopping and (broadcast_id := await self._lease_next()) is not None:
                if await self._deliver(broadcast_id):
                    finished += 1
        return finished

    async def stop(self) -> None:
        """Finish and record the message in flight, hand the lease back, stop (for restarts).

        A deploy is far more common than a crash: stopping between two messages means a rolling
        restart never leaves an `unknown_after_crash` behind, and the next process resumes at once.
        """
        self._stopping = True
        async with self._lock:  # waits for a running run_once to reach a message boundary
            pass

    # --- leasing ----------------------------------------------------------------------------

    async def _lease_next(self) -> int | None:
        now = self.clock()
        async with unit_of_work(self.sessions) as session:
            stmt = (
                select(Broadcast)
                .where(
                    Broadcast.status.in_([BroadcastStatus.QUEUED, BroadcastStatus.SCHEDULED, BroadcastStatus.SENDING]),
                    or_(Broadcast.scheduled_at.is_(None), Broadcast.scheduled_at <= now),
                    or_(Broadcast.lease_until.is_(None), Broadcast.lease_until < now),
                    or_(Broadcast.paused_until.is_(None), Broadcast.paused_until <= now),
                )
                .order_by(Broadcast.id)
                .limit(1)
            )
            if is_postgres(session):
                stmt = stmt.with_for_update(skip_locked=True)
            broadcast = await session.scalar(stmt)
            if broadcast is None:
                return None
            broadcast.lease_owner = self.worker_id
            broadcast.paused_until, broadcast.pause_reason = None, ""  # the quota window has reset
            broadcast.lease_until = now + timedelta(seconds=self.config.lease_seconds)
            if broadcast.status != BroadcastStatus.SENDING:
                broadcast.status = BroadcastStatus.SENDING
                broadcast.started_at = now
            await materialise(session=session, broadcast=broadcast, policy=self.policy, now=now)
            return broadcast.id

    async def _renew(self, session: AsyncSession, broadcast_id: int) -> bool:
        """Extend our lease; False when another sender has taken over (or it was cancelled)."""
        result = await session.execute(
            update(Broadcast)
            .where(Broadcast.id == broadcast_id, Broadcast.lease_owner == self.worker_id,
                   Broadcast.status == BroadcastStatus.SENDING)
            .values(lease_until=self.clock() + timedelta(seconds=self.config.lease_seconds))
        )
        return bool(rows_affected(result))

    async def _release(self, broadcast_id: int) -> None:
        async with unit_of_work(self.sessions) as session:
            await session.execute(
                update(Broadcast).where(Broadcast.id == broadcast_id, Broadcast.lease_owner == self.worker_id)
                .values(lease_until=None)
            )

    # --- delivery ---------------------------------------------------------------------------

    async def _deliver(self, broadcast_id: int) -> bool:
        async with unit_of_work(self.sessions) as session:
            await self._recover(session, broadcast_id)
        while True:
            if self._stopping:
                await self._release(broadcast_id)
                return False
            async with unit_of_work(self.sessions) as session:
                if not await self._renew(session, broadcast_id):
                    return False
                broadcast = await session.get(Broadcast, broadcast_id)
                assert broadcast is not None
                text, kind = broadcast.text, broadcast.kind
                batch = await self._next_mass_batch(session, broadcast)
                chunk = [] if batch else await self._next_chunk(session, broadcast_id)
            if batch:
                paused = await self._send_mass(broadcast_id, batch[0], batch[1], text)
            elif chunk:
                paused = await self._send_chunk(broadcast_id, chunk, text, kind)
            else:
                return await self._finish(broadcast_id)
            if paused is not None:
                await self._pause(broadcast_id, paused)
                return False

    async def _recover(self, session: AsyncSession, broadcast_id: int) -> None:
        """After a takeover: per-recipient rows caught mid-call are never resent."""
        await session.execute(
            update(Delivery)
            .where(Delivery.broadcast_id == broadcast_id, Delivery.status == DeliveryStatus.SENDING,
                   Delivery.channel != DeliveryChannel.MASS)
            .values(status=DeliveryStatus.UNKNOWN, reason="unknown_after_crash")  # may have arrived: unknown, not failed
        )

    async def _next_mass_batch(
        self, session: AsyncSession, broadcast: Broadcast
    ) -> tuple[str, list[tuple[int, str]]] | None:
        """A mass batch to (re)send: one interrupted mid-call first, else a new one from pending rows."""
        interrupted = await session.scalar(
            select(Delivery.batch_key)
            .where(Delivery.broadcast_id == broadcast.id, Delivery.status == DeliveryStatus.SENDING,
                   Delivery.channel == DeliveryChannel.MASS)
            .limit(1)
        )
        if interrupted:
            rows = (await session.execute(
                select(Delivery.id, Delivery.openid)
                .where(Delivery.broadcast_id == broadcast.id, Delivery.batch_key == interrupted)
                .order_by(Delivery.id)
            )).all()
            return interrupted, [(r[0], r[1]) for r in rows]
        size = min(self.config.mass_batch_size, 9999)
        rows = (await session.execute(
            select(Delivery.id, Delivery.openid)
            .where(Delivery.broadcast_id == broadcast.id, Delivery.status == DeliveryStatus.PENDING,
                   Delivery.channel == DeliveryChannel.MASS)
            .order_by(Delivery.id)
            .limit(size + 1)
        )).all()
        if not rows:
            return None
        # Mass send needs 2+ openids: take the straggler along rather than leave one alone.
        picked = rows if len(rows) == size + 1 and await self._pending_mass(session, broadcast.id) == size + 1 else rows[:size]
        ids = [r[0] for r in picked]
        if len(ids) < 2:
            await session.execute(
                update(Delivery).where(Delivery.id.in_(ids))
                .values(status=DeliveryStatus.SKIPPED, reason="mass_needs_two", channel=None)
            )
            return None
        broadcast.mass_batches += 1
        key = f"bc{broadcast.id}-m{broadcast.mass_batches}"
        # Committed before the call: a crash after it resends the same clientmsgid (a no-op).
        await session.execute(
            update(Delivery).where(Delivery.id.in_(ids)).values(status=DeliveryStatus.SENDING, batch_key=key)
        )
        return key, [(r[0], r[1]) for r in picked]

    async def _pending_mass(self, session: AsyncSession, broadcast_id: int) -> int:
        return int(await session.scalar(
            select(func.count()).select_from(Delivery)
            .where(Delivery.broadcast_id == broadcast_id, Delivery.status == DeliveryStatus.PENDING,
                   Delivery.channel == DeliveryChannel.MASS)
        ) or 0)

    async def _next_chunk(self, session: AsyncSession, broadcast_id: int) -> list[tuple[int, int, str, str]]:
        rows = (await session.execute(
            select(Delivery.id, Delivery.owner_id, Delivery.openid, Delivery.channel)
            .where(Delivery.broadcast_id == broadcast_id, Delivery.status == DeliveryStatus.PENDING)
            .order_by(Delivery.id)
            .limit(self.config.chunk_size)
        )).all()
        # A pending row always has its route (only skipped rows have none); the filter says so to mypy.
        return [(r[0], r[1], r[2], r[3]) for r in rows if r[3] is not None]

    async def _send_mass(self, broadcast_id: int, key: str, rows: list[tuple[int, str]], text: str) -> int | None:
        """One mass send; returns the errcode that pauses the broadcast, if any."""
        await self.limiter.wait()
        outcome = await self.gateway.mass_send([openid for _, openid in rows], text, key)
        if outcome.errcode == OUTCOME_UNKNOWN:
            # The rows stay `sending` with their clientmsgid: the next round repeats the very same
            # call, which WeChat deduplicates. Timing out again and again pauses instead of spinning.
            self._mass_unknown += 1
            return OUTCOME_UNKNOWN if self._mass_unknown >= 3 else None
        self._mass_unknown = 0
        async with unit_of_work(self.sessions) as session:
            if outcome.errcode in PAUSING:  # not sent: back to pending, under a new batch later
                await session.execute(
                    update(Delivery).where(Delivery.broadcast_id == broadcast_id, Delivery.batch_key == key)
                    .values(status=DeliveryStatus.PENDING, batch_key=None)
                )
                return outcome.errcode
            values = (
                {"status": DeliveryStatus.SENT, "sent_at": self.clock(), "wechat_msgid": outcome.msgid or None}
                if outcome.ok
                else {"status": DeliveryStatus.FAILED, "errcode": outcome.errcode, "reason": outcome.errmsg[:64]}
            )
            await session.execute(
                update(Delivery).where(Delivery.broadcast_id == broadcast_id, Delivery.batch_key == key).values(**values)
            )
        return None

    async def _send_chunk(
        self, broadcast_id: int, chunk: list[tuple[int, int, str, str]], text: str, kind: str
    ) -> int | None:
        """One commit per message: it records the previous result and marks the next row `sending`.

        Returns the errcode that pauses the broadcast (its row goes back to pending), if any."""
        previous: tuple[tuple[int, int, str, str], SendOutcome] | None = None
        for row in chunk:
            if self._stopping:
                break
            async with unit_of_work(self.sessions) as session:
                if previous is not None:
                    await self._record(session, *previous, kind=kind)
                claimed = await session.execute(
                    update(Delivery).where(Delivery.id == row[0], Delivery.status == DeliveryStatus.PENDING)
                    .values(status=DeliveryStatus.SENDING)
                )
            previous = None
            if not rows_affected(claimed):
                continue
            await self.limiter.wait()
            if row[3] == DeliveryChannel.TEMPLATE:
                outcome = await self.gateway.send_template(row[2], text, "通知")
            else:
                outcome = await self.gateway.send_cs(row[2], text)
            if outcome.errcode in PAUSING:
                async with unit_of_work(self.sessions) as session:
                    await session.execute(
                        update(Delivery).where(Delivery.id == row[0]).values(status=DeliveryStatus.PENDING)
                    )
                return outcome.errcode
            previous = (row, outcome)
        if previous is not None:
            async with unit_of_work(self.sessions) as session:
                await self._record(session, *previous, kind=kind)
        return None

    async def _pause(self, broadcast_id: int, errcode: int) -> None:
        """Stop until the quota window resets; the remaining rows stay pending; staff told once."""
        until = resumes_at(errcode, self.clock(), self.policy.tz, rate_pause_seconds=self.config.rate_limit_pause_seconds)
        await pause_broadcast(self.sessions, broadcast_id, errcode, until, self.policy.tz, say=self.say)
        if self.on_outbox is not None:
            self.on_outbox()

    async def _finish(self, broadcast_id: int) -> bool:
        async with unit_of_work(self.sessions) as session:
            if not await self._renew(session, broadcast_id):
                return False
            broadcast = await session.get(Broadcast, broadcast_id)
            assert broadcast is not None
            totals = await counts(session=session, broadcast_id=broadcast_id)
            broadcast.totals = totals
            broadcast.status = BroadcastStatus.DONE
            broadcast.finished_at = self.clock()
            broadcast.lease_until = None
            notify_sender(session, broadcast, self.say(BroadcastFinished(broadcast.id, broadcast.kind, totals)))
        if self.on_outbox is not None:
            self.on_outbox()
        log.info("broadcast %s done: %s", broadcast_id, totals.get("status"))
        return True
