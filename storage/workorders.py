"""Property work orders (物业工单): common-area problems owners report, and their life.

open → acknowledged → (assigned to a staff member) → done, or → rejected. Each step is one
conditional UPDATE (`WHERE status IN …`), so two staff pressing at once decide once on SQLite as
on PostgreSQL, and the owner is told in the same unit of work (outbox). Deadlines come from an SLA
per kind: an urgent report (people trapped, gas, fire …) is re-alerted every few minutes until
someone acknowledges it; a common one is re-alerted once when acknowledgement, and once when the
fix, is overdue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage import jobs, outbox
from storage.base import Base, Timestamped, UtcDateTime, aware, utcnow
from storage.db import rows_affected
from storage.events import OwnerNotice, StaffAlert
from storage.owners import Owner


class WorkOrderStatus(StrEnum):
    """Where a work order stands."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    ASSIGNED = "assigned"
    DONE = "done"
    REJECTED = "rejected"


STATUS_LABELS = {"open": "待受理", "acknowledged": "已受理", "assigned": "处理中", "done": "已完成", "rejected": "不受理"}
ACTIVE = (WorkOrderStatus.OPEN, WorkOrderStatus.ACKNOWLEDGED, WorkOrderStatus.ASSIGNED)


class WorkOrderKind(StrEnum):
    """Each kind has its own SLA."""

    COMMON = "common"
    URGENT = "urgent"


@dataclass(frozen=True)
class Sla:
    """Time to acknowledge and to finish; `repeat` re-alerts until acknowledged (urgent only)."""

    ack: timedelta
    done: timedelta
    repeat: timedelta | None = None


@dataclass(frozen=True)
class SlaPolicy:
    """SLAs per kind, from settings (bot/settings.py, issue 16 block)."""

    common: Sla = field(default_factory=lambda: Sla(timedelta(minutes=30), timedelta(hours=24)))
    urgent: Sla = field(default_factory=lambda: Sla(timedelta(minutes=5), timedelta(hours=4), timedelta(minutes=5)))
    complaint: Sla = field(default_factory=lambda: Sla(timedelta(minutes=30), timedelta(hours=24)))

    def of(self, kind: str) -> Sla:
        """The SLA of a work-order kind."""
        return self.urgent if kind == WorkOrderKind.URGENT else self.common


class WorkOrder(Timestamped, Base):
    """A lift, corridor light or gate problem reported by an owner."""

    __tablename__ = "work_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id"), index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=WorkOrderStatus.OPEN, index=True)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    kind: Mapped[str] = mapped_column(String(16), default=WorkOrderKind.COMMON)
    note: Mapped[str] = mapped_column(Text, default="")  # how it was fixed, or why it was rejected
    alerts: Mapped[int] = mapped_column(Integer, default=0)  # staff alerts sent (first one included)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    acknowledged_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    assigned_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    closed_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    rejected_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    rating: Mapped[int | None] = mapped_column(Integer)
    last_alert_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    @property
    def code(self) -> str:
        """W12: the 工单号 owners and staff quote."""
        return f"W{self.id}"

    @property
    def status_label(self) -> str:
        """Chinese status for staff lists."""
        return STATUS_LABELS.get(self.status, self.status)
    # Issue 12: photos, videos and links the owner sent with the report, and a shared location.
    attachments: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)


class Outcome(StrEnum):
    """What a staff step did."""

    OK = "ok"
    NOT_FOUND = "not_found"
    OUT_OF_SCOPE = "out_of_scope"
    ALREADY = "already"  # someone else got there first, or it is closed


@dataclass(frozen=True)
class StepResult:
    """The outcome and the row as it is now."""

    outcome: Outcome
    work_order: WorkOrder | None = None


# --- what people are told (the words: dialogs/workflow_texts.py workorder_notice) ------------------


@dataclass(frozen=True)
class WorkOrderReported:
    """To staff: a new report, with the time to acknowledge it (urgent ones repeat every `repeat`)."""

    id: int
    household: str
    text: str
    phone: str
    urgent: bool
    ack: timedelta
    repeat: timedelta


@dataclass(frozen=True)
class UrgentStillOpen:
    """To staff: the `n`th alert about an urgent report nobody has acknowledged (`text` is the newest words)."""

    id: int
    n: int
    household: str
    text: str


@dataclass(frozen=True)
class AckOverdue:
    """To staff: nobody acknowledged the report within `ack`."""

    id: int
    ack: timedelta
    household: str
    text: str


