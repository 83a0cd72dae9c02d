"""The default backend: intent model trained with scikit-learn, served from arrays, + rule-based entities."""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from nlu.compact import CompactIntentModel
from nlu.entities.extract import EntityExtractor
from nlu.entities.services import ServiceGazetteer
from nlu.features import masked, normalise
from nlu.intents import FALLBACK
from nlu.model import load_or_train
from nlu.result import Entity, IntentScore, NluResult
from nlu.trainingdata import TRAIN_FILE, load

log = logging.getLogger(__name__)

# below this calibrated top probability the text is out of scope; on held-out data correct
# answers sit above 0.53 and most mistakes below 0.75, so 0.5 turns few right answers away
FALLBACK_THRESHOLD = 0.5
MAX_TEXT = 500  # owners' messages are short; a pasted essay is cut rather than slowing the loop
# ratings in words (满意, 一般) are only meant as ratings when rating or complaining
_RATING_INTENTS = frozenset({"rate_service", "complain"})


class EmbeddedParser:
    """In-process parser; construction is free, ``warm_up`` trains or loads the model."""

    def __init__(
        self,
        *,
        tz: str = "Asia/Shanghai",
        data_path: Path | str = TRAIN_FILE,
        threshold: float = FALLBACK_THRESHOLD,
    ) -> None:
        self.tz = ZoneInfo(tz)
        self.data_path = Path(data_path)
        self.threshold = threshold
        self.cache_hit: bool | None = None
        self._model: CompactIntentModel | None = None
        self._extractor: EntityExtractor | None = None
        self._lock = threading.Lock()

    def warm_up_sync(self) -> None:
        """Load the cached model or train it (CPU-bound; call off the event loop)."""
        with self._lock:
            if self._model is not None:
                return
            raw = self.data_path.read_bytes()
            data = load(self.data_path)
            extractor = EntityExtractor(
                ServiceGazetteer(data.synonyms, data.lookups.get("service", ()))
            )
            model, self.cache_hit = load_or_train(data, raw, extractor)
            normalised = normalise("预热")
            model.predict(normalised, normalised)  # first call loads jieba's dictionary
            self._extractor, self._model = extractor, model

    async def warm_up(self) -> None:
        """Train or load the model in a worker thread so the loop keeps serving."""
        await asyncio.to_thread(self.warm_up_sync)

    def parse_sync(self, text: str, now: datetime | None = None) -> NluResult:
        """Parse one text (about a millisecond once warm)."""
        if self._model is None or self._extractor is None:
            self.warm_up_sync()
        assert self._model is not None and self._extractor is not None
        now = self._now(now)
        text = text[:MAX_TEXT]
        entities = self._extractor.extract(text, now)
        norm = normalise(text)
        if not norm:
            return NluResult(text, FALLBACK, 1.0, (IntentScore(FALLBACK, 1.0),), ())
        ranking = self._model.predict(norm, masked(norm, self._extractor.extract(norm, now)))
        intent, confidence = ranking[0]
        scores = tuple(IntentScore(n, c) for n, c in ranking[:10])
        if confidence < self.threshold and intent != FALLBACK:
            intent = FALLBACK
            confidence = 1.0 - confidence
            scores = (IntentScore(FALLBACK, confidence), *(s for s in scores if s.name != FALLBACK))
        return NluResult(text, intent, confidence, scores, self._filter(entities, intent))

    def entities(self, text: str, now: datetime | None = None) -> tuple[Entity, ...]:
        """Rule-based entities only (also used to normalise Rasa's output)."""
        if self._extractor is None:
            self.warm_up_sync()
        assert self._extractor is not None
        return self._extractor.extract(text[:MAX_TEXT], self._now(now))

    def canonical_service(self, surface: str) -> str | None:
        """Canonical service name for a surface form, or None."""
        if self._extractor is None:
            self.warm_up_sync()
        assert self._extractor is not None
        return self._extractor.gazetteer.canonical(surface)

    @staticmethod
    def _filter(entities: tuple[Entity, ...], intent: str) -> tuple[Entity, ...]:
        if intent in _RATING_INTENTS:
            return entities
        return tuple(e for e in entities if e.entity != "rating")

    def _now(self, now: datetime | None) -> datetime:
        if now is None:
            return datetime.now(self.tz)
        # a naive --now means local time in BUTLER_TZ; an aware one is converted to it
        return now.replace(tzinfo=self.tz) if now.tzinfo is None else now.astimezone(self.tz)

    async def parse(self, text: str, *, now: datetime | None = None) -> NluResult:
        """Parse one text; runs inline because a warm parse is far under a millisecond or two."""
        if self._model is None:
            await self.warm_up()
        return self.parse_sync(text, now)

    async def health(self) -> str:
        """Always "ok": the embedded backend has no outside dependency."""
        return "ok"

    async def aclose(self) -> None:
        """Nothing to release."""
