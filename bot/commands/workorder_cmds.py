"""Work-order commands (issue 16): /workorders /wo_ack /wo_assign /wo_done /wo_reject.

Each is a thin parse around a domain step in storage/workorders.py; the scope check is the
caller's communities, the owner is told by the domain step itself (outbox).
"""

from __future__ import annotations

from sqlalchemy import select

from bot.commands.registry import CommandContext, CommandResult, UsageError, command
from dialogs import workflow_texts as wt
from storage import workorders
from storage.base import aware
from storage.staff import Staff
from storage.workorders import (
    ACTIVE,
    STATUS_LABELS,
    Outcome,
    SlaPolicy,
    StepResult,
    WorkOrderStatus,
)

_STATUS_WORDS = {
    "待受理": (WorkOrderStatus.OPEN,), "open": (WorkOrderStatus.OPEN,),
    "已受理": (WorkOrderStatus.ACKNOWLEDGED,), "acknowledged": (WorkOrderStatus.ACKNOWLEDGED,),
    "处理中": (WorkOrderStatus.ASSIGNED,), "assigned": (WorkOrderStatus.ASSIGNED,),
    "已完成": (WorkOrderStatus.DONE,), "done": (WorkOrderStatus.DONE,), "完成": (WorkOrderStatus.DONE,),
    "不受理": (WorkOrderStatus.REJECTED,), "rejected": (WorkOrderStatus.REJECTED,),
    "全部": tuple(WorkOrderStatus), "all": tuple(WorkOrderStatus),
}


def sla_of(ctx: CommandContext) -> SlaPolicy:
    """The SLAs this process was configured with (bot/sla.py)."""
    found = ctx.services.get("sla")
    return found if isinstance(found, SlaPolicy) else SlaPolicy()


def _ref(text: str) -> int:
    found = workorders.parse_ref(text)
    if found is None:
        raise UsageError(f"工单号写成 W12 或 12，收到「{text}」")
    return found


async def _in_scope(ctx: CommandContext, work_order_id: int) -> bool:
    assert ctx.staff is not None
    return ctx.staff.can_act_in(await workorders.scope_of(ctx.session, work_order_id))


def _answer(result: StepResult, work_order_id: int, done: str) -> CommandResult:
    row = result.work_order
    if result.outcome == Outcome.NOT_FOUND:
        return CommandResult(f"没有工单 W{work_order_id}。")
    if result.outcome == Outcome.OUT_OF_SCOPE:
        return CommandResult("您无权处理该小区的工单。")
    if result.outcome == Outcome.ALREADY:
        assert row is not None
        return CommandResult(f"工单 W{row.id} 当前为「{row.status_label}」，未做改动。")
    return CommandResult(done)


@command("workorders", aliases=("工单",))
async def list_work_orders(ctx: CommandContext, args: str) -> CommandResult:
    """查看物业工单（默认未完成的），可按状态筛选
    /workorders [待受理|已受理|处理中|已完成|不受理|全部]
    例：/workorders 待受理"""
    word = args.strip()
    statuses = ACTIVE if not word else _STATUS_WORDS.get(word.lower())
    if statuses is None:
        raise UsageError(f"不认识的状态「{word}」")
    rows = await workorders.list_for(session=ctx.session, statuses=tuple(statuses), community_ids=ctx.scope.community_ids)
    if not rows:
        return CommandResult("没有符合条件的工单。")
    sla = sla_of(ctx)
    now = ctx.clock()
    out = [f"工单（最近 {len(rows)} 条）："]
    for row in rows:
        late = ""
        if row.status == WorkOrderStatus.OPEN and now >= workorders.ack_deadline(row, sla):
            late = " ⏰超时未受理"
        elif row.status in ACTIVE and now >= workorders.done_deadline(row, sla):
            late = " ⏰超时未完成"
        urgent = "🚨" if row.kind == workorders.WorkOrderKind.URGENT else ""
        out.append(f"{urgent}W{row.id} {STATUS_LABELS.get(row.status, row.status)}{late} "
                   f"{aware(row.created_at).astimezone(ctx.tz):%m-%d %H:%M} {row.text[:30]}")
    return CommandResult("\n".join(out))


