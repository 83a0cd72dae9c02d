"""What merchants read: job cards (no owner details), contact slips, and the buttons on them.

CallbackData carries ids only (Telegram allows 64 bytes); everything else is looked up again
when the button is pressed, so a stale card can never act on stale facts. Ids are bounded (a
press with an out-of-range id fails the filter instead of reaching the database), and the 接单
button is HMAC-signed (issue 14): a forged or guessed `job:N` is not a job.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from pydantic import Field

from storage import privacy
from storage.base import aware
from storage.money import PAYMENT_METHODS, format_yuan
from storage.orders import Order, OrderStatus

WEEKDAYS = "一二三四五六日"


MAX_ID = 2**31 - 1  # an INTEGER primary key; anything larger is not one of ours
SIG_CHARS = 16  # 96 bits of HMAC-SHA256, base64url


class JobCb(CallbackData, prefix="jb"):
    """接单 on a job card: the order id and its signature (see job_data)."""

    order_id: int = Field(ge=1, le=MAX_ID)
    sig: str = Field(min_length=SIG_CHARS, max_length=SIG_CHARS)

    def valid(self, key: bytes) -> bool:
        """True when the signature was made with our key for this order."""
        return hmac.compare_digest(self.sig, _sign(key, self.order_id))


def _sign(key: bytes, order_id: int) -> str:
    digest = hmac.new(key, f"jb:{order_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:SIG_CHARS]


def job_data(order_id: int, key: bytes) -> str:
    """The signed callback data of an order's 接单 button."""
    return JobCb(order_id=order_id, sig=_sign(key, order_id)).pack()


class StepCb(CallbackData, prefix="st"):
    """A progress button: step is go (已出发), arr (已到达), done (已完成) or fail (无法完成)."""

    order_id: int = Field(ge=1, le=MAX_ID)
    step: str = Field(max_length=8)


class PayCb(CallbackData, prefix="pay"):
    """The payment method chosen after the amount was typed (m indexes PAYMENT_METHODS).

    The amount itself waits in the merchant's FSM data, so callback data stays ids only.
    """

    order_id: int = Field(ge=1, le=MAX_ID)
    m: int = Field(ge=0, le=9)


STEP_TARGETS: dict[str, OrderStatus] = {
    "go": OrderStatus.ON_THE_WAY,
    "arr": OrderStatus.ARRIVED,
    "done": OrderStatus.COMPLETED,
    "fail": OrderStatus.FAILED,
}


def when_text(at: datetime | None, tz: ZoneInfo, period: str | None = None) -> str:
    """The requested time in words merchants scan quickly, e.g. 11月27日（周五）上午 09:00.

    When the owner named only a period (上午), that is what they get: the hour stored for it is
    the period's start, not a time the owner agreed to.
    """
    if at is None:
        return "尽快（时间可与业主商定）"
    local = aware(at).astimezone(tz)
    if period:
        return f"{local.month}月{local.day}日（周{WEEKDAYS[local.weekday()]}）{period}（具体时间与业主约定）"
    half = "上午" if local.hour < 12 else ("下午" if local.hour < 18 else "晚上")
    return f"{local.month}月{local.day}日（周{WEEKDAYS[local.weekday()]}）{half} {local:%H:%M}"


def redact(notes: str) -> str:
    """Notes without phones, rooms, ID numbers or names (the card is public to the whole group)."""
    return privacy.scrub(notes)


def _place(order: Order) -> str:
    community = order.community.name if order.community else "小区待确认"
    building = order.owner.building
    return f"{community} {building}号楼" if building else community


_ATTACHMENT_LABELS = {"image": "照片", "video": "视频", "shortvideo": "视频", "link": "链接", "file": "文件"}


def _attachment_summary(order: Order) -> str:
    counts: dict[str, int] = {}
    for item in order.attachments or []:
        name = _ATTACHMENT_LABELS.get(item.get("kind", ""), "文件")
        counts[name] = counts.get(name, 0) + 1
    return "、".join(f"{n}个{name}" if name != "照片" else f"{n}张照片" for name, n in counts.items())


