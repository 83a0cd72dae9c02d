"""Runs every rule extractor and resolves overlaps into one entity list."""

from __future__ import annotations

from datetime import datetime

from nlu.entities.services import ServiceGazetteer
from nlu.entities.slots import extract_address, extract_phones, extract_quantities, extract_ratings
from nlu.entities.time import extract_times
from nlu.result import Entity


class EntityExtractor:
    """Entities for one text; earlier extractors win overlapping spans."""

    def __init__(self, gazetteer: ServiceGazetteer) -> None:
        self.gazetteer = gazetteer

    def extract(self, text: str, now: datetime) -> tuple[Entity, ...]:
        """All entities in ``text`` (times resolved against aware ``now``), in text order."""
        chosen: list[Entity] = []
        # a phone number would otherwise read as a room; a clock 3点2分 as a rating
        groups = (
            extract_phones(text),
            extract_times(text, now),
            extract_address(text),
            extract_ratings(text),
            self.gazetteer.find(text),
        )
        for group in groups:
            for e in group:
                if all(e.end <= c.start or e.start >= c.end for c in chosen):
                    chosen.append(e)
        chosen.extend(extract_quantities(text, [(c.start, c.end) for c in chosen]))
        return tuple(sorted(chosen, key=lambda e: (e.start, e.end)))
