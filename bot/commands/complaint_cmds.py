"""Complaint commands (issue 16): /complaints /complaint_ack /close_complaint (with compensation).

`/close_complaint ID NOTE` works as before; `… 赔偿 金额 商家|平台` records compensation, and a
merchant-borne amount comes off that merchant's payout (`butler statements`).
"""

from __future__ import annotations

import re

from bot.commands.registry import CommandContext, CommandResult, UsageError, command
from bot.commands.workorder_cmds import sla_of
from dialogs import workflow_texts as wt
from storage import complaints
from storage.base import aware
from storage.feedback import COMPLAINT_LABELS, Bearer, ComplaintStatus
from storage.money import InvalidAmount, format_yuan, parse_yuan
from storage.workorders import Outcome

_STATUS_WORDS = {
    "待受理": (ComplaintStatus.OPEN,), "open": (ComplaintStatus.OPEN,),
    "处理中": (ComplaintStatus.ACKNOWLEDGED,), "已受理": (ComplaintStatus.ACKNOWLEDGED,),
    "已结案": (ComplaintStatus.CLOSED,), "closed": (ComplaintStatus.CLOSED,),
    "全部": tuple(ComplaintStatus), "all": tuple(ComplaintStatus),
}
_BEARERS = {"商家": Bearer.MERCHANT, "merchant": Bearer.MERCHANT, "平台": Bearer.PLATFORM, "platform": Bearer.PLATFORM,
            "物业": Bearer.PLATFORM}
# "… 赔偿 50 商家" at the end of the note.
_COMPENSATION = re.compile(r"\s+(?:赔偿|补偿)\s*(\S+?)\s*元?\s+(\S+)\s*$")


def _ref(text: str) -> int:
    found = complaints.parse_ref(text)
    if found is None:
        raise UsageError(f"投诉编号写成 T7 或 7，收到「{text}」")
    return found


async def _in_scope(ctx: CommandContext, complaint_id: int) -> bool:
    complaint = await complaints.get(session=ctx.session, complaint_id=complaint_id)
    assert ctx.staff is not None
    return complaint is None or ctx.staff.can_act_in(await complaints.community_of(ctx.session, complaint))


def _answer(step: complaints.ComplaintStep, complaint_id: int, done: str) -> CommandResult:
    if step.outcome == Outcome.NOT_FOUND:
        return CommandResult(f"没有投诉 T{complaint_id}。")
    if step.outcome == Outcome.OUT_OF_SCOPE:
        return CommandResult("您无权处理该小区的投诉。")
    if step.reason == "no_merchant":
        return CommandResult(f"投诉 T{complaint_id} 没有关联商家订单，赔偿只能由平台承担。")
    if step.outcome == Outcome.ALREADY:
        assert step.complaint is not None
        return CommandResult(f"投诉 T{complaint_id} 当前为「{COMPLAINT_LABELS.get(step.complaint.status)}」，未做改动。")
    return CommandResult(done)


@command("complaints", aliases=("投诉",))
async def list_complaints(ctx: CommandContext, args: str) -> CommandResult:
    """查看投诉（默认未结案的），可按状态筛选
    /complaints [待受理|处理中|已结案|全部]
    例：/complaints 待受理"""
    word = args.strip()
    statuses = complaints.ACTIVE if not word else _STATUS_WORDS.get(word.lower())
    if statuses is None:
        raise UsageError(f"不认识的状态「{word}」")
    rows = await complaints.list_for(session=ctx.session, statuses=tuple(statuses), community_ids=ctx.scope.community_ids)
    if not rows:
        return CommandResult("没有符合条件的投诉。")
    sla, now = sla_of(ctx), ctx.clock()
    out = [f"投诉（最近 {len(rows)} 条）："]
    for c in rows:
        created = aware(c.created_at)
        late = ""
        if c.status == ComplaintStatus.OPEN and now >= created + sla.complaint.ack:
            late = " ⏰超时未受理"
        elif c.status in complaints.ACTIVE and now >= created + sla.complaint.done:
            late = " ⏰超时未结案"
        comp = f" 赔偿{format_yuan(c.compensation_fen)}元" if c.compensation_fen else ""
        out.append(f"T{c.id} {COMPLAINT_LABELS.get(c.status, c.status)}{late}{comp} "
                   f"{created.astimezone(ctx.tz):%m-%d %H:%M} {c.text[:30]}")
    return CommandResult("\n".join(out))


@command("complaint_ack")
async def ack(ctx: CommandContext, args: str) -> CommandResult:
    """受理投诉（业主会收到受理通知和处理时限）
    /complaint_ack 投诉编号
    例：/complaint_ack T7"""
    if not args.strip():
        raise UsageError("请写投诉编号")
    complaint_id = _ref(args.split()[0])
    assert ctx.staff is not None
    step = await complaints.acknowledge(
        session=ctx.session, complaint_id=complaint_id, staff_id=ctx.staff.id, sla=sla_of(ctx),
        in_scope=await _in_scope(ctx, complaint_id), say=wt.complaint_notice)
    return _answer(step, complaint_id, f"✅ 已受理投诉 T{complaint_id}，已通知业主。")


@command("close_complaint")
async def close_complaint(ctx: CommandContext, args: str) -> CommandResult:
    """处理完投诉后结案，可记录赔偿（商家承担的从其下期结算中扣除）
    /close_complaint 投诉编号 处理说明 [赔偿 金额 商家|平台]
    例：/close_complaint T7 已上门返工并致歉 赔偿 50 商家"""
    ref, _, rest = args.strip().partition(" ")
    if not ref or not rest.strip():
        raise UsageError("请写投诉编号和处理说明")
    complaint_id = _ref(ref)
    note, fen, bearer = rest.strip(), 0, None
    m = _COMPENSATION.search(" " + note)
    if m is not None:
        try:
            fen = parse_yuan(m.group(1))
        except InvalidAmount as exc:
            raise UsageError(f"赔偿金额写成 50 或 50.5，收到「{m.group(1)}」") from exc
        bearer = _BEARERS.get(m.group(2).lower())
        if bearer is None:
            raise UsageError(f"赔偿由谁承担：写“商家”或“平台”，收到「{m.group(2)}」")
        note = (" " + note)[: m.start()].strip()
        if not note:
            raise UsageError("请写处理说明")
    assert ctx.staff is not None
    step = await complaints.resolve(
        session=ctx.session, complaint_id=complaint_id, staff_id=ctx.staff.id, note=note, compensation_fen=fen,
        bearer=bearer, in_scope=await _in_scope(ctx, complaint_id), say=wt.complaint_notice)
    paid = ""
    if fen:
        who = "由商家承担，将从其下期结算中扣除" if bearer == Bearer.MERCHANT else "由平台承担"
        paid = f"，赔偿 {format_yuan(fen)} 元{who}"
    return _answer(step, complaint_id, f"投诉 T{complaint_id} 已结案：{note}{paid}。已通知业主。")
