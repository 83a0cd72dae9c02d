"""/services: which butler lines a community offers (立项), what is planned, and what owners asked for."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from bot.commands.registry import CommandContext, CommandResult, UsageError, command
from storage import catalog, service_lines
from storage.communities import Community
from storage.staff import StaffRole

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


_ON, _OFF = ("开通", "enable", "on"), ("关闭", "disable", "off")


async def change_offer(ctx: CommandContext, community: Community, words: list[str]) -> CommandResult:
    """Admins switch a line or service on (from a date) or off, as `butler service enable|disable` does."""
    assert ctx.staff is not None
    if ctx.staff.role != StaffRole.ADMIN:
        return CommandResult("抱歉，开通或关闭服务需要管理员权限。")
    action, *rest = words
    if not rest or len(rest) > 2 or (action in _OFF and len(rest) != 1):
        raise UsageError("请写 开通 名称 [YYYY-MM-DD] 或 关闭 名称")
    what = await service_lines.target(session=ctx.session, name=rest[0])
    if what is None:
        return CommandResult(f"没有名为「{rest[0]}」的管家线或服务。")
    starts = None
    if len(rest) == 2:
        try:
            starts = date.fromisoformat(rest[1])
        except ValueError as exc:
            raise UsageError(f"日期写法如 2026-12-01，收到「{rest[1]}」") from exc
    await service_lines.set_offer(session=ctx.session, community_id=community.id, what=what, enabled=action in _ON,
                                  starts_on=starts, staff_id=ctx.staff.id)
    done = "已开通" if action in _ON else "已关闭"
    since = f"（{starts:%Y-%m-%d}起）" if starts else ""
    return CommandResult(f"{community.name}：{done}{what.name}{since}。\n\n{await describe_offer(ctx, community)}")


@command("services")
async def services(ctx: CommandContext, args: str) -> CommandResult:
    """查看小区开通的管家服务（立项）和业主问过但未开通的服务
    /services [小区]
    /services 翠苑 开通 家政管家 [2026-12-01]   （管理员；名称可以是管家线或单项服务）
    /services 翠苑 关闭 钟点工                  （管理员）"""
    parts = args.split()
    name, words = (parts[0], parts[1:]) if parts else ("", [])
    if words and words[0] not in (*_ON, *_OFF):
        raise UsageError(f"不认识「{words[0]}」")
    scope = ctx.scope.community_ids
    if name:
        community = await ctx.session.scalar(select(Community).where(Community.name == name))
        if community is None:
            return CommandResult(f"没有名为「{name}」的小区。")
        if scope is not None and community.id not in scope:
            return CommandResult(f"您无权查看「{community.name}」。")
        if words:
            return await change_offer(ctx, community, words)
        chosen = [community]
    else:
        stmt = select(Community).order_by(Community.id)
        if scope is not None:
            stmt = stmt.where(Community.id.in_(scope))
        chosen = list(await ctx.session.scalars(stmt.limit(10)))
    if not chosen:
        return CommandResult("您还没有负责的小区。")
    return CommandResult("\n\n".join([await describe_offer(ctx, c) for c in chosen]))
