"""Messages typed in pinyin ("dianti huai le", "wuyefei duoshao"): back to characters.

At training time (pypinyin) every word and character of the training texts is keyed by its
toneless pinyin; the most frequent one per key wins. The map ships in the model artifact, so
serving needs no pypinyin. A run of Latin letters is rewritten only when the map covers all of
it: English ("book a cleaner") is left alone.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable

from nlu.normalise import Cleaned

_HAN = re.compile(r"^[\u4e00-\u9fff]+$")
_LATIN_RUN = re.compile(r"[a-z]+(?:[ '][a-z]+)*")
_MAX_KEY = 24


def build_map(texts: Iterable[str], tokenize: Callable[[str], list[str]]) -> dict[str, str]:
    """Toneless pinyin (no spaces) → the most frequent training word or character with it."""
    from pypinyin import lazy_pinyin  # training only

    counts: Counter[str] = Counter()
    for text in texts:
        for tok in tokenize(text):
            if _HAN.match(tok) and len(tok) <= 4:
                counts[tok] += 1
        counts.update(ch for ch in text if _HAN.match(ch))
    best: dict[str, tuple[int, str]] = {}
    for word, n in counts.items():
        key = "".join(lazy_pinyin(word))
        if key.isascii() and key.isalpha() and n > best.get(key, (0, ""))[0]:
            best[key] = (n, word)
    return {k: w for k, (_, w) in best.items()}


def _convert(letters: str, table: dict[str, str]) -> str | None:
    """Longest-match segmentation of ``letters`` into known keys, or None if any is left over."""
    out, i = [], 0
    while i < len(letters):
        for j in range(min(len(letters), i + _MAX_KEY), i, -1):
            word = table.get(letters[i:j])
            if word is not None:
                out.append(word)
                i = j
                break
        else:
            return None
    return "".join(out)


def depinyin(cleaned: Cleaned, table: dict[str, str]) -> Cleaned:
    """``cleaned`` with fully pinyin runs of two or more syllables turned into characters."""
    if not table or not re.search(r"[a-z]{2}", cleaned.text):
        return cleaned
    text, origin = cleaned.text, cleaned.origin
    chars: list[str] = []
    omap: list[int] = []
    pos = 0
    for m in _LATIN_RUN.finditer(text):
        letters = re.sub(r"[ ']", "", m.group(0))
        han = _convert(letters, table) if len(letters) >= 4 else None
        if han is None or len(han) < 2:
            continue
        chars.append(text[pos : m.start()])
        omap.extend(origin[pos : m.start()])
        chars.append(han)
        omap.extend([origin[m.start()]] * len(han))
        pos = m.end()
    if not chars:
        return cleaned
    chars.append(text[pos:])
    omap.extend(origin[pos:])
    return Cleaned("".join(chars), tuple(omap), cleaned.original)
