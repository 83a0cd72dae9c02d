"""The outbox handlers every process registers before any transport adds its own (issue 16).

- `owner.notify` goes to WeChat.
- `staff.notify` goes to the staff's WeChat openids (scoped to the event's community) until the
  Telegram staff chat takes it over (bot/telegram/deliveries.py registers after this).
- Merchant-facing kinds need a merchant channel. Without one (no BUTLER_TELEGRAM_TOKEN) they are
  closed at once with the reason recorded, rather than waiting forever for a transport that
  will never come.
Then `relay.require()` makes start-up fail on any declared kind still without a handler.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.outbox_relay import OutboxHandler, OutboxRelay, PermanentFailure
from bot.runtime import Runtime
from bot.wechat.client import NotFollowing, QuotaExceeded, WeChatClient, WindowClosed
from bot.wechat.notify import owner_notifier
from storage.staff import Staff

log = logging.getLogger(__name__)

MERCHANT_KINDS = ("order.created", "order.reposted", "order.accepted", "order.progress", "order.cancelled",
                  "order.completed", "merchant.notify")


def wechat_staff_notifier(client: WeChatClient) -> OutboxHandler:
    """`staff.notify` to every staff member with an openid who may act in the event's community."""

    async def notify(payload: dict[str, Any], session: AsyncSession) -> None:
        community_id = payload.get("community_id")
        # No community on the event (e.g. an owner not yet bound): every staff member may act on it.
        stmt = select(Staff).where(Staff.openid.is_not(None)).options(selectinload(Staff.communities))
        members = [m for m in await session.scalars(stmt.order_by(Staff.id))
                   if community_id is None or m.can_act_in(int(community_id))]
        text = str(payload.get("text", ""))
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


async def no_merchant_channel(_payload: dict[str, Any], _session: AsyncSession) -> None:
    """Merchant events with no merchant transport configured: recorded as undeliverable, not left waiting."""
    raise PermanentFailure("no merchant channel: BUTLER_TELEGRAM_TOKEN is not set")


def register_base_handlers(relay: OutboxRelay, runtime: Runtime) -> None:
    """Owner notices, staff notices over WeChat, and the no-merchant-channel fallback."""
    settings = runtime.settings
    relay.register("owner.notify", owner_notifier(
        runtime.wechat, template_id=settings.wechat_template_order, fields=settings.wechat_template_fields, tz=settings.tz
    ))
    relay.register("staff.notify", wechat_staff_notifier(runtime.wechat))
    for kind in MERCHANT_KINDS:
        relay.register(kind, no_merchant_channel)
