"""Operations commands: /help, /orders, /assign, /merchant, /record_survey, /report (complaints: complaint_cmds)."""

from __future__ import annotations

import asyncio
import re
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import or_, select

from bot.commands.owner_cmds import resolve_household
from bot.commands.registry import (
    CommandContext,
    CommandResult,
    UsageError,
    command,
    help_text,
    is_id,
)
from bot.report_chart import render_chart
from bot.wording import report as report_words
from bot.wording import staff as staff_words
from bot.wording.merchant import supplier_notice
from bot.wording.steps import STEP_WORDING
from storage import dispatch, feedback, households, merchants, reports, supplier
from storage.base import aware
from storage.merchants import Merchant, MerchantStatus
from storage.orders import STATUS_LABELS, Order, OrderStatus
from storage.owners import Owner
from storage.surveys import Survey, SurveyChannel

if TYPE_CHECKING:  # for the annotation only: the function below imports dialogs.survey lazily, as before
    from dialogs.survey import RawAnswer

_STATUS_WORDS = {
    "待接单": OrderStatus.PENDING_DISPATCH, "pending": OrderStatus.PENDING_DISPATCH,
    "已接单": OrderStatus.ACCEPTED, "accepted": OrderStatus.ACCEPTED,
    "已出发": OrderStatus.ON_THE_WAY, "on_the_way": OrderStatus.ON_THE_WAY,
    "已到达": OrderStatus.ARRIVED, "arrived": OrderStatus.ARRIVED,
    "已完成": OrderStatus.COMPLETED, "completed": OrderStatus.COMPLETED, "完成": OrderStatus.COMPLETED,
    "失败": OrderStatus.FAILED, "failed": OrderStatus.FAILED,
    "已取消": OrderStatus.CANCELLED, "cancelled": OrderStatus.CANCELLED,
}
SURVEY_CHANNEL_WORDS = {
    "入户": SurveyChannel.DOOR_VISIT, "上门": SurveyChannel.DOOR_VISIT, "走访": SurveyChannel.DOOR_VISIT,
    "电话": SurveyChannel.PHONE_VISIT, "前台": SurveyChannel.RECEPTION, "接待": SurveyChannel.RECEPTION,
    "座谈会": SurveyChannel.SYMPOSIUM, "活动": SurveyChannel.PUBLIC_EVENT,
    "快递点": SurveyChannel.EXPRESS_DESK, "微信好友": SurveyChannel.WECHAT_FRIEND,
}
MERCHANT_STATUS_LABELS = {"active": "正常", "suspended": "暂停", "blacklisted": "资质过期(黑名单)", "terminated": "已终止合作"}


@command("help", aliases=("帮助",))
async def help_command(ctx: CommandContext, args: str) -> CommandResult:
    """查看可用命令，或某个命令的详细用法
    /help [命令名]"""
    return CommandResult(help_text(ctx.staff, args.strip()))


@command("orders")
async def list_orders(ctx: CommandContext, args: str) -> CommandResult:
    """查看订单（默认未完成的），可按状态筛选
    /orders [待接单|已接单|已出发|已到达|已完成|失败|已取消|全部]"""
    word = args.strip()
    stmt = select(Order).order_by(Order.id.desc()).limit(20)
    if not word:
        stmt = stmt.where(Order.status.in_([
            OrderStatus.PENDING_DISPATCH, OrderStatus.ACCEPTED, OrderStatus.ON_THE_WAY, OrderStatus.ARRIVED]))
    elif word not in ("全部", "all"):
        status = _STATUS_WORDS.get(word.lower())
        if status is None:
            raise UsageError(f"不认识的状态「{word}」")
        stmt = stmt.where(Order.status == status)
    scope = ctx.scope.community_ids
    if scope is not None:
        stmt = stmt.where(Order.community_id.in_(scope))
    rows = list(await ctx.session.scalars(stmt))
    if not rows:
        return CommandResult("没有符合条件的订单。")
    out = [f"订单（最近 {len(rows)} 条）："]
    for o in rows:
        place = o.community.name if o.community else ""
        who = f"，{o.merchant.name}" if o.merchant else ""
        out.append(f"{o.code} {o.service.name} {place} {STATUS_LABELS.get(o.status, o.status)}{who} "
                   f"{aware(o.created_at).astimezone(ctx.tz):%m-%d %H:%M}")
    return CommandResult("\n".join(out))


