"""Comment sentiment on its own (``koe sentiment``; tagged.parquet's ``sentiment`` column).

A comment's sentiment is read sentence by sentence, as theme polarity is:

1. the lexicon (lookup_lists/polarity.yaml, with negation and requests): a sentence with a
   sentiment word scores +1 / -1 (0 when they cancel out or it is a plain request);
2. the sentence polarity model where no sentiment word is in the sentence: its p(positive) -
   p(negative), when the model is confident enough (else the sentence does not count).

The comment's ``score`` is the mean over the sentences that counted, in [-1, 1]; ``polarity`` is
positive above +0.1, negative below -0.1, else neutral; ``source`` is ``model`` when any
sentence was read by the model, else ``lexicon``. Non-answers (特になし) and comments without a
counted sentence are neutral with score 0.

SentimentFrame columns: id (str), polarity (positive | neutral | negative), score (float in
[-1, 1]), source (lexicon | model). The ``koe sentiment`` file contract.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from koe.ingest.normalize import is_non_answer
from koe.taggers.polarity import PolarityLexicon, sentence_polarity
from koe.taggers.sentences import split_text
from koe.taggers.tokenize import detect_language, tokenize

SENTIMENT_COLUMNS = ("id", "polarity", "score", "source")
NEUTRAL_BAND = 0.1

# texts -> (n, classes) probabilities and the class names; None: lexicon only
Scorer = Callable[[list[str]], tuple[np.ndarray, Sequence[str]]]


def model_scorer(name_or_path: str | None, store=None) -> Scorer | None:
    """The sentence polarity model as a scorer (``None`` / "none": the lexicon alone)."""
    if name_or_path is None or str(name_or_path).lower() == "none":
        return None
    from koe.models.embedding_cache import embed_with_cache
    from koe.models.polarity_model import load_polarity_model

    model = load_polarity_model(name_or_path)

    def score(texts: list[str]) -> tuple[np.ndarray, Sequence[str]]:
        vectors, _ = embed_with_cache(texts, model.embedder, store)
        proba = model.predict_proba(vectors)
        proba[proba.max(axis=1) < model.min_confidence] = np.nan  # not confident: no vote
        return proba, model.classes

    return score


def comment_sentiment(
    ids: Sequence[str], texts: Sequence[str], lexicon: PolarityLexicon, scorer: Scorer | None
) -> pd.DataFrame:
    """A SentimentFrame, one row per (id, text), in input order (each distinct text is read
    once)."""
    codes, distinct = pd.factorize(pd.Series(list(texts), dtype=object))
    frame = _distinct_sentiment(list(distinct), lexicon, scorer)
    out = frame.iloc[codes].reset_index(drop=True) if len(codes) else frame.iloc[0:0]
    return pd.concat([pd.DataFrame({"id": list(ids)}), out.reset_index(drop=True)], axis=1)


def _distinct_sentiment(
    texts: list[str], lexicon: PolarityLexicon, scorer: Scorer | None
) -> pd.DataFrame:
    votes: list[list[float]] = [[] for _ in texts]
    by_model: list[bool] = [False] * len(texts)
    open_sentences: dict[str, list[int]] = {}  # sentence -> comments waiting for the model
    for n, text in enumerate(texts):
        if is_non_answer(text):
            continue
        for start, end in split_text(text):
            sentence = text[start:end]
            pol = sentence_polarity(tokenize(sentence, detect_language(sentence)), lexicon)
            if pol.found:
                votes[n].append(float(np.sign(pol.score)))
            elif not pol.is_request:
                open_sentences.setdefault(sentence, []).append(n)
    if scorer is not None and open_sentences:
        sentences = list(open_sentences)
        proba, classes = scorer(sentences)
        pos, neg = list(classes).index("positive"), list(classes).index("negative")
        for sentence, row in zip(sentences, proba, strict=True):
            if np.isnan(row).any():
                continue
            for n in open_sentences[sentence]:
                votes[n].append(float(row[pos] - row[neg]))
                by_model[n] = True
    scores = [round(float(np.mean(v)), 4) if v else 0.0 for v in votes]
    polarity = ["positive" if s > NEUTRAL_BAND else "negative" if s < -NEUTRAL_BAND else "neutral"
                for s in scores]  # fmt: skip
    return pd.DataFrame({
        "polarity": polarity, "score": scores,
        "source": ["model" if m else "lexicon" for m in by_model],
    })  # fmt: skip


@dataclass
class SentimentResult:
    """Counts of a ``sentiment_table`` run."""

    rows: int = 0
    written: int = 0
    quarantined: int = 0
    by_polarity: dict[str, int] = field(default_factory=dict)


def sentiment_table(
    path: Path,
    out: Path,
    lexicon: PolarityLexicon,
    scorer: Scorer | None,
    *,
    id_col: str = "id",
    text_col: str = "text",
    chunk_rows: int = 50_000,
    quarantine_out: Path | None = None,
) -> SentimentResult:
    """Stream ``path`` ``chunk_rows`` rows at a time and write one SentimentFrame row per
    accepted row to ``out``; rows that cannot be read (koe.ingest's id and text rules, a
    repeated id included) go to ``quarantine_out`` (default ``<out stem>.quarantine.csv``) with
    their reason. Memory grows with the input's ids only. Both files are written atomically.
    """
    from koe.batch import TagTableResult, accepted_pieces, atomic_outputs, quarantine_path
    from koe.core.csvio import write_csv
    from koe.core.safety import safe_for_spreadsheet

    if chunk_rows < 1:
        raise ValueError("chunk_rows must be >= 1")
    result = SentimentResult()
    read = TagTableResult()  # rows read and quarantined, as koe tag counts them
    with atomic_outputs(out, quarantine_out or quarantine_path(out)) as (handle, quarantine):
        write_csv(pd.DataFrame(columns=list(SENTIMENT_COLUMNS)), handle)
        for comments in accepted_pieces(Path(path), id_col, text_col, chunk_rows, read,
                                        quarantine):  # fmt: skip
            frame = comment_sentiment(list(comments["id"]), list(comments["text"]), lexicon,
                                      scorer)  # fmt: skip
            write_csv(safe_for_spreadsheet(frame), handle, header=False)
            result.written += len(frame)
            for name, count in frame["polarity"].value_counts().items():
                result.by_polarity[name] = result.by_polarity.get(name, 0) + int(count)
    result.rows, result.quarantined = read.rows, read.quarantined
    return result
