"""The audience tables word the domain's typed outcomes exactly as the domain used to (issue 17 item 2).

Each expected string below is the sentence storage/ built itself before the move, so a change of
wording shows here, not only in an end-to-end test that happens to look at it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from bot.wording import broadcast, merchant, staff
from bot.wording.steps import STEP_WORDING
from dialogs import workflow_texts as wt
from storage import complaints, segments, supplier, workorders
from storage.broadcast_pause import BroadcastFinished, BroadcastPaused
from storage.dispatch import (
    AcceptOutcome,
    AcceptResult,
    FailureReported,
    Reassigned,
    Step,
    StepResult,
)
from storage.merchants import MerchantStatus, Refusal
from storage.orders import STATUS_LABELS, OrderStatus
from storage.owner_export import PersonRow

TZ = ZoneInfo("Asia/Shanghai")
POLICY = supplier.EvaluationPolicy()


@pytest.mark.parametrize(("notice", "expected"), [
    (supplier.QualificationExpired(date(2026, 3, 1)),
     "您的资质文件已于 2026-03-01 过期，平台已暂停向您派单。请尽快提交更新后的资质，审核通过后即恢复接单。"),
    (supplier.QualificationExpiring(date(2026, 3, 11), 10),
     "提醒：您的资质文件将于 2026-03-11 到期（还有 10 天），请提前提交更新，以免影响接单。"),
    (supplier.QualificationRenewed(date(2027, 1, 31)), "您的资质已更新（有效期至 2027-01-31），已恢复接单。"),
    (supplier.QuarterFailed("2026Q1", Decimal("3.10"), 0, False, POLICY, date(2026, 5, 1)),
     "整改通知：2026Q1 业主满意度 3.10 分，低于 3.5 分的标准。请在 2026-05-01 前完成整改；届时仍未达标将暂停接单。"),
    (supplier.QuarterFailed("2026Q2", None, 4, True, POLICY, None),
     "2026Q2 暂无评分，本季度投诉 4 起，超过 3 起的上限，已连续两个季度未达标，"
     "根据合作协议，平台与您的合作到此终止。感谢您此前的服务。"),
    (supplier.RectificationPassed(Decimal("4.20")), "整改期内业主满意度 4.20 分，已达标，感谢配合，请继续保持。"),
    (supplier.RectificationMissed(date(2026, 5, 1), None, Decimal("3.5")),
     "整改期已到（2026-05-01），期间业主满意度 无新的评价，仍未达到 3.5 分，平台暂停向您派单。整改完成后请联系平台恢复。"),
    (supplier.StatusChanged(MerchantStatus.SUSPENDED, "多次爽约"), "平台已暂停向您派单：多次爽约 如有疑问请联系平台。"),
    (supplier.StatusChanged(MerchantStatus.SUSPENDED), "平台已暂停向您派单。 如有疑问请联系平台。"),
    (supplier.StatusChanged(MerchantStatus.ACTIVE), "您的账号已恢复，可以继续接单。"),
])
def test_supplier_notices(notice: supplier.SupplierNotice, expected: str) -> None:
    assert merchant.supplier_notice(notice) == expected


def test_broadcast_pause_and_finish() -> None:
    until = datetime(2026, 12, 3, 0, 0, 5, tzinfo=TZ)
    assert broadcast.sender_report(BroadcastPaused(7, 45009, until, 120)) == (
        "广播 #7 已暂停：微信今日接口调用次数已用完（45009）。尚未发送的 120 人保留待发，将于 12-03 00:00 后自动继续，无需重新发起。")
    totals = {"total": 5, "status": {"sent": 3, "failed": 1, "skipped": 1, "unknown": 1},
              "sent_by_channel": {"cs": 3}, "skipped": {"opted_out": 1}, "failed": {"45015": 1}}
    assert broadcast.sender_report(BroadcastFinished(7, "notice", totals)) == "\n".join([
        "广播 #7 已发送完毕（通知）", "共 5 人：成功 3，失败 1，跳过 1",
        "另有 1 人可能未送达（接口超时，无法确认；为免重复不再重发）", "渠道：客服消息 3", "跳过原因：已退订推送 1",
        "失败：errcode 45015 1"])


@pytest.mark.parametrize(("spec", "expected"), [
    ("小区=", "条件缺少取值：''"),
    ("绑定=也许", "绑定 只能是 是 或 否，收到 '也许'"),
    ("下单=钟点工/0天", "天数写法如 钟点工/90天，收到 '钟点工/0天'"),
    ("翠苑", "看不懂条件 '翠苑'：写成 键=值，例如 小区=翠苑"),
    ("颜色=红", "未知条件 '颜色'，发送 /help broadcast 查看写法"),
    ("小区=a 小区=b", "小区 只能写一次（多个取值用逗号分隔）"),
    ("类型=广告", "类型 只能是 通知 或 营销"),
])
def test_segment_problems(spec: str, expected: str) -> None:
    with pytest.raises(segments.SegmentError) as caught:
        segments.parse(spec)
    assert staff.segment_problem(caught.value) == expected


def test_number_problems() -> None:
    row = PersonRow("翠苑", "3", "2", "502", "王", "", "花名册", "", "缺少号码")
    assert staff.number_problem(row) == "缺少号码"
    tagged = PersonRow("翠苑", "3", "2", "502", "王", "13800000000", "花名册", "", "", "空号")
    assert staff.number_problem(tagged) == "员工标记：空号" and tagged.needs_checking


def test_work_order_and_complaint_notices() -> None:
    half_hour, two_hours = timedelta(minutes=30), timedelta(hours=2)
    assert wt.workorder_notice(workorders.WorkOrderReported(3, "翠苑 3-2-502", "电梯困人", "", True, half_hour,
                                                            timedelta(minutes=5))) == (
        "🚨【紧急工单 W3】翠苑 3-2-502：电梯困人\n业主电话：未留\n请立即处理，并发送 /wo_ack 3 确认受理（未确认会每5分钟重复提醒）。")
    assert wt.workorder_notice(workorders.Assigned(3, "李四")) == "您的报修（工单号 W3）已安排管家李四负责处理。"
    assert wt.workorder_notice(workorders.AckOverdue(3, half_hour, "翠苑", "灯坏了")) == (
        "⏰【工单 W3 超时未受理】已过30分钟时限。翠苑：灯坏了\n受理：/wo_ack 3")
    assert wt.complaint_notice(complaints.Resolved(7, "已补装两盏灯", 5050)) == (
        "您的投诉（投诉编号 T7）已处理：已补装两盏灯\n给您的补偿 50.50元 将由物业服务中心为您办理。\n如对处理结果不满意，请回复“人工”。")
    assert wt.complaint_notice(complaints.ResolveOverdue(7, two_hours, "王女士", "保洁不到位")) == (
        "⏰【投诉 T7 超时未结案】已过2小时时限。业主 王女士：保洁不到位\n结案：/close_complaint 7 说明")


def test_amount_unconfirmed_and_reposted_job() -> None:
    from storage.amounts import AmountUnconfirmed
    from storage.dispatch import Reposted

    assert staff.amount_unconfirmed(AmountUnconfirmed("EN6SBS", "钟点工", 15002, "挂账", timedelta(hours=30), "")) == (
        "【金额未确认】订单 EN6SBS（钟点工）登记的 150.02元（挂账）已等待业主确认 1天6小时，请联系业主核对：未留电话")
    reposted = Reposted("EN6SBS", "钟点工", "", 15, ((3, "张师傅"), (5, "李师傅")))
    assert staff.REPOST_WORDING.alert(reposted) == (
        "订单 EN6SBS（钟点工，未知小区）15 分钟无人接单，已重新发布。\n可指派：/assign EN6SBS 商家编号\n候选：#3 张师傅、#5 李师傅")
    assert staff.REPOST_WORDING.alert(Reposted("EN6SBS", "钟点工", "翠苑", 15, ())).endswith("候选：暂无符合条件的商家")
    assert staff.REPOST_WORDING.history(reposted) == "无人接单，已重新发布并通知工作人员"


# --- dispatch and amounts (storage/dispatch.py, storage/amounts.py, storage/merchants.py before the move) ---
@pytest.mark.parametrize(("result", "expected"), [
    (AcceptResult(AcceptOutcome.WON), "接单成功"),
    (AcceptResult(AcceptOutcome.TAKEN), "手慢了，这单已被其他商家接走"),
    (AcceptResult(AcceptOutcome.NOT_MERCHANT), "您还不是平台登记的商家，请联系平台登记"),
    (AcceptResult(AcceptOutcome.CLOSED), "该订单已取消或已结束"),
    (AcceptResult(AcceptOutcome.ALREADY_YOURS), "这单已经是您的了"),
    (AcceptResult(AcceptOutcome.HELD_FOR_HIGH_CREDIT, wait_seconds=42),
     "本单目前优先由高信用商家接单，42 秒后如仍无人接单，您就可以接了"),
    (AcceptResult(AcceptOutcome.INELIGIBLE, refusal=Refusal.QUALIFICATION_EXPIRED), "您的资质已过期，请联系平台更新"),
    (AcceptResult(AcceptOutcome.INELIGIBLE, refusal=Refusal.SUSPENDED), "您的账号已暂停接单，请联系平台"),
    (AcceptResult(AcceptOutcome.INELIGIBLE, refusal=Refusal.NOT_ACTIVE), "您的账号当前不能接单，请联系平台"),
    (AcceptResult(AcceptOutcome.INELIGIBLE, refusal=Refusal.SERVICE_NOT_OFFERED), "您未登记提供该项服务"),
    (AcceptResult(AcceptOutcome.INELIGIBLE, refusal=Refusal.OUTSIDE_AREA), "该小区不在您的服务范围内"),
])
def test_accept_replies(result: AcceptResult, expected: str) -> None:
    assert merchant.accept_reply(result) == expected


@pytest.mark.parametrize(("result", "expected"), [
    (StepResult(False, Step.CLOSED), "该订单已取消或已结束"),
    (StepResult(False, Step.NOT_HOLDER), "只有接单的商家可以更新这个订单"),
    (StepResult(False, Step.NEED_AMOUNT), "请先填写金额和付款方式"),
    (StepResult(False, Step.NEED_REASON), "请说明无法完成的原因"),
    (StepResult(False, Step.BUSY), "系统繁忙"),
    (StepResult(True, Step.DONE, target=OrderStatus.ON_THE_WAY), STATUS_LABELS[OrderStatus.ON_THE_WAY]),
])
def test_step_replies(result: StepResult, expected: str) -> None:
    assert merchant.step_reply(result, busy="系统繁忙") == expected


@pytest.mark.parametrize(("result", "expected"), [
    (StepResult(False, Step.NOT_STAFF), "您不是登记的工作人员"),
    (StepResult(False, Step.NO_ORDER, code="NOPE42"), "没有找到订单 NOPE42"),
    (StepResult(False, Step.NO_MERCHANT, merchant_id=7), "没有编号为 7 的商家"),
])
def test_assign_replies_without_an_order(result: StepResult, expected: str) -> None:
    assert staff.assign_reply(result) == expected


def test_step_and_amount_notes() -> None:
    assert STEP_WORDING.failure_alert(FailureReported("B7K2QX", "钟点工", "张师傅", "需要更换整段管道")) == \
        "订单 B7K2QX（钟点工）商家张师傅反馈无法完成：需要更换整段管道。请联系业主重新安排。"
    assert STEP_WORDING.reassigned(Reassigned("B7K2QX", "钟点工")) == \
        "订单 B7K2QX（钟点工）已由平台改派给其他商家，您无需再上门。"
    assert merchant.AMOUNT_NOTES.disputed("B7K2QX", "钟点工", 15002) == \
        "业主对订单 B7K2QX（钟点工）登记的金额 150.02 元有异议，暂不记账，平台管家会联系您核对。"
