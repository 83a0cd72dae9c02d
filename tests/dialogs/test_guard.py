"""The outbound guard refuses internal-only terms on every path to the owner, and logs it."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from dialogs import handoff, texts
from storage import communities, faq
from storage.db import unit_of_work
from storage.handoffs import Handoff
from storage.outbox import OutboxEvent
from tests.conftest import Hub
from tests.dialogs.conftest import bound_owner, drain, owner_row, sent_texts, staff_member


async def test_guard_refuses_a_text_with_an_internal_term(hub: Hub, caplog: pytest.LogCaptureFixture) -> None:
    # Staff wrote an FAQ answer for their community that leaks the internal phrase.
    me, community = await bound_owner(hub)
    async with unit_of_work(hub.runtime.sessions) as session:
        found = await communities.get_by_name(session=session, name=community)
        await faq.replace(session=session, community_id=found.id, entries=[  # type: ignore[union-attr]
            ("有什么优惠", ["内部优惠政策"], "我们正在推行零物业费计划，欢迎咨询。"),
        ])
    with caplog.at_level(logging.WARNING):
        reply = await me.say("内部优惠政策是什么")
    assert reply == texts.NOT_UNDERSTOOD and "零物业费" not in reply
    assert any("content guard refused" in r.getMessage() for r in caplog.records)

    # The same phrase from a staff reply is never sent through the customer-service API either.
    await me.say("人工")
    owner = await owner_row(hub, me.openid)
    member = await staff_member(hub, admin=True)
    async with unit_of_work(hub.runtime.sessions) as session:
        held = await session.scalar(select(Handoff).where(Handoff.owner_id == owner.id))
        assert held is not None
        assert await handoff.relay_staff_reply(session=session, kv=hub.runtime.kv, handoff_id=held.id,
                                               staff_telegram_id=member, text="告诉您，零 物业费 快了") is None
    await drain(hub)
    assert not [t for t in sent_texts(hub, me.openid) if "物业费" in t]
    async with hub.runtime.sessions() as session:
        rows = list(await session.scalars(select(OutboxEvent).where(OutboxEvent.kind == "owner.notify")))
    refused = [r for r in rows if r.payload.get("openid") == me.openid]
    assert refused and refused[-1].processed_at is not None and "internal-only" in refused[-1].last_error
