"""Clauses of a message: where one request ends and the next begins.

"帮我约个保洁明天上午来，另外这个月物业费多少" holds two requests; a voice message or a long paste
may hold several. Splitting is on sentence punctuation and on the words owners use to add a
request (另外, 还有, 顺便, 再就是…); pieces too short to mean anything alone stay with a neighbour.
"""

from __future__ import annotations

import re

# sentence ends and connectives that start another request; the connective stays in its clause
_BOUNDARY = re.compile(
    r"[。！？!?；;\n]+|[，,]\s*(?=另外|还有|顺便|再就是|然后|同时|以及|而且|并且|对了|另|再帮|再问|还想|还要)"
    r"|(?<=[^，,\s])(?=另外|顺便问|顺便|还有就是|再就是|对了)"
    r"|[，,]+"
)
MIN_CLAUSE = 2  # 好 / 嗯 alone are replies, not requests; they join the clause before


def split_clauses(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of the clauses of ``text``, in order, covering all its content."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in _BOUNDARY.finditer(text):
        if m.start() > pos:
            spans.append((pos, m.start()))
        pos = max(pos, m.end())
    if pos < len(text):
        spans.append((pos, len(text)))
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        piece = text[a:b].strip()
        if not piece:
            continue
        if merged and len(piece) < MIN_CLAUSE:
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged
