"""Platform notifications with an effect: WeChat's send results update what we recorded."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import send_results
from storage.db import unit_of_work

log = logging.getLogger(__name__)

_KINDS = {"templatesendjobfinish": send_results.SendKind.TEMPLATE, "masssendjobfinish": send_results.SendKind.MASS}


def _count(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 10 else None


def report_from(kind: str, fields: dict[str, str]) -> send_results.Report | None:
    """The send result in a TEMPLATESENDJOBFINISH / MASSSENDJOBFINISH body; None for other kinds."""
    send_kind = _KINDS.get(kind)
    msgid = (fields.get("MsgID") or fields.get("MsgId") or "").strip()
    if send_kind is None or not msgid.isdigit() or len(msgid) > 32:
        return None
    return send_results.Report(
        kind=send_kind, msgid=msgid, openid=fields.get("FromUserName", "")[:64], status=fields.get("Status", "")[:64],
        total=_count(fields.get("TotalCount")), filtered=_count(fields.get("FilterCount")),
        sent=_count(fields.get("SentCount")), errors=_count(fields.get("ErrorCount")),
    )


def send_result_recorder(
    sessions: async_sessionmaker[AsyncSession],
) -> Callable[[str, dict[str, str]], Awaitable[None]]:
    """The webhook's notification handler: records send results, ignores the rest."""

    async def on_notification(kind: str, fields: dict[str, str]) -> None:
        report = report_from(kind, fields)
        if report is None:
            return
        async with unit_of_work(sessions) as session:
            await send_results.record_report(session=session, report=report)
        if report.user_block:
            log.info("an owner blocked the account (template %s); no more messages until they write", report.msgid)

    return on_notification
