"""Text normalisation and tokenisation shared by training and parsing."""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from nlu.result import Entity

_PUNCT_RE = re.compile(r"[\s,，。.!！?？~～、;；:：…\"'“”‘’()（）【】\[\]]+")
# entity placeholders: the classifier learns "order <service>" rather than each of 600 names
_MASK = {
    "service": "Ｓ",
    "time": "Ｔ",
    "building": "Ｂ",
    "unit": "Ｂ",
    "room": "Ｂ",
    "phone": "Ｐ",
    "rating": "Ｒ",
    "quantity": "Ｑ",
}


# where the fault is decides the intent: common areas are report_issue, the home is order_service
_COMMON_AREA = (
    "电梯",
    "楼道",
    "单元门",
    "门禁",
    "小区",
    "车库",
    "地库",
    "大门",
    "路灯",
    "公共",
    "楼顶",
    "天台",
    "消防",
    "绿化",
    "垃圾站",
    "道闸",
    "井盖",
    "外墙",
    "楼梯",
    "大堂",
    "门岗",
    "停车场",
    "楼里",
    "充电桩",
)
_HOME = (
    "家里",
    "我家",
    "家中",
    "屋里",
    "客厅",
    "卧室",
    "厨房",
    "卫生间",
    "厕所",
    "阳台",
    "书房",
    "房间",
    "我们家",
    "自己家",
    "浴室",
)


def cues(text: str) -> str:
    """Placeholder characters for place cues: Ｇ common area, Ｈ inside the home."""
    return ("Ｇ" if any(w in text for w in _COMMON_AREA) else "") + (
        "Ｈ" if any(w in text for w in _HOME) else ""
    )


def normalise(text: str) -> str:
    """NFKC, lower case, punctuation and spaces removed."""
    return _PUNCT_RE.sub("", unicodedata.normalize("NFKC", text).lower())


def masked(text: str, entities: Iterable[Entity]) -> str:
    """Text with each entity span replaced by its one-character placeholder."""
    out, pos = [], 0
    for e in sorted(entities, key=lambda e: e.start):
        if e.start < pos:
            continue
        out.append(text[pos : e.start])
        out.append(_MASK.get(e.entity, ""))
        pos = e.end
    out.append(text[pos:])
    return "".join(out) + cues(text)


def _full_tokenizer(extra_words: Iterable[str]) -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    for w in extra_words:
        tok.add_word(w, freq=_DOMAIN_FREQ)
    tok.initialize()
    return tok


_DOMAIN_FREQ = 2000  # service names and synonyms are words here, whatever jieba's dictionary says


def domain_lexicon(texts: Iterable[str], extra_words: Iterable[str] = ()) -> dict[str, int]:
    """The words (with jieba's frequencies) that segmenting `texts` with the full dictionary uses.

    Training segments with this lexicon only, and so does serving: a worker then holds a few
    thousand entries instead of jieba's 500k-entry prefix dictionary (about 60 MB per worker),
    and training and serving still cut every text the same way.
    """
    extra = set(extra_words)
    tok = _full_tokenizer(extra)
    lexicon = {w: _DOMAIN_FREQ for w in extra}
    for text in texts:
        for word in tok.lcut(text, HMM=False):
            if word.strip():
                lexicon.setdefault(word, tok.FREQ.get(word) or 1)
        for ch in text:  # single characters keep their real weight against the words around them
            if ch.strip():
                lexicon.setdefault(ch, tok.FREQ.get(ch) or 1)
    return lexicon


class JiebaTokens:
    """Picklable callable: jieba word tokens of the already normalised, masked text, cut with a
    small lexicon (see domain_lexicon) rather than jieba's full dictionary."""

    def __init__(self, lexicon: dict[str, int]) -> None:
        self.lexicon = dict(lexicon)
        self._tok: Any = None

    def _tokenizer(self) -> Any:
        if self._tok is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            tok = jieba.Tokenizer()
            # gen_pfdict reads "word freq" lines from any binary file; setting FREQ/total and
            # `initialized` ourselves keeps jieba from loading (and caching) its own dictionary.
            lines = "".join(f"{w} {n}\n" for w, n in self.lexicon.items() if " " not in w)
            tok.FREQ, tok.total = tok.gen_pfdict(io.BytesIO(lines.encode()))
            tok.initialized = True
            self._tok = tok
        return self._tok

    def __call__(self, text: str) -> list[str]:
        return [t for t in self._tokenizer().lcut(text, HMM=False) if t.strip()]

    def __getstate__(self) -> dict[str, Any]:
        return {"lexicon": self.lexicon, "_tok": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.lexicon, self._tok = state["lexicon"], None
