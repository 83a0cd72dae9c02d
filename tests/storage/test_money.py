"""Money rules: exact fen, commission rounded half up, month bounds in local time."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from storage.money import InvalidAmount, commission_fen, format_yuan, month_bounds, parse_yuan


@pytest.mark.parametrize(
    ("text", "fen"),
    [("150", 15000), ("150.5", 15050), ("88.05", 8805), ("¥1,200", 120000), ("99元", 9900), (" 0.01 ", 1)],
)
def test_parse_yuan(text: str, fen: int) -> None:
    assert parse_yuan(text) == fen


@pytest.mark.parametrize("text", ["", "abc", "一百", "0", "-5", "1.005", "nan", "inf", "1e12"])
def test_parse_yuan_refuses(text: str) -> None:
    with pytest.raises(InvalidAmount):
        parse_yuan(text)


def test_commission_rounds_half_up_to_the_fen() -> None:
    assert commission_fen(15002, Decimal("0.25")) == 3751  # 3750.5 -> 3751 (banker's would say 3750)
    assert commission_fen(15010, Decimal("0.155")) == 2327  # 2326.55
    assert commission_fen(10000, Decimal("0.2")) == 2000
    assert commission_fen(1, Decimal("0.5")) == 1
    assert commission_fen(1, Decimal("0.1")) == 0


def test_format_yuan() -> None:
    assert [format_yuan(f) for f in (0, 5, 15002, -120)] == ["0.00", "0.05", "150.02", "-1.20"]


def test_month_bounds_are_local_midnights() -> None:
    start, end = month_bounds("2025-03", ZoneInfo("Asia/Shanghai"))
    assert start == datetime(2025, 2, 28, 16, 0, tzinfo=UTC)
    assert end == datetime(2025, 3, 31, 16, 0, tzinfo=UTC)
    assert month_bounds("2025-12", ZoneInfo("UTC"))[1] == datetime(2026, 1, 1, tzinfo=UTC)
    for bad in ("2025-13", "2025-3", "march", "2025-03-01"):
        with pytest.raises(ValueError):
            month_bounds(bad, ZoneInfo("UTC"))
