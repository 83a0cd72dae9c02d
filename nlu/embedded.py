"""The default backend: intent model trained with scikit-learn, served from arrays, + rule-based entities."""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections import OrderedDict
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from nlu.compact import CompactIntentModel
from nlu.entities.extract import EntityExtractor
from nlu.entities.services import ServiceGazetteer
from nlu.features import masked, normalise
from nlu.guards import (
    ACTIONS,
    FOOD_REVIEW_INTENTS,
    GRIEVANCES,
    action_support,
    food_review,
    review,
)
from nlu.intents import FALLBACK
from nlu.model import load_or_train
from nlu.negation import refuses_push
from nlu.normalise import Cleaned, clean
from nlu.pinyin import depinyin, mend_homophones
from nlu.requests import split_clauses
from nlu.result import Entity, IntentScore, NluResult
from nlu.trainingdata import TRAIN_FILE, load_training

log = logging.getLogger(__name__)

# Below the model's fallback threshold (chosen on held-out folds) the text is out of scope; an
# action needs the model's action threshold too (see nlu.model.calibrate).
# past this many characters a message is also read clause by clause, so a request at the end of
# a long paste is not drowned by what comes before it
LONG_TEXT = 60
# a parse longer than this runs in a worker thread (see parse): the loop never waits on it
INLINE_LIMIT = 400
# the whole message is parsed, but a 64 KiB body is not a request: beyond this, clauses are skipped
MAX_CLAUSES = 200
# ratings in words (满意, 一般) are only meant as ratings when rating or complaining
_RATING_INTENTS = frozenset({"rate_service", "complain"})
# what a message is read as when nothing else is found; a clause may still say more
# (…麻烦派人看一下，谢谢啊 is a report that ends politely, not a thank-you)
_PUSH_INTENTS = frozenset({"unsubscribe_push", "resubscribe_push"})
SMALL_TALK = frozenset({FALLBACK, "greet", "thanks", "goodbye"})
# a yes or a no answers a question: it is the whole message or nothing, never one clause of a long
# letter (…社区说已递交申请，但是镇政府方面不同意… is a third party refusing, not the owner)
_ANSWERS = frozenset({"affirm", "deny"})
# what a long story may end in and be read as (see _closing_request): a grievance is the default
# reading of a long message, so the clause must be sure of itself alone and ask in the first person
CLOSING_REQUESTS = frozenset({
    "order_service", "ask_price", "ask_order_status", "cancel_order", "ask_property_fee",
    "ask_activity", "human_agent",
})
CLOSING_CONFIDENCE = 0.9
_OWN_REQUEST = re.compile(
    r"我想|想请|想约|想问|想咨询|想了解|帮我|能不能|可不可以|可以吗|麻烦你们|请你们|多少钱|什么价|"
    r"怎么收费|啥时候|什么时候|几点"
)
# Many owners send the same short texts (你好, 1, 确认, 物业费怎么交, a reply storm after a
# broadcast), so a worker remembers recent results. Only short texts, and only results with no time
# entity: those are a function of the text and the local date alone (a date decides 2月29日).
CACHED_TEXT_CHARS = 64
CACHE_SIZE = 4096


