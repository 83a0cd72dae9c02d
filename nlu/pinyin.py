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
_MEND_MIN = 8  # a typo is mended only towards a word the training text uses this often
_MEND_RATIO = 5  # …and only from a pair at least this many times rarer in the training text
# (楼到 is in 8 of its texts, 从一楼到六楼 and the like; 楼道 in 68)
_FUNCTION_CHARS = re.compile("[不没有一个是的了我你他她们这那在就也都还又很吗呢吧啊]")


def build_map(texts: Iterable[str], tokenize: Callable[[str], list[str]]) -> dict[str, str]:
    """Toneless pinyin (no spaces) → the most frequent training word or character with it.

    Single characters are also keyed by themselves ("#楼" → "lou") so homophone typos can be
    mended at serving time without pypinyin (see mend_homophones).
    """
    from pypinyin import lazy_pinyin  # training only

    counts: Counter[str] = Counter()
    for text in texts:
        for tok in tokenize(text):
            if _HAN.match(tok) and len(tok) <= 4:
                counts[tok] += 1
        counts.update(ch for ch in text if _HAN.match(ch))
    best: dict[str, tuple[int, str]] = {}
    char_keys: dict[str, str] = {}
    mend: dict[str, tuple[int, str]] = {}
    for word, n in counts.items():
        key = "".join(lazy_pinyin(word))
        if not (key.isascii() and key.isalpha()):
            continue
        if len(word) == 1:
            char_keys["#" + word] = key
        elif (
            len(word) == 2 and n >= _MEND_MIN and not _FUNCTION_CHARS.search(word)
            and n > mend.get(key, (0, ""))[0]
        ):
            mend[key] = (n, word)  # only frequent content words are typo targets: 楼道, 保洁
        # a word seen once is too weak to rewrite an owner's text towards
        if n > best.get(key, (0, ""))[0] and (len(word) == 1 or n >= 3):
            best[key] = (n, word)
    return {
        **{k: w for k, (_, w) in best.items()},
        **char_keys,
        **{"@" + k: w for k, (_, w) in mend.items()},
    }


def mend_homophones(
    cleaned: Cleaned, table: dict[str, str], texts_with: Callable[[str], int],
    words: Callable[[str], list[str]] | None = None,
) -> Cleaned:
    """楼到灯不亮 → 楼道灯不亮: a two-character pair the training text has rarely if ever,
    sharing one character and the pinyin of a frequent training word, is taken as a typo of it.

    Rarely, not never: real letters in the training text hold 从一楼到六楼, and one such text
    must not make 楼到 a word that the many more texts with 楼道 cannot outvote.

    Never inside a word `words` (the model's word cutter) finds in the text: a typo is two
    characters that make no word, and a pair straddling or inside real words is none
    (部门尽快 is not 部门禁快, 人工智能 not 人工只能, 这点小事 not 这点小时).
    """
    text = cleaned.text
    if not table or len(text) < 2:
        return cleaned
    in_word: list[bool] | None = None  # cut only when a pair is a candidate: most texts have none
    chars = list(text)
    changed = False
    i = 0
    while i < len(chars) - 1:
        a, b = chars[i], chars[i + 1]
        pair = a + b
        ka, kb = table.get("#" + a), table.get("#" + b)
        word = table.get("@" + ka + kb) if ka and kb else None
        if (word and len(word) == 2 and word != pair and (word[0] == a or word[1] == b)
                and texts_with(pair) * _MEND_RATIO < texts_with(word)):
            if in_word is None:
                in_word = _in_words(text, words) if words is not None else [False] * len(text)
            if in_word[i] or in_word[i + 1]:
                i += 1
                continue
            chars[i], chars[i + 1] = word[0], word[1]
            changed = True
            i += 2
            continue
        i += 1
    if not changed:
        return cleaned
    return Cleaned("".join(chars), cleaned.origin, cleaned.original)


def _in_words(text: str, words: Callable[[str], list[str]]) -> list[bool]:
    """Per character of `text`: whether it belongs to a word of two or more characters."""
    flags = [False] * len(text)
    pos = 0
    for token in words(text):
        start = text.find(token, pos)
        if start < 0:  # the cutter dropped or changed something: stop marking rather than guess
            break
        if len(token) > 1:
            flags[start:start + len(token)] = [True] * len(token)
        pos = start + len(token)
    return flags


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
