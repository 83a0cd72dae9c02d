"""Evaluation of any backend on a Rasa-format test file: P/R/F1, confusions, entity accuracy."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from nlu.guards import ACTIONS
from nlu.intents import FALLBACK
from nlu.parser import Parser
from nlu.trainingdata import Example, TrainingData, load


@dataclass(frozen=True, slots=True)
class IntentScores:
    """Precision, recall, F1 and support of one intent."""

    intent: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(slots=True)
class EvalReport:
    """Everything ``butler nlu eval`` prints."""

    per_intent: list[IntentScores] = field(default_factory=list)
    macro_f1: float = 0.0
    accuracy: float = 0.0
    confusions: list[tuple[str, str, int]] = field(default_factory=list)  # gold, predicted, count
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # text, gold, predicted
    entity_accuracy: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (ok, total)
    service_on_orders: tuple[int, int] = (0, 0)  # order_service/ask_price examples with a service
    # confidence bin → (correct, total): does a stated confidence mean that accuracy?
    reliability: list[tuple[float, float, int, int]] = field(default_factory=list)
    # out-of-scope lines (gold nlu_fallback) that came out as an action: (count, total)
    oos_actions: tuple[int, int] = (0, 0)
    oos_examples: list[tuple[str, str]] = field(default_factory=list)  # text, action predicted
    # With a second annotator's labels (``second_labels``): a prediction matching either label is
    # right, as in the acceptance sets "labelled by two annotators independently".
    accuracy_either: float | None = None
    second_labelled: int = 0  # lines of the file that carry a second label

    def format(self, max_confusions: int = 10) -> str:
        """Human-readable table."""
        lines = [f"{'intent':<20}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}"]
        for s in self.per_intent:
            lines.append(
                f"{s.intent:<20}{s.precision:>10.3f}{s.recall:>10.3f}{s.f1:>10.3f}{s.support:>9}"
            )
        lines.append(f"{'macro-F1':<20}{self.macro_f1:>30.3f}")
        lines.append(f"{'accuracy':<20}{self.accuracy:>30.3f}")
        if self.accuracy_either is not None:
            lines.append(
                f"{'accuracy (either label)':<24}{self.accuracy_either:>26.3f}"
                f"  ({self.second_labelled} lines carry a second label)"
            )
        lines.append("top confusions (gold -> predicted):")
        lines.extend(f"  {g} -> {p}: {n}" for g, p, n in self.confusions[:max_confusions])
        if not self.confusions:
            lines.append("  none")
        for name, (ok, total) in self.entity_accuracy.items():
            rate = ok / total if total else 1.0
            lines.append(f"entity {name} accuracy: {rate:.3f} ({ok}/{total})")
        ok, total = self.service_on_orders
        if total:
            lines.append(
                f"service extracted in order_service/ask_price: {ok / total:.3f} ({ok}/{total})"
            )
        n, total = self.oos_actions
        if total:
            lines.append(f"out-of-scope lines that trigger an action: {n / total:.3%} ({n}/{total})")
            lines.extend(f"  {t} -> {p}" for t, p in self.oos_examples[:max_confusions])
        lines.append("reliability (confidence bin: accuracy, count):")
        for lo, hi, right, count in self.reliability:
            if count:
                lines.append(f"  {lo:.2f}-{hi:.2f}: {right / count:.3f} ({right}/{count})")
        return "\n".join(lines)


def load_examples(path: Path | str) -> TrainingData:
    """A Rasa-format test file, or a plain text file of out-of-scope lines (one per line)."""
    path = Path(path)
    if path.suffix in (".yml", ".yaml"):
        return load(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from exc
    return TrainingData(
        examples=[Example(t.strip(), FALLBACK) for t in lines if t.strip() and not t.startswith("#")]
    )


_SECOND_LABEL = re.compile(r"\b([a-z_]+) also acceptable")
_TABLE_ROW = re.compile(r"^\|\s*([0-9a-f]{8})\s*\|")


def text_key(text: str) -> str:
    """How provenance tables name a line: the first 8 hex digits of sha256 of its text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def second_labels(path: Path | str) -> dict[str, frozenset[str]]:
    """Second labels from a provenance table (``| sha256[:8] | … | note |``, one row per line).

    The labelling note of a line that fits two intents under the labelling rule says
    "X also acceptable" (see ``nlu/data/eval/SOURCES.md``); the table is the one record of it.
    """
    labels: dict[str, frozenset[str]] = {}
    for row in Path(path).read_text(encoding="utf-8").splitlines():
        key = _TABLE_ROW.match(row)
        if key is None:
            continue
        also = frozenset(_SECOND_LABEL.findall(row))
        if also:
            labels[key.group(1)] = also
    return labels


