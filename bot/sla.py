"""The work-order and complaint SLAs from settings (issue 16), as the domain reads them."""

from __future__ import annotations

from datetime import timedelta

from bot.settings import Settings
from storage.workorders import Sla, SlaPolicy


def sla_policy(settings: Settings) -> SlaPolicy:
    """Acknowledge/finish deadlines per work-order kind and for complaints."""
    return SlaPolicy(
        common=Sla(timedelta(minutes=settings.workorder_ack_minutes), timedelta(hours=settings.workorder_done_hours)),
        urgent=Sla(timedelta(minutes=settings.urgent_ack_minutes), timedelta(hours=settings.urgent_done_hours),
                   timedelta(minutes=settings.urgent_repeat_minutes)),
        complaint=Sla(timedelta(minutes=settings.complaint_ack_minutes),
                      timedelta(hours=settings.complaint_resolve_hours)),
    )
