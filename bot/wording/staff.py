"""Staff-facing wording added by the transports (alerts themselves still carry their text)."""

from __future__ import annotations

from storage.owner_export import PersonRow
from storage.segments import SegmentError, SegmentProblem

HANDOFF_REPLY_HINT = "\n（回复本消息即答复业主；回复 /close 或「结束」结束人工服务）"
PHOTO_MISSING = "\n（图片文件已不存在）"
MAYBE_NOT_DELIVERED = ("【可能未送达】{kind} → {who}：「{text}」\n平台接口超时，无法确认对方是否收到；"
                       "为免重复，系统不会自动重发，请核实后视情况人工联系。")

# Broadcast targets (storage.segments.SegmentError): {key} and {raw} are what staff typed.
SEGMENT_PROBLEMS = {
    SegmentProblem.NO_VALUE: "条件缺少取值：{raw!r}",
    SegmentProblem.NOT_A_FLAG: "{key} 只能是 是 或 否，收到 {raw!r}",
    SegmentProblem.BAD_DAYS: "天数写法如 钟点工/90天，收到 {raw!r}",
    SegmentProblem.NO_SERVICE: "下单= 后面写服务名或 任意",
    SegmentProblem.NOT_KEY_VALUE: "看不懂条件 {raw!r}：写成 键=值，例如 小区=翠苑",
    SegmentProblem.BAD_SURVEY_KEY: "问卷条件写成 问卷.问卷代码.题目=答案",
    SegmentProblem.UNKNOWN_KEY: "未知条件 {key!r}，发送 /help broadcast 查看写法",
    SegmentProblem.REPEATED: "{key} 只能写一次（多个取值用逗号分隔）",
    SegmentProblem.BAD_KIND: "类型 只能是 通知 或 营销",
}


def segment_problem(exc: SegmentError) -> str:
    """What staff should change in the broadcast's target."""
    return SEGMENT_PROBLEMS[exc.problem].format(key=exc.key, raw=exc.raw)


STAFF_MARKED = "员工标记：{tag}"


def number_problem(row: PersonRow) -> str:
    """Why a person's number needs checking, as the export and /invalid_numbers show it ('' when fine)."""
    if row.number_problem:
        return row.number_problem
    return STAFF_MARKED.format(tag=row.staff_tag) if row.staff_tag else ""
