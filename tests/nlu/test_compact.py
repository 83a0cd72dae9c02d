"""The served model (plain arrays) scores exactly as the scikit-learn model it was exported from,
and a serving worker that finds the artifact never imports scikit-learn or scipy, nor loads jieba's
full dictionary."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from nlu.compact import CompactIntentModel, char_ngrams, word_ngrams
from nlu.entities.extract import EntityExtractor
from nlu.entities.services import ServiceGazetteer
from nlu.features import masked, normalise
from nlu.model import _ANNOTATION_NOW, build_rows, train
from nlu.trainingdata import TEST_FILE, TRAIN_FILE, load


def test_the_analyzers_match_scikit_learn() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    char = TfidfVectorizer(analyzer="char", ngram_range=(1, 3)).build_analyzer()
    for text in ("我要预约Ｓ明天Ｔ", "ab", "a", "", "ＳＴ上午  两  点"):
        assert char_ngrams(text) == char(text), text
    words = TfidfVectorizer(tokenizer=str.split, token_pattern=None, lowercase=False, ngram_range=(1, 2))
    assert word_ngrams(["我", "要", "保洁"]) == words.build_analyzer()("我 要 保洁")


def test_exported_model_gives_the_same_probabilities_on_every_example(tmp_path: Path) -> None:
    data = load(TRAIN_FILE)
    extractor = EntityExtractor(ServiceGazetteer(data.synonyms, data.lookups.get("service", ())))
    trained = train(data, extractor)
    compact = CompactIntentModel.from_trained(trained)
    compact.save(tmp_path / "m.npz")
    reloaded = CompactIntentModel.load(tmp_path / "m.npz")

    texts = [ex.text for ex in data.examples] + [ex.text for ex in load(TEST_FILE).examples]
    worst = 0.0
    for text in texts:
        norm = normalise(text)
        mask = masked(norm, extractor.extract(norm, _ANNOTATION_NOW))
        expected = dict(trained.predict(norm, mask))
        got = dict(reloaded.predict(norm, mask))
        assert got.keys() == expected.keys()
        worst = max(worst, max(abs(got[k] - expected[k]) for k in got))
    assert len(texts) > 1000 and worst < 1e-9, worst
    np.testing.assert_allclose(reloaded.decision("", ""), trained.clf.intercept_)
    # the document frequencies read back from the idf are the vectoriser's own (homophone mending
    # compares them)
    norms, masks, _ = build_rows(data, extractor)
    docs = masks + norms  # what the char vectoriser was fitted on
    for term in ("楼道", "保洁", "电梯", "不亮", "了", "楼到"):
        assert reloaded.texts_with(term) == sum(term in d for d in docs), term
    assert reloaded.texts_with("从未见过的词") == 0


def test_a_worker_with_the_cached_artifact_never_imports_sklearn_or_scipy() -> None:
    probe = (
        "import sys; from nlu.embedded import EmbeddedParser; p = EmbeddedParser(); p.warm_up_sync();"
        "assert p.cache_hit, 'no cached artifact';"
        "print(p.parse_sync('明天上午想请个阿姨打扫卫生').intent);"
        "print(sorted(m for m in ('sklearn', 'scipy', 'joblib') if m in sys.modules));"
        "import jieba; print(jieba.dt.initialized, len(p._model.tokenize.lexicon) < 20000)"
    )
    # The first run trains and caches the artifact if this machine has none yet.
    subprocess.run([sys.executable, "-c", probe.replace("assert p.cache_hit, 'no cached artifact';", "")],
                   capture_output=True, text=True, check=True)
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "order_service" and out[1] == "[]", out
    # jieba's own 500k-word dictionary is never loaded: the model carries its small lexicon
    assert out[2] == "False True", out
