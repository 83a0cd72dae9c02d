"""Merchant-facing wording: job cards' follow-ups, cancellation and settlement notes."""

from __future__ import annotations

from storage.money import format_yuan
from storage.orders import Order

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
