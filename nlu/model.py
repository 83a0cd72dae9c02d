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
MODEL_VERSION = "14"  # 3: artifact is nlu.compact (npz); 4: jieba cuts with the domain lexicon;
# 5: cleaned text, out-of-scope set, address variants, action threshold from held-out folds;
# 6: pinyin map; 7-8: homophone keys;
# 9: fallback threshold chosen on held-out folds;
# 10: thresholds on pooled held-out scores of 3 seeds x 3 folds, action budget 0.9 %;
# 11: action budget 0.5 % (the out-of-scope rows grew from 755 to 1,338 with real corpus lines);
# 12-14: an action's threshold is checked on its support: a grievance's is complain + report_issue
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


CALIBRATION_SEEDS = (0, 1, 2)  # repeated stratified 3-fold splits whose held-out scores are pooled
# pooled held-out out-of-scope rows allowed to act: a margin under the 1 % target, kept above the
# floor of the rows no threshold separates (挺好, 陪聊… mask to the same text as a rating or an
# order; tests/nlu/test_calibration.py measures it). With 1,338 rows, most of them real Weibo
# posts that are easy to tell apart, 0.9 % left the threshold at its 0.50 floor and 1.3 % of the
# held-out general requests acting; 0.5 % gives 0.61, 0.4 % jumps to 0.74 and costs a tenth of
# the real residents' texts (see nlu/README.md).
ACTION_OOS_BUDGET = 0.005


def calibrate(
    x: Any, labels: list[str], classes: Any, c: float, *, seeds: tuple[int, ...] = CALIBRATION_SEEDS
) -> tuple[float, float, float]:
    """Temperature, action threshold and fallback threshold, all chosen on pooled held-out scores.

    Every example is scored by a model that did not see it, once per seed (repeated stratified
    3-fold), and the scores of all seeds are pooled, so no single split's luck decides a
    threshold. The temperature minimises pooled held-out log loss (temperature scaling). The
    action threshold is the lowest confidence at which at most ACTION_OOS_BUDGET (0.5 %) of the
    pooled out-of-scope rows would trigger an action, well under the 1 % target, so a wrong
    action costs more than a fallback (see ACTIONS).
    """
    from nlu.guards import ACTIONS, GRIEVANCES

    y = np.searchsorted(classes, labels)
    scores = np.concatenate([_held_out_scores(x, y, classes, c, seed=s) for s in seeds])
    pooled_y = np.tile(y, len(seeds))
    pooled_labels = np.tile(np.asarray(labels), len(seeds))
    temperature = _fit_temperature(scores, pooled_y)
    z = scores / temperature
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    top, conf = p.argmax(axis=1), p.max(axis=1)
    is_action = np.isin(np.asarray(classes)[top], list(ACTIONS))
    # an action is gated on its support (nlu.guards.action_support): a grievance's is the mass
    # of both grievances, so the threshold is chosen on the same figure the parser checks
    grievance = np.isin(np.asarray(classes), list(GRIEVANCES))
    support = np.where(np.isin(np.asarray(classes)[top], list(GRIEVANCES)), p[:, grievance].sum(axis=1), conf)
    oos = pooled_labels == "nlu_fallback"
    threshold = action_threshold(support, is_action, oos)
    # the general fallback threshold: the one that answers most held-out examples right when
    # everything below it becomes nlu_fallback (ties go to the higher, safer threshold)
    right_if_kept = np.asarray(classes)[top] == pooled_labels
    best_t, best_acc = 0.5, -1.0
    for t in (step / 100 for step in range(30, 71, 2)):
        acc = float(np.where(conf >= t, right_if_kept, oos).mean())
        if acc >= best_acc:
            best_t, best_acc = float(t), acc
    log.info("nlu: temperature %.2f, fallback %.2f, action %.2f", temperature, best_t, threshold)
    return temperature, max(threshold, best_t), best_t


def action_threshold(
    conf: Any, is_action: Any, oos: Any, budget: float = ACTION_OOS_BUDGET
) -> float:
    """Lowest confidence (0.50-0.95, steps of 0.01) at which at most `budget` of oos rows act."""
    if oos.sum() == 0:
        return 0.5
    for step in range(50, 96):
        t = step / 100
        if (is_action & oos & (conf >= t)).sum() / oos.sum() <= budget:
            return t
    return 0.95


def _held_out_scores(x: Any, y: Any, classes: Any, c: float, *, seed: int = 0) -> Any:
    """Decision scores of every example from a model that did not see it (3 folds, one seed)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    scores = np.zeros((len(y), len(classes)))
    for train_idx, test_idx in StratifiedKFold(3, shuffle=True, random_state=seed).split(x, y):
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
