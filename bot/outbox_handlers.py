"""The outbox handlers every process registers before any transport adds its own (issue 16).

- `OwnerNotice` goes to WeChat.
- `StaffAlert` and `HandoffMessage` go to the staff's WeChat openids (scoped to the event's community) until the
  Telegram staff chat takes it over (bot/telegram/deliveries.py registers after this).
- Merchant-facing events need a merchant channel. Without one (no BUTLER_TELEGRAM_TOKEN) they are
  closed at once with the reason recorded, rather than waiting forever for a transport that
  will never come.
Then `relay.require()` makes start-up fail on any event type still without a handler.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.outbox_relay import OutboxHandler, OutboxRelay, PermanentFailure
from bot.runtime import Runtime
from bot.wechat.client import NotFollowing, QuotaExceeded, WeChatClient, WindowClosed
from bot.wechat.notify import owner_notifier
from storage.events import (
    HandoffMessage,
    JobCancelled,
    JobCompleted,
    JobOffered,
    JobProgress,
    JobReposted,
    JobTaken,
    MerchantNote,
    OwnerNotice,
    StaffAlert,
)
from storage.staff import Staff

log = logging.getLogger(__name__)

MERCHANT_EVENTS = (JobOffered, JobReposted, JobTaken, JobProgress, JobCancelled, JobCompleted, MerchantNote)


def wechat_staff_notifier(client: WeChatClient) -> OutboxHandler:
    """Staff events to every staff member with an openid who may act in the event's community."""

    async def notify(event: StaffAlert | HandoffMessage, session: AsyncSession) -> None:
        community_id = event.community_id
        # No community on the event (e.g. an owner not yet bound): every staff member may act on it.
        stmt = select(Staff).where(Staff.openid.is_not(None)).options(selectinload(Staff.communities))
        members = [m for m in await session.scalars(stmt.order_by(Staff.id))
                   if community_id is None or m.can_act_in(int(community_id))]
        text = event.text
        reached = 0
        for member in members:
            assert member.openid is not None
            try:
                await client.send_text(member.openid, text)
                reached += 1
            except (NotFollowing, WindowClosed, QuotaExceeded) as exc:
                log.info("staff %s not reachable on WeChat: %s", member.id, exc)
        if not reached:
            raise PermanentFailure("no staff member reachable on WeChat (set BUTLER_STAFF_CHAT_ID or staff openids)")

    return notify


async def no_merchant_channel(_event: object, _session: AsyncSession) -> None:
    """Merchant events with no merchant transport configured: recorded as undeliverable, not left waiting."""
    raise PermanentFailure("no merchant channel: BUTLER_TELEGRAM_TOKEN is not set")


def register_base_handlers(relay: OutboxRelay, runtime: Runtime) -> None:
    """Owner notices, staff notices over WeChat, and the no-merchant-channel fallback."""
    settings = runtime.settings
    relay.register(OwnerNotice, owner_notifier(
        runtime.wechat, template_id=settings.wechat_template_order, fields=settings.wechat_template_fields, tz=settings.tz
    ))
    staff = wechat_staff_notifier(runtime.wechat)
    relay.register(StaffAlert, staff)
    relay.register(HandoffMessage, staff)
    for event_type in MERCHANT_EVENTS:
        relay.register(event_type, no_merchant_channel)