class EmbeddedParser:
    """In-process parser; construction is free, ``warm_up`` trains or loads the model."""

    def __init__(
        self,
        *,
        tz: str = "Asia/Shanghai",
        data_path: Path | str = TRAIN_FILE,
        threshold: float | None = None,
    ) -> None:
        self.tz = ZoneInfo(tz)
        self.data_path = Path(data_path)
        # None: the fallback threshold chosen on held-out folds at training time (nlu.model)
        self.threshold = threshold
        self.cache_hit: bool | None = None
        self._model: CompactIntentModel | None = None
        self._extractor: EntityExtractor | None = None
        self._lock = threading.Lock()
        self._recent: OrderedDict[tuple[str, date], NluResult] = OrderedDict()
        self._recent_lock = threading.Lock()  # parse_sync also runs in worker threads

    def warm_up_sync(self) -> None:
        """Load the cached model or train it (CPU-bound; call off the event loop)."""
        with self._lock:
            if self._model is not None:
                return
            data, raw = load_training(self.data_path)
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
        """Parse one text (well under a millisecond for a short message once warm)."""
        self._ensure()
        now = self._now(now)
        if len(text) > CACHED_TEXT_CHARS:
            return self._parse(text, now)
        key = (text, now.date())
        with self._recent_lock:
            hit = self._recent.get(key)
            if hit is not None:
                self._recent.move_to_end(key)
                return hit
        result = self._parse(text, now)
        if not any(e.entity == "time" for e in result.entities):
            with self._recent_lock:
                self._recent[key] = result
                if len(self._recent) > CACHE_SIZE:
                    self._recent.popitem(last=False)
        return result

    def _parse(self, text: str, now: datetime) -> NluResult:
        cleaned = self.prepare(text)
        intent, confidence, scores = self._classify(cleaned.text, now)
        if self.reads_clauses(cleaned.text, intent):
            # the whole reads as nothing (or a long paste as small talk): a request may still sit
            # in one of its clauses, at the end of a long message as much as at the start
            best = self._best_clause(cleaned.text, now, self._food_only(cleaned.text, now))
            if best is not None and (intent in SMALL_TALK or best[1] > confidence):
                intent, confidence, scores, (a, b) = best
                # the slots are the deciding clause's: 今天 in the chatter before is not the time
                part = cleaned.part(a, b)
                return NluResult(text, intent, confidence, scores, self._entities(part, now, intent))
        elif (closing := self._closing_request(cleaned.text, intent, now)) is not None:
            intent, confidence, scores, (a, b) = closing
            return NluResult(text, intent, confidence, scores, self._entities(cleaned.part(a, b), now, intent))
        entities = self._entities(cleaned, now, intent)
        return NluResult(text, intent, confidence, scores, entities)

    def closing_span(self, ctext: str, intent: str, now: datetime | None = None) -> tuple[int, int] | None:
        """Where in cleaned ``ctext``, read as ``intent``, the owner's closing request is (see
        _closing_request), or None; the Rasa backend asks Rasa about that span."""
        self._ensure()
        closing = self._closing_request(ctext, intent, self._now(now))
        return None if closing is None else closing[3]

    def _closing_request(
        self, ctext: str, intent: str, now: datetime
    ) -> tuple[str, float, tuple[IntentScore, ...], tuple[int, int]] | None:
        """The owner's own request at the end of a long story that reads as a grievance: one who
        tells what happened first and then asks us (…所以我想问问能不能帮我安排个护工 / …一个月
        大概要多少钱 / …你们帮我查一下师傅什么时候能到) is asking, not complaining. Residents'
        letters end in requests too (希望有关部门尽快派人维修), so the clause must be addressed to us
        in the first person or ask a price or a time, and read as that request on its own."""
        if len(ctext) <= LONG_TEXT or intent not in GRIEVANCES:
            return None
        half = len(ctext) // 2
        for a, b in reversed(split_clauses(ctext)[:MAX_CLAUSES]):
            if b <= half:
                break
            # voice input runs on without punctuation: the request starts at its first words
            # of asking in the second half (…想来想去所以就是想麻烦你们帮我安排一个护工)
            ask = _OWN_REQUEST.search(ctext, max(a, half), b)
            if ask is None:
                continue
            start = a if a >= half else ask.start()
            read = self._classify(ctext[start:b], now)
            if read[0] in CLOSING_REQUESTS and read[1] >= CLOSING_CONFIDENCE:
                return (*read, (start, b))
        return None

    def parse_requests_sync(self, text: str, now: datetime | None = None) -> list[NluResult]:
        """One result per request in ``text`` (see nlu/README.md); offsets index ``text``."""
        self._ensure()
        now = self._now(now)
        cleaned = self.prepare(text)
        parts: list[list] = []  # [start, end, intent, confidence, scores] per request
        pending: int | None = None  # start of small talk before the first request (你好，…)
        for a, b in split_clauses(cleaned.text)[:MAX_CLAUSES]:
            intent, confidence, scores = self._classify(cleaned.text[a:b], now)
            if intent in SMALL_TALK:
                # 你好 / 谢谢 / a clause that means nothing alone is part of a request, not one
                if parts:
                    parts[-1][1] = b
                elif pending is None:
                    pending = a
                continue
            if parts and parts[-1][2] == intent and not self._new_service(cleaned.text, parts[-1], a, b, now):
                parts[-1][1] = b  # 我家水管漏了，麻烦派人来修一下: one request in two clauses
                continue
            parts.append([a if pending is None or parts else pending, b, intent, confidence, scores])
        if len(parts) < 2:
            return [self.parse_sync(text, now)]
        out = []
        for a, b, intent, confidence, scores in parts:
            piece = cleaned.part(a, b)
            oa, ob = cleaned.span(a, b)
            out.append(NluResult(text[oa:ob], intent, confidence, scores,
                                 self._entities(piece, now, intent)))
        return out

    def _new_service(self, ctext: str, prev: list, a: int, b: int, now: datetime) -> bool:
        """True when clause [a, b) names a service the request before it does not (约保洁，再约个修空调)."""
        extractor = self._extractor
        assert extractor is not None

        def services(x: int, y: int) -> set[str]:
            return {e.value for e in extractor.extract(ctext[x:y], now) if e.entity == "service"}

        mine = services(a, b)
        return bool(mine) and not mine <= services(prev[0], prev[1])

    def prepare(self, text: str) -> Cleaned:
        """The clean-up both backends parse: nlu.normalise, then pinyin back to characters."""
        self._ensure()
        assert self._model is not None
        cleaned = depinyin(clean(text), self._model.pinyin)
        return mend_homophones(cleaned, self._model.pinyin, self._model.texts_with, self._model.tokenize)

    def _ensure(self) -> None:
        if self._model is None or self._extractor is None:
            self.warm_up_sync()

    def _classify(self, ctext: str, now: datetime) -> tuple[str, float, tuple[IntentScore, ...]]:
        """Intent of cleaned text: calibrated model, thresholds, then the guards."""
        assert self._model is not None and self._extractor is not None
        norm = normalise(ctext)
        if not norm:
            return FALLBACK, 1.0, (IntentScore(FALLBACK, 1.0),)
        norm_entities = self._extractor.extract(norm, now)
        masked_text = masked(norm, norm_entities)
        ranking = self._model.predict(norm, masked_text)
        intent, confidence = ranking[0]
        scores = tuple(IntentScore(n, c) for n, c in ranking[:10])
        if intent in _PUSH_INTENTS and refuses_push(norm):
            # the model tells push talk apart from the rest, not 别再推 from 再推: the rule does
            intent = "unsubscribe_push"
            confidence = sum(c for n, c in ranking if n in _PUSH_INTENTS)
            scores = _first(intent, confidence, scores)
        floor = self.threshold if self.threshold is not None else self._model.fallback_threshold
        if intent in ACTIONS:
            needed = max(floor, self._model.action_threshold)
            support = action_support(intent, confidence, ranking)
        else:
            needed, support = floor, confidence
        if support < needed and intent != FALLBACK:
            return FALLBACK, 1.0 - confidence, _first(FALLBACK, 1.0 - confidence, scores)
        safer = review(intent, norm, masked_text, norm_entities)
        if safer is not None:
            return safer, confidence, _first(safer, confidence, scores)
        return intent, confidence, scores

    def guard(self, intent: str, ctext: str, now: datetime | None = None) -> str | None:
        """The guards' safer intent for cleaned text (used on Rasa's answers too), or None."""
        self._ensure()
        assert self._extractor is not None
        norm = normalise(ctext)
        if intent in _PUSH_INTENTS and refuses_push(norm):
            return "unsubscribe_push"
        norm_entities = self._extractor.extract(norm, self._now(now))
        return review(intent, norm, masked(norm, norm_entities), norm_entities)

    def _food_only(self, ctext: str, now: datetime) -> frozenset[str]:
        """Intents no clause may give when the whole text only comments on food (see guards)."""
        assert self._extractor is not None
        norm = normalise(ctext)
        if food_review("complain", norm, self._extractor.extract(norm, now)):
            return FOOD_REVIEW_INTENTS  # 菜量挺足，很满意: the 很满意 rates the food, not us
        return frozenset()

    def reads_clauses(self, ctext: str, intent: str) -> bool:
        """Whether a whole-text reading gives way to one of its clauses (parse_sync's rule, and
        the Rasa backend's): it reads as nothing, or a long paste reads as no action."""
        return intent in SMALL_TALK or (len(ctext) > LONG_TEXT and intent not in ACTIONS)

    def clause_skip(self, ctext: str, now: datetime | None = None) -> frozenset[str]:
        """Intents no single clause may decide for the whole text."""
        self._ensure()
        return SMALL_TALK | _ANSWERS | self._food_only(ctext, self._now(now))

    def _best_clause(
        self, ctext: str, now: datetime, exclude: frozenset[str] = frozenset()
    ) -> tuple[str, float, tuple[IntentScore, ...], tuple[int, int]] | None:
        """The most confident in-scope reading among the clauses of a text, and its span."""
        spans = split_clauses(ctext)[:MAX_CLAUSES]
        if len(spans) < 2:
            return None
        best = None
        skip = SMALL_TALK | _ANSWERS | exclude
        for a, b in spans:
            r = self._classify(ctext[a:b], now)
            if r[0] not in skip and (best is None or r[1] > best[1]):
                best = (*r, (a, b))
        return best

    def _entities(self, cleaned: Cleaned, now: datetime, intent: str) -> tuple[Entity, ...]:
        """Entities of the cleaned text, with offsets into the owner's original text."""
        assert self._extractor is not None
        found = self._filter(self._extractor.extract(cleaned.text, now), intent)
        out = []
        for e in found:
            a, b = cleaned.span(e.start, e.end)
            out.append(replace(e, start=a, end=b))
        return tuple(out)

    def entities(self, text: str, now: datetime | None = None) -> tuple[Entity, ...]:
        """Rule-based entities only (also used to normalise Rasa's output)."""
        self._ensure()
        return self._entities(self.prepare(text), self._now(now), "rate_service")

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
        """Parse one text: inline when short (far under a millisecond), else in a worker thread."""
        if self._model is None:
            await self.warm_up()
        if len(text) > INLINE_LIMIT:
            return await asyncio.to_thread(self.parse_sync, text, now)
        return self.parse_sync(text, now)

    async def parse_requests(self, text: str, *, now: datetime | None = None) -> list[NluResult]:
        """Each request in ``text`` parsed on its own (two requests in one message)."""
        if self._model is None:
            await self.warm_up()
        if len(text) > INLINE_LIMIT:
            return await asyncio.to_thread(self.parse_requests_sync, text, now)
        return self.parse_requests_sync(text, now)

    async def health(self) -> str:
        """Always "ok": the embedded backend has no outside dependency."""
        return "ok"

    async def aclose(self) -> None:
        """Nothing to release."""


def _first(name: str, confidence: float, scores: tuple[IntentScore, ...]) -> tuple[IntentScore, ...]:
    return (IntentScore(name, confidence), *(s for s in scores if s.name != name))
