"""The trained intent model as plain arrays: what a serving worker loads, without scikit-learn.

Training uses scikit-learn (TF-IDF + logistic regression, nlu/model.py). Serving needs only the
vocabularies, idf weights, coefficients and the temperature, so the worker never imports sklearn
and scipy (about 115 MB of RSS per worker) and scores one text with a gather and a small dot
product instead of sklearn's per-call validation and sparse-matrix assembly.

The feature layout mirrors nlu.model.IntentModel.features exactly:
    [char 1-3-grams of the masked text | jieba 1-2-grams of the masked text | 0.5 × char of the plain text]
each block TF-IDF with sublinear tf and its own L2 norm. tests/nlu/test_compact.py checks that both
paths give the same probabilities on every training and test example.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nlu.features import JiebaTokens

_WHITE_SPACES = re.compile(r"\s\s+")  # as scikit-learn collapses them
_PLAIN_CHAR_WEIGHT = 0.5  # the plain text's char block counts half, as in training


def char_ngrams(text: str, lo: int = 1, hi: int = 3) -> list[str]:
    """scikit-learn's analyzer="char": lower-cased, runs of whitespace collapsed, all n-grams lo..hi."""
    text = _WHITE_SPACES.sub(" ", text.lower())
    size = len(text)
    return [text[i : i + n] for n in range(lo, min(hi, size) + 1) for i in range(size - n + 1)]


def word_ngrams(tokens: list[str]) -> list[str]:
    """scikit-learn's word n-grams for ngram_range=(1, 2): the tokens, then adjacent pairs."""
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]


@dataclass
class _Block:
    """One TF-IDF vectoriser as arrays: term → column, and each column's idf."""

    vocab: dict[str, int]
    idf: np.ndarray
    offset: int  # where this block's columns start in the classifier's feature space
    scale: float = 1.0

    def weights(self, terms: list[str]) -> tuple[list[int], list[float]]:
        """Columns and L2-normalised sublinear TF-IDF weights of the in-vocabulary terms."""
        counts = Counter(t for t in terms if t in self.vocab)
        if not counts:
            return [], []
        cols = [self.vocab[t] for t in counts]
        raw = [(1.0 + math.log(n)) * float(self.idf[c]) for c, n in zip(cols, counts.values(), strict=True)]
        norm = math.sqrt(sum(w * w for w in raw)) or 1.0
        return [c + self.offset for c in cols], [w * self.scale / norm for w in raw]