@command("assign")
async def assign(ctx: CommandContext, args: str) -> CommandResult:
    """把订单指派（或改派）给商家
    /assign 订单号 商家编号"""
    parts = args.split()
    if len(parts) != 2 or not is_id(parts[1]):
        raise UsageError("请写订单号和商家编号")
    assert ctx.staff is not None
    result = await dispatch.assign(
        session=ctx.session, order_code=parts[0], merchant_id=int(parts[1].lstrip("#")),
        staff_id=ctx.staff.id, now=ctx.clock(), today=ctx.now().date(), say=STEP_WORDING,
    )
    return CommandResult(("✅ " if result.ok else "") + staff_words.assign_reply(result))


async def _merchant(ctx: CommandContext, ref: str) -> Merchant | None:
    ref = ref.strip().lstrip("#")
    if ref.isdigit():
        if not is_id(ref):
            return None
        return await merchants.get(session=ctx.session, merchant_id=int(ref))
    return await ctx.session.scalar(select(Merchant).where(Merchant.name == ref))


@command("merchant")
async def merchant(ctx: CommandContext, args: str) -> CommandResult:
    """查看或管理商家：状态、暂停、恢复
    /merchant status 商家编号|名称
    /merchant suspend 商家编号 [原因]   （管理员）
    /merchant reinstate 商家编号        （管理员）"""
    action, _, rest = args.partition(" ")
    ref, _, reason = rest.strip().partition(" ")
    if action not in ("status", "suspend", "reinstate", "状态", "暂停", "恢复") or not ref:
        raise UsageError("请写操作和商家")
    m = await _merchant(ctx, ref)
    if m is None:
        return CommandResult(f"没有找到商家「{ref}」")
    if action in ("status", "状态"):
        return CommandResult(await _merchant_status(ctx, m))
    assert ctx.staff is not None
    if ctx.staff.role != "admin":
        return CommandResult("抱歉，暂停或恢复商家需要管理员权限。")
    if action in ("suspend", "暂停"):
        if m.status == MerchantStatus.TERMINATED:
            return CommandResult(f"{m.name} 已终止合作。")
        await supplier.set_status(session=ctx.session, merchant=m, status=MerchantStatus.SUSPENDED,
                                  reason=reason.strip(), say=supplier_notice)
        return CommandResult(f"已暂停 {m.name}（#{m.id}）接单，并已通知商家。")
    if m.status == MerchantStatus.BLACKLISTED:
        return CommandResult(f"{m.name} 因资质过期被列入黑名单，请先更新资质：butler merchant renew {m.id} --until YYYY-MM-DD")
    if m.status == MerchantStatus.TERMINATED:
        return CommandResult(f"{m.name} 已终止合作，不能恢复。")
    await supplier.set_status(session=ctx.session, merchant=m, status=MerchantStatus.ACTIVE, say=supplier_notice)
    return CommandResult(f"已恢复 {m.name}（#{m.id}）接单，并已通知商家。")


async def _merchant_status(ctx: CommandContext, m: Merchant) -> str:
    today = ctx.now().date()
    lines = [f"商家 #{m.id} {m.name}：{MERCHANT_STATUS_LABELS.get(m.status, m.status)}，信用等级 {m.credit_level}"]
    lines.append("服务：" + ("、".join(s.name for s in m.services) or "无"))
    if m.qualification_expires:
        left = (m.qualification_expires - today).days
        lines.append(f"资质有效期至 {m.qualification_expires:%Y-%m-%d}" + (f"（还有 {left} 天）" if left >= 0 else "（已过期）"))
    since = ctx.clock() - timedelta(days=90)
    avg = await feedback.merchant_average_rating(session=ctx.session, merchant_id=m.id, since=since, until=ctx.clock())
    lines.append(f"近90天满意度：{avg if avg is not None else '暂无评价'}")
    for ev in await supplier.latest_evaluations(session=ctx.session, merchant_id=m.id):
        res = {"fixed": "，已整改", "suspended": "，已暂停", "terminated": "，终止合作"}.get(ev.resolution, "")
        due = f"，整改期限 {ev.deadline:%Y-%m-%d}" if ev.deadline and not ev.resolution else ""
        avg_txt = f"{ev.average}" if ev.average is not None else "无评价"
        outcome = {"passed": "达标", "failed": "未达标", "no_data": "无数据"}.get(ev.outcome, ev.outcome)
        lines.append(f"{ev.quarter}：{avg_txt}（{outcome}{res}{due}）")
    return "\n".join(lines)


