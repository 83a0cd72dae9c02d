"""Merchant-facing wording: job cards' follow-ups, cancellation and settlement notes."""

from __future__ import annotations

from storage.amounts import Gate
from storage.dispatch import (
    AcceptOutcome,
    AcceptResult,
    Step,
    StepResult,
)
from storage.merchants import MerchantStatus, Refusal
from storage.money import format_yuan
from storage.orders import STATUS_LABELS, Order
from storage.supplier import (
    QualificationExpired,
    QualificationExpiring,
    QualificationRenewed,
    QuarterFailed,
    RectificationMissed,
    RectificationPassed,
    StatusChanged,
    SupplierNotice,
)

CARD_REPOSTED = "\n（已重新发布，请在新消息中接单）"
JOB_CANCELLED = "订单 {code}（{service}）已取消，请不要上门。给您带来不便，敬请谅解。"
JOB_SETTLED = ("订单 {code}（{service}）已完成：收款 {amount} 元（{method}），平台佣金 {commission} 元，"
               "应结给您 {payout} 元，计入本月结算。")
METHOD_UNKNOWN = "未注明"
# {name} is already wrapped by the channel (a mention on Telegram); {link} opens the private chat.
ASK_TO_START = "{name}：机器人无法私信您。请点击 {link} 并按「开始」，即可收到订单详情和业主联系方式。"

# Progress prompts on the holder's slip, the same on Telegram and WeCom.
ASK_AMOUNT = "订单 {code}：请回复本单金额（元），例如 150 或 88.5"
ASK_REASON = "订单 {code}：请回复无法完成的原因"
BAD_AMOUNT = "金额格式不对，请只回复数字，例如 150 或 88.5"
ASK_METHOD = "金额 {amount} 元，业主用什么方式付款？"
NEED_REASON = "请用文字说明原因"
FAILURE_RECORDED = "已记录，平台会联系业主重新安排。"
AMOUNT_FIRST = "请先点「已完成」并输入金额"
INVALID_CHOICE = "无效的选择"
STEP_DONE = "已更新：{message}"


# Why a merchant may not take a job (storage.merchants.Refusal).
REFUSALS = {
    Refusal.QUALIFICATION_EXPIRED: "您的资质已过期，请联系平台更新",
    Refusal.SUSPENDED: "您的账号已暂停接单，请联系平台",
    Refusal.NOT_ACTIVE: "您的账号当前不能接单，请联系平台",
    Refusal.SERVICE_NOT_OFFERED: "您未登记提供该项服务",
    Refusal.OUTSIDE_AREA: "该小区不在您的服务范围内",
}

# The answer to a 接单 press (storage.dispatch.AcceptOutcome); INELIGIBLE shows the refusal.
ACCEPT_REPLIES = {
    AcceptOutcome.WON: "接单成功",
    AcceptOutcome.TAKEN: "手慢了，这单已被其他商家接走",
    AcceptOutcome.ALREADY_YOURS: "这单已经是您的了",
    AcceptOutcome.NOT_MERCHANT: "您还不是平台登记的商家，请联系平台登记",
    AcceptOutcome.CLOSED: "该订单已取消或已结束",
    AcceptOutcome.HELD_FOR_HIGH_CREDIT: "本单目前优先由高信用商家接单，{seconds} 秒后如仍无人接单，您就可以接了",
}


def refusal(reason: Refusal | None) -> str:
    """A refusal in the merchant's words (None: nothing to refuse, "")."""
    if reason is None:
        return ""
    return REFUSALS[reason]


def accept_reply(result: AcceptResult) -> str:
    """What the presser reads after a 接单 press."""
    if result.outcome == AcceptOutcome.INELIGIBLE:
        assert result.refusal is not None
        return refusal(result.refusal)
    return ACCEPT_REPLIES[result.outcome].format(seconds=result.wait_seconds)


