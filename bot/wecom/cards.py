"""What WeCom merchants see: button_interaction template cards built from the Telegram card words.

Button keys are the very strings Telegram puts in callback data (signed 接单, bounded ids), so a
press on either channel is checked by one set of rules (bot/telegram/cards.py).
"""

from __future__ import annotations

import secrets
from typing import Any
from zoneinfo import ZoneInfo

from bot.telegram import cards
from bot.wording import merchant as words
from storage.money import PAYMENT_METHODS
from storage.orders import Order, OrderStatus

_STEP_BUTTONS = {"go": "已出发", "arr": "已到达", "done": "已完成", "fail": "无法完成"}


def _card(title: str, body: str, buttons: list[tuple[str, str]], *, task: str) -> dict[str, Any]:
    return {
        "card_type": "button_interaction",
        "main_title": {"title": title[:36]},
        "sub_title_text": body[:1000],
        # task_id: unique per card in the app; letters, digits and _-@ only.
        "task_id": f"{task}-{secrets.token_hex(6)}",
        "button_list": [{"text": text, "style": 1, "key": key} for text, key in buttons[:6]],
    }


def offer_card(order: Order, tz: ZoneInfo, key: bytes) -> dict[str, Any]:
    """The job offer: the group card's words (no owner details) and 接单."""
    text = cards.card_text(order, tz)
    title, _, body = text.partition("\n")
    return _card(title, body.replace("点击下方「接单」抢单，接单后私信发送业主联系方式。", "点「接单」抢单，接单后发送业主联系方式。"),
                 [("接单", cards.job_data(order.id, key))], task=f"jb{order.id}")


def slip_card(order: Order, tz: ZoneInfo) -> dict[str, Any]:
    """The contact slip for the holder, with the progress buttons still possible."""
    text = cards.contact_text(order, tz).replace("请点下方按钮", "请点卡片上的按钮")
    title, _, body = text.partition("\n")
    return _card(title, body, progress_buttons(order), task=f"st{order.id}")


def progress_buttons(order: Order) -> list[tuple[str, str]]:
    """Same choices as the Telegram slip's keyboard, in the same order."""
    status = OrderStatus(order.status)
    steps: list[str] = []
    if status == OrderStatus.ACCEPTED:
        steps += ["go", "arr"]
    elif status == OrderStatus.ON_THE_WAY:
        steps += ["arr"]
    if status in (OrderStatus.ACCEPTED, OrderStatus.ON_THE_WAY, OrderStatus.ARRIVED):
        steps += ["done", "fail"]
    return [(_STEP_BUTTONS[s], cards.StepCb(order_id=order.id, step=s).pack()) for s in steps]


def payment_card(order_id: int, code: str, amount_text: str) -> dict[str, Any]:
    """After the amount was typed: one button per payment method."""
    buttons = [(m.value, cards.PayCb(order_id=order_id, m=i).pack()) for i, m in enumerate(PAYMENT_METHODS)]
    return _card(f"订单 {code}：选择付款方式", words.ASK_METHOD.format(amount=amount_text), buttons, task=f"pay{order_id}")


def command_card(title: str, body: str, buttons: list[tuple[str, str]], *, task: str) -> dict[str, Any]:
    """A staff command's choices (a broadcast preview's 确认 / 放弃) as a button_interaction card."""
    return _card(title, body, buttons, task=task)
