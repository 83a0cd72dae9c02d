"""Recording what one per-recipient send came back with (split from broadcast_delivery.py).

sent; unknown (timed out after reaching WeChat: never failed, never resent); a closed window or
used-up message count rerouted to another channel when allowed (the message did not go out, so
that is no duplicate); otherwise failed with its errcode.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.broadcast_pause import OUTCOME_UNKNOWN, UNKNOWN
from storage.broadcasts import Delivery, DeliveryChannel, DeliveryPolicy, DeliveryStatus, Kind
from storage.owners import Owner

if TYPE_CHECKING:
    from storage.broadcast_delivery import SendOutcome

WINDOW_CLOSED, CS_COUNT_EXCEEDED, NOT_FOLLOWING = 45015, 45047, 43004


class OutcomeRecorder:
    """Mixin for BroadcastSender: needs `policy` and `clock`."""

    policy: DeliveryPolicy
    clock: Callable[[], datetime]

    async def _record(
        self, session: AsyncSession, row: tuple[int, int, str, str], outcome: SendOutcome, *, kind: str
    ) -> None:
        delivery_id, owner_id, _, channel = row
        if outcome.errcode == OUTCOME_UNKNOWN:  # may have arrived: neither failed nor resent
            await session.execute(
                update(Delivery).where(Delivery.id == delivery_id)
                .values(status=UNKNOWN, errcode=OUTCOME_UNKNOWN, reason="timeout")
            )
            return
        if outcome.ok:
            await session.execute(
                update(Delivery).where(Delivery.id == delivery_id)
                .values(status=DeliveryStatus.SENT, sent_at=self.clock(), wechat_msgid=outcome.msgid or None)
            )
            return
        if outcome.errcode == NOT_FOLLOWING:
            await session.execute(update(Owner).where(Owner.id == owner_id).values(following=False))
        fallback = self._fallback(channel, outcome.errcode, kind)
        if fallback is not None and await self._fallback_allowed(session, owner_id, fallback):
            # The message did not go out, so routing it through another channel is not a duplicate.
            await session.execute(
                update(Delivery).where(Delivery.id == delivery_id)
                .values(status=DeliveryStatus.PENDING, channel=fallback)
            )
            return
        await session.execute(
            update(Delivery).where(Delivery.id == delivery_id)
            .values(status=DeliveryStatus.FAILED, errcode=outcome.errcode, reason=outcome.errmsg[:64])
        )

    def _fallback(self, channel: str, errcode: int, kind: str) -> str | None:
        if channel != DeliveryChannel.CS or errcode not in (WINDOW_CLOSED, CS_COUNT_EXCEEDED):
            return None
        if kind == Kind.MARKETING:
            return DeliveryChannel.MASS
        return DeliveryChannel.TEMPLATE if self.policy.template_configured else None

    async def _fallback_allowed(self, session: AsyncSession, owner_id: int, channel: str) -> bool:
        if channel != DeliveryChannel.MASS:
            return True
        month_start = self.clock().astimezone(self.policy.tz).replace(
            day=1, hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
        used = await session.scalar(
            select(func.count()).select_from(Delivery)
            .where(Delivery.owner_id == owner_id, Delivery.channel == DeliveryChannel.MASS,
                   Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.SENT]),
                   Delivery.planned_at >= month_start)
        )
        return int(used or 0) < self.policy.mass_monthly_quota
