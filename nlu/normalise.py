"""Text clean-up before either backend sees a message, with a map back to the owner's characters.

Owners write traditional characters, full-width digits, digits read out in Chinese (一三八…),
phone numbers in groups (138 1234 5678), emoji and stray spaces. Both backends parse the cleaned
text; entity offsets are mapped back through ``Cleaned.span`` so they still index the original.

Traditional → simplified is OpenCC's ``t2s`` (phrase-aware, so 乾淨 → 干净 but 乾隆 stays); it is
applied only when it keeps the length, which it does for all but rare phrase rewrites, so the
offset map stays a plain per-character list.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_CN_DIGIT = {"零": "0", "〇": "0", "洞": "0", "一": "1", "幺": "1", "二": "2", "两": "2",
             "三": "3", "四": "4", "五": "5", "六": "6", "七": "7", "八": "8", "九": "9"}
# seven or more digits read one by one (phone numbers); shorter runs are left for the numeral
# parser, which knows 三栋 and 五零二
_CN_DIGIT_RUN = re.compile("[零〇一幺二两三四五六七八九](?:[ \u3000-]?[零〇一幺二两三四五六七八九]){6,}")
_SEPARATORS = " \u3000\t-"
# spaces or dashes inside a digit group (138 1234 5678, 1 5 0 2): owners and voice input do both
_DIGIT_GAP = re.compile(r"(?<=\d)[ \u3000\t-]+(?=\d)")
_SPACES = re.compile(r"\s+")
# English words owners mix into Chinese (电梯stuck了, book个cleaner): the few that carry the
# request. Whole words only; everything else English stays as written.
_ENGLISH = {
    "cleaner": "保洁", "cleaning": "保洁", "clean": "打扫", "repair": "修", "fix": "修",
    "broken": "坏了", "elevator": "电梯", "lift": "电梯", "stuck": "卡住", "leak": "漏水",
    "leaking": "漏水", "water": "水", "light": "灯", "lights": "灯", "tomorrow": "明天",
    "today": "今天", "tonight": "今晚", "morning": "上午", "afternoon": "下午", "evening": "晚上",
    "fee": "费", "fees": "费", "cancel": "取消", "order": "订单", "book": "预约", "help": "帮忙",
    "please": "请", "complain": "投诉", "complaint": "投诉", "noise": "噪音", "noisy": "吵",
    "thank you": "谢谢", "thankyou": "谢谢", "thanks": "谢谢", "thx": "谢谢", "hello": "你好",
    "bye": "再见", "stars": "星", "star": "星", "five": "五", "four": "四", "three": "三",
    "two": "两", "one": "一",
}
_ENGLISH_RE = re.compile(r"(?<![a-z])(?:" + "|".join(sorted(_ENGLISH, key=len, reverse=True)) + r")(?![a-z])")


@dataclass(frozen=True, slots=True)
class Cleaned:
    """Cleaned text plus, for each of its characters, the index of the original one."""

    text: str
    origin: tuple[int, ...]
    original: str

    def part(self, start: int, end: int) -> Cleaned:
        """The cleaned span [start, end) as a Cleaned of its own, still indexing the original."""
        return Cleaned(self.text[start:end], self.origin[start:end], self.original)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original (start, end) of the cleaned span [start, end)."""
        if not self.origin or start >= end:
            return start, end
        a = self.origin[min(start, len(self.origin) - 1)]
        b = self.origin[min(end, len(self.origin)) - 1] + 1
        return a, b


@lru_cache(maxsize=1)
def _opencc() -> Any:
    import opencc  # the maintained OpenCC binding; loads its dictionaries once

    return opencc.OpenCC("t2s")


def _is_emoji(ch: str) -> bool:
    cat = unicodedata.category(ch)
    # So = pictographs and symbols (😀 ☀ ❤), Sk = skin-tone modifiers, Cf = ZWJ and
    # variation selectors that glue emoji together; Cs covers lone surrogates
    return cat in ("So", "Sk", "Cs") or (cat == "Cf" and ch not in "\u200b")


def to_simplified(text: str) -> str:
    """OpenCC t2s, kept only when it maps character for character."""
    out = _opencc().convert(text)
    if len(out) == len(text):
        return out
    # a rare phrase rewrite changed the length: convert character by character instead
    conv = _opencc()
    return "".join(c if len(c := conv.convert(ch)) == 1 else ch for ch in text)


def clean(text: str) -> Cleaned:
    """NFKC, traditional → simplified, no emoji, spoken digits as digits, one space at most."""
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        if _is_emoji(ch):
            chars.append(" ")  # an emoji often separates two thoughts: keep a boundary
            origin.append(i)
            continue
        norm = unicodedata.normalize("NFKC", ch)
        for c in norm:  # NFKC may expand one character (㈠ → (一)); each piece maps back to it
            chars.append(c)
            origin.append(i)
    s = to_simplified("".join(chars)).lower()
    s, origin = _sub(_CN_DIGIT_RUN, lambda m: "".join(_CN_DIGIT[c] for c in m.group(0) if c not in _SEPARATORS), s, origin)
    s, origin = _sub(_DIGIT_GAP, lambda m: "", s, origin)
    s, origin = _sub(_ENGLISH_RE, lambda m: _ENGLISH[m.group(0)], s, origin)
    s, origin = _sub(_SPACES, lambda m: " ", s, origin)
    # strip, keeping the map aligned
    lead = len(s) - len(s.lstrip())
    s2 = s.strip()
    return Cleaned(s2, tuple(origin[lead : lead + len(s2)]), text)


def _sub(regex: re.Pattern[str], repl: Any, s: str, origin: list[int]) -> tuple[str, list[int]]:
    """re.sub that also rewrites the origin map (each replacement char maps to its match start)."""
    out: list[str] = []
    omap: list[int] = []
    pos = 0
    for m in regex.finditer(s):
        out.append(s[pos : m.start()])
        omap.extend(origin[pos : m.start()])
        r = repl(m)
        kept = [i for i in range(m.start(), m.end()) if s[i] not in _SEPARATORS]
        if len(r) == m.end() - m.start():
            omap.extend(origin[m.start() : m.end()])
        elif len(r) == len(kept):  # separators dropped: each digit keeps its own origin
            omap.extend(origin[i] for i in kept)
        else:
            omap.extend([origin[m.start()]] * len(r))
        out.append(r)
        pos = m.end()
    out.append(s[pos:])
    omap.extend(origin[pos:])
    return "".join(out), omap
