"""The outbound content guard: internal-only terms never reach an owner (PRODUCT.md rule 2)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

log = logging.getLogger(__name__)


class GuardRefused(ValueError):
    """The text contains an internal-only term and must not be sent."""

    def __init__(self, term: str) -> None:
        super().__init__(f"owner-facing text contains internal-only term {term!r}")
        self.term = term


class ContentGuard:
    """Checks every owner-facing text against the configured internal-only terms."""

    def __init__(self, terms: Iterable[str]) -> None:
        # Compare without spaces so "零 物业费" can't slip through.
        self.terms = tuple(t for t in (t.strip() for t in terms) if t)

    def find(self, text: str) -> str | None:
        """The first internal-only term in text, or None."""
        squashed = "".join(text.split())
        return next((t for t in self.terms if "".join(t.split()) in squashed), None)

    def check(self, text: str) -> str:
        """Return text unchanged if it is safe; otherwise log and raise GuardRefused."""
        term = self.find(text)
        if term is not None:
            log.warning("content guard refused an owner-facing text", extra={"term": term})
            raise GuardRefused(term)
        return text