@dataclass(frozen=True)
class DoneOverdue:
    """To staff: not fixed within `done`; `staff` is who holds it."""

    id: int
    done: timedelta
    staff: str
    household: str
    text: str


@dataclass(frozen=True)
class Acknowledged:
    """To the owner: taken on, to be fixed within `done`."""

    id: int
    done: timedelta


@dataclass(frozen=True)
class Assigned:
    """To the owner: the staff member now in charge."""

    id: int
    staff: str


@dataclass(frozen=True)
class Done:
    """To the owner: fixed, how (`note`), and please rate it."""

    id: int
    note: str


@dataclass(frozen=True)
class Rejected:
    """To the owner: not taken on, and why."""

    id: int
    note: str


WorkOrderNotice = (WorkOrderReported | UrgentStillOpen | AckOverdue | DoneOverdue | Acknowledged | Assigned | Done
                   | Rejected)
# The words for a notice, from the caller (owner and staff wording is not the domain's).
WorkOrderWording = Callable[[WorkOrderNotice], str]


async def create(
    *, session: AsyncSession, owner_id: int, community_id: int | None, text: str,
    kind: WorkOrderKind = WorkOrderKind.COMMON,
) -> WorkOrder:
    """Record a reported problem."""
    row = WorkOrder(owner_id=owner_id, community_id=community_id, text=text, kind=kind)
    session.add(row)
    await session.flush()
    return row


async def open_reported(
    *, session: AsyncSession, owner: Owner, household: str, text: str, kind: WorkOrderKind, sla: SlaPolicy,
    say: WorkOrderWording,
) -> WorkOrder:
    """A report from an owner: the row plus the first staff alert (urgent ones say they repeat)."""
    row = await create(session=session, owner_id=owner.id, community_id=owner.community_id, text=text, kind=kind)
    rule = sla.of(kind)
    urgent = kind == WorkOrderKind.URGENT
    reported = WorkOrderReported(row.id, household, text, owner.phone or "", urgent, rule.ack, rule.repeat or rule.ack)
    alert_staff(session, row, say(reported), urgent=urgent)
    return row


def alert_staff(
    session: AsyncSession, row: WorkOrder, text: str, *, urgent: bool = False, at: datetime | None = None
) -> None:
    """Tell staff about this work order, counting the alert (urgent ones repeat from the last one)."""
    row.alerts = (row.alerts or 0) + 1
    row.last_alert_at = at or utcnow()
    outbox.emit(session, StaffAlert(text=text, workorder_id=row.id, community_id=row.community_id, urgent=urgent))


async def get(*, session: AsyncSession, work_order_id: int) -> WorkOrder | None:
    """A work order by id, re-read from the database."""
    return await session.scalar(
        select(WorkOrder).where(WorkOrder.id == work_order_id).execution_options(populate_existing=True)
    )


def parse_ref(ref: str) -> int | None:
    """12 from "W12", "w12", "#12" or "12"."""
    cleaned = ref.strip().lstrip("#").removeprefix("W").removeprefix("w")
    # Bounded to the id column's range: a 30-digit "id" is bad input, not a database error.
    return int(cleaned) if cleaned.isdigit() and len(cleaned) <= 9 else None


async def list_for(
    *, session: AsyncSession, statuses: tuple[str, ...], community_ids: frozenset[int] | None, limit: int = 20
) -> list[WorkOrder]:
    """Newest work orders in these states, within a staff member's communities (None = all)."""
    stmt = select(WorkOrder).where(WorkOrder.status.in_(statuses)).order_by(WorkOrder.id.desc()).limit(limit)
    if community_ids is not None:
        stmt = stmt.where(WorkOrder.community_id.in_(community_ids))
    return list(await session.scalars(stmt))


async def _step(
    session: AsyncSession, work_order_id: int, staff_can_act: bool | None, allowed: tuple[str, ...], **values: object
) -> StepResult:
    """Move a work order if it is still in an allowed state; exactly one concurrent caller wins."""
    row = await get(session=session, work_order_id=work_order_id)
    if row is None:
        return StepResult(Outcome.NOT_FOUND)
    if staff_can_act is False:
        return StepResult(Outcome.OUT_OF_SCOPE, row)
    won = await session.execute(
        update(WorkOrder).where(WorkOrder.id == work_order_id, WorkOrder.status.in_(allowed)).values(**values)
    )
    row = await get(session=session, work_order_id=work_order_id)
    return StepResult(Outcome.OK if rows_affected(won) == 1 else Outcome.ALREADY, row)


