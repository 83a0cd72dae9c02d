"""The daily KPI report, per community (盘子) and service line (项目), against the plan's targets.

Targets (PRODUCT.md rule 7): every running line earns ≥ ¥1 per day; butler income exceeds 50% of
property fees receivable; ≥ 10 owner communication channels in use; ≥ 2 lines running
regularly. Plus surveys completed by channel, broadcast reach, and the monthly reach ("every owner
about once a month"). Figures come from grouped SQL; the chart is drawn with matplotlib (Agg).
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import report_workflows, service_lines
from storage.base import aware
from storage.broadcasts import CHANNEL_LABELS, Delivery, DeliveryStatus
from storage.catalog import ButlerLine, Service
from storage.communities import Community
from storage.messages import InboundMessageLog
from storage.orders import Order, OrderStatus
from storage.owners import Owner
from storage.report_workflows import WorkflowFigures
from storage.surveys import ResponseStatus, SurveyResponse
from storage.workorders import SlaPolicy

LINE_DAILY_TARGET_FEN = 100
CHANNELS_TARGET = 10
REGULAR_LINES_TARGET = 2
INCOME_SHARE_TARGET = 0.5
REGULAR_WEEKS = 4


@dataclass
class LineFigures:
    """One service line in one community on the report day."""

    orders: int = 0
    completed: int = 0
    revenue_fen: int = 0
    commission_fen: int = 0


@dataclass
class CommunityReport:
    """One community's figures and targets."""

    community_id: int | None
    name: str
    lines: dict[str, LineFigures] = field(default_factory=dict)
    running_lines: list[str] = field(default_factory=list)
    regular_lines: list[str] = field(default_factory=list)
    month_commission_fen: int = 0
    month_fee_target_fen: int = 0
    owners: int = 0
    reached_this_month: int = 0
    not_offered: dict[str, int] = field(default_factory=dict)  # issue 16: asked but not offered (立项)

    @property
    def lines_below_target(self) -> list[str]:
        """Running lines that earned under ¥1 today."""
        return [n for n in self.running_lines if self.lines.get(n, LineFigures()).commission_fen < LINE_DAILY_TARGET_FEN]


@dataclass
class DailyReport:
    """Everything the staff chat gets each morning."""

    day: date
    communities: list[CommunityReport]
    channels_used: list[str]
    surveys_by_channel: dict[str, int]
    broadcast_sent: int
    broadcast_owners: int
    chart_path: str | None = None
    workflows: WorkflowFigures | None = None  # issue 16: work orders, complaints, parked outbox rows


@dataclass(frozen=True)
class _Scope:
    """The communities a report covers (None = all)."""

    ids: frozenset[int] | None

    def where(self, column: Any) -> list[Any]:
        """[] for everything, else the one condition restricting column to the scope."""
        return [] if self.ids is None else [column.in_(sorted(self.ids))]

    def on(self, stmt: Any, column: Any) -> Any:
        """stmt restricted to the scope."""
        return stmt.where(*self.where(column))


