"""Tests of analysis.nps: NPS, its standard error, summaries per group and per period."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from koe.analysis.nps import (
    SUMMARY_COLUMNS,
    nps,
    nps_by,
    nps_by_period,
    nps_difference_test,
    nps_from_counts,
    nps_standard_error,
    nps_summary,
    nps_variance_from_counts,
)


def test_nps_hand_examples():
    # promoters 10, 9 (2); passives 8, 7; detractors 6, 0 (2): (2 - 2) / 6 · 100 = 0
    assert nps([10, 9, 8, 7, 6, 0]) == 0.0
    # 3 promoters, 1 detractor: (3 - 1) / 4 · 100 = 50
    assert nps([10, 10, 10, 0]) == 50.0
    assert nps([10]) == 100.0
    assert nps([6, 0]) == -100.0
    # 7 and 8 are passives: NPS 0, and 6 is the highest detractor score
    assert nps([7, 8]) == 0.0
    assert nps([9, 6]) == 0.0


def test_nps_empty_is_nan():
    assert math.isnan(nps([]))
    assert math.isnan(nps(pd.Series([], dtype="Int64")))
    assert math.isnan(nps([None, float("nan")]))


def test_nps_accepts_series_arrays_and_iterators_and_ignores_missing():
    s = pd.Series([10, pd.NA, 0, 9], dtype="Int64")
    # missing dropped: 10, 0, 9 -> (2 - 1) / 3 · 100
    assert nps(s) == pytest.approx(100 / 3)
    assert nps(np.array([10.0, np.nan, 0.0, 9.0])) == pytest.approx(100 / 3)
    assert nps(x for x in [10, 0, 9]) == pytest.approx(100 / 3)


def test_nps_rejects_out_of_range():
    with pytest.raises(ValueError, match=r"0\.\.10"):
        nps([10, 11])
    with pytest.raises(ValueError, match=r"0\.\.10"):
        nps_summary([-1, 5])


def test_standard_error_by_hand():
    # [10, 10, 10, 0]: p = 0.75, d = 0.25
    # Var = 100² · (p + d - (p - d)²) = 10000 · (1 - 0.25) = 7500
    # SE = sqrt(7500 / 4) = sqrt(1875) = 43.30127...
    assert nps_standard_error([10, 10, 10, 0]) == pytest.approx(math.sqrt(1875))
    # [10, 8, 6, 0, 9]: p = 0.4, d = 0.4 -> Var = 10000 · (0.8 - 0) = 8000; SE = sqrt(8000/5) = 40
    assert nps_standard_error([10, 8, 6, 0, 9]) == pytest.approx(40.0)
    # everyone in the same class: no variance
    assert nps_standard_error([10, 9, 10]) == 0.0
    assert nps_standard_error([7, 8]) == 0.0
    assert math.isnan(nps_standard_error([]))


def test_standard_error_matches_sample_variance_of_plus_minus_100():
    # NPS is the mean of +100 (promoter), 0 (passive), -100 (detractor); the formula is the
    # population variance of that variable divided by n.
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 11, 400)
    values = np.select([scores >= 9, scores <= 6], [100.0, -100.0], 0.0)
    assert nps(scores) == pytest.approx(values.mean())
    assert nps_standard_error(scores) == pytest.approx(values.std(ddof=0) / math.sqrt(400))


def test_count_helpers_vectorized():
    out = nps_from_counts(np.array([3, 0, 0]), np.array([1, 0, 0]), np.array([4, 2, 0]))
    assert out[0] == 50.0 and out[1] == 0.0 and math.isnan(out[2])
    var = nps_variance_from_counts(np.array([3, 0]), np.array([1, 0]), np.array([4, 0]))
    assert var[0] == pytest.approx(7500.0) and math.isnan(var[1])
    assert isinstance(nps_from_counts(1, 0, 1), float)


def test_nps_summary_hand_example_and_clipping():
    out = nps_summary([10, 10, 10, 0])
    assert tuple(out) == SUMMARY_COLUMNS
    assert (out["n"], out["promoters"], out["passives"], out["detractors"]) == (4, 3, 0, 1)
    assert out["nps"] == 50.0
    se = math.sqrt(1875)
    assert out["se"] == pytest.approx(se)
    # 50 - 1.96 · 43.30 = -34.87; 50 + 84.87 = 134.87 -> clipped to 100
    assert out["ci_low"] == pytest.approx(50 - 1.959963984540054 * se)
    assert out["ci_high"] == 100.0
    assert out["small_n"] is True
    assert nps_summary([10, 10, 10, 0], min_n=4)["small_n"] is False


def test_nps_summary_empty():
    out = nps_summary([])
    assert out["n"] == 0 and out["promoters"] == 0
    assert math.isnan(out["nps"]) and math.isnan(out["se"])
    assert math.isnan(out["ci_low"]) and math.isnan(out["ci_high"])
    assert out["small_n"] is True


@pytest.fixture
def comments() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["a", "b", "c", "d", "e", "f", "g"],
            "score": pd.array([10, 9, 0, 7, None, 3, 10], dtype="Int64"),
            "plan": ["pro", "pro", "free", None, "free", "free", "pro"],
            "size": ["s", "l", "s", "s", "s", "s", "s"],
            "date": pd.to_datetime(
                [
                    "2024-01-01",  # Monday
                    "2024-01-07",  # Sunday, same ISO week
                    "2024-01-08",  # Monday, next week
                    None,
                    "2024-01-29",
                    "2024-02-03",
                    None,
                ]
            ),
        }
    )


def test_nps_by_one_column(comments):
    before = comments.copy()
    out = nps_by(comments, "plan", min_n=3)
    pd.testing.assert_frame_equal(comments, before)  # input untouched
    assert list(out.columns) == ["plan", *SUMMARY_COLUMNS]
    # sorted keys, missing plan is its own (last) group; e (no score) is dropped
    assert out["plan"].iloc[:2].tolist() == ["free", "pro"]
    assert pd.isna(out["plan"].iloc[2])
    free, pro, unknown = (out.iloc[i] for i in range(3))
    # free: 0, 3 -> two detractors -> -100
    assert (free["n"], free["detractors"], free["nps"]) == (2, 2, -100.0)
    assert bool(free["small_n"]) is True
    # pro: 10, 9, 10 -> 100, n = 3 is not small with min_n = 3
    assert (pro["n"], pro["promoters"], pro["nps"]) == (3, 3, 100.0)
    assert bool(pro["small_n"]) is False
    assert (unknown["n"], unknown["passives"], unknown["nps"]) == (1, 1, 0.0)


def test_nps_by_two_columns(comments):
    out = nps_by(comments, ["plan", "size"])
    assert list(out.columns[:2]) == ["plan", "size"]
    pro_l = out[(out["plan"] == "pro") & (out["size"] == "l")].iloc[0]
    assert (pro_l["n"], pro_l["nps"]) == (1, 100.0)
    assert out["n"].sum() == 6


def test_nps_by_empty_and_missing_column(comments):
    out = nps_by(comments.iloc[:0], "plan")
    assert out.empty and list(out.columns) == ["plan", *SUMMARY_COLUMNS]
    with pytest.raises(KeyError):
        nps_by(comments, "nope")


def test_nps_by_period_weeks_start_monday_and_gaps(comments):
    before = comments.copy()
    out = nps_by_period(comments, "W", min_n=2)
    pd.testing.assert_frame_equal(comments, before)
    assert list(out.columns) == ["period", *SUMMARY_COLUMNS]
    assert out["period"].tolist() == list(
        pd.to_datetime(["2024-01-01", "2024-01-08", "2024-01-15", "2024-01-22", "2024-01-29"])
    )
    assert (out["period"].dt.day_of_week == 0).all()
    # week of Jan 1: a (10) and b (9, a Sunday) -> 100
    assert (out["n"].iloc[0], out["nps"].iloc[0]) == (2, 100.0)
    assert bool(out["small_n"].iloc[0]) is False
    # Jan 8: c (0) -> -100; Jan 15 and 22: empty gap weeks; Jan 29: e has no score, f (3, a
    # Saturday Feb 3) -> -100
    assert out["n"].tolist() == [2, 1, 0, 0, 1]
    assert math.isnan(out["nps"].iloc[2]) and bool(out["small_n"].iloc[2]) is True
    assert out["nps"].iloc[4] == -100.0
    # undated but scored: d (7) and g (10)
    unknown = out.attrs["unknown_date"]
    assert (unknown["n"], unknown["passives"], unknown["promoters"], unknown["nps"]) == (
        2,
        1,
        1,
        50.0,
    )
    assert out.attrs["period"] == "W"


def test_nps_by_period_without_gap_filling(comments):
    out = nps_by_period(comments, "W", fill_gaps=False)
    assert out["n"].tolist() == [2, 1, 1]


def test_nps_by_period_months_and_segments(comments):
    out = nps_by_period(comments, "M", by="plan")
    assert list(out.columns[:2]) == ["period", "plan"]
    # free: Jan (c: 0), Feb (f: 3); pro: Jan (a, b), Feb filled with n = 0
    assert out["plan"].tolist() == ["free", "free", "pro", "pro"]
    assert out["period"].dt.strftime("%Y-%m-%d").tolist() == [
        "2024-01-01",
        "2024-02-01",
        "2024-01-01",
        "2024-02-01",
    ]
    assert out["n"].tolist() == [1, 1, 2, 0]
    assert out["nps"].iloc[:3].tolist() == [-100.0, -100.0, 100.0]


def test_nps_by_period_timezone_and_strings():
    frame = pd.DataFrame(
        {
            "score": [10, 0, 9],
            # 2024-01-07 23:30 in Tokyo is still the Sunday week of Jan 1 locally
            "date": pd.to_datetime(
                ["2024-01-07 23:30", "2024-01-08 00:10", "2024-01-02 12:00"]
            ).tz_localize("Asia/Tokyo"),
        }
    )
    out = nps_by_period(frame, "W")
    assert out["n"].tolist() == [2, 1]
    as_text = frame.assign(date=["2024-01-07", "not a date", "2024-01-02"])
    out = nps_by_period(as_text, "W")
    assert out["n"].tolist() == [2] and out.attrs["unknown_date"]["n"] == 1


def test_nps_by_period_all_undated_and_bad_period(comments):
    out = nps_by_period(comments.assign(date=pd.NaT), "W")
    assert out.empty and list(out.columns) == ["period", *SUMMARY_COLUMNS]
    assert out.attrs["unknown_date"]["n"] == 6
    with pytest.raises(ValueError, match="period"):
        nps_by_period(comments, "fortnight")


def test_difference_test_small_pure_group_is_not_certain():
    # 5 comments, all detractors (plain variance 0), vs 100 with P 30, D 30: difference -100.
    #   A plain Wald test would give z = 100 / sqrt(0 + 6000/100) = 12.9, p ~ 1e-38.
    #   Adjusted Wald: (P .75, D 5.75, n 8): p .09375, d .71875, Var = 100²(.8125 - .390625)
    #   = 4218.75 -> /8 = 527.34; (P 30.75, D 30.75, n 103): Var = 100²·61.5/103 = 5970.9 ->
    #   /103 = 57.97; z = 100 / sqrt(585.31) = 4.1334; p = 3.575e-5
    diff, p = nps_difference_test(0, 5, 5, 30, 30, 100)
    assert diff == pytest.approx(-100.0)
    assert p == pytest.approx(3.575e-5, rel=1e-3)
    # an empty group: NaN
    diff, p = nps_difference_test(0, 0, 0, 30, 30, 100)
    assert np.isnan(diff) and np.isnan(p)
