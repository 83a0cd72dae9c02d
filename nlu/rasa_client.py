"""Rasa backend: async client for ``POST /model/parse`` with the embedded parser as fallback."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from nlu.embedded import CLOSING_REQUESTS, INLINE_LIMIT, SMALL_TALK, EmbeddedParser
from nlu.guards import ACTIONS
from nlu.intents import FALLBACK, INTENTS
from nlu.normalise import Cleaned
from nlu.requests import split_clauses
from nlu.result import Entity, IntentScore, NluResult

log = logging.getLogger(__name__)

_RETRY_AFTER_S = 15.0  # while Rasa is down, do not pay a connect timeout on every message
_RULE_ENTITIES = frozenset({"time", "building", "unit", "room", "phone", "quantity", "rating"})
# a long letter is also read clause by clause (see _best_clause); each clause is one HTTP request
_RASA_CLAUSES = 12


class RasaParser:
    """Asks a Rasa server; when it cannot, answers from the embedded parser and says "down"."""

    def __init__(
        self, url: str, *, fallback: EmbeddedParser, tz: str = "Asia/Shanghai", timeout: float = 2.0
    ) -> None:
        self.url = url.rstrip("/")
        self.fallback = fallback
        self.tz = tz
        self.timeout = timeout
        self._session: Any = None
        self._down_since: float | None = None

    async def _client(self) -> Any:
        import aiohttp

        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self._session

    async def warm_up(self) -> None:
        """Warm the fallback too: it normalises Rasa's entities and answers when Rasa is down."""
        await self.fallback.warm_up()

    async def parse(self, text: str, *, now: datetime | None = None) -> NluResult:
        """Rasa's intent with normalised entities; the embedded result if Rasa fails."""
        if self._down_since is not None and time.monotonic() - self._down_since < _RETRY_AFTER_S:
            return await self.fallback.parse(text, now=now)
        if self.fallback._model is None:
            await self.fallback.warm_up()
        # the same clean-up as the embedded backend: Rasa sees 电梯坏了 for 電梯壞了 / dianti huaile
        cleaned = self.fallback.prepare(text)
        try:
            raw = await self._post(cleaned.text)
        except Exception as exc:  # any transport or protocol failure means: fall back
            if self._down_since is None:
                log.warning(
                    "nlu: Rasa at %s unavailable (%s); using the embedded parser", self.url, exc
                )
            self._down_since = time.monotonic()
            return await self.fallback.parse(text, now=now)
        if self._down_since is not None:
            log.warning("nlu: Rasa at %s is back", self.url)
        self._down_since = None
        if self.fallback._model is None:
            await self.fallback.warm_up()
        whole = self._normalise(text, raw, now, cleaned)
        made: list[NluResult] = []

        async def embedded() -> NluResult:
            """The embedded reading of the whole text, made once and only if something asks."""
            if not made:
                made.append(await self.fallback.parse(text, now=now))
            return made[0]

        read = whole
        if self.fallback.reads_clauses(cleaned.text, whole.intent):
            read = await self._best_clause(text, cleaned, whole, embedded, now) or whole
        else:
            read = await self._closing_request(text, cleaned, whole, now) or whole
        return await self._second_reading(text, read, embedded)

    async def _closing_request(
        self, text: str, cleaned: Cleaned, whole: NluResult, now: datetime | None
    ) -> NluResult | None:
        """As the embedded backend reads a long story that ends in the owner's own request: the
        embedded parser finds the span (first-person asking words, in the second half), Rasa
        reads it, and its reading stands when it is one of the requests a story may end in."""
        if len(cleaned.text) > INLINE_LIMIT:  # a clause per classification: off the loop, as parse()
            span = await asyncio.to_thread(self.fallback.closing_span, cleaned.text, whole.intent, now)
        else:
            span = self.fallback.closing_span(cleaned.text, whole.intent, now)
        if span is None:
            return None
        a, b = span
        try:
            raw = await self._post(cleaned.text[a:b])
        except Exception:  # the clause could not be asked: keep the whole text's reading
            return None
        clause = self._normalise(text, raw, now, cleaned.part(a, b))
        return clause if clause.intent in CLOSING_REQUESTS else None

    @staticmethod
    async def _second_reading(
        text: str, read: NluResult, embedded: Callable[[], Awaitable[NluResult]]
    ) -> NluResult:
        """An action stands only when the embedded parser does not read the text as out of scope.

        DIET has no calibrated threshold and is sure of itself on requests far from its training
        text (我要听广东雨神的歌 → order_service at 0.95+: 21 of CAIS's 203 dev lines acted); the
        embedded parser's action threshold is chosen on held-out out-of-scope rows. Rasa still
        decides which action; this only stops an action on what is no request of ours.
        """
        if read.intent not in ACTIONS or (await embedded()).intent != FALLBACK:
            return read
        return NluResult(text, FALLBACK, read.confidence, read.intent_ranking, read.entities)

    async def _best_clause(
        self,
        text: str,
        cleaned: Cleaned,
        whole: NluResult,
        embedded: Callable[[], Awaitable[NluResult]],
        now: datetime | None,
    ) -> NluResult | None:
        """As the embedded backend reads a long letter: the most confident in-scope clause decides
        when the whole text reads as nothing (DIET, trained on short requests, reads a resident's
        long letter as out of scope). At most _RASA_CLAUSES clauses, asked together."""
        spans = split_clauses(cleaned.text)[:_RASA_CLAUSES]
        if len(spans) < 2:
            return None
        # DIET is sure of itself on clauses out of context: only when the embedded parser (whose
        # thresholds are calibrated on held-out out-of-scope text) also finds a request in the
        # text does a clause get to decide.
        if (await embedded()).intent in SMALL_TALK:
            return None
        try:
            raws = await asyncio.gather(*(self._post(cleaned.text[a:b]) for a, b in spans))
        except Exception:  # a clause Rasa could not answer: keep the whole text's reading
            return None
        skip = self.fallback.clause_skip(cleaned.text, now)
        best: NluResult | None = None
        for (a, b), raw in zip(spans, raws, strict=True):
            part = cleaned.part(a, b)
            read = self._normalise(text, raw, now, part)
            if read.intent not in skip and (best is None or read.confidence > best.confidence):
                best = read
        if best is not None and (whole.intent in SMALL_TALK or best.confidence > whole.confidence):
            return best
        return None

    async def parse_requests(self, text: str, *, now: datetime | None = None) -> list[NluResult]:
        """Each request in ``text`` (clauses as the embedded backend splits them), asked of Rasa;
        entity offsets index the whole ``text``."""
        parts = await self.fallback.parse_requests(text, now=now)
        if len(parts) < 2:
            return [await self.parse(text, now=now)]
        out, cursor = [], 0
        for part in parts:
            at = text.find(part.text, cursor)
            at = cursor if at < 0 else at
            cursor = at + len(part.text)
            r = await self.parse(part.text, now=now)
            moved = tuple(replace(e, start=e.start + at, end=e.end + at) for e in r.entities)
            out.append(NluResult(part.text, r.intent, r.confidence, r.intent_ranking, moved))
        return out

    async def _post(self, text: str) -> dict[str, Any]:
        session = await self._client()
        async with session.post(f"{self.url}/model/parse", json={"text": text}) as resp:
            if resp.status != 200:
                raise RuntimeError(f"HTTP {resp.status}")
            body = await resp.json(content_type=None)
        if not isinstance(body, dict) or not isinstance(body.get("intent"), dict):
            raise RuntimeError("malformed /model/parse response")
        return body

    def _normalise(
        self, text: str, raw: dict[str, Any], now: datetime | None, cleaned: Cleaned | None = None
    ) -> NluResult:
        """Contract shape: known intents only, canonical services, ISO times from our rules."""
        cleaned = cleaned or self.fallback.prepare(text)
        intent = str(raw["intent"].get("name") or FALLBACK)
        confidence = float(raw["intent"].get("confidence") or 0.0)
        if intent not in INTENTS:
            intent = FALLBACK
        # the same guards as the embedded backend: negation, address alone, opt-in/out cues
        intent = self.fallback.guard(intent, cleaned.text, now) or intent
        ranking = tuple(
            IntentScore(str(r.get("name")), float(r.get("confidence") or 0.0))
            for r in raw.get("intent_ranking") or ()
            if r.get("name") in INTENTS
        ) or (IntentScore(intent, confidence),)
        rules = self.fallback.entities(text, now)
        # the gazetteer is the more precise of the two; DIET adds mentions it does not know
        services = [e for e in rules if e.entity == "service"]
        for e in raw.get("entities") or ():
            if e.get("entity") != "service":
                continue
            start, end = cleaned.span(int(e.get("start", 0)), int(e.get("end", 0)))
            value = self.fallback.canonical_service(
                str(e.get("value", ""))
            ) or self.fallback.canonical_service(text[start:end])
            if value is not None and all(end <= s.start or start >= s.end for s in services):
                services.append(Entity("service", value, start, end))
        others = [e for e in rules if e.entity in _RULE_ENTITIES]
        entities = [
            e for e in others if all(e.end <= s.start or e.start >= s.end for s in services)
        ]
        merged = tuple(sorted([*services, *entities], key=lambda e: (e.start, e.end)))
        if intent not in ("rate_service", "complain"):
            merged = tuple(e for e in merged if e.entity != "rating")
        return NluResult(text, intent, confidence, ranking, merged)

    async def health(self) -> str:
        """ "ok" if the Rasa server answers ``GET /``, else "down" (parses then use the fallback)."""
        try:
            session = await self._client()
            async with session.get(f"{self.url}/", timeout=_probe_timeout()) as resp:
                ok = resp.status == 200
        except Exception:
            ok = False
        if ok:
            self._down_since = None
            return "ok"
        self._down_since = self._down_since or time.monotonic()
        return "down"

    async def aclose(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None
        await asyncio.sleep(0)


def _probe_timeout() -> Any:
    import aiohttp

    return aiohttp.ClientTimeout(total=1.0)
