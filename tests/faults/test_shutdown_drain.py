"""Shutting a process down lets the delivery in flight finish before connections close.

The relay's background drain used to be abandoned at shutdown: its connection stayed checked out
with a transaction open, and on SQLite other writers then met "database is locked" (CI, 2026-12-01).
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.app import RELAY
from storage import outbox
from storage.db import unit_of_work
from storage.events import OwnerNotice
from storage.outbox import OutboxEvent
from tests.broadcasts.kit import add_owner, make_place
from tests.conftest import Hub

CS_PATH = "/cgi-bin/message/custom/send"


async def test_shutdown_waits_for_the_send_in_flight_and_starts_no_new_one(hub: Hub) -> None:
    place = await make_place(hub)
    owner = await add_owner(hub, place, "o", window_open=True)
    hub.fake_wechat.delay(CS_PATH, 1.0)
    async with unit_of_work(hub.runtime.sessions) as session:
        event = outbox.emit(session, OwnerNotice(openid=owner, text="您的报修已受理。"))
    relay = hub.client.app[RELAY]
    relay.kick()
    await asyncio.sleep(0.3)  # the customer-service call is now in flight
    await relay.aclose()

    sent = [c for c in hub.fake_wechat.calls_to(CS_PATH) if c.body.get("touser") == owner]
    assert len(sent) == 1
    async with hub.runtime.sessions() as session:
        row = await session.scalar(select(OutboxEvent).where(OutboxEvent.id == event.id))
    assert row is not None and row.processed_at is not None and row.outcome == ""

    # Closed: a later kick starts nothing, and the database takes writes at once.
    relay.kick()
    assert relay._pending is None
    async with unit_of_work(hub.runtime.sessions) as session:
        outbox.emit(session, OwnerNotice(openid=owner, text="第二条"))
    await asyncio.sleep(0.2)
    assert len([c for c in hub.fake_wechat.calls_to(CS_PATH) if c.body.get("touser") == owner]) == 1
