"""Dev tool: (re)annotate entities in a Rasa NLU file with the rule extractors.

``python -m nlu.annotate nlu/data/nlu.yml`` strips the inline annotations of every example and
writes them again from what the extractors find, so both backends learn the same spans.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from nlu.catalog import SERVICES
from nlu.entities.extract import EntityExtractor
from nlu.entities.services import ServiceGazetteer
from nlu.trainingdata import TrainingData, load

_NOW = datetime(2026, 1, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # spans only; values unused


def annotate(text: str, extractor: EntityExtractor, synonyms: dict[str, str]) -> str:
    """Text with Rasa inline annotations for every entity the extractors find."""
    out, pos = [], 0
    for e in extractor.extract(text, _NOW):
        surface = text[e.start : e.end]
        out.append(text[pos : e.start])
        if e.entity == "service" and surface not in SERVICES and synonyms.get(surface) != e.value:
            spec = json.dumps({"entity": "service", "value": e.value}, ensure_ascii=False)
            out.append(f"[{surface}]{spec}")
        else:
            out.append(f"[{surface}]({e.entity})")
        pos = e.end
    out.append(text[pos:])
    return "".join(out)


def _block(lines: list[str]) -> str:
    return "".join(f"      - {line}\n" for line in lines)


def dump(data: TrainingData, extractor: EntityExtractor | None, header: str = "") -> str:
    """Serialise training data to Rasa 3.x YAML, annotating examples when given an extractor."""
    parts = [header, 'version: "3.1"\n', "nlu:\n"]
    for intent, examples in data.by_intent().items():
        texts = [
            annotate(ex.text, extractor, data.synonyms) if extractor else ex.text for ex in examples
        ]
        parts.append(f"  - intent: {intent}\n    examples: |\n{_block(texts)}")
    by_canonical: dict[str, list[str]] = {}
    for surface, canonical in data.synonyms.items():
        by_canonical.setdefault(canonical, []).append(surface)
    for canonical in SERVICES:
        if by_canonical.get(canonical):
            parts.append(
                f"  - synonym: {canonical}\n    examples: |\n{_block(by_canonical[canonical])}"
            )
    for name, items in data.lookups.items():
        parts.append(f"  - lookup: {name}\n    examples: |\n{_block(items)}")
    for name, items in data.regexes.items():
        parts.append(f"  - regex: {name}\n    examples: |\n{_block(items)}")
    return "".join(parts)


def main(argv: list[str]) -> int:
    """Re-annotate the given files in place."""
    train = load(Path(__file__).parent / "data" / "nlu.yml")
    extractor = EntityExtractor(ServiceGazetteer(train.synonyms))
    for name in argv:
        path = Path(name)
        text = path.read_text(encoding="utf-8")
        header = "".join(line + "\n" for line in text.splitlines() if line.startswith("#"))
        path.write_text(dump(load(path), extractor, header), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
