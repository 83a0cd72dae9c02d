"""Intent classifier: char n-gram + jieba word TF-IDF into a calibrated linear model."""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from nlu.compact import CompactIntentModel
from nlu.entities.extract import EntityExtractor
from nlu.features import JiebaTokens, domain_lexicon, masked, normalise
from nlu.trainingdata import TrainingData

log = logging.getLogger(__name__)

# bump when features or model change so cached artifacts of older code are not reused
MODEL_VERSION = "9"  # 3: artifact is nlu.compact (npz); 4: jieba cuts with the domain lexicon;
# 5: cleaned text, out-of-scope set, address variants, action threshold from held-out folds;
# 6: pinyin map; 7-8: homophone keys;
# 9: fallback threshold chosen on held-out folds
_ANNOTATION_NOW = datetime(2026, 1, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def cache_dir() -> Path:
    """Where trained artifacts live (BUTLER_CACHE_DIR, else ~/.cache/butler)."""
    base = os.environ.get("BUTLER_CACHE_DIR") or Path.home() / ".cache" / "butler"
    return Path(base) / "nlu"


def data_hash(raw: bytes) -> str:
    """Key of a trained artifact: the training data plus model code and library versions."""
    # the version from package metadata: importing sklearn here would defeat the compact artifact
    h = hashlib.sha256(raw)
    h.update(f"|{MODEL_VERSION}|{metadata.version('scikit-learn')}|{metadata.version('jieba')}".encode())
    return h.hexdigest()[:16]


@dataclass
class IntentModel:
    """Fitted scikit-learn vectorisers and classifier (training and the equivalence test)."""

    char_vec: Any
    word_vec: Any
    clf: Any
    classes: tuple[str, ...]
    temperature: float = 1.0
    action_threshold: float = 0.5
    pinyin: dict[str, str] | None = None  # toneless pinyin → training word (nlu.pinyin)
    fallback_threshold: float = 0.5

    def features(self, norm_text: str, masked_text: str) -> Any:
        """Sparse feature row for one (normalised, masked) text."""
        from scipy.sparse import hstack

        return hstack(
            [
                self.char_vec.transform([masked_text]),
                self.word_vec.transform([masked_text]),
                self.char_vec.transform([norm_text]) * 0.5,
            ]
        ).tocsr()

    def predict(self, norm_text: str, masked_text: str) -> list[tuple[str, float]]:
        """Intents ranked by calibrated probability."""
        scores = self.clf.decision_function(self.features(norm_text, masked_text))[0]
        z = scores / self.temperature
        p = np.exp(z - z.max())
        p /= p.sum()
        order = np.argsort(-p)
        return [(str(self.classes[i]), float(p[i])) for i in order]


def build_rows(
    data: TrainingData, extractor: EntityExtractor
) -> tuple[list[str], list[str], list[str]]:
    """(normalised texts, masked texts, intents) for every example."""
    from nlu.augment import with_addresses
    from nlu.normalise import clean

    norms, masks, labels = [], [], []
    for ex in [*data.examples, *with_addresses(data)]:
        norm = normalise(clean(ex.text).text)
        norms.append(norm)
        masks.append(masked(norm, extractor.extract(norm, _ANNOTATION_NOW)))
        labels.append(ex.intent)
    return norms, masks, labels


def train(data: TrainingData, extractor: EntityExtractor, *, c: float = 8.0) -> IntentModel:
    """Fit the classifier on the examples (a second or two on two cores)."""
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    norms, masks, labels = build_rows(data, extractor)
    char_vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=1)
    word_vec = TfidfVectorizer(
        tokenizer=JiebaTokens(domain_lexicon(masks, data.synonyms)),
        token_pattern=None,
        lowercase=False,
        ngram_range=(1, 2),
        sublinear_tf=True,
    )
    char_vec.fit(masks + norms)
    word_vec.fit(masks)
    x = hstack(
        [char_vec.transform(masks), word_vec.transform(masks), char_vec.transform(norms) * 0.5]
    ).tocsr()
    clf = LogisticRegression(C=c, max_iter=3000, class_weight="balanced")
    clf.fit(x, labels)
    temperature, action_threshold, fallback_threshold = calibrate(x, labels, clf.classes_, c)
    from nlu.pinyin import build_map

    return IntentModel(
        char_vec, word_vec, clf, tuple(str(k) for k in clf.classes_), temperature, action_threshold,
        build_map(norms, word_vec.tokenizer), fallback_threshold,
    )


