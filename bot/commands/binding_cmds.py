"""Household verification commands: /bindings, /bind_ok, /bind_reject (issue 14).

Scoped staff see and decide only claims in their communities; admins everywhere. A decision is
one conditional update, so two staff deciding the same claim at once get one "done" and one
"already decided".
"""

from __future__ import annotations

from bot.commands.registry import CommandContext, CommandResult, UsageError, command
from dialogs import verification
from dialogs.verification import Decision, Outcome
from storage import communities, household_claims
from storage.household_claims import ClaimStatus

_DECIDED = {ClaimStatus.VERIFIED: "已通过", ClaimStatus.REJECTED: "已驳回"}


def _claim_id(word: str) -> int:
    word = word.strip().lstrip("#＃")
    if not word.isdigit() or len(word) > 9:
        raise UsageError("请写认领编号（/bindings 列表中的 #数字）")
    return int(word)


@command("bindings", aliases=("绑定审核",))
async def list_bindings(ctx: CommandContext, args: str) -> CommandResult:
    """查看待核实的房屋绑定（房屋、申请电话、花名册登记、已等待时间）
    /bindings"""
    pending = await household_claims.list_pending(session=ctx.session, community_ids=ctx.scope.community_ids)
    if not pending:
        return CommandResult("没有待核实的房屋绑定。")
    now = ctx.clock()
    names = {c.id: c.name for c in await communities.list_all(session=ctx.session)}
    lines = [f"待核实绑定（{len(pending)} 条，最早的在前）："]
    for claim in pending:
        on_file = await household_claims.roster_for(session=ctx.session, claim=claim)
        roster = "、".join(f"{e.name or '未登记姓名'} {e.phone}" for e in on_file[:3]) or "无登记"
        conflict = f"，⚠️ 该房屋已有核实业主 #{claim.conflict_owner_id}" if claim.conflict_owner_id else ""
        lines.append(
            f"#{claim.id} {names.get(claim.community_id or 0, '')} {claim.address}\n"
            f"  申请电话 {claim.phone or '未留'}，花名册：{roster}，已等待 {household_claims.waited(claim, now)}{conflict}"
        )
    lines.append("通过：/bind_ok 编号　驳回：/bind_reject 编号 原因")
    return CommandResult("\n".join(lines))


def _refusal(decision: Decision, claim_id: int) -> str | None:
    if decision.outcome == Outcome.NOT_FOUND:
        return f"没有认领 #{claim_id}。"
    if decision.outcome == Outcome.OUT_OF_SCOPE:
        return "您无权处理该小区的房屋绑定。"
    if decision.outcome == Outcome.ALREADY and decision.claim is not None:
        return f"认领 #{claim_id} 已处理过（{_DECIDED.get(ClaimStatus(decision.claim.status), decision.claim.status)}），未做改动。"
    return None


@command("bind_ok")
async def bind_ok(ctx: CommandContext, args: str) -> CommandResult:
    """核实通过一条房屋绑定，业主会收到通知，等待中的订单开始派单
    /bind_ok 编号"""
    claim_id = _claim_id(args)
    assert ctx.staff is not None
    decision = await verification.approve(session=ctx.session, claim_id=claim_id, staff=ctx.staff)
    refused = _refusal(decision, claim_id)
    if refused:
        return CommandResult(refused)
    released = f"，{len(decision.released)} 个等待中的订单已开始派单（{'、'.join(decision.released)}）" if decision.released else ""
    return CommandResult(f"✅ 认领 #{claim_id} 已核实通过，已通知业主{released}。")


@command("bind_reject")
async def bind_reject(ctx: CommandContext, args: str) -> CommandResult:
    """驳回一条房屋绑定并说明原因，业主会收到原因，等待中的订单取消
    /bind_reject 编号 原因"""
    ref, _, reason = args.strip().partition(" ")
    claim_id = _claim_id(ref)
    if not reason.strip():
        raise UsageError("请写驳回原因，业主会看到")
    term = ctx.guard.find(reason)
    if term is not None:  # the reason goes to the owner: refused here, where staff can fix it
        return CommandResult("原因含有仅限内部使用的词语，请修改后重发。")
    assert ctx.staff is not None
    decision = await verification.reject(session=ctx.session, claim_id=claim_id, staff=ctx.staff, reason=reason.strip()[:200])
    refused = _refusal(decision, claim_id)
    if refused:
        return CommandResult(refused)
    cancelled = f"，{len(decision.cancelled)} 个等待中的订单已取消" if decision.cancelled else ""
    return CommandResult(f"认领 #{claim_id} 已驳回，已把原因告诉业主{cancelled}。")
