"""What owners read when a job moves on: WORDING.md's words, and promises something keeps."""

from __future__ import annotations

from dialogs.texts import owner_text
from storage.catalog import Service
from storage.money import PaymentMethod
from storage.orders import Order, OrderStatus


def _order(method: PaymentMethod) -> Order:
    return Order(code="B7K2QX", service=Service(name="钟点工"), amount_fen=12000, payment_method=method)


def test_a_completed_on_account_job_says_where_the_money_goes_without_internal_words() -> None:
    text = owner_text(_order(PaymentMethod.ON_ACCOUNT), OrderStatus.COMPLETED)
    assert "挂账" not in text and "平台" not in text and "商家" not in text
    assert text.count("物业账单") == 2 and "代收" not in text  # 记入物业账单, and when it is settled
    assert "120元" in text and "回复“人工”" in text and "如有疑问请直接回复" not in text


def test_a_completed_transfer_says_the_property_collects_it() -> None:
    text = owner_text(_order(PaymentMethod.TRANSFER), OrderStatus.COMPLETED)
    assert "金额120元（转账）" in text and "款项由物业统一代收" in text and "回复“人工”" in text


def test_an_accepted_job_names_no_unchecked_promise() -> None:
    text = owner_text(_order(PaymentMethod.TRANSFER), OrderStatus.ACCEPTED)
    assert "尽快" not in text and "商家" not in text
