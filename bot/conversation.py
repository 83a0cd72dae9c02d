"""Runs one inbound event through the dialogs inside its own unit of work."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from sqlalchemy.exc import IntegrityError

from bot.flood import TOO_FAST, FloodLimiter
from bot.metrics import GUARD_REFUSALS, HANDLE_SECONDS
from bot.outbox_relay import OutboxRelay
from bot.runtime import Runtime
from dialogs import hub, state, texts
from dialogs.events import InboundMessage, Reply
from dialogs.guard import GuardRefused
from storage import messages, outbox
from storage.db import unit_of_work

log = logging.getLogger(__name__)


class Conversations:
    """The bridge from transport to dialogs: session per event, guard on the way out, outbox kick."""

    def __init__(self, runtime: Runtime, relay: OutboxRelay) -> None:
        self.runtime = runtime
        self.relay = relay
        # Per-owner token bucket: a flooding owner gets a polite "too fast", costing others nothing.
        self.flood = FloodLimiter(runtime.kv, burst=runtime.settings.flood_burst, per_second=runtime.settings.flood_per_second)
        # Staff commands (bot/commands) see a message before the dialogs; None = not a command.
        self.staff_route: Callable[[InboundMessage], Awaitable[Reply | None]] | None = None

    async def handle(self, event: InboundMessage) -> Reply | None:
        """Handle one event; a duplicate that slipped past Redis is absorbed by the message log."""
        started = time.perf_counter()
        try:
            # Before staff routing: a flood of "/commands" from anyone must not reach the database.
            if not await self.flood.allow(event.user_id):
                return self.guarded(Reply(TOO_FAST))
            if self.staff_route is not None and (routed := await self.staff_route(event)) is not None:
                return self.guarded(routed)
            # One conversation per owner: their messages run one at a time, across processes.
            # The lock's round trip also reads what the turn will need from Redis (hub.turn_keys).
            async with state.owner_turn(self.runtime.kv, event.user_id, prefetch=hub.turn_keys(event.user_id)) as turn, \
                    unit_of_work(self.runtime.sessions) as session:
                await turn.hold_in_database(session, event.user_id)  # only when Redis is down
                ctx = self.runtime.context(session)
                ctx.kv = hub.turn_store(ctx.kv, event.user_id, turn.seen)
                reply = self.guarded(await hub.handle(event, ctx))
                if reply is not None and event.dedupe_key:
                    await messages.record_reply(session=session, dedupe_key=event.dedupe_key, text=reply.text)
        except IntegrityError:
            log.info("duplicate %s absorbed by the message log", event.dedupe_key)
            return None
        finally:
            HANDLE_SECONDS.labels(event.channel).observe(time.perf_counter() - started)
        if outbox.emitted(session):
            self.relay.kick()
        return reply

    def guarded(self, reply: Reply | None) -> Reply | None:
        """Pass the reply through the content guard; a refused text is never sent."""
        if reply is None:
            return None
        try:
            self.runtime.guard.check(reply.text)
        except GuardRefused:
            GUARD_REFUSALS.inc()
            return Reply(texts.NOT_UNDERSTOOD)
        return reply
