"""Staff-facing wording added by the transports (alerts themselves still carry their text)."""

from __future__ import annotations

from bot.wording.merchant import REFUSALS
from storage.amounts import AmountUnconfirmed
from storage.dispatch import Reposted, Step, StepResult
from storage.money import format_yuan
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


AMOUNT_UNCONFIRMED = (
    "【金额未确认】订单 {code}（{service}）登记的 {amount}元（{method}）已等待业主确认 {waited}，"
    "请联系业主核对：{phone}"
)
WAITED = "{days}天{hours}小时"
NO_PHONE = "未留电话"


def amount_unconfirmed(notice: AmountUnconfirmed) -> str:
    """An amount the owner left unanswered past its working day (storage.amounts.UnconfirmedWording)."""
    hours = int(notice.waited.total_seconds() // 3600)
    return AMOUNT_UNCONFIRMED.format(code=notice.code, service=notice.service, amount=format_yuan(notice.amount_fen),
                                     method=notice.method, waited=WAITED.format(days=hours // 24, hours=hours % 24),
                                     phone=notice.phone or NO_PHONE)


REPOSTED = ("订单 {code}（{service}，{community}）{minutes} 分钟无人接单，已重新发布。\n"
            "可指派：/assign {code} 商家编号\n候选：{hint}")
REPOSTED_CANDIDATE = "#{id} {name}"
REPOSTED_NO_CANDIDATE = "暂无符合条件的商家"
REPOSTED_NO_COMMUNITY = "未知小区"
REPOSTED_HISTORY = "无人接单，已重新发布并通知工作人员"


class _RepostWording:
    """storage.dispatch.RepostWording: the accept-timeout alert and its history line."""

    def alert(self, reposted: Reposted) -> str:
        hint = "、".join(REPOSTED_CANDIDATE.format(id=i, name=n) for i, n in reposted.candidates)
        return REPOSTED.format(code=reposted.code, service=reposted.service,
                               community=reposted.community or REPOSTED_NO_COMMUNITY, minutes=reposted.minutes,
                               hint=hint or REPOSTED_NO_CANDIDATE)

    def history(self, reposted: Reposted) -> str:
        return REPOSTED_HISTORY


REPOST_WORDING = _RepostWording()


# /assign (storage.dispatch.assign): {code} the order, {merchant} the merchant's name.
ASSIGN_REPLIES = {
    Step.ASSIGNED: "已将订单 {code} 指派给{merchant}",
    Step.NOT_STAFF: "您不是登记的工作人员",
    Step.NO_ORDER: "没有找到订单 {code}",
    Step.NO_RIGHT: "您无权处理该小区的订单",
    Step.NO_MERCHANT: "没有编号为 {merchant_id} 的商家",
    Step.INELIGIBLE: "不能指派给{merchant}：{refusal}",
    Step.JUST_TAKEN: "订单 {code} 刚被{merchant}接走",
    Step.ALREADY_HOLDS: "订单 {code} 已经由{merchant}负责",
    Step.CANNOT_ASSIGN: "订单 {code} 当前为「{status}」，不能指派",
}
ANOTHER_MERCHANT = "其他商家"


def assign_reply(result: StepResult) -> str:
    """What staff read after /assign (a merchant's refusal in the merchant's own words)."""
    order = result.order
    taker = result.merchant_name or ANOTHER_MERCHANT if result.step == Step.JUST_TAKEN else result.merchant_name
    return ASSIGN_REPLIES[result.step].format(
        code=order.code if order is not None else result.code, merchant=taker,
        merchant_id=result.merchant_id, refusal=REFUSALS[result.refusal] if result.refusal else "",
        status=order.status_label if order is not None else "",
    )


FAILURE_ALERT = "订单 {code}（{service}）商家{merchant}反馈无法完成：{reason}。请联系业主重新安排。"
AMOUNT_HIGH = "【金额待确认】订单 {code}（{service}）商家{merchant}登记 {amount}元（{method}），{why}，已请业主在微信确认后再记账。"
