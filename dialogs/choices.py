"""Reading owners' short answers: numbered choices (number or words), yes/no, numbers, phones."""

from __future__ import annotations

import re
from collections.abc import Sequence

from dialogs import texts

_FULLWIDTH = str.maketrans("０１２３４５６７８９，、；　", "0123456789,,, ")
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "壹": 1, "二": 2, "两": 2, "贰": 2, "三": 3, "叁": 3, "四": 4,
              "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_PUNCT = re.compile(r"[\s。．.!！?？~～,，、;；:：\"“”'‘’()（）【】]+")

YES_WORDS = ("是", "是的", "对", "对的", "有", "要", "好", "好的", "可以", "行", "确认", "确定", "嗯", "yes", "y", "ok")
NO_WORDS = ("否", "不是", "不", "没有", "无", "没", "不要", "不对", "不行", "不需要", "no", "n")
CANCEL_WORDS = ("取消", "算了", "不要了", "不用了", "退出", "不做了", "不想做了", "不填了", "不答了", "结束", "停止", "先不了")
HUMAN_WORDS = ("人工", "转人工", "人工服务", "人工客服", "找管家", "找人工", "客服")
SKIP_WORDS = ("跳过", "略过", "不想说", "不方便说", "下一题")


def squash(text: str) -> str:
    """Text without punctuation or spaces, full-width digits made ASCII, lower-cased."""
    return _PUNCT.sub("", text.translate(_FULLWIDTH)).lower()


def is_cancel(text: str) -> bool:
    """The owner wants to leave the current dialog (取消/算了 …)."""
    return squash(text) in CANCEL_WORDS


def is_human(text: str) -> bool:
    """The owner asks for a person."""
    return squash(text) in HUMAN_WORDS


def is_skip(text: str) -> bool:
    """The owner skips an optional question."""
    return squash(text) in SKIP_WORDS


def parse_int(text: str) -> int | None:
    """A small whole number from digits or Chinese numerals (三, 十二, 两)."""
    s = squash(text)
    s = re.sub(r"(号楼|号|栋|幢|单元|室|楼|个|人|口|分|岁|辆|次|位|星)$", "", s)
    if s.isdigit():
        return int(s)
    if s and all(c in _CN_DIGITS or c in "十百" for c in s):
        return _cn_number(s)
    return None


def _cn_number(s: str) -> int | None:
    if "百" in s:
        head, _, tail = s.partition("百")
        hundreds = _CN_DIGITS.get(head, 1) if head else 1
        rest = _cn_number(tail.lstrip("零")) if tail else 0
        return None if rest is None else hundreds * 100 + rest
    if "十" in s:
        head, _, tail = s.partition("十")
        tens = _CN_DIGITS.get(head) if head else 1
        ones = _CN_DIGITS.get(tail) if tail else 0
        return None if tens is None or ones is None else tens * 10 + ones
    if len(s) == 1:
        return _CN_DIGITS.get(s)
    # "三零一" read digit by digit
    digits = [_CN_DIGITS.get(c) for c in s]
    return None if None in digits else int("".join(str(d) for d in digits))


def numbered(options: Sequence[str], *, multi: bool = False) -> str:
    """Options as a numbered list with the 回复数字即可 footer."""
    body = "\n".join(f"{i}. {opt}" for i, opt in enumerate(options, start=1))
    return f"{body}\n{texts.MULTI_FOOTER if multi else texts.CHOICE_FOOTER}"


def pick(text: str, options: Sequence[str]) -> str | None:
    """The option chosen by its number or its words; None when unclear."""
    s = squash(text)
    if not s:
        return None
    n = parse_int(s)
    if n is not None and 1 <= n <= len(options):
        return options[n - 1]
    for opt in options:
        if s == squash(opt):
            return opt
    # Words: the one option whose text is contained in the answer (or vice versa), if unique.
    hits = [o for o in options if squash(o) and (squash(o) in s or (len(s) >= 2 and s in squash(o)))]
    return hits[0] if len(hits) == 1 else None


def pick_many(text: str, options: Sequence[str]) -> list[str] | None:
    """Several options by numbers ("1 3", "1,3", "13" when < 10 options) or words; None if unclear."""
    raw = text.translate(_FULLWIDTH)
    parts = [p for p in re.split(r"[\s,;和及与/]+", raw) if p]
    if len(parts) == 1 and parts[0].isdigit() and len(options) < 10 and len(parts[0]) > 1:
        parts = list(parts[0])
    chosen: list[str] = []
    for part in parts:
        opt = pick(part, options)
        if opt is None:
            chosen = []
            break
        if opt not in chosen:
            chosen.append(opt)
    if chosen:
        return chosen
    s = squash(text)
    found = [o for o in options if squash(o) and squash(o) in s]
    return found or None


def yes_no(text: str, *, yes: str = "是", no: str = "否") -> bool | None:
    """True/False for a yes/no answer (also 1/2 and the question's own labels)."""
    s = squash(text)
    if s in ("1", squash(yes)) or s in YES_WORDS:
        return True
    if s in ("2", squash(no)) or s in NO_WORDS or s.startswith(("没有", "不是")):
        return False
    if s.startswith(squash(no)) and squash(no):
        return False
    if s.startswith(squash(yes)) and squash(yes):
        return True
    return None


MOBILE = re.compile(r"^1[3-9]\d{9}$")


def extract_phone(text: str) -> str:
    """The digits of a phone answer (spaces, dashes and +86 removed)."""
    digits = re.sub(r"\D", "", text.translate(_FULLWIDTH))
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def is_mobile(phone: str) -> bool:
    """A valid mainland China mobile number (11 digits, 1[3-9]…)."""
    return bool(MOBILE.match(phone))
