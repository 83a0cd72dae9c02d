"""How long a text is on a phone: about 15 full-width characters a line (WORDING.md rule 5)."""

from __future__ import annotations

import math
import re
import unicodedata

LINE_WIDTH = 15
MAX_LINES = 6
# A numbered option ("3. 家政管家") or an order/activity row ("B7K2QX｜钟点工…") is a list item.
_LIST_ITEM = re.compile(r"^\s*(\d+[.．、]\s|[A-Z0-9]{6}｜|\d+月\d+日.*｜)")


def width(line: str) -> float:
    """Full-width characters count 1, ASCII ½ (as a phone renders them)."""
    return sum(1 if unicodedata.east_asian_width(c) in "WF" else 0.5 for c in line)


def phone_lines(text: str, *, lists: bool = False) -> int:
    """Rendered lines; list items are left out unless `lists` (the owner asked for a list)."""
    rows = [r for r in text.split("\n") if lists or not _LIST_ITEM.match(r)]
    return sum(max(1, math.ceil(width(r) / LINE_WIDTH)) for r in rows if r.strip())


def list_items(text: str) -> list[str]:
    """The option texts of a numbered list."""
    return [re.sub(r"^\s*\d+[.．、]\s*", "", r) for r in text.split("\n") if re.match(r"^\s*\d+[.．、]\s", r)]