def card_text(order: Order, tz: ZoneInfo) -> str:
    """The job card for the merchant group: service, community, building, time, notes; no owner."""
    header = {
        OrderStatus.PENDING_DISPATCH: "🆕 新订单",
        OrderStatus.CANCELLED: "❌ 已取消",
        OrderStatus.FAILED: "⚠️ 未能完成",
        OrderStatus.COMPLETED: "✅ 已完成",
    }.get(OrderStatus(order.status), "📌 已接单")
    lines = [
        f"{header} {order.code}",
        f"服务：{order.service.name}",
        f"地点：{_place(order)}",
        f"时间：{when_text(order.scheduled_at, tz, order.scheduled_period)}",
    ]
    notes = redact(order.notes)
    if notes:
        lines.append(f"备注：{notes}")
    if order.attachments:  # issue 12: the owner's photos/links go privately to whoever wins the job
        lines.append(f"附件：业主发来{_attachment_summary(order)}，接单后私信发送。")
    if order.status == OrderStatus.PENDING_DISPATCH:
        lines.append("点击下方「接单」抢单，接单后私信发送业主联系方式。")
    elif order.merchant is not None and order.status != OrderStatus.CANCELLED:
        lines.append(f"接单商家：{order.merchant.name}（{order.status_label}）")
    return "\n".join(lines)


def card_keyboard(order: Order, key: bytes) -> InlineKeyboardMarkup | None:
    """接单 while the job is open; no buttons afterwards."""
    if order.status != OrderStatus.PENDING_DISPATCH:
        return None
    button = InlineKeyboardButton(text="接单", callback_data=job_data(order.id, key))
    return InlineKeyboardMarkup(inline_keyboard=[[button]])


def contact_text(order: Order, tz: ZoneInfo) -> str:
    """The private slip for the merchant holding the job: who, where, how to reach them."""
    owner = order.owner
    community = order.community.name if order.community else ""
    address = order.address or owner.address
    # The order dialog's address usually already names the community ("翠苑 3号楼…").
    if community and not address.startswith(community):
        address = f"{community} {address}"
    lines = [
        f"接单成功：订单 {order.code}",
        f"服务：{order.service.name}",
        f"时间：{when_text(order.scheduled_at, tz, order.scheduled_period)}",
        f"业主：{owner.name or owner.nickname or '业主'}",
        f"电话：{order.contact_phone or owner.phone or '未留电话，请联系平台'}",
        f"地址：{address}",
    ]
    if order.notes:
        lines.append(f"备注：{order.notes}")
    for item in order.attachments or []:
        lines.append(f"附件（{_ATTACHMENT_LABELS.get(item.get('kind', ''), '文件')}）："
                     f"{item.get('title', '')} {item.get('url') or 'media_id ' + item.get('media_id', '')}".strip())
    lines.append("出发、到达、完成时请点下方按钮；款项由平台统一代收，请勿私下收费。")
    return "\n".join(lines)


def progress_keyboard(order: Order) -> InlineKeyboardMarkup | None:
    """The buttons that make sense from the current status."""
    status = OrderStatus(order.status)
    rows: list[list[InlineKeyboardButton]] = []
    if status == OrderStatus.ACCEPTED:
        rows.append([_step(order, "go", "已出发"), _step(order, "arr", "已到达")])
    elif status == OrderStatus.ON_THE_WAY:
        rows.append([_step(order, "arr", "已到达")])
    if status in (OrderStatus.ACCEPTED, OrderStatus.ON_THE_WAY, OrderStatus.ARRIVED):
        rows.append([_step(order, "done", "已完成"), _step(order, "fail", "无法完成")])
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def _step(order: Order, step: str, label: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=label, callback_data=StepCb(order_id=order.id, step=step).pack())


def payment_keyboard(order_id: int) -> InlineKeyboardMarkup:
    """One button per payment method."""
    buttons = [
        InlineKeyboardButton(text=method.value, callback_data=PayCb(order_id=order_id, m=i).pack())
        for i, method in enumerate(PAYMENT_METHODS)
    ]
    return InlineKeyboardMarkup(inline_keyboard=[buttons[:3], buttons[3:]])


def completion_text(order: Order) -> str:
    """What the merchant sees after 已完成: the money split."""
    return (
        f"订单 {order.code} 已完成：金额 {format_yuan(order.amount_fen or 0)} 元（{order.payment_method}），"
        f"平台佣金 {format_yuan(order.commission_fen or 0)} 元，应结算给您 {format_yuan(order.payout_fen or 0)} 元。"
    )
