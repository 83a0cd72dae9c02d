"""Wording for work orders, complaints and urgent reports (issue 16 / issue 13 item 6).

Owner texts follow ../shared/WORDING.md: 工单号 W12 and 投诉编号 T7 are shown when created and quoted
in every later message; time frames come from the SLA settings; every message leaves a way to a
person (回复"人工"). Staff texts may name merchants and ids. storage/workorders.py and
storage/complaints.py decide what to tell whom (typed notices); `workorder_notice` and
`complaint_notice` word them, passed in by the callers (dialogs, staff commands, the scheduler).
"""

from datetime import timedelta

from storage import complaints, workorders


def window(span: timedelta) -> str:
    """A configured time frame as owners read it: 30分钟内, 2小时内, 3天内."""
    minutes = max(1, round(span.total_seconds() / 60))
    if minutes < 60 or minutes % 60:
        return f"{minutes}分钟内"
    hours = minutes // 60
    if hours <= 48 or hours % 24:
        return f"{hours}小时内"
    return f"{hours // 24}天内"


def yuan(fen: int) -> str:
    """150元, or 150.50元 when there are fen."""
    return f"{fen // 100}元" if fen % 100 == 0 else f"{fen // 100}.{fen % 100:02d}元"


# --- owners: urgent reports ---------------------------------------------------------------------
URGENT_HOTLINE = "请立即拨打物业24小时值班电话 {phone}。"
URGENT_NO_HOTLINE = "请立即拨打物业服务中心电话。"
URGENT_SAFETY = {
    "trapped": "被困时请留在轿厢内，按警铃等待救援，不要扒门。",
    "gas": "请勿开关电器、不要点火，打开门窗，到室外再打电话。",
    "fire": "请用湿毛巾捂住口鼻，走楼梯撤离，不要乘电梯，并拨打119。",
    "water": "请先关闭总水阀，切断受影响房间的电源。",
}
URGENT_OPENED = "已通知值班管家紧急处理，工单号 W{id}。"
URGENT_MEDICAL = "如有人受伤，请拨打120。"

# --- owners: work orders ------------------------------------------------------------------------
WORKORDER_OPENED = "已为您登记报修，工单号 W{id}。管家会在{ack}受理，处理进展会在这里告诉您。"
WORKORDER_ACKNOWLEDGED = "您的报修（工单号 W{id}）管家已受理，预计{done}处理好。如有疑问请回复“人工”。"
WORKORDER_ASSIGNED = "您的报修（工单号 W{id}）已安排{staff}负责处理。"
WORKORDER_DONE = "您的报修（工单号 W{id}）已处理完毕：{note}\n请为这次处理打分，回复1到5的数字（5分最满意）。"
WORKORDER_REJECTED = "您的报修（工单号 W{id}）管家核实后暂不受理：{note}\n如有疑问请回复“人工”。"
WORKORDER_RATED = "谢谢您的评分！工单号 W{id} 的处理结果已记录。"
WORKORDER_RATED_LOW = "非常抱歉这次没处理好（工单号 W{id}）。已登记投诉，投诉编号 T{complaint}，管家会在{ack}联系您。需要马上找人请回复“人工”。"
LOW_RATING_COMPLAINT = "工单 W{id} 的处理，业主评分 {score} 分"

# --- owners: complaints -------------------------------------------------------------------------
COMPLAINT_OPENED = (
    "非常抱歉给您添麻烦了。您反映的问题：{summary}\n"
    "已登记投诉，投诉编号 T{id}。管家会在{ack}联系您，{resolve}给您处理结果。\n"
    "需要马上找人请回复“人工”。"
)
FOLLOWUP_COMPLAINT_FILED = "谢谢您告诉我们。已登记投诉，投诉编号 T{id}。管家会在{ack}联系您，{resolve}给您处理结果。需要马上找人请回复“人工”。"
COMPLAINT_ABOUT_ORDER = "（订单 {code}）"
COMPLAINT_ACKNOWLEDGED = "您的投诉（投诉编号 T{id}）管家已受理，会在{resolve}给您处理结果。如需沟通请回复“人工”。"
COMPLAINT_RESOLVED = "您的投诉（投诉编号 T{id}）已处理：{note}"
COMPLAINT_COMPENSATION = "\n给您的补偿 {amount} 将由物业服务中心为您办理。"
COMPLAINT_RESOLVED_TAIL = "\n如对处理结果不满意，请回复“人工”。"