@command("wo_ack")
async def ack(ctx: CommandContext, args: str) -> CommandResult:
    """受理工单（紧急工单受理后停止重复提醒；业主会收到通知）
    /wo_ack 工单号
    例：/wo_ack W12"""
    if not args.strip():
        raise UsageError("请写工单号")
    wo_id = _ref(args.split()[0])
    assert ctx.staff is not None
    result = await workorders.acknowledge(
        session=ctx.session, work_order_id=wo_id, staff_id=ctx.staff.id, sla=sla_of(ctx),
        in_scope=await _in_scope(ctx, wo_id), say=wt.workorder_notice)
    return _answer(result, wo_id, f"✅ 已受理工单 W{wo_id}，已通知业主。")


async def _staff_member(ctx: CommandContext, ref: str) -> Staff | None:
    ref = ref.strip().lstrip("#")
    if ref.isdigit() and len(ref) <= 9:
        return await ctx.session.get(Staff, int(ref))
    return await ctx.session.scalar(select(Staff).where(Staff.name == ref).limit(1))


@command("wo_assign")
async def assign(ctx: CommandContext, args: str) -> CommandResult:
    """把工单指派给员工（未受理的同时受理）
    /wo_assign 工单号 员工姓名或编号
    例：/wo_assign W12 王师傅"""
    parts = args.split()
    if len(parts) != 2:
        raise UsageError("请写工单号和员工")
    wo_id = _ref(parts[0])
    member = await _staff_member(ctx, parts[1])
    if member is None:
        return CommandResult(f"没有员工「{parts[1]}」。")
    community = await workorders.scope_of(ctx.session, wo_id)
    if community is not None and not member.can_act_in(community):
        return CommandResult(f"{member.name} 不负责该小区，不能指派。")
    assert ctx.staff is not None
    result = await workorders.assign(
        session=ctx.session, work_order_id=wo_id, staff_id=ctx.staff.id, assignee_id=member.id,
        assignee_name=member.name, sla=sla_of(ctx), in_scope=await _in_scope(ctx, wo_id), say=wt.workorder_notice)
    return _answer(result, wo_id, f"✅ 工单 W{wo_id} 已指派给 {member.name}。")


@command("wo_done")
async def done(ctx: CommandContext, args: str) -> CommandResult:
    """工单处理完毕（业主会收到处理说明，并可为处理打分）
    /wo_done 工单号 处理说明
    例：/wo_done W12 已更换3楼楼道灯"""
    ref, _, note = args.strip().partition(" ")
    if not ref or not note.strip():
        raise UsageError("请写工单号和处理说明")
    wo_id = _ref(ref)
    assert ctx.staff is not None
    result = await workorders.finish(
        session=ctx.session, work_order_id=wo_id, staff_id=ctx.staff.id, note=note.strip(),
        in_scope=await _in_scope(ctx, wo_id), say=wt.workorder_notice)
    return _answer(result, wo_id, f"✅ 工单 W{wo_id} 已完成，已通知业主：{note.strip()}")


@command("wo_reject")
async def reject(ctx: CommandContext, args: str) -> CommandResult:
    """不受理工单（须写原因，业主会收到）
    /wo_reject 工单号 原因
    例：/wo_reject W12 属于户内维修，请预约家电维修服务"""
    ref, _, reason = args.strip().partition(" ")
    if not ref or not reason.strip():
        raise UsageError("请写工单号和原因")
    wo_id = _ref(ref)
    assert ctx.staff is not None
    result = await workorders.reject(
        session=ctx.session, work_order_id=wo_id, staff_id=ctx.staff.id, reason=reason.strip(),
        in_scope=await _in_scope(ctx, wo_id), say=wt.workorder_notice)
    return _answer(result, wo_id, f"工单 W{wo_id} 已标记为不受理，已告知业主原因。")
