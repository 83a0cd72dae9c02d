"""The daily report as staff read it: the text for the staff chat (figures come from storage/reports.py)."""

from __future__ import annotations

from storage.report_workflows import WorkflowFigures
from storage.reports import CHANNELS_TARGET, REGULAR_LINES_TARGET, CommunityReport, DailyReport

# The chart's labels (bot/report_chart.py draws it).
CHART_TARGET = "目标：每日1元"
CHART_AXIS = "佣金（元）"
CHART_TITLE = "物业管家日报 {day:%Y-%m-%d}"


def yuan(fen: int) -> str:
    """¥12.30."""
    return f"¥{fen / 100:,.2f}"


def _active(c: CommunityReport) -> bool:
    return bool(c.lines or c.running_lines or c.month_commission_fen)


def render_text(report: DailyReport, *, max_communities: int = 12) -> str:
    """The report as the staff chat reads it: totals and targets first, then busy communities."""
    figs = [f for c in report.communities for f in c.lines.values()]
    owners = sum(c.owners for c in report.communities)
    reached = sum(c.reached_this_month for c in report.communities)
    mark = "✅" if len(report.channels_used) >= CHANNELS_TARGET else "⚠️"
    out = [
        f"📊 日报 {report.day:%Y-%m-%d}",
        f"合计：下单 {sum(f.orders for f in figs)}，完成 {sum(f.completed for f in figs)}，"
        f"营业额 {yuan(sum(f.revenue_fen for f in figs))}，佣金 {yuan(sum(f.commission_fen for f in figs))}",
        f"沟通渠道(近30天)：{len(report.channels_used)}/{CHANNELS_TARGET} {mark}"
        + (f" {'、'.join(report.channels_used)}" if report.channels_used else ""),
        "今日完成问卷：" + ("、".join(f"{k} {v}" for k, v in report.surveys_by_channel.items()) or "无"),
        f"今日广播触达：{report.broadcast_sent} 条，{report.broadcast_owners} 户",
    ]
    if report.workflows is not None:
        out += workflow_lines(report.workflows)
    if owners:
        out.append(f"本月触达（每户每月至少一次）：{reached}/{owners} 户（{100 * reached // owners}%）")
    busy = sorted((c for c in report.communities if _active(c)),
                  key=lambda c: -sum(f.commission_fen for f in c.lines.values()))
    for c in busy[:max_communities]:
        out.append(f"\n【{c.name}】")
        for name, f in sorted(c.lines.items()):
            out.append(f"· {name}：下单 {f.orders}，完成 {f.completed}，营业额 {yuan(f.revenue_fen)}，佣金 {yuan(f.commission_fen)}")
        below = c.lines_below_target
        out.append(f"运行中项目每日≥¥1：{len(c.running_lines) - len(below)}/{len(c.running_lines)} 达标"
                   + (f"（未达标：{'、'.join(below)}）" if below else ""))
        ok = c.month_fee_target_fen and c.month_commission_fen >= c.month_fee_target_fen
        out.append(f"管家收入(本月) {yuan(c.month_commission_fen)} / 物业费50% {yuan(c.month_fee_target_fen)} "
                   + ("✅" if ok else "⚠️"))
        out.append(f"常态运行项目：{len(c.regular_lines)}/{REGULAR_LINES_TARGET}"
                   + (f"（{'、'.join(c.regular_lines)}）" if c.regular_lines else ""))
        if c.owners:
            out.append(f"本月触达：{c.reached_this_month}/{c.owners} 户")
    out += render_demand(report)
    quiet = [c.name for c in report.communities if not _active(c)] + [c.name for c in busy[max_communities:]]
    if quiet:
        names = "、".join(quiet[:8]) + ("等" if len(quiet) > 8 else "")
        out.append(f"\n其余 {len(quiet)} 个小区今日无订单：{names}")
    return "\n".join(out)


def render_demand(report: DailyReport) -> list[str]:
    """The 'asked but not offered' lines that guide the next 立项 (nothing when nobody asked)."""
    rows = [c for c in report.communities if c.not_offered]
    if not rows:
        return []
    out = ["\n未开通但有业主问（今日，人数）："]
    for c in rows:
        ranked = sorted(c.not_offered.items(), key=lambda kv: (-kv[1], kv[0]))
        out.append(f"【{c.name}】" + "、".join(f"{name} {n}" for name, n in ranked))
    return out


def workflow_lines(figs: WorkflowFigures) -> list[str]:
    """The report's workflow lines; a warning mark wherever a deadline was missed or a row is stuck."""
    late = figs.ack_overdue + figs.done_overdue
    lines = [
        f"物业工单：新增 {figs.work_orders}（紧急 {figs.urgent}），完成 {figs.work_orders_done}，"
        f"超时 {late}" + (f"（未及时受理 {figs.ack_overdue}，未按时完成 {figs.done_overdue}）⚠️" if late else ""),
        f"投诉：新增 {figs.complaints}，结案 {figs.complaints_closed}，超时 {figs.complaints_overdue}"
        + (" ⚠️" if figs.complaints_overdue else "")
        + (f"，赔偿 ¥{figs.compensation_fen / 100:,.2f}" if figs.compensation_fen else ""),
    ]
    if figs.outbox_parked:
        lines.append(f"⚠️ 发送失败已搁置的消息：{figs.outbox_parked} 条（今日新增 {figs.outbox_parked_today}），请检查")
    return lines
