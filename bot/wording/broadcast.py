"""What a broadcast's sender reads: previews' labels, the pause notice and the finish report (staff wording)."""

from __future__ import annotations

from storage.broadcast_pause import (
    DAILY_QUOTA,
    OUTCOME_UNKNOWN,
    BroadcastFinished,
    BroadcastPaused,
    SenderReport,
)
from storage.broadcasts import CHANNEL_LABELS, KIND_LABELS

SKIP_LABELS = {
    "not_following": "未关注公众号",
    "opted_out": "已退订推送",
    "daily_cap": "今日已收到营销推送",
    "monthly_quota": "本月群发次数已满",
    "window_closed": "48小时客服窗口已关闭",
    "no_channel": "无可用渠道",
    "mass_needs_two": "群发至少需要2人",
    "cancelled": "广播已取消",
    "unknown_after_crash": "发送中断，结果未知（不重发）",
    "blocked": "已拒收公众号消息",
}
PAUSE_REASONS = {DAILY_QUOTA: "微信今日接口调用次数已用完（45009）", 45011: "微信接口调用过于频繁（45011）",
                 -3: "微信 access_token 持续失效", OUTCOME_UNKNOWN: "微信接口连续超时"}
PAUSED = ("广播 #{id} 已暂停：{reason}。"
          "尚未发送的 {pending} 人保留待发，将于 {when} 后自动继续，无需重新发起。")
FINISHED = "广播 #{id} 已发送完毕（{kind}）"
FINISHED_COUNTS = "共 {total} 人：成功 {sent}，失败 {failed}，跳过 {skipped}"
FINISHED_UNKNOWN = "另有 {n} 人可能未送达（接口超时，无法确认；为免重复不再重发）"
FINISHED_CHANNELS = "渠道：{channels}"
FINISHED_SKIPPED = "跳过原因：{reasons}"
FINISHED_FAILED = "失败：{reasons}"


def sender_report(report: SenderReport) -> str:
    """The words for a paused or finished broadcast (storage.broadcast_pause.SenderWording)."""
    if isinstance(report, BroadcastPaused):
        return paused(report)
    return finished(report)


def paused(report: BroadcastPaused) -> str:
    """Told once, when the broadcast first pauses."""
    reason = PAUSE_REASONS.get(report.errcode, f"errcode {report.errcode}")
    return PAUSED.format(id=report.broadcast_id, reason=reason, pending=report.pending,
                         when=report.resumes_at.strftime("%m-%d %H:%M"))


def finished(report: BroadcastFinished) -> str:
    """The finish report: totals, channels used, why people were skipped or failed."""
    totals = report.totals
    st = totals.get("status", {})
    channels = "、".join(f"{CHANNEL_LABELS.get(c, c)} {n}" for c, n in totals.get("sent_by_channel", {}).items())
    lines = [
        FINISHED.format(id=report.broadcast_id, kind=KIND_LABELS.get(report.kind, report.kind)),
        FINISHED_COUNTS.format(total=totals.get("total", 0), sent=st.get("sent", 0), failed=st.get("failed", 0),
                               skipped=st.get("skipped", 0)),
    ]
    if st.get("unknown"):
        lines.append(FINISHED_UNKNOWN.format(n=st["unknown"]))
    if channels:
        lines.append(FINISHED_CHANNELS.format(channels=channels))
    if totals.get("skipped"):
        lines.append(FINISHED_SKIPPED.format(
            reasons="、".join(f"{SKIP_LABELS.get(r, r)} {n}" for r, n in totals["skipped"].items())))
    if totals.get("failed"):
        lines.append(FINISHED_FAILED.format(
            reasons="、".join(f"{SKIP_LABELS.get(k, 'errcode ' + k)} {n}" for k, n in totals["failed"].items())))
    return "\n".join(lines)
