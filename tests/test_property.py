"""Property-based: random rows through ingest (several files at once) and lookup tagging.

Random unicode text (NUL, emoji, huge strings), scores (NaN, strings, out of range), ids
(duplicates within and across files, blanks): no exception escapes, and every input row is
accounted for — accepted (then tagged or not) or quarantined, never both, never lost.
"""

from __future__ import annotations

import math

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from koe.ingest import QUARANTINE_REASONS, ColumnMapping
from koe.ingest.normalize import is_non_answer
from koe.ingest.sources import RawInput, prepare_sources
from koe.taggers.sentences import split_sentences

_text = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.text(alphabet="返信が遅い。料金は高いが、担当者は丁寧\x00😭👍 \n\tNot slow, no complaints.",
            max_size=60),
    st.sampled_from(["", "特になし", "問合せの返信が遅くないし、不満はない", "🙏" * 3, "\x00"]),
    st.integers(1, 30_000).map(lambda n: "遅い" * n),  # up to 60,000 characters
)  # fmt: skip
_score = st.one_of(
    st.none(),
    st.integers(-5, 15).map(str),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["NaN", "nan", "10点", "９", "abc", " 7 ", "1e1", "", "-0"]),
    st.text(max_size=5),
)
_id = st.one_of(
    st.none(), st.sampled_from(["a", "b", "c", "", " ", "Ａ", "a "]), st.text(max_size=3)
)
_rows = st.lists(st.tuples(_id, _text, _score), max_size=12)


def _table(rows: list[tuple]) -> pd.DataFrame:
    cell = lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)  # noqa: E731
    return pd.DataFrame([[cell(v) for v in row] for row in rows], columns=["id", "text", "score"],
                        dtype=str)  # fmt: skip


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files=st.lists(_rows, min_size=1, max_size=3), folder=st.booleans())
def test_random_rows_are_all_accounted_for_through_ingest_and_tagging(tagger, files, folder):
    tables = [(f"/exports/day{i}.csv", _table(rows)) for i, rows in enumerate(files)]
    raw = RawInput("folder" if folder else "file", "/exports", tables)
    comments, quarantine, origins = prepare_sources(raw, ColumnMapping(date=None))
    n_input = sum(len(t) for _, t in tables)
    assert len(comments) + len(quarantine) == n_input == raw.rows
    assert len(origins) == len(comments)
    assert comments["id"].is_unique  # first wins, within and across files
    assert set(quarantine["reason"]) <= set(QUARANTINE_REASONS)
    assert comments["score"].between(0, 10).all()
    answers = comments[~comments["text"].map(is_non_answer).astype(bool)]
    tags = tagger.tag(split_sentences(answers))
    assert set(tags["id"]) <= set(answers["id"])
    assert tags["polarity"].isin(["positive", "negative", "neutral"]).all()
    for row in tags.itertuples():
        text = answers.set_index("id").loc[row.id, "text"]
        assert 0 <= row.start < row.end <= len(text)
