"""Chinese numerals (三, 十二, 两千零五, 一五零二) to ints; small and fast on purpose."""

from __future__ import annotations

DIGITS: dict[str, int] = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "幺": 1,
    "二": 2,
    "两": 2,
    "俩": 2,
    "三": 3,
    "仨": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
UNITS: dict[str, int] = {"十": 10, "百": 100, "千": 1000, "万": 10000}
# A character class usable inside regexes for "a number, Arabic or Chinese".
NUM_CHARS = "0-9０-９零〇一幺二两俩三仨四五六七八九十百千万"
NUM = f"[{NUM_CHARS}]+"

_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")


def to_int(s: str) -> int | None:
    """Parse an Arabic or Chinese numeral; None if it is not one."""
    s = s.translate(_FULLWIDTH).strip()
    if not s:
        return None
    if s.isdigit():
        return int(s)
    if not any(c in UNITS for c in s):
        # digit-by-digit reading such as 一五零二 (room numbers, phone numbers)
        if all(c in DIGITS for c in s):
            return int("".join(str(DIGITS[c]) for c in s))
        return None
    total, section, current = 0, 0, 0
    for ch in s:
        if ch in DIGITS:
            current = DIGITS[ch]
        elif ch in UNITS:
            unit = UNITS[ch]
            if unit == 10000:
                total += (section + current) * unit
                section, current = 0, 0
            else:
                # 十二 means 12: a bare unit counts as one of it
                section += (current or 1) * unit
                current = 0
        else:
            return None
    return total + section + current