async def _owner(session: AsyncSession, row: WorkOrder) -> Owner | None:
    return await session.get(Owner, row.owner_id)


async def _tell_owner(session: AsyncSession, row: WorkOrder, text: str) -> None:
    owner = await _owner(session, row)
    if owner is not None and owner.openid:
        outbox.emit(session, OwnerNotice(openid=owner.openid, text=text, notice=True, title="报修进度"))


async def scope_of(session: AsyncSession, work_order_id: int) -> int | None:
    """The community a work order belongs to (for the caller's scope check)."""
    return await session.scalar(select(WorkOrder.community_id).where(WorkOrder.id == work_order_id))


async def acknowledge(
    *, session: AsyncSession, work_order_id: int, staff_id: int, sla: SlaPolicy, say: WorkOrderWording,
    in_scope: bool = True,
) -> StepResult:
    """Staff take it on; the owner hears when it should be fixed. Stops urgent re-alerts."""
    result = await _step(
        session, work_order_id, in_scope, (WorkOrderStatus.OPEN,),
        status=WorkOrderStatus.ACKNOWLEDGED, acknowledged_at=utcnow(), acknowledged_by_staff_id=staff_id,
    )
    if result.outcome == Outcome.OK and result.work_order is not None:
        row = result.work_order
        await _tell_owner(session, row, say(Acknowledged(row.id, sla.of(row.kind).done)))
    return result


async def assign(
    *, session: AsyncSession, work_order_id: int, staff_id: int, assignee_id: int, assignee_name: str,
    sla: SlaPolicy, say: WorkOrderWording, in_scope: bool = True,
) -> StepResult:
    """Give it to a staff member (acknowledging it too if nobody had)."""
    row = await get(session=session, work_order_id=work_order_id)
    was_open = row is not None and row.status == WorkOrderStatus.OPEN
    now = utcnow()
    values: dict[str, object] = {"status": WorkOrderStatus.ASSIGNED, "assigned_staff_id": assignee_id}
    if was_open:
        values |= {"acknowledged_at": now, "acknowledged_by_staff_id": staff_id}
    result = await _step(session, work_order_id, in_scope, ACTIVE if not was_open else (WorkOrderStatus.OPEN,), **values)
    if result.outcome == Outcome.OK and result.work_order is not None:
        row = result.work_order
        if was_open:
            await _tell_owner(session, row, say(Acknowledged(row.id, sla.of(row.kind).done)))
        else:
            await _tell_owner(session, row, say(Assigned(row.id, assignee_name)))
    return result


async def finish(
    *, session: AsyncSession, work_order_id: int, staff_id: int, note: str, say: WorkOrderWording,
    in_scope: bool = True,
) -> StepResult:
    """Fixed: the owner hears how, and is asked to rate the fix."""
    now = utcnow()
    result = await _step(
        session, work_order_id, in_scope, ACTIVE,
        status=WorkOrderStatus.DONE, done_at=now, note=note[:1000], closed_by_staff_id=staff_id,
    )
    if result.outcome == Outcome.OK and result.work_order is not None:
        row = result.work_order
        if row.acknowledged_at is None:
            await session.execute(update(WorkOrder).where(WorkOrder.id == row.id).values(
                acknowledged_at=now, acknowledged_by_staff_id=staff_id))
        await _tell_owner(session, row, say(Done(row.id, note)))
    return result


async def reject(
    *, session: AsyncSession, work_order_id: int, staff_id: int, reason: str, say: WorkOrderWording,
    in_scope: bool = True,
) -> StepResult:
    """Not the property's to fix (or a duplicate): the owner hears why."""
    result = await _step(
        session, work_order_id, in_scope, ACTIVE,
        status=WorkOrderStatus.REJECTED, rejected_at=utcnow(), note=reason[:1000], closed_by_staff_id=staff_id,
    )
    if result.outcome == Outcome.OK and result.work_order is not None:
        await _tell_owner(session, result.work_order, say(Rejected(work_order_id, reason)))
    return result


async def rate(*, session: AsyncSession, work_order_id: int, owner_id: int, score: int) -> bool:
    """The owner's 1–5 for a finished fix, once. False if there is nothing (left) to rate."""
    if not 1 <= score <= 5:
        raise ValueError(f"rating must be 1..5, got {score}")
    won = await session.execute(
        update(WorkOrder)
        .where(WorkOrder.id == work_order_id, WorkOrder.owner_id == owner_id,
               WorkOrder.status == WorkOrderStatus.DONE, WorkOrder.rating.is_(None))
        .values(rating=score)
    )
    return rows_affected(won) == 1