# Why a progress step was not taken (storage.dispatch.Step); {now} {target} are status labels.
STEP_REFUSALS = {
    Step.CLOSED: ACCEPT_REPLIES[AcceptOutcome.CLOSED],
    Step.NOT_HOLDER: "只有接单的商家可以更新这个订单",
    Step.NEED_AMOUNT: "请先填写金额和付款方式",
    Step.NEED_REASON: "请说明无法完成的原因",
    Step.BAD_TRANSITION: "订单当前为「{now}」，不能改为「{target}」",
}
# The amount's fate (storage.amounts.Gate) when it is not recorded at once.
AMOUNT_GATES = {
    Gate.ASK_OWNER: "金额 {amount} 元（{method}）已发给业主确认，业主确认后本单即完成。",
    Gate.ALREADY_ASKED: "本单金额正在等待业主确认，请勿重复提交。",
    Gate.ON_ACCOUNT_UNVERIFIED: "该业主的房屋尚未核实，不能挂账，请选择其他付款方式。",
}


def step_reply(result: StepResult, *, busy: str) -> str:
    """What the holder reads after a progress step: the new status' label, or why not (`busy`: the transport's)."""
    order = result.order
    match result.step:
        case Step.DONE:
            assert result.target is not None
            return STATUS_LABELS[result.target]
        case Step.ALLOWED:
            return ""
        case Step.BUSY:
            return busy
        case Step.AMOUNT_GATE:
            assert result.gate is not None and order is not None
            return AMOUNT_GATES[result.gate].format(amount=format_yuan(order.proposed_amount_fen or 0),
                                                     method=order.proposed_method)
        case Step.BAD_TRANSITION:
            assert result.target is not None and order is not None
            return STEP_REFUSALS[Step.BAD_TRANSITION].format(now=order.status_label, target=STATUS_LABELS[result.target])
    return STEP_REFUSALS[result.step]


AMOUNT_CONFIRMED = (
    "业主已确认：订单 {code} 已完成，金额 {amount} 元（{method}），平台佣金 {commission} 元，应结算给您 {payout} 元。"
)
AMOUNT_DISPUTED = "业主对订单 {code}（{service}）登记的金额 {amount} 元有异议，暂不记账，平台管家会联系您核对。"


class _AmountNotes:
    """storage.amounts.AmountNotes: the owner's answer to an amount, as the merchant reads it."""

    def confirmed(self, order: Order) -> str:
        return AMOUNT_CONFIRMED.format(code=order.code, amount=format_yuan(order.amount_fen or 0),
                                       method=order.payment_method, commission=format_yuan(order.commission_fen or 0),
                                       payout=format_yuan(order.payout_fen or 0))

    def disputed(self, code: str, service: str, amount_fen: int) -> str:
        return AMOUNT_DISPUTED.format(code=code, service=service, amount=format_yuan(amount_fen))


AMOUNT_NOTES = _AmountNotes()

REASSIGNED = "订单 {code}（{service}）已由平台改派给其他商家，您无需再上门。"


def job_cancelled(order: Order) -> str:
    return JOB_CANCELLED.format(code=order.code, service=order.service.name)


def job_settled(order: Order) -> str:
    """What was collected, the commission, and what the merchant will be paid."""
    assert order.amount_fen is not None
    commission = order.commission_fen or 0
    payout = order.payout_fen if order.payout_fen is not None else order.amount_fen - commission
    return JOB_SETTLED.format(code=order.code, service=order.service.name, amount=format_yuan(order.amount_fen),
                              method=order.payment_method or METHOD_UNKNOWN, commission=format_yuan(commission),
                              payout=format_yuan(payout))


# --- supplier management (storage/supplier.py decides, these words tell the merchant) -------------
QUALIFICATION_EXPIRED = ("您的资质文件已于 {day:%Y-%m-%d} 过期，平台已暂停向您派单。"
                         "请尽快提交更新后的资质，审核通过后即恢复接单。")
