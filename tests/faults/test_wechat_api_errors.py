"""The fake WeChat API answers 40001/45015/45047/45009 or times out: each gets its fallback and record.

Driven through the real path: a unit of work emits `owner.notify` into the outbox, the relay
delivers it over HTTP to the fake API, and the outbox row records what happened.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import func, select, update

from bot.app import RELAY
from bot.devtools.fake_wechat import FakeWeChatAPI
from storage import outbox
from storage.db import unit_of_work
from storage.events import OwnerNotice
from storage.migrate import upgrade_sync
from storage.outbox import OutboxEvent
from tests.conftest import (
    PG_ADMIN_URL,
    REDIS_URL,
    Backend,
    Hub,
    _create_pg_database,
    _drop_pg_database,
    make_settings,
    start_hub,
)

CS = "/cgi-bin/message/custom/send"
TEMPLATE = "/cgi-bin/message/template/send"


@pytest.fixture(scope="module")
def outbox_db() -> Iterator[str]:
    """A database of this module's own: no other test's pending outbox rows can eat a fault."""
    name = f"butler_faults_{uuid.uuid4().hex[:10]}"
    asyncio.run(_create_pg_database(name))
    url = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1) + f"/{name}"
    upgrade_sync(url)
    yield url
    asyncio.run(_drop_pg_database(name))


@pytest.fixture(params=["no-template", "template"])
async def notify_hub(request: pytest.FixtureRequest, outbox_db: str, fake_wechat: FakeWeChatAPI) -> AsyncIterator[Hub]:
    """The hub on PostgreSQL+Redis, with or without a service-notice template configured."""
    extra = {"wechat_template_order": "TPL-ORDER"} if request.param == "template" else {}
    hub = await start_hub(
        make_settings(Backend("postgres_redis", outbox_db, REDIS_URL), fake_wechat,
                      outbound_timeout_seconds=0.5, **extra),
        fake_wechat,
    )
    yield hub
    async with unit_of_work(hub.runtime.sessions) as session:  # leave nothing pending behind
        await session.execute(update(OutboxEvent).values(processed_at=func.now()))
    await hub.client.close()


async def notify_once(hub: Hub, *, notice: bool = False) -> OutboxEvent:
    """Emit one owner.notify, let the relay try it once, return the outbox row."""
    openid = f"o_api_{uuid.uuid4().hex[:8]}"
    relay = hub.client.app[RELAY]
    await relay.drain()  # let the start-up kick finish first, so exactly one attempt is measured
    async with unit_of_work(hub.runtime.sessions) as session:
        event = outbox.emit(session, OwnerNotice(openid=openid, text="您的订单已接单，师傅明天上午到。", notice=notice))
    await relay.drain()
    async with hub.runtime.sessions() as session:
        row = await session.get(OutboxEvent, event.id)
    assert row is not None
    return row


def templated(hub: Hub) -> bool:
    return bool(hub.settings.wechat_template_order)


async def test_40001_once_refreshes_the_token_and_delivers(notify_hub: Hub, fake_wechat: FakeWeChatAPI) -> None:
    await notify_hub.runtime.wechat.access_token()
    fake_wechat.fail(CS, 40001)
    row = await notify_once(notify_hub)
    assert row.processed_at is not None and row.attempts == 0
    assert len(fake_wechat.tokens_issued) == 2 and len(fake_wechat.calls_to(CS)) == 2


async def test_persistent_40001_pauses_sending_and_leaves_the_event_pending(notify_hub: Hub, fake_wechat: FakeWeChatAPI) -> None:
    fake_wechat.fail(CS, 40001, times=10)
    row = await notify_once(notify_hub)
    # A pause is not an attempt: the event waits, whole, for sending to resume.
    assert row.processed_at is None and row.attempts == 0 and "40001" in row.last_error
    assert len(fake_wechat.calls_to(CS)) == 2  # one refresh and retry, never a loop
    health = await (await notify_hub.client.get("/healthz")).json()
    assert health["wechat"].startswith("paused")


@pytest.mark.parametrize("errcode", [45015, 45047])
async def test_closed_customer_service_channel_falls_back_to_a_template_notice(
    notify_hub: Hub, fake_wechat: FakeWeChatAPI, errcode: int
) -> None:
    fake_wechat.fail(CS, errcode)
    row = await notify_once(notify_hub, notice=False)
    if templated(notify_hub):
        # 48-hour window closed (45015) or its 5 messages used up (45047): a service notice may
        # still reach the owner as a template message.
        assert row.processed_at is not None and row.attempts == 0
        assert len(fake_wechat.calls_to(TEMPLATE)) == 1
    elif errcode == 45015:
        # No template: nothing can reach the owner until they write again; dropped, with the reason.
        assert row.processed_at is not None and "45015" in row.last_error
    else:
        # 45047 without a template: kept pending; the owner's next message reopens the quota.
        assert row.processed_at is None and row.attempts == 1 and "45047" in row.last_error
        assert not fake_wechat.calls_to(TEMPLATE)


async def test_45009_daily_quota_is_retried_later_not_rerouted(notify_hub: Hub, fake_wechat: FakeWeChatAPI) -> None:
    fake_wechat.fail(CS, 45009)
    row = await notify_once(notify_hub)
    # Not an attempt: however long the quota day lasts, the notice is never used up and dropped.
    assert row.processed_at is None and row.attempts == 0 and "45009" in row.last_error
    assert not fake_wechat.calls_to(TEMPLATE)  # the same daily quota covers templates


async def test_timeout_is_recorded_as_unknown_reported_and_never_resent(notify_hub: Hub, fake_wechat: FakeWeChatAPI) -> None:
    await notify_hub.runtime.wechat.access_token()
    fake_wechat.delay(CS, 1.5)  # WeChat got the call; its answer comes too late
    row = await notify_once(notify_hub)
    assert row.processed_at is not None and row.outcome == "unknown" and "transport" in row.last_error
    fake_wechat.delay(CS, 0)
    await notify_hub.client.app[RELAY].drain()  # the 15-second sweep, run now
    assert len(fake_wechat.calls_to(CS)) == 1  # the sweeper never resends a recorded send
    async with notify_hub.runtime.sessions() as session:
        alerts = list(await session.scalars(
            select(OutboxEvent).where(OutboxEvent.kind == "staff.notify", OutboxEvent.id > row.id)
        ))
    assert any("可能未送达" in a.payload["text"] and row.payload["openid"] in a.payload["text"] for a in alerts)
