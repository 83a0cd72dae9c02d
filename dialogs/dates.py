"""Dates and times as owners read them: 12月3日（周四）上午9:00, and only what the owner said.

The NLU turns a period into the start of its window (明天上午 → 09:00), which is right for sorting
and scheduling but wrong to show back: the owner said 上午, not 9点. `said_period` recovers what
was said from the entity's own words so the label can show 上午 instead of an invented hour.
"""

from __future__ import annotations

import re
from datetime import datetime

_WEEKDAYS = "一二三四五六日"
# An hour the owner really said: "3点", "十点半", "15:30", "9时".
_HOUR = re.compile(r"[0-9０-９一二三四五六七八九十两]+\s*(点|时|[:：][0-9０-９])")
_PERIODS = (
    (("凌晨",), "凌晨"),
    (("早上", "早晨", "上午", "一早", "清早"), "上午"),
    (("中午", "午饭"), "中午"),
    (("下午", "午后"), "下午"),
    (("傍晚", "晚上", "晚间", "夜里", "今晚", "明晚"), "晚上"),
)
PERIODS = frozenset(p for _, p in _PERIODS)


def said_period(words: str) -> str | None:
    """The period the owner named (上午/中午/下午/晚上/凌晨) when they gave no hour; None otherwise."""
    if _HOUR.search(words):
        return None
    for cues, period in _PERIODS:
        if any(c in words for c in cues):
            return period
    return None


def day_label(at: datetime) -> str:
    """12月3日（周四）: no leading zeros, always the weekday."""
    return f"{at.month}月{at.day}日（周{_WEEKDAYS[at.weekday()]}）"


def clock_label(at: datetime) -> str:
    """上午9:00, 中午12:30, 下午3:00, 晚上7:30 (12-hour clock)."""
    h, m = at.hour, at.minute
    if h < 12:
        part, shown = "上午", h or 12
    elif h < 13:
        part, shown = "中午", h
    elif h < 18:
        part, shown = "下午", h - 12
    else:
        part, shown = "晚上", h - 12
    return f"{part}{shown}:{m:02d}"


def label(at: datetime, period: str | None = None) -> str:
    """A date and time for owners; a period shows as said; a bare date (midnight) shows no hour."""
    if period in PERIODS:
        return f"{day_label(at)}{period}"
    if (at.hour, at.minute) == (0, 0):
        return day_label(at)
    return f"{day_label(at)}{clock_label(at)}"
