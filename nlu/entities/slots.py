"""Address (building/unit/room), phone, quantity and rating extraction."""

from __future__ import annotations

import re

from nlu.entities.numerals import NUM, to_int
from nlu.result import Entity

# 3-2-1502 / 3栋2单元1502 / 三号楼 / 2单元 / 1502室
_TRIPLE_RE = re.compile(r"(?<![\d-])(\d{1,3})-(\d{1,2})-(\d{3,4})(?![\d-])")
_BUILDING_RE = re.compile(
    rf"({NUM}|[A-Za-z])\s*(?:号楼|号栋|栋楼|栋|幢|号院楼|座|号楼栋|楼(?=\s*{NUM}\s*单元))"
)
_UNIT_RE = re.compile(rf"({NUM})\s*(?:单元|门洞)")
_ROOM_RE = re.compile(
    r"(?<!\d)(\d{3,4}|[零〇一二三四五六七八九幺]{3,4})\s*(?:室|房间|号房|户|房)?(?!\d)"
)
# mainland mobile numbers only: 1[3-9] then 9 digits, optionally grouped 3-4-4 and +86
_PHONE_RE = re.compile(r"(?<!\d)(?:\+?86[-\s]?)?(1[3-9]\d)[-\s]?(\d{4})[-\s]?(\d{4})(?!\d)")
_QTY_RE = re.compile(
    rf"({NUM}|半)\s*(?:个小时|个钟头|小时|个人|个|位|名|次|份|箱|件|台|斤|袋|盒|套|张|瓶|桶|间|平米|平方|平|天|趟|块|只|辆|本|双|床)"
)
_RATING_WORDS: tuple[tuple[str, int], ...] = (
    ("非常不满意", 1),
    ("很不满意", 1),
    ("特别不满意", 1),
    ("极差", 1),
    ("太差", 1),
    ("差评", 1),
    ("不太满意", 2),
    ("不怎么满意", 2),
    ("不满意", 2),
    ("不咋地", 2),
    ("一般般", 3),
    ("一般", 3),
    ("凑合", 3),
    ("马马虎虎", 3),
    ("还行", 3),
    ("中评", 3),
    ("比较满意", 4),
    ("还不错", 4),
    ("挺好", 4),
    ("挺满意", 4),
    ("满意", 4),
    ("非常满意", 5),
    ("特别满意", 5),
    ("超级满意", 5),
    ("很满意", 5),
    ("十分满意", 5),
    ("满分", 5),
    ("好评", 5),
    ("完美", 5),
    ("非常好", 5),
    ("特别好", 5),
    ("太棒", 5),
)
_RATING_WORD_RE = re.compile(
    "(?:"
    + "|".join(sorted((re.escape(w) for w, _ in _RATING_WORDS), key=len, reverse=True))
    + ")(?!度)"
)
_RATING_SCORE = dict(_RATING_WORDS)
# 七星彩 is a lottery, 五星级酒店 a hotel, 三星 a phone brand: a rating is 1-5 stars or a score
_RATING_NUM_RE = re.compile(rf"({NUM})\s*(?:颗星|个星|星|分)(?!钟|彩|级|座|期|手机|电视|之)")
# 十分 is also the adverb "very" (生活十分不便, 十分感谢): a score only when given (打十分, 给十分)
# or said on its own (十分！, 十分吧), never when a word follows it
_SHIFEN_ADVERB_RE = re.compile(r"(?<![打给评得拿满是])十分(?=[\u4e00-\u9fff])(?![吧啊呀了哈嘛呢哦])")


def _num(s: str) -> str | None:
    n = to_int(s)
    return None if n is None else str(n)


def extract_address(text: str) -> list[Entity]:
    """building / unit / room entities; values are digit strings (or a letter for A座)."""
    out: list[Entity] = []
    taken: list[tuple[int, int]] = []
    for m in _TRIPLE_RE.finditer(text):
        for i, name in enumerate(("building", "unit", "room"), start=1):
            out.append(Entity(name, str(int(m.group(i))), m.start(i), m.end(i)))
        taken.append((m.start(), m.end()))

    def free(a: int, b: int) -> bool:
        return all(b <= s or a >= e for s, e in taken)

    for name, regex in (("building", _BUILDING_RE), ("unit", _UNIT_RE)):
        for m in regex.finditer(text):
            if not free(m.start(), m.end()):
                continue
            value = (
                m.group(1).upper()
                if m.group(1).isalpha() and m.group(1).isascii()
                else _num(m.group(1))
            )
            if value is not None:
                out.append(Entity(name, value, m.start(), m.end()))
                taken.append((m.start(), m.end()))
    has_address = bool(out)
    for m in _ROOM_RE.finditer(text):
        if not free(m.start(), m.end()):
            continue
        explicit = m.group(0).rstrip() != m.group(1)
        # a bare 1502 is a room only next to a building/unit, else it may be a price or a year
        if not explicit and not has_address:
            continue
        value = _num(m.group(1))
        if value is not None:
            out.append(Entity("room", value, m.start(), m.end()))
            taken.append((m.start(), m.end()))
    return sorted(out, key=lambda e: e.start)


def extract_phones(text: str) -> list[Entity]:
    """Valid mainland mobile numbers (1[3-9]xxxxxxxxx), normalised to 11 digits."""
    return [
        Entity("phone", "".join(m.groups()), m.start(), m.end()) for m in _PHONE_RE.finditer(text)
    ]


def extract_ratings(text: str) -> list[Entity]:
    """Ratings 1–5 from 五星/满分/3分/非常满意; a 10-point score is halved."""
    out: list[Entity] = []
    adverbs = {m.start() for m in _SHIFEN_ADVERB_RE.finditer(text)}
    for m in _RATING_NUM_RE.finditer(text):
        if m.start() in adverbs and m.group(0) == "十分":
            continue
        n = to_int(m.group(1))
        if n is None or n < 0:
            continue
        if n > 5:
            if n > 10 or not m.group(0).endswith("分"):
                continue
            n = max(1, round(n / 2))
        out.append(Entity("rating", str(max(1, n)), m.start(), m.end()))
    if not out:
        for m in _RATING_WORD_RE.finditer(text):
            out.append(Entity("rating", str(_RATING_SCORE[m.group(0)]), m.start(), m.end()))
            break  # the strongest word said first is the rating; later ones repeat it
    return out


def extract_quantities(text: str, taken: list[tuple[int, int]]) -> list[Entity]:
    """Counts such as 两个阿姨, 3小时, 5斤 that no other entity already covers."""
    out: list[Entity] = []
    for m in _QTY_RE.finditer(text):
        if any(not (m.end(1) <= s or m.start(1) >= e) for s, e in taken):
            continue
        raw = m.group(1)
        value = "0.5" if raw == "半" else _num(raw)
        # 一 in 一下/一个 is rarely a quantity the dialog needs, but 一个 阿姨 is; keep it
        if value is not None and value != "0":
            out.append(Entity("quantity", value, m.start(1), m.end(1)))
    return out
