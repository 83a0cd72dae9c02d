"""Daily-report figures for staff workflows (issue 16): work orders, complaints, stuck outbox rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from storage import complaints, outbox, workorders
from storage.feedback import Complaint
from storage.workorders import SlaPolicy, WorkOrder, WorkOrderKind


@dataclass
class WorkflowFigures:
    """One day's work orders and complaints, their missed deadlines, and parked outbox rows."""

    work_orders: int = 0
    urgent: int = 0
    work_orders_done: int = 0
    ack_overdue: int = 0
    done_overdue: int = 0
    complaints: int = 0
    complaints_closed: int = 0
    complaints_overdue: int = 0
    compensation_fen: int = 0
    outbox_parked: int = 0  # parked now, waiting for someone to look
    outbox_parked_today: int = 0


async def build(*, session: AsyncSession, start: datetime, end: datetime, sla: SlaPolicy) -> WorkflowFigures:
    """Figures for the local day [start, end)."""
    def in_day(column: InstrumentedAttribute[datetime] | InstrumentedAttribute[datetime | None]) -> ColumnElement[bool]:
        return (column >= start) & (column < end)

    figs = WorkflowFigures()
    figs.work_orders = int(await session.scalar(select(func.count(WorkOrder.id)).where(in_day(WorkOrder.created_at))) or 0)
    figs.urgent = int(await session.scalar(select(func.count(WorkOrder.id)).where(
        in_day(WorkOrder.created_at), WorkOrder.kind == WorkOrderKind.URGENT)) or 0)
    figs.work_orders_done = int(await session.scalar(select(func.count(WorkOrder.id)).where(in_day(WorkOrder.done_at))) or 0)
    overdue = await workorders.overdue_between(session=session, since=start, until=end, sla=sla)
    figs.ack_overdue, figs.done_overdue = overdue.ack, overdue.done
    figs.complaints = int(await session.scalar(select(func.count(Complaint.id)).where(in_day(Complaint.created_at))) or 0)
    closed, paid = (await session.execute(
        select(func.count(Complaint.id), func.coalesce(func.sum(Complaint.compensation_fen), 0))
        .where(in_day(Complaint.closed_at))
    )).one()
    figs.complaints_closed, figs.compensation_fen = int(closed or 0), int(paid or 0)
    figs.complaints_overdue = await complaints.overdue_between(session=session, since=start, until=end, sla=sla)
    stuck = await outbox.counts(session=session, since=start)
    figs.outbox_parked, figs.outbox_parked_today = stuck["parked"], stuck.get("parked_since", 0)
    return figs
