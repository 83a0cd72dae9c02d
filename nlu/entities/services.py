"""Service gazetteer: canonical names plus synonyms, longest match, one-typo tolerant."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from nlu.catalog import SERVICES
from nlu.result import Entity

_FUZZY_MIN_LEN = 3  # shorter keys would match too much with one character changed


class ServiceGazetteer:
    """Finds service mentions and maps them to the 33 canonical names."""

    def __init__(self, synonyms: Mapping[str, str], lookups: Iterable[str] = ()) -> None:
        self._exact: dict[str, str] = {}
        for surface, canonical in synonyms.items():
            if canonical in SERVICES:
                self._exact[surface] = canonical
        for name in SERVICES:
            self._exact[name] = name
        for surface in lookups:
            # lookup entries that are not synonyms only count when they are canonical already
            if surface in SERVICES:
                self._exact[surface] = surface
        self._lengths = sorted({len(k) for k in self._exact}, reverse=True)
        # one-substitution index over the canonical names only (钟点公 -> 钟点工): single Chinese
        # characters carry meaning, so fuzzing colloquial synonyms made 电梯坏了 read as 电视坏了
        self._fuzzy: dict[str, str | None] = {}
        for key in SERVICES:
            if len(key) < _FUZZY_MIN_LEN:
                continue
            for i in range(1, len(key)):
                pattern = key[:i] + "\0" + key[i + 1 :]
                prior = self._fuzzy.get(pattern, key)
                # a pattern shared by two services (自驾游/自助游) is ambiguous: drop it
                self._fuzzy[pattern] = key if prior == key else None
        self._fuzzy_lengths = sorted({len(k) for k in self._fuzzy}, reverse=True)

    def canonical(self, surface: str) -> str | None:
        """Canonical name for a surface form (exact, then one typo), or None."""
        surface = surface.strip()
        if surface in self._exact:
            return self._exact[surface]
        found = self.find(surface)
        return found[0].value if found else None

    def find(self, text: str) -> list[Entity]:
        """All non-overlapping service mentions in ``text``, left to right, longest first."""
        out: list[Entity] = []
        i, n = 0, len(text)
        while i < n:
            hit = self._match_exact(text, i) or self._match_fuzzy(text, i)
            if hit is None:
                i += 1
                continue
            length, canonical = hit
            prev = out[-1] if out else None
            if prev is not None and prev.value == canonical and i - prev.end <= 1:
                # 家教补英语 / 马桶又堵住了: one mention, not two
                out[-1] = Entity("service", canonical, prev.start, i + length)
            else:
                out.append(Entity("service", canonical, i, i + length))
            i += length
        return out

    def _match_exact(self, text: str, i: int) -> tuple[int, str] | None:
        for length in self._lengths:
            canonical = self._exact.get(text[i : i + length])
            if canonical is not None and i + length <= len(text):
                return length, canonical
        return None

    def _match_fuzzy(self, text: str, i: int) -> tuple[int, str] | None:
        for length in self._fuzzy_lengths:
            window = text[i : i + length]
            if len(window) < length:
                continue
            for j in range(1, length):
                canonical = self._fuzzy.get(window[:j] + "\0" + window[j + 1 :])
                if canonical:
                    return length, canonical
        return None
