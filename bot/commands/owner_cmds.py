"""Owner-database commands: /owner (household card), /tag (staff tags), /owners invalid (无效号码清查)."""

from __future__ import annotations

from sqlalchemy import select

from bot.commands.registry import CommandContext, CommandResult, UsageError, command
from bot.wording.staff import number_problem
from storage import household_card, households, owner_export
from storage.base import aware
from storage.communities import Community
from storage.households import TAG_SOURCE_LABELS, Address
from storage.orders import STATUS_LABELS
from storage.owners import BindingStatus

CHANNEL_LABELS = {
    "wechat": "微信", "wechat_self": "微信自助", "door_visit": "入户", "phone_visit": "电话", "reception": "前台",
    "symposium": "座谈会", "public_event": "活动", "express_desk": "快递点", "wechat_friend": "微信好友",
}
BINDING: dict[str, str] = {BindingStatus.VERIFIED: "微信已绑定（已核实）", BindingStatus.PENDING: "微信绑定待核实"}
REF_HELP = "户写成 3-2-502（楼-单元-室）、3号楼2单元502室或手机号，可在前面加小区名：翠苑3-2-502"
INVALID_LIMIT = 30


async def _scope_ids(ctx: CommandContext) -> list[int] | None:
    ids = ctx.scope.community_ids
    return None if ids is None else sorted(ids)


async def resolve_household(ctx: CommandContext, text: str) -> Address | CommandResult:
    """The one household in the caller's scope that `text` names, or the answer to give instead."""
    ref = households.parse_ref(text)
    if ref is None:
        raise UsageError(f"看不懂「{text[:30]}」。{REF_HELP}")
    scope = await _scope_ids(ctx)
    if ref.community:
        community = await ctx.session.scalar(select(Community).where(Community.name == ref.community))
        if community is None:
            return CommandResult(f"没有名为「{ref.community}」的小区。")
        if scope is not None and community.id not in scope:
            return CommandResult(f"您无权查看「{community.name}」的业主。")
        address = Address(community.id, ref.building, ref.unit, ref.room)
        if not await households.known(session=ctx.session, address=address):
            return CommandResult(f"{community.name} {address.label} 不在花名册里，也没有业主绑定。")
        return address
    found = await households.candidates(session=ctx.session, ref=ref, community_ids=scope)
    what = ref.phone or text.strip()
    if not found:
        return CommandResult(f"在您负责的小区里没有找到「{what}」。")
    if len(found) > 1:
        names = {c.id: c.name for c in await ctx.session.scalars(select(Community))}
        options = "\n".join(f"· {names.get(a.community_id, '')}{a.building}-{a.unit or '0'}-{a.room}"
                            if a.unit else f"· {names.get(a.community_id, '')}{a.building}-{a.room}" for a in found[:10])
        return CommandResult(f"「{what}」对应 {len(found)} 户，请加上小区名再查：\n{options}")
    return found[0]


def render_card(card: household_card.Card, ctx: CommandContext) -> str:
    """The card as staff read it in the chat."""
    hh = f"（户 #{card.household_id}）" if card.household_id else ""
    out = [f"🏠 {card.community} {card.address.label}{hh}", "成员："]
    for m in card.members:
        phone = m.phone or "无号码"
        if m.phone and not m.phone_valid:
            phone += "（号码无效）"
        where = "花名册" if m.on_roster else "微信"
        if m.binding in BINDING:
            status = BINDING[m.binding] + ("" if m.following is not False else "，已取消关注")
        else:
            status = "未关注微信"
        ref = f" #{m.owner_id}" if m.owner_id else ""
        out.append(f"· {m.name or '（未留姓名）'} {phone}｜{where}｜{status}{ref}")
    if not card.members:
        out.append("· 无")
    out.append("标签：" + ("、".join(f"{t.tag}（{TAG_SOURCE_LABELS.get(t.source, t.source)}）" for t in card.tags)
                         or "无"))
    if card.open_orders:
        out.append("未完成订单：")
        out += [f"· {o.code} {o.service.name} {STATUS_LABELS.get(o.status, o.status)}" for o in card.open_orders]
    else:
        out.append("未完成订单：无")
    if card.surveys:
        out.append("问卷：")
        for s in card.surveys:
            whom = "（登记到户）" if s.for_household else ""
            out.append(f"· {s.title}｜{CHANNEL_LABELS.get(s.channel, s.channel)}｜"
                       f"{s.at.astimezone(ctx.tz):%m-%d}{whom}")
    else:
        out.append("问卷：无")
    if card.complaints:
        out.append("投诉：")
        out += [f"· #{c.id} {'待处理' if c.status == 'open' else '已结案'} {c.text[:20]}" for c in card.complaints]
    else:
        out.append("投诉：无")
    if card.last_contact:
        out.append(f"最近联系：{aware(card.last_contact).astimezone(ctx.tz):%Y-%m-%d %H:%M}"
                   f"（{CHANNEL_LABELS.get(card.last_contact_channel, card.last_contact_channel)}）")
    else:
        out.append("最近联系：无记录")
    return "\n".join(out)


