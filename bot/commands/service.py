"""Runs one staff command in its own unit of work, then kicks what the commit released."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands import REGISTRY
from bot.commands.registry import CommandContext, CommandResult
from bot.outbox_relay import OutboxRelay
from bot.runtime import Runtime
from bot.sla import sla_policy
from storage.broadcast_delivery import BroadcastSender
from storage.broadcasts import DeliveryPolicy
from storage.db import unit_of_work
from storage.staff import Staff

log = logging.getLogger(__name__)

StaffLookup = Callable[[AsyncSession], Awaitable[Staff | None]]


def policy_from(runtime: Runtime) -> DeliveryPolicy:
    """WeChat limits and caps from settings."""
    s = runtime.settings
    return DeliveryPolicy(
        template_configured=bool(s.wechat_template_notice or s.wechat_template_order),
        cs_window_hours=48,
        cs_max_per_window=s.cs_max_per_window,
        mass_monthly_quota=s.mass_monthly_quota,
        marketing_daily_cap=s.marketing_daily_cap,
        tz=runtime.tz,
    )


@dataclass
class StaffCommands:
    """What both transports call: `run(text, lookup, channel, reply_to)`."""

    runtime: Runtime
    relay: OutboxRelay
    sender: BroadcastSender | None = None

    def services(self) -> dict[str, Any]:
        """Per-command services (fresh dict per call: commands append after-commit work to it)."""
        return {"policy": policy_from(self.runtime), "report_dir": self.runtime.settings.report_dir,
                "sla": sla_policy(self.runtime.settings)}  # issue 16: work-order and complaint deadlines

    async def run(
        self, text: str, *, lookup: StaffLookup, channel: str, reply_to: str,
        before: Callable[[AsyncSession, Staff | None], Awaitable[None]] | None = None,
    ) -> CommandResult:
        """Resolve the caller, dispatch, commit; non-staff get the refusal and nothing runs."""
        services = self.services()
        async with unit_of_work(self.runtime.sessions) as session:
            staff = await lookup(session)
            if before is not None:
                await before(session, staff)
            ctx = CommandContext(
                session=session, kv=self.runtime.kv, guard=self.runtime.guard, tz=self.runtime.tz,
                staff=staff, channel=channel, reply_to=reply_to, services=services,
            )
            result = await REGISTRY.dispatch(text, ctx)
        self.relay.kick()
        if "broadcast" in services.get("after_commit", []) and self.sender is not None:
            self.sender.kick()
        return result
