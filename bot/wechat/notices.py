"""Template notices WeChat will actually show.

Since 2023-05-04 WeChat no longer displays a template message's `first` and `remark` fields, and
it limits each keyword value to 20 characters with no line breaks (关于规范公众号模板消息的再次公告).
So a notice carries its content in keyword fields only: service, order number, time, status and
师傅. Which keyword of the granted template holds which is configuration
(BUTLER_WECHAT_TEMPLATE_FIELDS), because each property company is granted its own template.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

# The platform's limits on a keyword value.
KEYWORD_MAX_CHARS = 20
FORBIDDEN_KEYS = frozenset({"first", "remark"})
# Our content → the keyword of the default 订单状态通知 style template (thing/character_string/time/phrase).
DEFAULT_FIELDS = {"service": "thing1", "code": "character_string2", "time": "time3", "status": "phrase4",
                  "worker": "thing5"}
CONTENT_KEYS = tuple(DEFAULT_FIELDS)
_SPACE = re.compile(r"\s+")


def keyword_value(text: str) -> str:
    """One line of at most 20 characters (the cut is marked with …)."""
    flat = _SPACE.sub(" ", text or "").strip()
    if len(flat) <= KEYWORD_MAX_CHARS:
        return flat
    return flat[: KEYWORD_MAX_CHARS - 1] + "…"


def time_value(at: datetime | None, tz: ZoneInfo) -> str:
    """A template `time` keyword: 2026年12月3日 09:00 in the configured zone."""
    local = (at or datetime.now(tz)).astimezone(tz)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def _status_of(text: str) -> str:
    # The first clause of a free text: "已完成，金额…" → "已完成".
    return re.split(r"[，。！？；\n]", text.strip(), maxsplit=1)[0]


def template_data(
    *, mapping: dict[str, str], tz: ZoneInfo, title: str, text: str, fields: dict[str, Any] | None = None
) -> dict[str, str]:
    """The `data` of a template send: our content in the template's keywords, within WeChat's rules.

    `fields` are a notice's structured parts (service, code, time (ISO), status, worker); a notice
    without them (a statement, a broadcast) puts its title in `service` and its first clause in
    `status`. Keys the mapping does not name, and empty values, are left out.
    """
    given = dict(fields or {})
    at = given.pop("time", None)
    values = {
        "service": given.get("service") or title,
        "code": given.get("code") or "",
        "time": time_value(datetime.fromisoformat(at) if at else None, tz),
        "status": given.get("status") or _status_of(text) or title,
        "worker": given.get("worker") or "",
    }
    data: dict[str, str] = {}
    for key in CONTENT_KEYS:
        keyword = mapping.get(key)
        value = keyword_value(str(values[key]))
        if keyword and keyword not in FORBIDDEN_KEYS and value:
            data[keyword] = value
    return data


def violations(data: dict[str, Any]) -> list[str]:
    """Why WeChat would not show a template `data` as sent (empty when it would)."""
    problems = [f"{key}: not displayed since 2023-05-04" for key in data if key in FORBIDDEN_KEYS]
    for key, raw in data.items():
        value = raw.get("value", "") if isinstance(raw, dict) else str(raw)
        if len(value) > KEYWORD_MAX_CHARS:
            problems.append(f"{key}: {len(value)} characters (at most {KEYWORD_MAX_CHARS})")
        if "\n" in value or "\r" in value:
            problems.append(f"{key}: line break")
    return problems
