"""Reads the Rasa 3.x training format (nlu.yml): examples, annotations, synonyms, lookups."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"
TRAIN_FILE = DATA_DIR / "nlu.yml"
# out-of-scope examples from general-domain corpora (built by nlu/data/make_oos.py); trained
# together with TRAIN_FILE by both backends
OOS_FILE = DATA_DIR / "oos.yml"
# residents' own words from public pages (provenance: real_indomain.md); trained with TRAIN_FILE
REAL_FILE = DATA_DIR / "real_indomain.yml"
TEST_FILE = DATA_DIR / "test_nlu.yml"
EVAL_DIR = DATA_DIR / "eval"  # held-out real-text evaluation files, never trained on

# [surface](entity) | [surface](entity:value) | [surface]{"entity": ..., "value": ...}
_ANNOTATION_RE = re.compile(r"\[(?P<text>[^\]]+)\](?:\((?P<short>[^)]+)\)|(?P<json>\{[^}]*\}))")


@dataclass(frozen=True, slots=True)
class AnnotatedEntity:
    """An entity as annotated in the data: plain-text span and its (optional) value."""

    entity: str
    text: str
    value: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Example:
    """One training/test utterance with its intent and annotated entities."""

    text: str
    intent: str
    entities: tuple[AnnotatedEntity, ...] = ()


@dataclass(slots=True)
class TrainingData:
    """Everything a Rasa nlu.yml holds that the embedded parser uses."""

    examples: list[Example] = field(default_factory=list)
    synonyms: dict[str, str] = field(default_factory=dict)  # surface -> canonical
    lookups: dict[str, list[str]] = field(default_factory=dict)
    regexes: dict[str, list[str]] = field(default_factory=dict)

    def by_intent(self) -> dict[str, list[Example]]:
        """Examples grouped by intent, in file order."""
        out: dict[str, list[Example]] = {}
        for ex in self.examples:
            out.setdefault(ex.intent, []).append(ex)
        return out


def parse_annotated(line: str) -> tuple[str, tuple[AnnotatedEntity, ...]]:
    """Strip Rasa annotations from one example; returns plain text and entities."""
    parts: list[str] = []
    entities: list[AnnotatedEntity] = []
    pos, length = 0, 0
    for m in _ANNOTATION_RE.finditer(line):
        before = line[pos : m.start()]
        parts.append(before)
        length += len(before)
        surface = m.group("text")
        if m.group("json"):
            spec = json.loads(m.group("json"))
            name, value = spec["entity"], str(spec.get("value", surface))
        else:
            name, _, value = m.group("short").partition(":")
            value = value or surface
        entities.append(AnnotatedEntity(name, surface, value, length, length + len(surface)))
        parts.append(surface)
        length += len(surface)
        pos = m.end()
    parts.append(line[pos:])
    return "".join(parts), tuple(entities)


def _items(block: str) -> list[str]:
    out = []
    for raw in block.splitlines():
        raw = raw.strip()
        if raw.startswith("- "):
            out.append(raw[2:].strip())
    return out


def load(path: Path | str = TRAIN_FILE) -> TrainingData:
    """Load a Rasa-format NLU file; raises ValueError on a malformed file."""
    import yaml  # lazy: keeps `import nlu` cheap

    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"cannot read NLU data {path}: {reason}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("nlu"), list):
        raise ValueError(f"{path}: not a Rasa NLU file (no 'nlu:' list)")
    data = TrainingData()
    for item in doc["nlu"]:
        block = item.get("examples", "") or ""
        if "intent" in item:
            for line in _items(block):
                text, ents = parse_annotated(line)
                data.examples.append(Example(text, item["intent"], ents))
                for e in ents:
                    if e.value != e.text:
                        data.synonyms.setdefault(e.text, e.value)
        elif "synonym" in item:
            for surface in _items(block):
                data.synonyms[surface] = str(item["synonym"])
        elif "lookup" in item:
            data.lookups.setdefault(str(item["lookup"]), []).extend(_items(block))
        elif "regex" in item:
            data.regexes.setdefault(str(item["regex"]), []).extend(_items(block))
    return data


def training_files(path: Path | str = TRAIN_FILE) -> list[Path]:
    """The files one training run reads: ``path``, plus the out-of-scope and real-text sets beside
    the default."""
    path = Path(path)
    if path.resolve() == TRAIN_FILE.resolve():
        return [path, *(f for f in (OOS_FILE, REAL_FILE) if f.exists())]
    return [path]


def load_training(path: Path | str = TRAIN_FILE) -> tuple[TrainingData, bytes]:
    """All training data for ``path`` (see training_files) and its raw bytes (the cache key)."""
    files = training_files(path)
    data = TrainingData()
    raw = b""
    for f in files:
        part = load(f)
        data.examples.extend(part.examples)
        for k, v in part.synonyms.items():
            data.synonyms.setdefault(k, v)
        for name, items in part.lookups.items():
            data.lookups.setdefault(name, []).extend(items)
        for name, items in part.regexes.items():
            data.regexes.setdefault(name, []).extend(items)
        raw += f.read_bytes() + b"\0"
    return data, raw