async def evaluate(
    parser: Parser,
    path: Path | str,
    *,
    now: datetime | None = None,
    also: Mapping[str, frozenset[str]] | None = None,
) -> EvalReport:
    """Parse every example of ``path`` and score intents and service/time entities.

    ``also`` maps ``text_key(text)`` to labels that count as right too (``second_labels``).
    """
    data = load_examples(path)
    if not data.examples:
        raise ValueError(f"{path}: no examples")
    confidences: list[float] = []
    gold: list[str] = []
    pred: list[str] = []
    report = EvalReport()
    ent_ok: Counter[str] = Counter()
    ent_total: Counter[str] = Counter()
    svc_ok = svc_total = 0
    for ex in data.examples:
        result = await parser.parse(ex.text, now=now)
        gold.append(ex.intent)
        pred.append(result.intent)
        confidences.append(result.confidence)
        if ex.intent == FALLBACK and result.intent in ACTIONS:
            report.oos_examples.append((ex.text, result.intent))
        if result.intent != ex.intent:
            report.errors.append((ex.text, ex.intent, result.intent))
        services = result.entity_values("service")
        times = {(e.start, e.end) for e in result.entities if e.entity == "time"}
        gold_services = [e.value for e in ex.entities if e.entity == "service"]
        for e in ex.entities:
            if e.entity == "service":
                ent_total["service"] += 1
                ent_ok["service"] += e.value in services
            elif e.entity == "time":
                ent_total["time"] += 1
                ent_ok["time"] += (e.start, e.end) in times
        if ex.intent in ("order_service", "ask_price") and gold_services:
            svc_total += 1
            # the owner's service is the first one they name
            svc_ok += bool(gold_services) and gold_services[0] in services
    labels = sorted(set(gold) | set(pred))
    f1s = []
    for label in labels:
        tp = sum(g == p == label for g, p in zip(gold, pred, strict=True))
        fp = sum(p == label != g for g, p in zip(gold, pred, strict=True))
        fn = sum(g == label != p for g, p in zip(gold, pred, strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        support = tp + fn
        if support:
            f1s.append(f1)
        report.per_intent.append(IntentScores(label, precision, recall, f1, support))
    report.macro_f1 = sum(f1s) / len(f1s)
    report.accuracy = sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold)
    if also is not None:
        seconds = [also.get(text_key(ex.text), frozenset()) for ex in data.examples]
        report.second_labelled = sum(bool(s) for s in seconds)
        report.accuracy_either = sum(
            p == g or p in s for g, p, s in zip(gold, pred, seconds, strict=True)
        ) / len(gold)
    confusions = Counter((g, p) for g, p in zip(gold, pred, strict=True) if g != p)
    report.confusions = [(g, p, n) for (g, p), n in confusions.most_common()]
    report.entity_accuracy = {k: (ent_ok[k], ent_total[k]) for k in ("service", "time")}
    report.service_on_orders = (svc_ok, svc_total)
    report.oos_actions = (len(report.oos_examples), gold.count(FALLBACK))
    edges = [0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0001]
    for lo, hi in zip(edges, edges[1:], strict=False):
        idx = [i for i, c in enumerate(confidences) if lo <= c < hi]
        right = sum(gold[i] == pred[i] for i in idx)
        report.reliability.append((lo, min(hi, 1.0), right, len(idx)))
    return report