def calibrate(x: Any, labels: list[str], classes: Any, c: float) -> tuple[float, float, float]:
    """Temperature, action threshold and fallback threshold, all chosen on held-out (3-fold) scores.

    The temperature minimises held-out log loss (temperature scaling). The action threshold is
    the lowest confidence at which, on held-out folds, at most 1 % of out-of-scope examples would
    trigger an action, so a wrong action costs more than a fallback (see ACTIONS).
    """
    from nlu.guards import ACTIONS

    y = np.searchsorted(classes, labels)
    scores = _held_out_scores(x, y, classes, c)
    temperature = _fit_temperature(scores, y)
    z = scores / temperature
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    top, conf = p.argmax(axis=1), p.max(axis=1)
    is_action = np.isin(np.asarray(classes)[top], list(ACTIONS))
    oos = np.asarray(labels) == "nlu_fallback"
    threshold = 0.5
    for t in np.arange(0.5, 0.96, 0.01):
        if oos.sum() == 0 or (is_action & oos & (conf >= t)).sum() / oos.sum() <= 0.01:
            threshold = float(t)
            break
    else:
        threshold = 0.95
    # the general fallback threshold: the one that answers most held-out examples right when
    # everything below it becomes nlu_fallback (ties go to the higher, safer threshold)
    right_if_kept = np.asarray(classes)[top] == np.asarray(labels)
    best_t, best_acc = 0.5, -1.0
    for t in np.arange(0.3, 0.71, 0.02):
        acc = float(np.where(conf >= t, right_if_kept, oos).mean())
        if acc >= best_acc:
            best_t, best_acc = float(t), acc
    log.info("nlu: temperature %.2f, fallback %.2f, action %.2f", temperature, best_t, threshold)
    return temperature, max(threshold, best_t), best_t


def _held_out_scores(x: Any, y: Any, classes: Any, c: float) -> Any:
    """Decision scores of every example from a model that did not see it (3 folds)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    scores = np.zeros((len(y), len(classes)))
    for train_idx, test_idx in StratifiedKFold(3, shuffle=True, random_state=0).split(x, y):
        fold = LogisticRegression(C=c, max_iter=3000, class_weight="balanced").fit(
            x[train_idx], y[train_idx]
        )
        scores[test_idx] = fold.decision_function(x[test_idx])
    return scores


def _fit_temperature(scores: Any, y: Any) -> float:
    """Temperature that makes held-out probabilities honest: minimum log loss."""
    best, best_loss = 1.0, float("inf")
    for t in np.linspace(0.2, 3.0, 29):
        z = scores / t
        z -= z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        loss = -logp[np.arange(len(y)), y].mean()
        if loss < best_loss:
            best, best_loss = float(t), loss
    return best


def load_or_train(
    data: TrainingData, raw: bytes, extractor: EntityExtractor
) -> tuple[CompactIntentModel, bool]:
    """Cached model for this data if present, else train and cache it; returns (model, cache_hit).

    Only a cache miss imports scikit-learn; a worker that finds the artifact never does.
    """
    path = cache_dir() / f"{data_hash(raw)}.npz"
    if path.exists():
        try:
            return CompactIntentModel.load(path), True
        except Exception as exc:  # a corrupt or foreign artifact is just retrained
            log.warning("nlu: ignoring unreadable model cache %s: %s", path, exc)
    model = CompactIntentModel.from_trained(train(data, extractor))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        model.save(tmp)
        tmp.replace(path)  # atomic, so concurrent workers never read half a file
    except OSError as exc:
        log.warning("nlu: cannot write model cache %s: %s", path, exc)
    return model, False