def _utc(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


async def build(
    *, session: AsyncSession, day: date, tz: ZoneInfo, sla: SlaPolicy | None = None,
    community_ids: frozenset[int] | None = None,
) -> DailyReport:
    """Compute the report for one local day; with community_ids, only those communities' figures.

    Scoped staff read a report restricted to their communities (issue 14): every figure, the
    broadcast reach, surveys and channels included, is counted from their owners only.
    """
    start, end = _utc(day, tz), _utc(day + timedelta(days=1), tz)
    month_start = _utc(day.replace(day=1), tz)
    scope = _Scope(community_ids)
    names = {c.id: c for c in await session.scalars(
        scope.on(select(Community).order_by(Community.id), Community.id))}
    reports: dict[int | None, CommunityReport] = {
        cid: CommunityReport(cid, c.name) for cid, c in names.items()
    }

    def community(cid: int | None) -> CommunityReport:
        if cid not in reports:
            reports[cid] = CommunityReport(cid, "未绑定小区")
        return reports[cid]

    # A service line (项目) is one of the 33 services, shown with its butler line: 家政管家·钟点工.
    line = (ButlerLine.name + "·" + Service.name).label("line")
    created = await session.execute(
        select(Order.community_id, line, func.count())
        .join(Service, Service.id == Order.service_id).join(ButlerLine, ButlerLine.id == Service.line_id)
        .where(Order.created_at >= start, Order.created_at < end, *scope.where(Order.community_id))
        .group_by(Order.community_id, line)
    )
    for cid, name, n in created:
        community(cid).lines.setdefault(name, LineFigures()).orders = int(n)
    done = await session.execute(
        select(Order.community_id, line, func.count(),
               func.coalesce(func.sum(Order.amount_fen), 0), func.coalesce(func.sum(Order.commission_fen), 0))
        .join(Service, Service.id == Order.service_id).join(ButlerLine, ButlerLine.id == Service.line_id)
        .where(Order.status == OrderStatus.COMPLETED, Order.completed_at >= start, Order.completed_at < end,
               *scope.where(Order.community_id))
        .group_by(Order.community_id, line)
    )
    for cid, name, n, revenue, commission in done:
        fig = community(cid).lines.setdefault(name, LineFigures())
        fig.completed, fig.revenue_fen, fig.commission_fen = int(n), int(revenue or 0), int(commission or 0)

    # Running: completed work in the last 30 days. Regular: completed work in each of the last 4 weeks.
    weeks_start = _utc(day - timedelta(days=7 * REGULAR_WEEKS - 1), tz)
    recent = await session.execute(
        select(Order.community_id, line, Order.completed_at)
        .join(Service, Service.id == Order.service_id).join(ButlerLine, ButlerLine.id == Service.line_id)
        .where(Order.status == OrderStatus.COMPLETED, Order.completed_at >= min(weeks_start, _utc(day - timedelta(days=29), tz)),
               Order.completed_at < end, *scope.where(Order.community_id))
    )
    weeks: dict[tuple[int | None, str], set[int]] = defaultdict(set)
    for cid, name, completed_at in recent:
        assert completed_at is not None  # the query compares it, so NULLs are not selected
        local = aware(completed_at).astimezone(tz).date()
        age = (day - local).days
        if age < 30 and name not in community(cid).running_lines:
            community(cid).running_lines.append(name)
        if age < 7 * REGULAR_WEEKS:
            weeks[(cid, name)].add(age // 7)
    for (cid, name), seen in weeks.items():
        if len(seen) == REGULAR_WEEKS:
            community(cid).regular_lines.append(name)

    month = await session.execute(
        select(Order.community_id, func.coalesce(func.sum(Order.commission_fen), 0))
        .where(Order.status == OrderStatus.COMPLETED, Order.completed_at >= month_start, Order.completed_at < end,
               *scope.where(Order.community_id))
        .group_by(Order.community_id)
    )
    for cid, commission in month:
        community(cid).month_commission_fen = int(commission or 0)
    days_in_month = calendar.monthrange(day.year, day.month)[1]
    for cid, c in names.items():
        # Receivable to date: the month's fees pro rata, so the target is comparable every day.
        community(cid).month_fee_target_fen = int(
            c.property_fee_monthly_fen * INCOME_SHARE_TARGET * day.day / days_in_month
        )

    for cid, n in await session.execute(
        select(Owner.community_id, func.count())
        .where(Owner.following.is_(True), *scope.where(Owner.community_id)).group_by(Owner.community_id)
    ):
        community(cid).owners = int(n)
    for cid, n in await session.execute(
        select(Owner.community_id, func.count(distinct(Delivery.owner_id)))
        .join(Owner, Owner.id == Delivery.owner_id)
        .where(Delivery.status == DeliveryStatus.SENT, Delivery.sent_at >= month_start, Delivery.sent_at < end,
               *scope.where(Owner.community_id))
        .group_by(Owner.community_id)
    ):
        community(cid).reached_this_month = int(n)

    sent, owners_reached = (await session.execute(
        select(func.count(), func.count(distinct(Delivery.owner_id)))
        .join(Owner, Owner.id == Delivery.owner_id)
        .where(Delivery.status == DeliveryStatus.SENT, Delivery.sent_at >= start, Delivery.sent_at < end,
               *scope.where(Owner.community_id))
    )).one()
    surveys = await _surveys_by_channel(session, start, end, scope)
    channels = await _channels_used(
        session, day, tz, await _surveys_by_channel(session, _utc(day - timedelta(days=29), tz), end, scope), scope)
    await add_demand(session, community, day, community_ids)
    ordered = [r for r in reports.values() if r.community_id is not None] + (
        [reports[None]] if None in reports and (reports[None].lines or reports[None].owners) else []
    )
    # Work-order, complaint and outbox figures are company-wide, so only an unscoped report shows them.
    flows = None if community_ids is not None else await report_workflows.build(
        session=session, start=start, end=end, sla=sla or SlaPolicy())
    return DailyReport(day, ordered, channels, surveys, int(sent or 0), int(owners_reached or 0), workflows=flows)


SURVEY_CHANNEL_LABELS = {
    "wechat_self": "微信自助", "door_visit": "入户走访", "phone_visit": "电话回访", "reception": "前台接待",
    "symposium": "座谈会", "public_event": "社区活动", "express_desk": "快递点", "wechat_friend": "微信好友",
}


async def _surveys_by_channel(
    session: AsyncSession, since: datetime, until: datetime, scope: _Scope
) -> dict[str, int]:
    """Completed survey responses per collection channel (the survey feature records the channel)."""
    rows = await session.execute(
        select(SurveyResponse.channel, func.count())
        .join(Owner, Owner.id == SurveyResponse.owner_id)
        .where(SurveyResponse.status == ResponseStatus.COMPLETED,
               SurveyResponse.completed_at >= since, SurveyResponse.completed_at < until,
               *scope.where(Owner.community_id))
        .group_by(SurveyResponse.channel)
    )
    return {SURVEY_CHANNEL_LABELS.get(ch, ch): int(n) for ch, n in rows}


async def _channels_used(
    session: AsyncSession, day: date, tz: ZoneInfo, survey_channels: dict[str, int], scope: _Scope
) -> list[str]:
    """Owner communication channels used in the last 30 days (the plan counts online and offline)."""
    since, until = _utc(day - timedelta(days=29), tz), _utc(day + timedelta(days=1), tz)
    used: list[str] = []
    chats = await session.scalar(
        select(func.count()).select_from(InboundMessageLog)
        .where(InboundMessageLog.channel == "wechat", InboundMessageLog.created_at >= since,
               InboundMessageLog.created_at < until,
               *([InboundMessageLog.user_id.in_(select(Owner.openid).where(*scope.where(Owner.community_id)))]
                 if scope.ids is not None else []))
    )
    if chats:
        used.append("微信对话")
    for (channel,) in await session.execute(
        select(Delivery.channel).distinct()
        .join(Owner, Owner.id == Delivery.owner_id)
        .where(Delivery.status == DeliveryStatus.SENT, Delivery.sent_at >= since, Delivery.sent_at < until,
               *scope.where(Owner.community_id))
    ):
        if channel is not None:  # a sent delivery always has one
            used.append(f"微信{CHANNEL_LABELS.get(channel, channel)}")
    used += [c for c in survey_channels if c not in used]

    return used


async def add_demand(
    session: AsyncSession, community: Callable[[int | None], CommunityReport], day: date,
    community_ids: frozenset[int] | None = None,
) -> None:
    """Per-community counts of services owners asked for on the day that their community does not offer."""
    asked = await service_lines.demand(session=session, since=day, until=day + timedelta(days=1))
    for cid, counts in asked.items():
        if community_ids is not None and cid not in community_ids:
            continue  # a scoped report counts its own communities only
        community(cid).not_offered = counts