async def _owner(ctx: CommandContext, ref: str) -> Owner | None:
    ref = ref.strip().lstrip("#")
    conditions = [Owner.openid == ref, Owner.phone == ref]
    if is_id(ref) and len(ref) < 11:
        conditions.append(Owner.id == int(ref))
    return await ctx.session.scalar(select(Owner).where(or_(*conditions)).limit(1))


@command("record_survey")
async def record_survey(ctx: CommandContext, args: str) -> CommandResult:
    """代业主登记问卷（入户、电话、前台、座谈会等收集的答案）
    /record_survey 问卷代码 业主(编号|手机号|openid|户号 3-2-502) 渠道 题目=答案 …
    渠道：入户 电话 前台 座谈会 活动 快递点 微信好友；多选答案用逗号分隔
    例：/record_survey owner_needs 13800000000 入户 has_car=有 car_services=修车,保险"""
    parts = args.split()
    if len(parts) < 3:
        raise UsageError("请写问卷、业主和渠道")
    key, owner_ref, channel_word, *pairs = parts
    survey = await ctx.session.scalar(select(Survey).where(Survey.key == key))
    if survey is None and is_id(key):
        survey = await ctx.session.get(Survey, int(key))
    if survey is None:
        return CommandResult(f"没有问卷「{key}」")
    owner = await _owner(ctx, owner_ref)
    household_id = None
    if owner is None:
        # A roster household with no WeChat follower (issue 16): the answers are filed against it.
        if households.parse_ref(owner_ref) is None:
            return CommandResult(f"没有找到业主「{owner_ref}」")
        address = await resolve_household(ctx, owner_ref)
        if isinstance(address, CommandResult):
            return address
        household_id = (await households.ensure(session=ctx.session, address=address)).id
    assert ctx.staff is not None
    if owner is not None and not ctx.staff.can_act_in(owner.community_id):
        return CommandResult("您无权登记该小区业主的问卷。")
    channel = SURVEY_CHANNEL_WORDS.get(channel_word, channel_word)
    answers: dict[str, RawAnswer] = {}
    for pair in pairs:
        k, sep, v = pair.partition("=")
        if not sep:
            raise UsageError(f"答案写成 题目=答案，收到「{pair}」")
        values = [x for x in re.split(r"[,，、]", v) if x]
        answers[k] = values if len(values) > 1 else v
    from dialogs.survey import record_survey_on_behalf

    try:
        response = await record_survey_on_behalf(
            session=ctx.session, survey_id=survey.id, owner_id=owner.id if owner else None, channel=str(channel),
            answers=answers, staff_id=ctx.staff.id, household_id=household_id,
        )
    except ValueError as exc:
        return CommandResult(f"未登记：{exc}")
    return CommandResult(f"已登记【{survey.title}】（答卷 #{response.id}，渠道 {channel_word}，{len(answers)} 题）。")


@command("report")
async def report(ctx: CommandContext, args: str) -> CommandResult:
    """查看日报（各小区、各项目的订单、营业额、佣金与目标），附图表
    /report [YYYY-MM-DD]（默认昨天）"""
    day = ctx.now().date() - timedelta(days=1)
    if args.strip():
        try:
            day = date.fromisoformat(args.strip())
        except ValueError as exc:
            raise UsageError(f"日期写法如 2026-11-25，收到「{args.strip()}」") from exc
    # Scoped staff get every figure (broadcasts, surveys, channels too) from their communities only.
    built = await reports.build(
        session=ctx.session, day=day, tz=ctx.tz, sla=ctx.services.get("sla"), community_ids=ctx.scope.community_ids
    )
    folder = Path(ctx.services.get("report_dir") or tempfile.gettempdir())
    path = folder / f"report-{day:%Y%m%d}-{ctx.staff.id if ctx.staff else 0}.png"
    await asyncio.to_thread(render_chart, built, path)
    return CommandResult(report_words.render_text(built), photo_path=str(path))

