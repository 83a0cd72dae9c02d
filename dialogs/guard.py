"""The outbound content guard: internal-only terms never reach an owner (PRODUCT.md rule 2).

Matching is done on a normalised skeleton of the text, so the usual dodges all collapse to the
same string: compatibility forms (full-width, circled, ligatures) by NFKC, traditional characters
by OpenCC's t2s table, and everything that is not a letter or a digit (spaces, newlines,
zero-width and other format characters, combining marks, punctuation, brackets, symbols) is
dropped. `零\u200b物业费`, `零物業費`, `【零】【物业费】` and `零·物业费` all become `零物业费`.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Iterable
from functools import cache

import opencc

log = logging.getLogger(__name__)


@cache
def _t2s() -> opencc.OpenCC:
    # Built on first use, not at import: loading the dictionaries takes a few milliseconds.
    return opencc.OpenCC("t2s")


def skeleton(text: str) -> str:
    """Letters and digits only, NFKC-folded, simplified, case-folded: what the guard compares."""
    folded = unicodedata.normalize("NFKC", text)
    kept = "".join(ch for ch in folded if unicodedata.category(ch)[0] in "LN")
    return _t2s().convert(kept).casefold()


class GuardRefused(ValueError):
    """The text contains an internal-only term and must not be sent."""

    def __init__(self, term: str) -> None:
        super().__init__(f"owner-facing text contains internal-only term {term!r}")
        self.term = term


class ContentGuard:
    """Checks every owner-facing text against the configured internal-only terms."""

    def __init__(self, terms: Iterable[str]) -> None:
        self.terms = tuple(t for t in (t.strip() for t in terms) if t)
        self._skeletons = tuple((t, skeleton(t)) for t in self.terms)

    def find(self, text: str) -> str | None:
        """The first internal-only term in text (however disguised), or None."""
        if not self._skeletons:
            return None
        squashed = skeleton(text)
        return next((t for t, s in self._skeletons if s and s in squashed), None)

    def check(self, text: str) -> str:
        """Return text unchanged if it is safe; otherwise log and raise GuardRefused."""
        term = self.find(text)
        if term is not None:
            log.warning("content guard refused an owner-facing text", extra={"term": term})
            raise GuardRefused(term)
        return text