# --- SLA -----------------------------------------------------------------------------------------


def ack_deadline(row: WorkOrder, sla: SlaPolicy) -> datetime:
    """When it should have been acknowledged."""
    return aware(row.created_at) + sla.of(row.kind).ack


def done_deadline(row: WorkOrder, sla: SlaPolicy) -> datetime:
    """When it should have been fixed."""
    return aware(row.created_at) + sla.of(row.kind).done


async def realert_overdue(
    *, session: AsyncSession, now: datetime, sla: SlaPolicy, say: WorkOrderWording
) -> dict[str, int]:
    """Re-alert staff: urgent ones every `repeat` until acknowledged; common ones once per deadline."""
    tally = {"urgent": 0, "ack_overdue": 0, "done_overdue": 0}
    horizon = now - max(sla.common.done, sla.urgent.done) - timedelta(days=7)
    rows = list(await session.scalars(
        # No batch limit: a limit would starve the newest (often the urgent) ones behind old ones.
        select(WorkOrder).where(WorkOrder.status.in_(ACTIVE), WorkOrder.created_at >= horizon).order_by(WorkOrder.id)
    ))
    for row in rows:
        rule = sla.of(row.kind)
        household = await _household(session, row)
        if row.status == WorkOrderStatus.OPEN and row.kind == WorkOrderKind.URGENT and rule.repeat:
            last = aware(row.last_alert_at or row.created_at)
            if now - last >= rule.repeat and await _repeat_claim(session, row, last):
                alert_staff(session, row, say(UrgentStillOpen(row.id, row.alerts + 1, household, row.text)),
                            urgent=True, at=now)
                tally["urgent"] += 1
            continue
        phases = []
        if row.status == WorkOrderStatus.OPEN and now >= ack_deadline(row, sla):
            phases.append(("ack", say(AckOverdue(row.id, rule.ack, household, row.text))))
        if now >= done_deadline(row, sla):
            staff_name = await _staff_name(session, row.assigned_staff_id or row.acknowledged_by_staff_id)
            phases.append(("done", say(DoneOverdue(row.id, rule.done, staff_name, household, row.text))))
        for phase, text in phases:
            if await jobs.claim(session=session, job="workorder_overdue", key=f"{row.id}:{phase}"):
                alert_staff(session, row, text, at=now)
                tally[f"{phase}_overdue"] += 1
    return tally


async def _repeat_claim(session: AsyncSession, row: WorkOrder, last: datetime) -> bool:
    # Keyed by the alert being repeated, so two scheduler processes send the repeat once.
    return await jobs.claim(session=session, job="workorder_urgent", key=f"{row.id}:{int(last.timestamp())}")


async def _household(session: AsyncSession, row: WorkOrder) -> str:
    from storage.communities import Community

    owner = await _owner(session, row)
    community = await session.get(Community, row.community_id) if row.community_id else None
    parts = [community.name if community else "", owner.address if owner else ""]
    return " ".join(p for p in parts if p) or "未绑定房屋"


async def _staff_name(session: AsyncSession, staff_id: int | None) -> str:
    from storage.staff import Staff

    member = await session.get(Staff, staff_id) if staff_id else None
    return member.name if member else "未指派"


@dataclass
class OverdueCount:
    """Work orders whose deadline fell in a period and was missed."""

    ack: int = 0
    done: int = 0

    @property
    def total(self) -> int:
        """Both kinds of miss."""
        return self.ack + self.done


async def overdue_between(*, session: AsyncSession, since: datetime, until: datetime, sla: SlaPolicy) -> OverdueCount:
    """Deadlines in [since, until) that were missed (acknowledged or fixed late, or not at all)."""
    longest = max(sla.common.done, sla.urgent.done, sla.common.ack, sla.urgent.ack)
    rows = list(await session.scalars(
        select(WorkOrder).where(WorkOrder.created_at >= since - longest, WorkOrder.created_at < until)
    ))
    count = OverdueCount()
    for row in rows:
        ack_by = ack_deadline(row, sla)
        if since <= ack_by < until and ack_by <= until and _missed(row.acknowledged_at or row.rejected_at, ack_by):
            count.ack += 1
        done_by = done_deadline(row, sla)
        if since <= done_by < until and _missed(row.done_at or row.rejected_at, done_by):
            count.done += 1
    return count


def _missed(met_at: datetime | None, deadline: datetime) -> bool:
    return met_at is None or aware(met_at) > deadline
