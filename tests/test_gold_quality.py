"""Tagging quality on the dev gold set (tests/gold): a floor that guards against regressions.

Measured when the floor was set (lexicon + the default sentence polarity model, as `koe run`
and `koe tag` use them): micro F1 0.850, macro F1 0.844, polarity accuracy 0.908. Lexicon
alone: polarity accuracy 0.826. This is a dev set (the lists and lexicon were improved while
looking at it), so these numbers are optimistic for unseen comments.
"""

from __future__ import annotations

import pandas as pd

from koe.evaluate import evaluate_tags
from koe.ingest.normalize import normalize_text
from koe.models.polarity_model import polarity_fallback
from koe.taggers.lookup import LookupTagger, to_tags_csv
from koe.taggers.sentences import split_sentences

from .conftest import LOOKUP_LISTS, ROOT

GOLD = ROOT / "tests" / "gold"


def test_dev_gold_quality_floor():
    tagger = LookupTagger.from_folder(LOOKUP_LISTS, polarity_fallback())
    comments = pd.read_csv(GOLD / "dev_comments.csv", dtype=str, keep_default_na=False)
    comments["text"] = comments["text"].map(normalize_text)
    gold = pd.read_csv(GOLD / "dev_gold.csv", dtype=str)
    assert len(comments) >= 300
    pred = to_tags_csv(tagger.tag(split_sentences(comments)))
    result = evaluate_tags(gold, pred, comments["id"])
    assert result.micro_f1 >= 0.84
    assert result.polarity_accuracy >= 0.89
