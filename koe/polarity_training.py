"""``koe polarity train``: fit the sentence polarity model on a team's own comments.

koe's default sentence model (models/default_polarity) was trained on tourism answers; a B2B
team can fit one on its own survey instead. Labels are either given (``label_col``: positive /
neutral / negative, or ポジティブ / 中立 / ネガティブ) or distant, from the comment's 0-10 score:

* every sentence of a promoter's comment (score >= ``promoter_min``) is positive and of a
  detractor's (score <= ``detractor_max``) negative; passives are left out;
* a sentence is dropped when it is a request (〜してほしい: a wish, not a verdict), a
  non-answer, or when koe's lexicon reads the opposite sign in it (「サポートは良いが…」 from a
  detractor); a text that gets both labels is dropped;
* what was dropped, and why, is counted: that is the label noise koe could see.

The analysts' polarity decisions (``koe review``, RunStore.decisions) are labels too
(:func:`with_decisions`): a decided sentence takes the analyst's polarity, replacing a distant
label of the same sentence.

The fit is models.polarity_model.train_polarity_model on the embedder's vectors, classes
weighed by their inverse frequency (a survey has more promoters than detractors); the model
folder records the data, counts and a cross-validated accuracy on those (distant) labels,
which measures agreement with the labels, not correctness.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from koe.ingest.normalize import is_non_answer, normalize_text
from koe.models.polarity_model import CLASSES, PolarityModel, PolarityModelError
from koe.taggers.polarity import PolarityLexicon, sentence_polarity
from koe.taggers.sentences import split_text
from koe.taggers.tokenize import detect_language, tokenize

if TYPE_CHECKING:
    from koe.store import RunStore

LABEL_NAMES = {"positive": "positive", "neutral": "neutral", "negative": "negative",
               "ポジティブ": "positive", "中立": "neutral", "ネガティブ": "negative",
               "pos": "positive", "neu": "neutral", "neg": "negative"}  # fmt: skip
MIN_PER_CLASS = 20


@dataclass
class TrainingSet:
    """Sentences and their labels, with the counts of what was kept and dropped."""

    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    dropped: Counter = field(default_factory=Counter)
    reviewed: int = 0  # sentences labelled by an analyst's decision

    def counts(self) -> dict[str, int]:
        return dict(sorted(Counter(self.labels).items()))


def _label_of(value: str) -> str | None:
    return LABEL_NAMES.get(normalize_text(str(value)).strip().casefold())


def training_set(texts: Sequence[str], lexicon: PolarityLexicon, *,
                 scores: Sequence[float] | None = None, labels: Sequence[str] | None = None,
                 promoter_min: int = 9, detractor_max: int = 6) -> TrainingSet:  # fmt: skip
    """The sentences to train on (see the module docstring): from ``labels`` (one per text,
    the text kept whole) or from ``scores`` (distant labels, sentence by sentence)."""
    out = TrainingSet()
    seen: dict[str, str] = {}
    for n, raw in enumerate(texts):
        text = normalize_text(str(raw))
        if not text or is_non_answer(text):
            out.dropped["non_answer"] += 1
            continue
        if labels is not None:
            label = _label_of(labels[n])
            if label is None:
                out.dropped["unknown_label"] += 1
                continue
            pieces = [(text, label)]
        else:
            score = float(scores[n]) if scores is not None else float("nan")
            if score >= promoter_min:
                label = "positive"
            elif score <= detractor_max:
                label = "negative"
            else:
                out.dropped["passive" if score == score else "no_score"] += 1
                continue
            pieces = [(text[a:b], label) for a, b in split_text(text)]
        for sentence, label in pieces:
            if labels is None:
                pol = sentence_polarity(tokenize(sentence, detect_language(sentence)), lexicon)
                if pol.is_request:
                    out.dropped["request"] += 1
                    continue
                if pol.found and (pol.score > 0) != (label == "positive"):
                    out.dropped["contradicts_lexicon"] += 1
                    continue
            if seen.setdefault(sentence, label) != label:
                out.dropped["conflicting_labels"] += 1
                seen[sentence] = ""  # both labels: dropped wherever it is
                continue
    for sentence, label in seen.items():
        if label:
            out.texts.append(sentence)
            out.labels.append(label)
    return out


def with_decisions(data: TrainingSet, decisions: Any) -> TrainingSet:
    """``data`` with the active ``polarity`` decisions (RunStore.decisions, oldest first) as
    labels: the latest decision on a sentence wins, over a distant label too."""
    decided: dict[str, str] = {}
    for d in decisions.itertuples(index=False):
        if d.action == "polarity" and d.polarity in CLASSES:
            decided[d.sentence] = d.polarity
    labels = dict(zip(data.texts, data.labels, strict=True))
    labels.update(decided)
    return TrainingSet(list(labels), list(labels.values()), Counter(data.dropped),
                       reviewed=len(decided))  # fmt: skip


def train_on(data: TrainingSet, embedder: str, store: RunStore | None = None, *,
             c: float = 0.3, folds: int = 5, seed: int = 0,
             source: str = "") -> PolarityModel:  # fmt: skip
    """Fit the model on ``data``; its info holds the counts and the cross-validated accuracy
    and macro-F1 on these labels. Raises PolarityModelError with fewer than MIN_PER_CLASS
    sentences in a class or fewer than two classes."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from koe.models.embedding_cache import embed_with_cache
    from koe.models.polarity_model import train_polarity_model

    counts = data.counts()
    small = {k: v for k, v in counts.items() if v < MIN_PER_CLASS}
    if len(counts) < 2 or small:
        raise PolarityModelError(
            f"need at least {MIN_PER_CLASS} sentences in each of two classes or more; got "
            f"{counts or 'none'} (dropped: {dict(data.dropped) or 'none'})")  # fmt: skip
    vectors, _ = embed_with_cache(data.texts, embedder, store)
    labels = np.asarray(data.labels)
    splits = StratifiedKFold(n_splits=min(folds, min(counts.values())), shuffle=True,
                             random_state=seed)  # fmt: skip
    fit = LogisticRegression(C=c, max_iter=5000, class_weight="balanced")
    guess = cross_val_predict(fit, vectors, labels, cv=splits)
    info = {
        "trained_on": source,
        "sentences": counts,
        "dropped": dict(sorted(data.dropped.items())),
        "review_labels": data.reviewed,
        "cv_accuracy_on_these_labels": round(float(accuracy_score(labels, guess)), 4),
        "cv_macro_f1_on_these_labels": round(float(f1_score(labels, guess, average="macro")), 4),
        "c": c,
    }
    return train_polarity_model(vectors, labels, embedder, c=c, info=info, class_weight="balanced")


__all__ = ["CLASSES", "TrainingSet", "train_on", "training_set", "with_decisions"]
