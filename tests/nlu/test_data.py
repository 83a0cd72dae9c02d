"""The training and test files: coverage, separation, synonyms."""

from __future__ import annotations

from nlu.catalog import SERVICES
from nlu.intents import INTENTS
from nlu.trainingdata import TEST_FILE, TRAIN_FILE, load, parse_annotated


def test_every_intent_has_40_training_examples() -> None:
    counts = {k: len(v) for k, v in load(TRAIN_FILE).by_intent().items()}
    assert set(counts) == set(INTENTS)
    assert min(counts.values()) >= 40, counts


def test_every_intent_has_10_test_examples() -> None:
    counts = {k: len(v) for k, v in load(TEST_FILE).by_intent().items()}
    assert set(counts) == set(INTENTS)
    assert min(counts.values()) >= 10, counts


def test_test_set_is_held_out() -> None:
    train = {ex.text for ex in load(TRAIN_FILE).examples}
    leaked = [ex.text for ex in load(TEST_FILE).examples if ex.text in train]
    assert not leaked


def test_synonyms_map_to_canonical_services_and_cover_all() -> None:
    data = load(TRAIN_FILE)
    assert set(data.synonyms.values()) <= set(SERVICES)
    assert set(data.synonyms.values()) == set(SERVICES)
    for surface in ("保洁", "打扫卫生", "阿姨", "修空调", "洗衣机坏了", "驾校", "考驾照"):
        assert surface in data.synonyms
    assert set(SERVICES) <= set(data.lookups["service"])


def test_annotations_parse() -> None:
    text, ents = parse_annotated(
        '[明天](time)请[保洁]{"entity": "service", "value": "钟点工"}到[3号楼](building)'
    )
    assert text == "明天请保洁到3号楼"
    assert [(e.entity, e.value, text[e.start : e.end]) for e in ents] == [
        ("time", "明天", "明天"),
        ("service", "钟点工", "保洁"),
        ("building", "3号楼", "3号楼"),
    ]


def test_evaluation_files_are_held_out() -> None:
    from nlu.evaluate import load_examples
    from nlu.normalise import clean
    from nlu.trainingdata import EVAL_DIR, load_training

    train = {clean(ex.text).text for ex in load_training()[0].examples}
    for path in sorted(EVAL_DIR.iterdir()):
        if path.suffix == ".md":  # SOURCES.md: where the files come from, not examples
            continue
        leaked = [ex.text for ex in load_examples(path).examples if clean(ex.text).text in train]
        assert not leaked, (path.name, leaked[:5])


def test_second_labels_name_real_eval_lines_and_known_intents() -> None:
    from nlu.evaluate import load_examples, second_labels, text_key
    from nlu.trainingdata import EVAL_DIR

    seconds = second_labels(EVAL_DIR / "indomain_real_lines.md")
    gold = {
        text_key(ex.text): ex.intent
        for half in ("dev", "heldout")
        for ex in load_examples(EVAL_DIR / f"indomain_real_{half}.yml").examples
    }
    assert len(seconds) >= 10
    for key, labels in seconds.items():
        assert key in gold, key  # a row of the table that names no line of the files
        assert labels <= set(INTENTS) and gold[key] not in labels, (key, labels)
