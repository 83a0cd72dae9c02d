"""The NLU result: the shape of Rasa's ``POST /model/parse``, shared by both backends."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class IntentScore:
    """One intent with its confidence."""

    name: str
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        """Contract JSON shape of one ranking entry."""
        return {"name": self.name, "confidence": round(float(self.confidence), 4)}


@dataclass(frozen=True, slots=True)
class Entity:
    """One extracted entity; ``value`` is normalised (canonical service, ISO time, digits)."""

    entity: str
    value: str
    start: int
    end: int
    # time only: how precise the owner was ("day" 明天, "period" 明天上午, "minute" 明天10点)
    # and the part of the day they named (上午), so a period is never shown as an hour
    granularity: str | None = None
    period: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Contract JSON shape of one entity (granularity/period are attributes, not JSON keys)."""
        return {"entity": self.entity, "value": self.value, "start": self.start, "end": self.end}


@dataclass(frozen=True, slots=True)
class NluResult:
    """Intent, ranking and entities for one text."""

    text: str
    intent: str
    confidence: float
    intent_ranking: tuple[IntentScore, ...] = field(default_factory=tuple)
    entities: tuple[Entity, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """Exactly the contract JSON shape."""
        return {
            "text": self.text,
            "intent": {"name": self.intent, "confidence": round(float(self.confidence), 4)},
            "intent_ranking": [s.to_dict() for s in self.intent_ranking],
            "entities": [e.to_dict() for e in self.entities],
        }

    def entity(self, name: str) -> str | None:
        """First value of entity ``name``, or None."""
        for e in self.entities:
            if e.entity == name:
                return e.value
        return None

    def entity_values(self, name: str) -> list[str]:
        """All values of entity ``name`` in text order."""
        return [e.value for e in self.entities if e.entity == name]