# --- staff --------------------------------------------------------------------------------------
STAFF_URGENT = "🚨【紧急工单 W{id}】{household}：{text}\n业主电话：{phone}\n请立即处理，并发送 /wo_ack {id} 确认受理（未确认会每{repeat}重复提醒）。"
STAFF_URGENT_AGAIN = "🚨【紧急工单 W{id} 仍未受理，第{n}次提醒】{household}：{text}\n请立即处理：/wo_ack {id}"
STAFF_WORKORDER = "【物业报修 W{id}】{household}：{text}\n受理：/wo_ack {id}（时限{ack}）"
STAFF_WORKORDER_ACK_OVERDUE = "⏰【工单 W{id} 超时未受理】已过{ack}时限。{household}：{text}\n受理：/wo_ack {id}"
STAFF_WORKORDER_DONE_OVERDUE = "⏰【工单 W{id} 超时未完成】已过{done}时限，负责人：{staff}。{household}：{text}\n完成后：/wo_done {id} 说明"
STAFF_COMPLAINT = "【投诉 T{id}】业主 {owner}（{household}）{order}：{text}\n受理：/complaint_ack {id}（时限{ack}）"
STAFF_COMPLAINT_ACK_OVERDUE = "⏰【投诉 T{id} 超时未受理】已过{ack}时限。业主 {owner}：{text}\n受理：/complaint_ack {id}"
STAFF_COMPLAINT_RESOLVE_OVERDUE = "⏰【投诉 T{id} 超时未结案】已过{resolve}时限。业主 {owner}：{text}\n结案：/close_complaint {id} 说明"
PHONE_NOT_LEFT = "未留"
STAFF_IN_CHARGE = "管家{name}"


def _span(span: timedelta) -> str:
    """A time frame inside a staff sentence: 每30分钟, 时限2小时 (window() without its 内)."""
    return window(span).removesuffix("内")


def workorder_notice(notice: workorders.WorkOrderNotice) -> str:
    """The words for a work-order notice (storage.workorders.WorkOrderWording)."""
    match notice:
        case workorders.WorkOrderReported(urgent=True):
            return STAFF_URGENT.format(id=notice.id, household=notice.household, text=notice.text,
                                       phone=notice.phone or PHONE_NOT_LEFT, repeat=_span(notice.repeat))
        case workorders.WorkOrderReported():
            return STAFF_WORKORDER.format(id=notice.id, household=notice.household, text=notice.text,
                                          ack=window(notice.ack))
        case workorders.UrgentStillOpen():
            return STAFF_URGENT_AGAIN.format(id=notice.id, n=notice.n, household=notice.household, text=notice.text)
        case workorders.AckOverdue():
            return STAFF_WORKORDER_ACK_OVERDUE.format(id=notice.id, ack=_span(notice.ack), household=notice.household,
                                                      text=notice.text)
        case workorders.DoneOverdue():
            return STAFF_WORKORDER_DONE_OVERDUE.format(id=notice.id, done=_span(notice.done), staff=notice.staff,
                                                       household=notice.household, text=notice.text)
        case workorders.Acknowledged():
            return WORKORDER_ACKNOWLEDGED.format(id=notice.id, done=window(notice.done))
        case workorders.Assigned():
            return WORKORDER_ASSIGNED.format(id=notice.id, staff=STAFF_IN_CHARGE.format(name=notice.staff))
        case workorders.Done():
            return WORKORDER_DONE.format(id=notice.id, note=notice.note)
        case workorders.Rejected():
            return WORKORDER_REJECTED.format(id=notice.id, note=notice.note)
    raise TypeError(f"no wording for {notice!r}")


def complaint_notice(notice: complaints.ComplaintNotice) -> str:
    """The words for a complaint notice (storage.complaints.ComplaintWording)."""
    match notice:
        case complaints.Filed():
            return STAFF_COMPLAINT.format(id=notice.id, owner=notice.owner, household=notice.household,
                                          order=notice.order, text=notice.text, ack=window(notice.ack))
        case complaints.Acknowledged():
            return COMPLAINT_ACKNOWLEDGED.format(id=notice.id, resolve=window(notice.resolve))
        case complaints.Resolved():
            text = COMPLAINT_RESOLVED.format(id=notice.id, note=notice.note)
            if notice.compensation_fen:
                text += COMPLAINT_COMPENSATION.format(amount=yuan(notice.compensation_fen))
            return text + COMPLAINT_RESOLVED_TAIL
        case complaints.AckOverdue():
            return STAFF_COMPLAINT_ACK_OVERDUE.format(id=notice.id, ack=_span(notice.ack), owner=notice.owner,
                                                      text=notice.text)
        case complaints.ResolveOverdue():
            return STAFF_COMPLAINT_RESOLVE_OVERDUE.format(id=notice.id, resolve=_span(notice.resolve),
                                                          owner=notice.owner, text=notice.text)
    raise TypeError(f"no wording for {notice!r}")