@command("owner")
async def owner_card(ctx: CommandContext, args: str) -> CommandResult:
    """查看一户的档案：成员、绑定、标签、订单、问卷、投诉、最近联系
    /owner 3-2-502 | /owner 翠苑 3-2-502 | /owner 13800000000"""
    if not args.strip():
        raise UsageError("请写户号或手机号")
    address = await resolve_household(ctx, args)
    if isinstance(address, CommandResult):
        return address
    card = await household_card.build(session=ctx.session, address=address)
    return CommandResult(render_card(card, ctx))


@command("tag")
async def tag(ctx: CommandContext, args: str) -> CommandResult:
    """给一户加或去掉标签（广播可按 标签= 非标签= 选人）
    /tag 3-2-502 +有老人 -有车
    /tag 翠苑3-2-502 +卧底业主"""
    parts = args.split()
    changes = [p for p in parts if p[:1] in "+-＋－"]
    where = " ".join(p for p in parts if p[:1] not in "+-＋－")
    if not where or not changes:
        raise UsageError("请写户号和 +标签 或 -标签")
    add: list[str] = []
    remove: list[str] = []
    for word in changes:
        name = word[1:].strip()
        problem = households.check_tag(name)
        if problem:
            return CommandResult(f"标签「{name}」不能用：{problem}。")
        (add if word[0] in "+＋" else remove).append(name)
    address = await resolve_household(ctx, where)
    if isinstance(address, CommandResult):
        return address
    assert ctx.staff is not None
    change = await households.set_tags(session=ctx.session, address=address, add=add, remove=remove,
                                       staff_id=ctx.staff.id)
    community = await ctx.session.get(Community, address.community_id)
    out = [f"{community.name if community else ''} {address.label}："]
    if change.added:
        out.append("已加标签 " + "、".join(change.added))
    if change.removed:
        out.append("已去掉 " + "、".join(change.removed))
    if change.unchanged:
        out.append("未变 " + "、".join(change.unchanged))
    return CommandResult("\n".join(out))


@command("owners")
async def owners_list(ctx: CommandContext, args: str) -> CommandResult:
    """列出号码无效或联系不上的业主（无效号码清查）
    /owners invalid [小区]
    导出全部：butler owner export --invalid --format xlsx"""
    what, _, community_name = args.strip().partition(" ")
    if what not in ("invalid", "无效"):
        raise UsageError("目前支持 /owners invalid [小区]")
    scope = await _scope_ids(ctx)
    ids = scope
    if community_name.strip():
        community = await ctx.session.scalar(select(Community).where(Community.name == community_name.strip()))
        if community is None:
            return CommandResult(f"没有名为「{community_name.strip()}」的小区。")
        if scope is not None and community.id not in scope:
            return CommandResult(f"您无权查看「{community.name}」的业主。")
        ids = [community.id]
    rows = await owner_export.people(session=ctx.session, community_ids=ids, invalid_only=True)
    if not rows:
        return CommandResult("没有号码无效或联系不上的业主。")
    out = [f"号码需要核实：{len(rows)} 人" + (f"（显示前 {INVALID_LIMIT} 人）" if len(rows) > INVALID_LIMIT else "")]
    out += [f"· {p.community} {p.household} {p.name or '（未留姓名）'} {p.phone or '—'}｜{number_problem(p)}"
            for p in rows[:INVALID_LIMIT]]
    return CommandResult("\n".join(out))
