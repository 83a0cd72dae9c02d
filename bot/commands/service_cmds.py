"""/services: which butler lines a community offers (立项), what is planned, and what owners asked for."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.commands.registry import CommandContext, CommandResult, command
from storage import catalog, service_lines
from storage.communities import Community

DEMAND_DAYS = 30


async def describe_offer(ctx: CommandContext, community: Community) -> str:
    """One community's offer as staff read it."""
    today = ctx.now().date()
    offer = await service_lines.offer(session=ctx.session, community_id=community.id, today=today)
    assert offer is not None
    out = [f"【{community.name}】" + ("" if offer.configured else "未立项配置：全部服务开通")]
    if offer.configured:
        parts = []
        for line in await catalog.list_lines(session=ctx.session):
            names = [s.name for s in line.services if offer.offers(s.name)]
            if len(names) == len(line.services):
                parts.append(f"{line.name}（全部）")
            elif names:
                parts.append(f"{line.name}：{'、'.join(names)}")
        out.append("开通：" + ("；".join(parts) or "无"))
        if offer.planned:
            out.append("计划开通：" + "、".join(f"{name}（{day:%Y-%m-%d}起）" for name, day in offer.planned))
        if offer.disabled:
            out.append("已关闭：" + "、".join(offer.disabled))
    asked = (await service_lines.demand(
        session=ctx.session, since=today - timedelta(days=DEMAND_DAYS - 1), until=today + timedelta(days=1),
        community_ids=[community.id])).get(community.id, {})
    if asked:
        ranked = sorted(asked.items(), key=lambda kv: (-kv[1], kv[0]))
        out.append(f"近{DEMAND_DAYS}天有人问但未开通：" + "、".join(f"{name} {n}" for name, n in ranked))
    return "\n".join(out)


@command("services")
async def services(ctx: CommandContext, args: str) -> CommandResult:
    """查看小区开通的管家服务（立项）和业主问过但未开通的服务
    /services [小区]
    开通或关闭（管理员，命令行）：butler service enable 家政管家 --community 翠苑 [--from 2026-12-01]"""
    name = args.strip()
    scope = ctx.scope.community_ids
    if name:
        community = await ctx.session.scalar(select(Community).where(Community.name == name))
        if community is None:
            return CommandResult(f"没有名为「{name}」的小区。")
        if scope is not None and community.id not in scope:
            return CommandResult(f"您无权查看「{community.name}」。")
        chosen = [community]
    else:
        stmt = select(Community).order_by(Community.id)
        if scope is not None:
            stmt = stmt.where(Community.id.in_(scope))
        chosen = list(await ctx.session.scalars(stmt.limit(10)))
    if not chosen:
        return CommandResult("您还没有负责的小区。")
    return CommandResult("\n\n".join([await describe_offer(ctx, c) for c in chosen]))