QUALIFICATION_EXPIRING = ("提醒：您的资质文件将于 {day:%Y-%m-%d} 到期（还有 {days} 天），"
                          "请提前提交更新，以免影响接单。")
QUALIFICATION_RENEWED = "您的资质已更新（有效期至 {day:%Y-%m-%d}），已恢复接单。"
QUARTER_SCORE = "业主满意度 {average} 分"
QUARTER_NO_SCORE = "暂无评分"
QUARTER_TOO_MANY_COMPLAINTS = "本季度投诉 {complaints} 起，超过 {limit} 起的上限"
QUARTER_BELOW_BAR = "低于 {bar} 分的标准"
COOPERATION_ENDED = ("{quarter} {shown}，{why}，已连续两个季度未达标，"
                     "根据合作协议，平台与您的合作到此终止。感谢您此前的服务。")
RECTIFICATION_NOTICE = ("整改通知：{quarter} {shown}，{why}。"
                        "请在 {deadline:%Y-%m-%d} 前完成整改；届时仍未达标将暂停接单。")
RECTIFICATION_PASSED = "整改期内业主满意度 {average} 分，已达标，感谢配合，请继续保持。"
RECTIFICATION_MISSED = ("整改期已到（{deadline:%Y-%m-%d}），期间业主满意度 {shown}，仍未达到 {bar} 分，"
                        "平台暂停向您派单。整改完成后请联系平台恢复。")
RECTIFICATION_SCORE = "{average} 分"
RECTIFICATION_NO_SCORE = "无新的评价"
SUSPENDED_BY_STAFF = "平台已暂停向您派单{reason} 如有疑问请联系平台。"
SUSPENDED_REASON = "：{reason}"
SUSPENDED_NO_REASON = "。"
REINSTATED_BY_STAFF = "您的账号已恢复，可以继续接单。"


def supplier_notice(notice: SupplierNotice) -> str:
    """What the merchant reads about their qualification, quarter or status (storage.supplier.SupplierWording)."""
    match notice:
        case QualificationExpired(expired_on=day):
            return QUALIFICATION_EXPIRED.format(day=day)
        case QualificationExpiring(expires_on=day, days_left=days):
            return QUALIFICATION_EXPIRING.format(day=day, days=days)
        case QualificationRenewed(valid_until=day):
            return QUALIFICATION_RENEWED.format(day=day)
        case QuarterFailed():
            return _quarter_failed(notice)
        case RectificationPassed(average=average):
            return RECTIFICATION_PASSED.format(average=average)
        case RectificationMissed(deadline=deadline, average=average, bar=bar):
            shown = RECTIFICATION_NO_SCORE if average is None else RECTIFICATION_SCORE.format(average=average)
            return RECTIFICATION_MISSED.format(deadline=deadline, shown=shown, bar=bar)
        case StatusChanged(status=MerchantStatus.SUSPENDED, reason=reason):
            tail = SUSPENDED_REASON.format(reason=reason) if reason else SUSPENDED_NO_REASON
            return SUSPENDED_BY_STAFF.format(reason=tail)
        case StatusChanged():
            return REINSTATED_BY_STAFF
    raise TypeError(f"no merchant wording for {notice!r}")


def _quarter_failed(notice: QuarterFailed) -> str:
    shown = QUARTER_NO_SCORE if notice.average is None else QUARTER_SCORE.format(average=notice.average)
    why = (QUARTER_TOO_MANY_COMPLAINTS.format(complaints=notice.complaints, limit=notice.policy.max_complaints)
           if notice.too_many_complaints else QUARTER_BELOW_BAR.format(bar=notice.policy.bar))
    if notice.deadline is None:
        return COOPERATION_ENDED.format(quarter=notice.quarter, shown=shown, why=why)
    return RECTIFICATION_NOTICE.format(quarter=notice.quarter, shown=shown, why=why, deadline=notice.deadline)
