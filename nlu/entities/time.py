"""Chinese time expressions (明天上午, 周六下午三点, 下周三, 国庆, 5号, 半小时后) to ISO 8601.

Phrase parsing is ours (no maintained library parses casual Chinese dates well and small);
lunar festivals come from lunar-python. Values are the start of what was said, in ``tz``.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import lru_cache

from nlu.entities.numerals import NUM, to_int
from nlu.result import Entity

_WEEKDAY = {
    "一": 0,
    "二": 1,
    "三": 2,
    "四": 3,
    "五": 4,
    "六": 5,
    "日": 6,
    "天": 6,
    "末": 5,
    "1": 0,
    "2": 1,
    "3": 2,
    "4": 3,
    "5": 4,
    "6": 5,
    "7": 6,
}
_REL_DAY = {
    "今天": 0,
    "今日": 0,
    "今儿": 0,
    "今儿个": 0,
    "今早": 0,
    "今晚": 0,
    "今夜": 0,
    "明天": 1,
    "明日": 1,
    "明儿": 1,
    "明儿个": 1,
    "明早": 1,
    "明晚": 1,
    "次日": 1,
    "后天": 2,
    "后儿": 2,
    "大后天": 3,
}
# hour a bare part of the day starts at, as owners mean it when booking (明天上午 -> 09:00)
_PERIOD_HOUR = {
    "早上": 8,
    "早晨": 8,
    "清早": 7,
    "一早": 8,
    "大早": 7,
    "早": 8,
    "上午": 9,
    "中午": 12,
    "午饭后": 13,
    "下午": 14,
    "午后": 14,
    "傍晚": 18,
    "晚上": 19,
    "晚": 19,
    "夜里": 21,
    "夜间": 21,
    "夜晚": 20,
    "凌晨": 1,
    "半夜": 23,
    "白天": 9,
}
_PM = {"下午", "午后", "傍晚", "晚上", "晚", "夜里", "夜间", "夜晚", "半夜"}
_FIXED_HOLIDAYS = {
    "元旦": (1, 1),
    "情人节": (2, 14),
    "妇女节": (3, 8),
    "三八": (3, 8),
    "劳动节": (5, 1),
    "五一": (5, 1),
    "儿童节": (6, 1),
    "六一": (6, 1),
    "国庆": (10, 1),
    "十一": (10, 1),
    "双十一": (11, 11),
    "平安夜": (12, 24),
    "圣诞": (12, 25),
}
_LUNAR_HOLIDAYS = {
    "春节": (1, 1),
    "过年": (1, 1),
    "大年初一": (1, 1),
    "元宵": (1, 15),
    "端午": (5, 5),
    "七夕": (7, 7),
    "中秋": (8, 15),
    "重阳": (9, 9),
    "腊八": (12, 8),
    "小年": (12, 23),
}
_HOLIDAY_RE = (
    "双十一|十一(?=长假|假期|期间|黄金周|放假)|元旦|情人节|妇女节|劳动节|五一|儿童节|六一|"
    "国庆|平安夜|圣诞|春节|过年|大年初一|除夕|大年三十|元宵|端午|七夕|中秋|重阳|"
    "腊八|小年|清明|冬至"
)

_DAY = (
    rf"(?P<ymd>(?:(?P<y>\d{{4}})年)?(?P<m>{NUM})月(?:(?P<d>{NUM})[日号]?)?)"
    rf"|(?P<nmd>(?P<mrel>下个?月|这个?月|本月)?(?P<d2>{NUM})[号日](?!楼|房|室|单元|门|线|床|院|柜|位|机|店|口|地铁))"
    rf"|(?P<wk>(?P<wrel>这|本|下下|下|上)?个?(?:周|星期|礼拜)(?P<wd>[一二三四五六日天末1-7]))"
    r"|(?P<nweek>下下?个?(?:周|星期|礼拜)(?![一二三四五六日天末1-7]))"
    r"|(?P<nmonth>下个?月(?:初|中|底)?|月底|月初)"
    r"|(?P<weekend>周末)"
    rf"|(?P<hol>(?:{_HOLIDAY_RE})节?(?:那天|当天|假期|期间)?)"
    r"|(?P<rel>大后天|今儿个|明儿个|今天|今日|今儿|今早|今晚|今夜|明天|明日|明儿|明早|明晚|次日|后天|后儿)"
    rf"|(?P<after>(?P<nd>{NUM}|两|几)天(?:以后|之后|后)|过(?P<nd2>{NUM}|两|几)天)"
)
_PERIOD = r"(?P<period>早上|早晨|清早|一早|大早|上午|中午|午饭后|下午|午后|傍晚|晚上|夜里|夜间|夜晚|凌晨|半夜|白天|晚(?=\s*[0-9一二三四五六七八九十两]+[点:：])|早(?=\s*[0-9一二三四五六七八九十两]+[点:：]))"
_CLOCK = (
    rf"(?P<clock>(?P<h>{NUM})(?:点钟?|时)(?:(?P<half>半)|(?P<q1>一刻)|(?P<q3>三刻)|(?P<mi>{NUM})分?)?"
    r"|(?P<h2>[01]?\d|2[0-3])[:：](?P<mi2>[0-5]\d))"
)
_RELATIVE = (
    rf"(?P<later>(?:(?P<hn>{NUM}|半|两|几)个?(?:半)?(?:小时|钟头)|(?P<mn>{NUM})分钟)(?:以后|之后|后))"
    r"|(?P<now>马上|立刻|立即|现在|这会儿|尽快)"
)
_TIME_RE = re.compile(rf"(?:{_RELATIVE})|(?:(?:{_DAY})[\s的]?)?(?:{_PERIOD})?\s*(?:{_CLOCK})?")


@lru_cache(maxsize=64)
def _lunar_to_solar(year: int, month: int, day: int) -> date:
    from lunar_python import Lunar  # imported lazily: only festival phrases need it

    s = Lunar.fromYmd(year, month, day).getSolar()
    return date(s.getYear(), s.getMonth(), s.getDay())


@lru_cache(maxsize=64)
def _solar_term(year: int, name: str) -> date:
    from lunar_python import Solar

    s = Solar.fromYmd(year, 6 if name == "清明" else 12, 1).getLunar().getJieQiTable()[name]
    return date(s.getYear(), s.getMonth(), s.getDay())


def _holiday(name: str, today: date) -> date | None:
    """Next occurrence (today included) of a festival."""
    name = re.sub(r"(?:那天|当天|假期|期间)$", "", name)
    if name not in _FIXED_HOLIDAYS and name not in _LUNAR_HOLIDAYS:
        name = name.removesuffix("节")
    for year in (today.year, today.year + 1):
        if name in _FIXED_HOLIDAYS:
            d = date(year, *_FIXED_HOLIDAYS[name])
        elif name in _LUNAR_HOLIDAYS:
            d = _lunar_to_solar(year, *_LUNAR_HOLIDAYS[name])
        elif name in ("除夕", "大年三十"):
            d = _lunar_to_solar(year, 1, 1) - timedelta(days=1)
        elif name in ("清明", "冬至"):
            d = _solar_term(year, name)
        else:
            return None
        if d >= today:
            return d
    return None


def _safe_date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _add_months(d: date, months: int, day: int) -> date | None:
    y, m = divmod(d.month - 1 + months, 12)
    return _safe_date(d.year + y, m + 1, day)


def _resolve_day(m: re.Match[str], today: date) -> date | None:
    """The calendar day named by the day part, or None when it does not exist."""
    g = m.groupdict()
    if g["ymd"]:
        mon, day = to_int(g["m"]), to_int(g["d"]) if g["d"] else 1
        if mon is None or day is None:
            return None
        if g["y"]:
            return _safe_date(int(g["y"]), mon, day)
        d = _safe_date(today.year, mon, day)
        return d if d is None or d >= today else _safe_date(today.year + 1, mon, day)
    if g["nmd"]:
        day = to_int(g["d2"])
        if day is None or not 1 <= day <= 31:
            return None
        if g["mrel"] and g["mrel"].startswith("下"):
            return _add_months(today, 1, day)
        if g["mrel"]:
            return _safe_date(today.year, today.month, day)
        # 5号 means this month's 5th unless it has passed, then next month's
        for months in range(0, 3):
            d = _add_months(today, months, day)
            if d is not None and d >= today:
                return d
        return None
    if g["wk"]:
        wd, rel = _WEEKDAY[g["wd"]], g["wrel"] or ""
        monday = today - timedelta(days=today.weekday())
        if rel in ("这", "本"):
            return monday + timedelta(days=wd)
        if rel in ("下", "下下", "上"):
            weeks = {"下": 1, "下下": 2, "上": -1}[rel]
            return monday + timedelta(days=7 * weeks + wd)
        return today + timedelta(days=(wd - today.weekday()) % 7)
    if g["nweek"]:
        weeks = 2 if g["nweek"].startswith("下下") else 1
        return today - timedelta(days=today.weekday()) + timedelta(days=7 * weeks)
    if g["nmonth"]:
        text = g["nmonth"]
        start = _add_months(today, 1, 1) if text.startswith("下") else today.replace(day=1)
        if start is None:
            return None
        if text.endswith("中"):
            return start.replace(day=15)
        if text.endswith("底"):
            nxt = _add_months(start, 1, 1)
            return nxt - timedelta(days=1) if nxt else None
        return start
    if g["weekend"]:
        return today + timedelta(days=(5 - today.weekday()) % 7) if today.weekday() != 6 else today
    if g["hol"]:
        return _holiday(g["hol"], today)
    if g["rel"]:
        return today + timedelta(days=_REL_DAY[g["rel"]])
    if g["after"]:
        n = g["nd"] or g["nd2"]
        days = 2 if n in ("两", "几") else to_int(n)
        return today + timedelta(days=days) if days is not None and days < 400 else None
    return None


def _clock(m: re.Match[str]) -> tuple[int, int] | None:
    g = m.groupdict()
    if g["h2"]:
        return int(g["h2"]), int(g["mi2"])
    h = to_int(g["h"])
    if h is None or h > 24:
        return None
    minute = 30 if g["half"] else 15 if g["q1"] else 45 if g["q3"] else 0
    if g["mi"]:
        mi = to_int(g["mi"])
        if mi is None or mi > 59:
            return None
        minute = mi
    return h, minute


def _implied_period(m: re.Match[str]) -> str | None:
    rel = m.group("rel") or ""
    if rel.endswith(("晚", "夜")):
        return "晚上"
    if rel.endswith("早"):
        return "早上"
    return None


def extract_times(text: str, now: datetime) -> list[Entity]:
    """All time expressions in ``text`` resolved against ``now`` (aware datetime)."""
    out: list[Entity] = []
    today = now.date()
    for m in _TIME_RE.finditer(text):
        span = m.group(0).strip()
        if not span:
            continue
        start = m.start() + (len(m.group(0)) - len(m.group(0).lstrip()))
        end = start + len(span)
        value = _resolve(m, now, today)
        if value is not None:
            granularity, period = _precision(m)
            out.append(
                Entity("time", value.isoformat(timespec="seconds"), start, end, granularity, period)
            )
    return out


def _precision(m: re.Match[str]) -> tuple[str, str | None]:
    """How exact the owner was: ("minute", None) for 10点/半小时后, ("period", "上午") for
    明天上午 (its hour is only where the period starts), ("day", None) for 明天/周六."""
    g = m.groupdict()
    if g["later"] or g["now"] or g["clock"]:
        return "minute", g["period"] or _implied_period(m)
    period = g["period"] or _implied_period(m)
    if period:
        return "period", period
    return "day", None


def _resolve(m: re.Match[str], now: datetime, today: date) -> datetime | None:
    g = m.groupdict()
    if g["later"]:
        if g["mn"]:
            mins = to_int(g["mn"])
            return (
                None
                if mins is None
                else (now + timedelta(minutes=mins)).replace(second=0, microsecond=0)
            )
        n = g["hn"]
        hours = 0.5 if n == "半" else 2 if n in ("两", "几") else to_int(n)
        if hours is None:
            return None
        if "半" in m.group(0) and n != "半":
            hours += 0.5
        return (now + timedelta(hours=hours)).replace(second=0, microsecond=0)
    if g["now"]:
        return now.replace(second=0, microsecond=0)
    has_day = any(
        g[k] for k in ("ymd", "nmd", "wk", "nweek", "nmonth", "weekend", "hol", "rel", "after")
    )
    period = g["period"] or _implied_period(m)
    clock = _clock(m) if g["clock"] else None
    if g["clock"] and clock is None:
        return None
    if g["clock"] and not has_day and not period and _looks_like_amount(m):
        return None
    day = _resolve_day(m, today) if has_day else today
    if day is None:
        return None
    if clock is None:
        hour, minute = (_PERIOD_HOUR[period], 0) if period else (0, 0)
    else:
        hour, minute = clock
        evening = period in _PM and hour < 12 and not (period == "半夜" and hour <= 4)
        if evening or (period == "中午" and 1 <= hour <= 3):
            hour += 12
    if hour == 24:
        hour, day = 0, day + timedelta(days=1)
    result = datetime(day.year, day.month, day.day, hour, minute, tzinfo=now.tzinfo)
    if not has_day and clock is not None and not period and result < now:
        # a bare 3点 said at 10:00 means 15:00; said at 16:00 it means tomorrow's 3:00
        if hour < 12 and result + timedelta(hours=12) > now:
            result += timedelta(hours=12)
        else:
            result += timedelta(days=1)
    return result


def _looks_like_amount(m: re.Match[str]) -> bool:
    """一点/有点 as 'a little', not one o'clock."""
    h = m.group("h")
    if h not in ("一", "两", "几") or m.group("mi") or m.group("half"):
        return False
    s = m.string
    before = s[m.start() - 1] if m.start() > 0 else ""
    after = s[m.end()] if m.end() < len(s) else ""
    return after in "儿点东事" or before in "有快慢便宜多少好大小高低早晚点"
