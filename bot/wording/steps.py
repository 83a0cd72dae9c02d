"""storage.dispatch.StepWording: what a 接单, a progress step or an assignment tells the others.

One object for the domain to hold, each sentence from its audience's table: owners' from
dialogs/texts.py, merchants' from merchant.py, staff's from staff.py.
"""

from __future__ import annotations

from bot.wording import merchant, staff
from dialogs import texts
from storage.dispatch import FailureReported, Reassigned
from storage.money import PaymentMethod, format_yuan
from storage.orders import Order, OrderStatus


class _StepWording:
    def failure_alert(self, failure: FailureReported) -> str:
        return staff.FAILURE_ALERT.format(code=failure.code, service=failure.service, merchant=failure.merchant,
                                          reason=failure.reason)

    def reassigned(self, reassigned: Reassigned) -> str:
        return merchant.REASSIGNED.format(code=reassigned.code, service=reassigned.service)

    def owner_update(self, order: Order, status: OrderStatus) -> str:
        return texts.owner_text(order, status)

    def owner_amount_ask(self, order: Order, amount_fen: int, method: PaymentMethod) -> str:
        return texts.amount_ask(order, amount_fen, method)

    def staff_amount_alert(self, order: Order, merchant_name: str, amount_fen: int, method: PaymentMethod, why: str) -> str:
        return staff.AMOUNT_HIGH.format(code=order.code, service=order.service.name, merchant=merchant_name,
                                        amount=format_yuan(amount_fen), method=method, why=why)


STEP_WORDING = _StepWording()
