"""A job card shows the period an owner named (明天上午), not the hour stored for its start."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.app import RELAY
from storage import catalog, orders
from storage.db import unit_of_work
from storage.owners import Owner
from tests.telegram.conftest import MERCHANT_CHAT, TgHub, make_world, sends_mentioning


async def test_a_card_shows_the_period_the_owner_said(tg_hub: TgHub) -> None:
    world = await make_world(tg_hub.hub)
    tz = tg_hub.hub.runtime.tz
    morning = (datetime.now(tz) + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    async with unit_of_work(tg_hub.hub.runtime.sessions) as session:  # as the order dialog writes it
        owner = await session.get(Owner, world.owner_id)
        service = await session.get(catalog.Service, world.service_id)
        assert owner is not None and service is not None
        order = await orders.create(session=session, owner=owner, service=service, scheduled_at=morning,
                                    address="3号楼2单元301室", contact_phone="13800138000")
        order.scheduled_period = "上午"  # "明天上午": the period, stored with its start as the time
        code = order.code
    await tg_hub.hub.client.app[RELAY].drain()
    (card,) = sends_mentioning(tg_hub.fake, MERCHANT_CHAT, code)
    assert "上午（具体时间与业主约定）" in card.text and "09:00" not in card.text
