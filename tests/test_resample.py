"""koe.analysis.resample (bootstrap over distinct rows) and the statistics computed on it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import sparse, stats
from sklearn.metrics import roc_auc_score

from koe.analysis.resample import distinct_rows, resample_counts
from koe.analysis.subscores import subscore_drivers


def test_distinct_rows_groups_flags_and_values_with_nan():
    flags = sparse.csr_matrix(np.array([[1, 0], [0, 1], [1, 0], [1, 0], [0, 0]]))
    value = np.array([3.0, 3.0, 3.0, np.nan, np.nan])
    first, code, counts = distinct_rows(flags, value)
    # rows 0 and 2 are equal; 3 differs from them by its NaN; 4 is alone
    assert code[0] == code[2]
    assert len({code[0], code[1], code[3], code[4]}) == 4
    assert counts.sum() == 5 and counts[code[0]] == 2
    assert sorted(first.tolist()) == [0, 1, 3, 4]
    assert np.array_equal(code[first], np.arange(first.size))


def test_distinct_rows_of_many_rows_and_wide_flags():
    rng = np.random.default_rng(0)
    dense = (rng.random((120_000, 70)) < 0.02).astype(np.int8)
    y = rng.random(120_000) < 0.3
    first, code, counts = distinct_rows(sparse.csr_matrix(dense), y)
    expected = pd.DataFrame(np.column_stack([dense, y])).drop_duplicates()
    assert first.size == len(expected)
    assert np.array_equal(dense[first][code], dense) and np.array_equal(y[first][code], y)
    assert counts.sum() == 120_000


def test_resample_counts_sum_to_n_and_average_to_the_counts():
    counts = np.array([5.0, 1.0, 14.0])
    draws = resample_counts(np.random.default_rng(1), counts, 4000)
    assert draws.shape == (4000, 3)
    assert (draws.sum(axis=1) == 20).all()
    assert np.allclose(draws.mean(axis=0), counts, atol=0.2)


def test_subscore_point_statistics_match_scipy_and_sklearn_with_ties_and_gaps():
    rng = np.random.default_rng(3)
    n = 400
    score = rng.integers(0, 11, n)
    speed = np.clip(np.round(score / 2 + rng.normal(0, 1.2, n)), 1, 5).astype(float)
    speed[rng.random(n) < 0.15] = np.nan
    frame = pd.DataFrame({"id": range(n), "score": score, "sub_speed": speed})
    row = subscore_drivers(frame, ["sub_speed"], n_boot=0).iloc[0]
    ok = ~np.isnan(speed)
    assert row["n"] == ok.sum()
    assert row["spearman"] == pytest.approx(
        stats.spearmanr(speed[ok], score[ok]).statistic, rel=1e-12
    )
    assert row["point_biserial"] == pytest.approx(
        np.corrcoef(speed[ok], score[ok] >= 9)[0, 1], rel=1e-12
    )
    assert row["auc"] == pytest.approx(roc_auc_score(score[ok] >= 9, speed[ok]), rel=1e-12)
