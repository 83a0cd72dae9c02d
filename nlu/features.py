"""Text normalisation and tokenisation shared by training and parsing."""

from __future__ import annotations

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


class JiebaTokens:
    """Picklable callable: jieba word tokens of the already normalised, masked text."""

    def __init__(self, words: Iterable[str] = ()) -> None:
        self.words = sorted(set(words))
        self._tok: Any = None

    def _tokenizer(self) -> Any:
        if self._tok is None:
            import logging

            import jieba

            jieba.setLogLevel(logging.WARNING)
            tok = jieba.Tokenizer()
            for w in self.words:
                tok.add_word(w, freq=2000)
            tok.initialize()
            self._tok = tok
        return self._tok

    def __call__(self, text: str) -> list[str]:
        return [t for t in self._tokenizer().lcut(text, HMM=False) if t.strip()]

    def __getstate__(self) -> dict[str, Any]:
        return {"words": self.words, "_tok": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.words, self._tok = state["words"], None