class CompactIntentModel:
    """Calibrated intent probabilities from numpy arrays; same interface as IntentModel.predict."""

    def __init__(
        self,
        *,
        char_terms: list[str],
        char_idf: np.ndarray,
        word_terms: list[str],
        word_idf: np.ndarray,
        coef: np.ndarray,
        intercept: np.ndarray,
        classes: tuple[str, ...],
        temperature: float,
        lexicon: dict[str, int],
        action_threshold: float = 0.5,
        pinyin: dict[str, str] | None = None,
        fallback_threshold: float = 0.5,
    ) -> None:
        n_char, n_word = len(char_terms), len(word_terms)
        char_vocab = {t: i for i, t in enumerate(char_terms)}
        self._masked_chars = _Block(char_vocab, char_idf, 0)
        self._words = _Block({t: i for i, t in enumerate(word_terms)}, word_idf, n_char)
        self._plain_chars = _Block(char_vocab, char_idf, n_char + n_word, _PLAIN_CHAR_WEIGHT)
        self._max_char_idf = float(char_idf.max()) if len(char_idf) else 0.0
        self._arrays = {"char_idf": char_idf, "word_idf": word_idf, "coef": coef, "intercept": intercept}
        self._meta = {"char_terms": char_terms, "word_terms": word_terms, "classes": list(classes),
                      "temperature": temperature, "lexicon": lexicon,
                      "action_threshold": action_threshold, "pinyin": pinyin or {},
                      "fallback_threshold": fallback_threshold}
        # features × classes, so one row gather per present feature
        self._coef_t = np.ascontiguousarray(coef.T)
        self._intercept = intercept
        self.classes = classes
        self.temperature = temperature
        # an action needs at least this calibrated confidence (chosen on held-out data)
        self.action_threshold = action_threshold
        self.pinyin = pinyin or {}  # messages typed in pinyin (nlu.pinyin)
        self.fallback_threshold = fallback_threshold  # below it: out of scope (held-out choice)
        self.tokenize: Callable[[str], list[str]] = JiebaTokens(lexicon)

    def texts_with(self, term: str) -> int:
        """How many training texts hold the character n-gram ``term`` (0 if none).

        Read back from its smoothed idf, ln((1 + n) / (1 + df)) + 1, against the largest idf,
        which belongs to a term only one text holds: df = 2 * exp(max_idf - idf) - 1.
        """
        col = self._masked_chars.vocab.get(term)
        if col is None:
            return 0
        return round(2.0 * math.exp(self._max_char_idf - float(self._masked_chars.idf[col])) - 1.0)

    def decision(self, norm_text: str, masked_text: str) -> np.ndarray:
        """Raw linear scores per class (what LogisticRegression.decision_function returns)."""
        cols: list[int] = []
        weights: list[float] = []
        for block, terms in (
            (self._masked_chars, char_ngrams(masked_text)),
            (self._words, word_ngrams(self.tokenize(masked_text))),
            (self._plain_chars, char_ngrams(norm_text)),
        ):
            c, w = block.weights(terms)
            cols += c
            weights += w
        if not cols:
            return self._intercept.copy()
        return np.asarray(weights) @ self._coef_t[cols] + self._intercept

    def predict(self, norm_text: str, masked_text: str) -> list[tuple[str, float]]:
        """Intents ranked by calibrated (temperature-scaled softmax) probability."""
        z = self.decision(norm_text, masked_text) / self.temperature
        p = np.exp(z - z.max())
        p /= p.sum()
        order = np.argsort(-p)
        return [(self.classes[i], float(p[i])) for i in order]

    @classmethod
    def from_trained(cls, model: Any) -> CompactIntentModel:
        """Arrays out of a fitted nlu.model.IntentModel (scikit-learn objects)."""
        def terms(vec: Any) -> list[str]:
            return [str(t) for t in vec.get_feature_names_out()]

        return cls(
            char_terms=terms(model.char_vec), char_idf=np.asarray(model.char_vec.idf_, dtype=np.float64),
            word_terms=terms(model.word_vec), word_idf=np.asarray(model.word_vec.idf_, dtype=np.float64),
            coef=np.asarray(model.clf.coef_, dtype=np.float64),
            intercept=np.asarray(model.clf.intercept_, dtype=np.float64),
            classes=tuple(str(k) for k in model.classes), temperature=float(model.temperature),
            lexicon=dict(model.word_vec.tokenizer.lexicon),
            action_threshold=float(getattr(model, "action_threshold", 0.5)),
            pinyin=getattr(model, "pinyin", None),
            fallback_threshold=float(getattr(model, "fallback_threshold", 0.5)),
        )

    def save(self, path: Path) -> None:
        """One .npz: arrays plus the vocabularies as JSON (no pickle, so loading runs no code)."""
        meta = np.frombuffer(json.dumps(self._meta, ensure_ascii=False).encode(), dtype=np.uint8)
        with path.open("wb") as f:
            np.savez(f, allow_pickle=False, meta=meta, **self._arrays)

    @classmethod
    def load(cls, path: Path) -> CompactIntentModel:
        """Read an artifact written by save()."""
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(z["meta"].tobytes().decode())
            return cls(
                char_terms=meta["char_terms"], char_idf=z["char_idf"], word_terms=meta["word_terms"],
                word_idf=z["word_idf"], coef=z["coef"], intercept=z["intercept"],
                classes=tuple(meta["classes"]), temperature=float(meta["temperature"]),
                lexicon=meta["lexicon"], action_threshold=float(meta.get("action_threshold", 0.5)),
                pinyin=meta.get("pinyin"),
                fallback_threshold=float(meta.get("fallback_threshold", 0.5)),
            )
