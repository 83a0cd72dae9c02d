"""Broadcast commands: /broadcast, /broadcasts, /cancel_broadcast, /survey_invite (+ confirm/discard)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select

from bot.commands.registry import Button, CommandContext, CommandResult, UsageError, command, is_id
from bot.wording.broadcast import SKIP_LABELS
from bot.wording.staff import segment_problem
from storage import broadcast_decisions, broadcasts, segments
from storage.base import aware
from storage.broadcast_decisions import Verdict
from storage.broadcasts import (
    CHANNEL_LABELS,
    KIND_LABELS,
    Broadcast,
    BroadcastStatus,
)
from storage.staff import StaffRole
from storage.surveys import Survey

_AT = re.compile(r"\s+(?:at|于|定时)\s*(\d{4}-\d{1,2}-\d{1,2})[ T](\d{1,2}:\d{2})\s*$", re.I)
CONFIRM_WORDS = {"确认", "确认发送", "确定", "发送"}
DISCARD_WORDS = {"取消", "放弃", "不发了"}
MAX_TEXT = 600
PREVIEW_CHARS = 120
# 通知 skips opt-outs and the daily marketing cap, so whoever chooses it says why (issue 14).
_REASON = re.compile(r"(?:^|\s)(?:原因|理由|reason)[=＝](\S+)", re.I)


def split_args(args: str) -> tuple[str, str, datetime | None, str]:
    """(segment text, message text, scheduled local time or None, raw time) from 'SEG | TEXT [at …]'."""
    for bar in ("|", "｜"):
        if bar in args:
            seg, _, text = args.partition(bar)
            break
    else:
        raise UsageError("请用 | 分隔目标和内容")
    text = text.strip()
    when: datetime | None = None
    raw = ""
    m = _AT.search(text)
    if m:
        raw = f"{m.group(1)} {m.group(2)}"
        try:
            when = datetime.strptime(raw, "%Y-%m-%d %H:%M")
        except ValueError as exc:
            raise UsageError(f"时间写法如 at 2026-12-01 09:00，收到 {raw}") from exc
        text = text[: m.start()].strip()
    if not text:
        raise UsageError("内容为空")
    return seg.strip(), text, when, raw


def _masked(term: str) -> str:
    # Staff replies go through the owner-facing guard too, so never echo the term itself.
    return term[0] + "＊" * (len(term) - 1)


async def _draft(
    ctx: CommandContext, seg_text: str, text: str, when: datetime | None, *, survey: Survey | None = None
) -> CommandResult:
    # Any new attempt retires the older previews, even when it is refused below: a 确认 typed
    # after it can then never confirm a draft other than the one just shown.
    assert ctx.staff is not None
    await broadcast_decisions.supersede(session=ctx.session, staff_id=ctx.staff.id, now=ctx.clock())
    term = ctx.guard.find(text)
    if term is not None:
        return CommandResult(f"不能发送：内容含有仅限内部使用的词语（{_masked(term)}），请修改后重发。")
    if len(text) > MAX_TEXT:
        return CommandResult(f"内容太长（{len(text)} 字），请控制在 {MAX_TEXT} 字以内。")
    reason_match = _REASON.search(seg_text)
    reason = reason_match.group(1).strip() if reason_match else ""
    if reason_match:
        seg_text = seg_text[: reason_match.start()] + " " + seg_text[reason_match.end():]
    try:
        segment = segments.parse(seg_text)
    except segments.SegmentError as exc:
        return CommandResult(f"目标写法有误：{segment_problem(exc)}\n发送 /help broadcast 查看写法。")
    refused = _notice_refusal(ctx, segment, reason)
    if refused:
        return CommandResult(refused)
    if survey is not None:
        segment = _without_responders(segment, survey)
    ids, problems = await segments.resolve(segment, session=ctx.session, scope=ctx.scope)
    if problems:
        return CommandResult("无法发送：" + "；".join(problems))
    now = ctx.now()
    scheduled = when.replace(tzinfo=ctx.tz).astimezone(UTC) if when else None
    if scheduled is not None and scheduled <= now:
        return CommandResult("定时时间已经过去了，请写一个将来的时间。")
    policy = ctx.services["policy"]
    pv = await broadcasts.preview(
        session=ctx.session, segment=segment, community_ids=ids, kind=segment.kind, policy=policy, now=now
    )
    if pv.total == 0:
        return CommandResult(f"目标「{segment.describe()}」没有匹配的业主，未创建广播。")
    assert ctx.staff is not None
    row = await broadcasts.create_draft(
        session=ctx.session, text=text, segment=segment, scope=ids, staff_id=ctx.staff.id,
        reply_channel=ctx.channel, reply_to=ctx.reply_to, scheduled_at=scheduled,
        survey_id=survey.id if survey else None,
    )
    row.notice_reason = _notice_reason(ctx, segment, reason)
    return CommandResult(preview_text(row, pv, ctx), buttons=[
        Button("✅ 确认发送", f"/confirm {row.id}", "确认"),
        Button("✖ 取消", f"/discard {row.id}", "取消"),
    ])


def _notice_refusal(ctx: CommandContext, segment: segments.Segment, reason: str) -> str:
    """Why this caller may not send the segment as 通知, or "".

    Admins may; other staff only for communities they name (小区=, checked against their scope by
    segments.resolve) and with a stated reason, which the preview shows and the broadcast keeps.
    """
    assert ctx.staff is not None
    if segment.kind != "notice" or ctx.staff.role == StaffRole.ADMIN:
        return ""
    if not segment.communities:
        return "通知类广播请用 小区= 写明您负责的小区。"
    if not reason:
        return "通知类广播不受退订和每日推送上限限制，请写明原因，例如：类型=通知 原因=停水"
    return ""


def _notice_reason(ctx: CommandContext, segment: segments.Segment, reason: str) -> str:
    """What is recorded for a 通知: the stated reason, or that an admin chose it."""
    if segment.kind != "notice":
        return ""
    assert ctx.staff is not None
    return reason or f"管理员{ctx.staff.name}发送"


def _without_responders(segment: segments.Segment, survey: Survey) -> segments.Segment:
    # Owners who already finished a no-repeat survey are not invited again.
    if survey.allow_repeat:
        return segment
    cond = segments.SurveyCondition(survey.key, "*completed*", ())
    return segments.Segment(**{**segment.__dict__, "surveys": (*segment.surveys, cond)})


def preview_text(row: Broadcast, pv: broadcasts.Preview, ctx: CommandContext) -> str:
    """The preview shown before confirmation."""
    channels = " · ".join(f"{CHANNEL_LABELS[c]} {n}" for c, n in sorted(pv.by_channel.items())) or "无"
    lines = [
        f"广播预览 #{row.id}（{KIND_LABELS[row.kind]}）",
        f"目标：{row.segment_obj.describe()}",
        *([f"通知原因：{row.notice_reason}"] if row.notice_reason else []),
        f"将发送 {pv.recipients} 人：{channels}",
    ]
    if pv.skipped:
        lines.append(f"跳过 {sum(pv.skipped.values())} 人：" + "、".join(
            f"{SKIP_LABELS.get(r, r)} {n}" for r, n in sorted(pv.skipped.items())))
    if pv.sample:
        lines.append("示例：" + "；".join(pv.sample))
    if row.scheduled_at:
        lines.append(f"定时：{aware(row.scheduled_at).astimezone(ctx.tz):%Y-%m-%d %H:%M}")
    # WeChat caps a passive reply at about 2 KB: show the start of a long text, not all of it.
    shown = row.text if len(row.text) <= PREVIEW_CHARS else f"{row.text[:PREVIEW_CHARS]}…（共 {len(row.text)} 字）"
    lines.append(f"内容：{shown}")
    if ctx.channel == "wechat":
        lines.append("回复「确认」发送，回复「取消」放弃（30 分钟内有效）。")
    return "\n".join(lines)


@command("broadcast")
async def broadcast(ctx: CommandContext, args: str) -> CommandResult:
    """向目标业主发送广播（先预览，确认后才发送）
    /broadcast 目标 | 内容 [at YYYY-MM-DD HH:MM]
    目标由空格分隔的条件组成（全部满足），一个条件内逗号表示“任一”：
      小区=翠苑,锦园  楼栋=3,5  单元=1  标签=有车  非标签=有狗
      下单=钟点工/90天（近90天下过单）  未下单=钟点工  未下单=任意（从未下单）
      问卷.问卷代码.题目=答案  绑定=是|否  关注=是|否  退订=是|否
      类型=通知|营销（默认营销：受每日推送上限和退订限制；通知可用模板消息）
      非管理员发通知须用 小区= 写明自己负责的小区并写 原因=…（会记录）
    例：/broadcast 小区=翠苑 楼栋=3,5 标签=有车 | 本周六上午洗车优惠…
    例：/broadcast 小区=翠苑 类型=通知 原因=停水 | 明天9点停水 at 2026-12-01 09:00"""
    seg_text, text, when, _ = split_args(args)
    return await _draft(ctx, seg_text, text, when)


@command("survey_invite")
async def survey_invite(ctx: CommandContext, args: str) -> CommandResult:
    """邀请目标业主参与问卷（同广播：先预览再确认）
    /survey_invite 问卷代码 [目标] [at YYYY-MM-DD HH:MM]
    例：/survey_invite car_owners 小区=翠苑 绑定=是"""
    key, _, rest = args.partition(" ")
    if not key:
        raise UsageError("请写问卷代码")
    survey = await ctx.session.scalar(select(Survey).where(Survey.key == key))
    if survey is None and is_id(key):
        survey = await ctx.session.get(Survey, int(key))
    if survey is None:
        return CommandResult(f"没有问卷「{key}」")
    if not survey.is_open:
        return CommandResult(f"问卷「{survey.title}」已关闭")
    text = f"您好，想和您聊聊【{survey.title}】，几分钟就好。回复“问卷”即可开始，随时可以回复“取消”。"
    seg_text, _, when, _ = split_args(f"{rest} | {text}")
    return await _draft(ctx, seg_text, text, when, survey=survey)


async def _own_broadcast(ctx: CommandContext, raw: str) -> Broadcast | None:
    if not is_id(raw):
        raise UsageError("请写广播编号")
    row = await broadcasts.get(session=ctx.session, broadcast_id=int(raw.strip().lstrip("#")))
    if row is None:
        return None
    scope = ctx.scope.community_ids
    if scope is not None and (row.scope is None or not set(row.scope) <= scope):
        return None
    return row


@command("confirm", hidden=True)
async def confirm(ctx: CommandContext, args: str) -> CommandResult:
    """确认发送一条广播预览
    /confirm 编号（或在微信里回复「确认」）"""
    target = await _target(ctx, args)
    if target is None:
        return CommandResult(NO_DRAFT)
    assert ctx.staff is not None
    decision = await broadcast_decisions.confirm(
        session=ctx.session, broadcast_id=target, staff_id=ctx.staff.id, now=ctx.clock())
    row = decision.broadcast
    if decision.verdict == Verdict.SCHEDULED and row is not None:
        when = aware(row.scheduled_at).astimezone(ctx.tz) if row.scheduled_at else None
        return CommandResult(f"广播 #{row.id} 已定时，将于 {when:%Y-%m-%d %H:%M} 发送。发送 /cancel_broadcast {row.id} 可取消。")
    if decision.verdict == Verdict.QUEUED and row is not None:
        ctx.services.setdefault("after_commit", []).append("broadcast")
        return CommandResult(f"广播 #{row.id} 已开始发送，完成后会告诉您结果。")
    return CommandResult(_lost_text(decision, pressed="confirm"))


@command("discard", hidden=True)
async def discard(ctx: CommandContext, args: str) -> CommandResult:
    """放弃一条广播预览
    /discard 编号（或在微信里回复「取消」）"""
    target = await _target(ctx, args)
    if target is None:
        return CommandResult("没有待确认的广播。")
    assert ctx.staff is not None
    decision = await broadcast_decisions.discard(
        session=ctx.session, broadcast_id=target, staff_id=ctx.staff.id, now=ctx.clock())
    if decision.verdict == Verdict.DISCARDED:
        return CommandResult(f"已放弃广播 #{target}，没有发送任何消息。")
    return CommandResult(_lost_text(decision, pressed="discard"))


NO_DRAFT = "没有待确认的广播（预览 30 分钟内有效）。"
_STATUS_WORDS = {"scheduled": "已定时", "queued": "排队发送中", "sending": "正在发送", "done": "已发送完毕",
                 "cancelled": "确认后又被取消"}


def _lost_text(decision: broadcast_decisions.Decision, *, pressed: str) -> str:
    """What a press that changed nothing is told: what actually happened to the draft."""
    row = decision.broadcast
    if row is None or decision.verdict == Verdict.NOT_FOUND:
        return NO_DRAFT
    n = row.id
    if decision.verdict == Verdict.ALREADY_CONFIRMED:
        state = _STATUS_WORDS.get(row.status, row.status)
        if pressed == "confirm":
            return f"广播 #{n} 已经确认过了（{state}），不会重复发送。"
        stop = f"如需停止未发出的部分，请发送 /cancel_broadcast {n}。" if row.status != "done" else ""
        return f"未能放弃：广播 #{n} 已经确认发送（{state}）。{stop}"
    if decision.verdict == Verdict.ALREADY_DISCARDED:
        return f"广播 #{n} 已被放弃，没有发送任何消息；如需发送，请重新预览。"
    if decision.verdict == Verdict.SUPERSEDED:
        return f"广播 #{n} 的预览已被您之后的新预览取代，没有发送；请以最新的预览为准。"
    return f"广播 #{n} 的预览已超过 30 分钟，已经失效，没有发送；请重新发送 /broadcast 预览。"


async def _target(ctx: CommandContext, args: str) -> int | None:
    """The draft a press or a typed word refers to: the id on the button, else the last one shown here."""
    raw = args.strip().lstrip("#")
    if raw:
        if not is_id(raw):
            raise UsageError("请写广播编号")
        return int(raw)
    assert ctx.staff is not None
    row = await broadcast_decisions.latest_shown(
        session=ctx.session, staff_id=ctx.staff.id, channel=ctx.channel, reply_to=ctx.reply_to)
    return row.id if row is not None else None


@command("broadcasts")
async def list_broadcasts(ctx: CommandContext, args: str) -> CommandResult:
    """列出定时和最近的广播
    /broadcasts"""
    rows = await broadcasts.list_recent(session=ctx.session, scope=_scope_list(ctx))
    if not rows:
        return CommandResult("暂无广播。")
    labels = {"scheduled": "定时", "queued": "排队", "sending": "发送中", "done": "已完成", "cancelled": "已取消"}
    out = ["广播列表："]
    for b in rows:
        when = aware(b.scheduled_at or b.created_at)
        extra = ""
        if b.status == BroadcastStatus.DONE and b.totals:
            extra = f"，成功 {b.totals.get('status', {}).get('sent', 0)}/{b.totals.get('total', 0)}"
        out.append(f"#{b.id} {labels.get(b.status, b.status)} {when.astimezone(ctx.tz):%m-%d %H:%M} "
                   f"{KIND_LABELS.get(b.kind, b.kind)}「{b.text[:16]}」{extra}")
    return CommandResult("\n".join(out))


def _scope_list(ctx: CommandContext) -> list[int] | None:
    ids = ctx.scope.community_ids
    return None if ids is None else sorted(ids)


@command("cancel_broadcast")
async def cancel_broadcast(ctx: CommandContext, args: str) -> CommandResult:
    """取消定时或尚未发完的广播
    /cancel_broadcast 编号"""
    row = await _own_broadcast(ctx, args)
    if row is None:
        return CommandResult("没有找到这条广播（或您无权操作）。")
    skipped = await broadcasts.cancel(session=ctx.session, broadcast=row, now=ctx.clock())
    if skipped is None:  # already finished or cancelled (perhaps a moment ago); row.status says which
        return CommandResult(f"广播 #{row.id} 已{'完成' if row.status == BroadcastStatus.DONE else '取消'}，无法取消。")
    tail = f"，{skipped} 位未发送的业主不再发送" if skipped else ""
    return CommandResult(f"已取消广播 #{row.id}{tail}。")


def is_confirmation(text: str) -> str | None:
    """'confirm' / 'discard' for the WeChat reply words, else None."""
    word = text.strip().rstrip("。！!")
    if word in CONFIRM_WORDS:
        return "confirm"
    if word in DISCARD_WORDS:
        return "discard"
    return None

