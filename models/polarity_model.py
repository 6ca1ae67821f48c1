"""A sentence polarity classifier over sentence embeddings: the lexicon's fallback.

The lookup tagger reads a mention's polarity from sentiment words around it
(``taggers.polarity``). Where no sentiment word is in reach — 「電話しても全然つながらない」,
"billing has been a mess", 「提案の中身が薄い」 — a lexicon says "neutral" although a reader
would not. This module classifies such sentences as positive / negative / neutral with a
multinomial logistic regression on the embeddings of the same sentence-transformers model that
discovery uses, so the vectors come from the same cache.

The default model (``models/default_polarity/``) was trained by ``bench/train_polarity.py`` on
real Japanese survey answers with labels taken from the question they answer (おすすめの点 and
very satisfied reasons → positive, 不便だった点 and dissatisfied reasons → negative, 要望 →
neutral): 出典: 福井県観光連盟「福井県観光データ分析システム FTAS」 (CC BY 4.0). It is a 3 × 512
weight matrix; it is only valid with the embedder it was trained on (``embedder`` in its
meta.json), and koe loads that embedder for it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from koe.core.resources import resource_path

if TYPE_CHECKING:
    from koe.store import RunStore

DEFAULT_POLARITY_MODEL = "koe-default"
DEFAULT_POLARITY_DIR = resource_path("koe.models", "default_polarity")
CLASSES = ("negative", "neutral", "positive")


class PolarityModelError(ValueError):
    """A polarity model folder is missing, malformed or does not fit its embedder."""


@dataclass(frozen=True)
class PolarityModel:
    """Multinomial logistic regression: p(class | v) = softmax(W·v + b).

    Attributes:
        classes: class names, one per row of ``coef``.
        coef: (classes, dim) weights.
        intercept: (classes,) biases.
        embedder: the embedding model name the weights were trained on.
        min_confidence: a prediction below this probability is not used (the mention keeps
            the lexicon's answer).
        info: provenance (training data, sizes, cross-validated accuracy).
    """

    classes: tuple[str, ...]
    coef: np.ndarray
    intercept: np.ndarray
    embedder: str
    min_confidence: float = 0.4
    info: dict | None = None

    def predict_proba(self, vectors: np.ndarray) -> np.ndarray:
        """(n, classes) probabilities of L2-normalized embeddings."""
        vectors = np.asarray(vectors, dtype=np.float64)
        if vectors.ndim != 2 or vectors.shape[1] != self.coef.shape[1]:
            raise PolarityModelError(
                f"polarity model expects {self.coef.shape[1]}-dim vectors from "
                f"{self.embedder!r}, got shape {vectors.shape}"
            )
        logits = vectors @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, vectors: np.ndarray) -> list[str | None]:
        """Class per vector, or None where the most likely class is below min_confidence."""
        proba = self.predict_proba(vectors)
        best = proba.argmax(axis=1)
        return [
            self.classes[j] if proba[i, j] >= self.min_confidence else None
            for i, j in enumerate(best)
        ]

    def save(self, folder: str | Path) -> None:
        """Write ``weights.npz`` and ``meta.json`` into ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        np.savez(folder / "weights.npz", coef=self.coef.astype(np.float32),
                 intercept=self.intercept.astype(np.float32))  # fmt: skip
        meta = {
            "classes": list(self.classes),
            "embedder": self.embedder,
            "min_confidence": self.min_confidence,
            "info": self.info or {},
        }
        (folder / "meta.json").write_text(
            json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )


def load_polarity_model(name_or_path: str | Path = DEFAULT_POLARITY_MODEL) -> PolarityModel:
    """Load ``"koe-default"`` or a folder written by ``PolarityModel.save``."""
    folder = DEFAULT_POLARITY_DIR if str(name_or_path) == DEFAULT_POLARITY_MODEL else Path(
        name_or_path
    )
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        with np.load(folder / "weights.npz") as weights:
            coef = np.asarray(weights["coef"], dtype=np.float64)
            intercept = np.asarray(weights["intercept"], dtype=np.float64)
        classes = tuple(meta["classes"])
        embedder = str(meta["embedder"])
        min_confidence = float(meta.get("min_confidence", 0.4))
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise PolarityModelError(f"{folder}: not a polarity model folder ({exc})") from exc
    if not set(classes) <= set(CLASSES) or coef.shape[0] != len(classes):
        raise PolarityModelError(f"{folder}: classes must be among {CLASSES}, got {classes}")
    if intercept.shape != (len(classes),):
        raise PolarityModelError(f"{folder}: intercept does not match the classes")
    return PolarityModel(classes, coef, intercept, embedder, min_confidence, meta.get("info"))


def train_polarity_model(
    vectors: np.ndarray,
    labels: Sequence[str],
    embedder: str,
    *,
    c: float = 0.3,
    min_confidence: float = 0.4,
    info: dict | None = None,
    class_weight: str | None = None,
) -> PolarityModel:
    """Fit the classifier on L2-normalized embeddings and their labels (see ``CLASSES``).

    ``c`` is scikit-learn's inverse L2 strength; ``class_weight="balanced"`` weighs classes by
    their inverse frequency. lbfgs is deterministic, so the same vectors and labels give the
    same weights.
    """
    from sklearn.linear_model import LogisticRegression

    labels = np.asarray([str(x) for x in labels])
    unknown = sorted(set(labels) - set(CLASSES))
    if unknown:
        raise PolarityModelError(f"unknown labels {unknown}; use {CLASSES}")
    if len(set(labels)) < 2:
        raise PolarityModelError("need at least two classes to train a polarity model")
    clf = LogisticRegression(C=c, max_iter=5000, class_weight=class_weight)
    clf.fit(np.asarray(vectors, dtype=np.float64), labels)
    coef, intercept = clf.coef_, clf.intercept_
    if len(clf.classes_) == 2:  # binary: sklearn keeps one row; make it a 2-class softmax
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    return PolarityModel(
        tuple(str(x) for x in clf.classes_), coef, intercept, embedder, min_confidence, info
    )


def polarity_fallback(
    name_or_path: str | Path | None = DEFAULT_POLARITY_MODEL, store: RunStore | None = None
) -> Callable[[list[str]], list[str | None]] | None:
    """The lookup tagger's ``polarity_fallback``: embed sentences (through the run-state cache
    when a store is given) and classify them. ``None`` or ``"none"`` gives None (lexicon only).
    """
    if name_or_path is None or str(name_or_path).lower() == "none":
        return None
    model = load_polarity_model(name_or_path)

    def classify(texts: list[str]) -> list[str | None]:
        from koe.models.embedding_cache import embed_with_cache

        vectors, _ = embed_with_cache(texts, model.embedder, store)
        return model.predict(vectors)

    return classify
