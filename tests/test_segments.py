"""Tests of analysis.segments.segment_table: values computed by hand on a 10-respondent table."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from koe.analysis.drivers import DRIVER_COLUMNS
from koe.analysis.nps import nps_summary
from koe.analysis.segments import (
    ALL,
    MISSING_VALUE,
    NPS_TREND_COLUMNS,
    SEGMENT_COLUMNS,
    SEGMENT_DRIVER_COLUMNS,
    nps_trend,
    segment_drivers,
    segment_table,
)

# ---------------------------------------------------------------------------------------------
# The hand table (c11 has no score and is dropped everywhere):
#   id     score class plan     trouble asked
#   c01      10   P    pro      yes     yes
#   c02       9   P    pro      no      no
#   c03      10   P    pro      no      no
#   c04       8   Pa   pro      yes     no
#   c05       6   D    free     yes     yes
#   c06       3   D    free     yes     yes
#   c07       7   Pa   free     no      no
#   c08       9   P    free     no      no
#   c09       0   D    free     yes     no
#   c10      10   P    <NA>     no      no
#   c11      --        pro      yes     yes
# Overall: P 5 (c01 c02 c03 c08 c10), Pa 2 (c04 c07), D 3 (c05 c06 c09), n 10 -> NPS 20.
# ---------------------------------------------------------------------------------------------


def hand_comments() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [f"c{i:02d}" for i in range(1, 12)],
            "score": pd.array([10, 9, 10, 8, 6, 3, 7, 9, 0, 10, None], dtype="Int64"),
            "plan": ["pro"] * 4 + ["free"] * 5 + [None, "pro"],
            "trouble": ["yes", "no", "no", "yes", "yes", "yes", "no", "no", "yes", "no", "yes"],
            "asked": ["yes", "no", "no", "no", "yes", "yes", "no", "no", "no", "no", "yes"],
        }
    )


def wald_p(diff: float, p_a: int, d_a: int, n_a: int, p_b: int, d_b: int, n_b: int) -> float:
    """Adjusted-Wald p-value: each group's variance from counts P + 3/4, D + 3/4, n + 3."""

    def var(p: int, d: int, n: int) -> float:
        pp, dd = (p + 0.75) / (n + 3), (d + 0.75) / (n + 3)
        return 10_000 * (pp + dd - (pp - dd) ** 2) / (n + 3)

    z = abs(diff) / math.sqrt(var(p_a, d_a, n_a) + var(p_b, d_b, n_b))
    return math.erfc(z / math.sqrt(2))


def row(table: pd.DataFrame, segment: str, value: str) -> pd.Series:
    hit = table[(table["segment"] == segment) & (table["value"] == value)]
    assert len(hit) == 1, (segment, value)
    return hit.iloc[0]


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return segment_table(hand_comments(), ["plan"], combos=[["trouble", "asked"]], min_n=3)


def test_columns_rows_and_order(table):
    assert tuple(table.columns) == SEGMENT_COLUMNS
    # segments alphabetically ("plan" < "trouble×asked"); values in natural order, missing last;
    # the combination no×yes does not occur and gets no row
    assert list(zip(table["segment"], table["value"], strict=True)) == [
        ("plan", "free"),
        ("plan", "pro"),
        ("plan", MISSING_VALUE),
        ("trouble×asked", "no×no"),
        ("trouble×asked", "yes×no"),
        ("trouble×asked", "yes×yes"),
    ]
    assert table["n"].dtype == "int64" and table["small_n"].dtype == bool
    # every single segment partitions the 10 scored respondents (c11 has no score)
    assert table.groupby("segment")["n"].sum().tolist() == [10, 10]


def test_plan_pro_by_hand(table):
    r = row(table, "plan", "pro")
    # c01 10, c02 9, c03 10, c04 8 (c11 has no score) -> P 3, Pa 1, D 0, n 4
    assert (r["n"], r["promoters"], r["passives"], r["detractors"]) == (4, 3, 1, 0)
    # NPS = (3 - 0) / 4 · 100 = 75
    assert r["nps"] == pytest.approx(75.0)
    # Var = 100²·(.75 + 0 - .75²) = 1875; se = sqrt(1875 / 4) = 21.651
    assert r["se"] == pytest.approx(math.sqrt(1875 / 4))
    # CI = 75 ± 1.96·21.651 = [32.56, 117.4] -> clipped to 100
    assert r["ci_low"] == pytest.approx(75 - 1.959964 * math.sqrt(1875 / 4), abs=1e-4)
    assert r["ci_high"] == 100.0
    # rest: c05 6, c06 3, c07 7, c08 9, c09 0, c10 10 -> P 2, Pa 1, D 3, n 6: NPS -16.67
    #   nps_vs_rest = 75 - (-16.67) = 91.67
    assert r["nps_vs_rest"] == pytest.approx(75 + 100 / 6)
    # adjusted Wald: group P 3.75, D .75, n 7 -> Var = 100²·(4.5/7 - (3/7)²) = 4591.8;
    #   rest P 2.75, D 3.75, n 9 -> Var = 100²·(6.5/9 - (1/9)²) = 7098.8
    #   z = 91.67 / sqrt(4591.8/7 + 7098.8/9) = 91.67 / 38.01 = 2.412; p = 0.0159
    p = wald_p(75 + 100 / 6, 3, 0, 4, 2, 3, 6)
    assert p == pytest.approx(0.0159, abs=1e-4)
    assert r["p_value"] == pytest.approx(p)
    assert not r["small_n"]


def test_plan_free_and_missing_by_hand(table):
    free = row(table, "plan", "free")
    # c05 6, c06 3, c07 7, c08 9, c09 0 -> P 1, Pa 1, D 3, n 5: NPS (1 - 3)/5 = -40
    assert (free["n"], free["promoters"], free["passives"], free["detractors"]) == (5, 1, 1, 3)
    assert free["nps"] == pytest.approx(-40.0)
    # rest: c01-c04, c10 -> P 4, Pa 1, D 0: NPS 80; difference -120
    assert free["nps_vs_rest"] == pytest.approx(-120.0)
    # adjusted Wald on (P 1, D 3, n 5) vs (P 4, D 0, n 5)
    assert free["p_value"] == pytest.approx(wald_p(-120, 1, 3, 5, 4, 0, 5))

    missing = row(table, "plan", MISSING_VALUE)
    # c10 alone: n 1 < min_n 3 -> small_n; statistics still shown, no p-value
    assert (missing["n"], missing["nps"], missing["se"]) == (1, 100.0, 0.0)
    assert missing["small_n"]
    # rest: the 9 others, P 4 D 3 -> 11.11; difference 88.89
    assert missing["nps_vs_rest"] == pytest.approx(100 - 100 / 9)
    assert math.isnan(missing["p_value"]) and math.isnan(missing["q_value"])


def test_combo_rows_by_hand(table):
    yy = row(table, "trouble×asked", "yes×yes")
    # c01 10, c05 6, c06 3 (c11 unscored) -> P 1, D 2, n 3: NPS -33.33
    assert (yy["n"], yy["promoters"], yy["detractors"]) == (3, 1, 2)
    assert yy["nps"] == pytest.approx(-100 / 3)
    # rest: P 4 (c02 c03 c08 c10), Pa 2, D 1 (c09), n 7 -> 42.86; difference -76.19
    assert yy["nps_vs_rest"] == pytest.approx(-100 / 3 - 300 / 7)
    assert yy["p_value"] == pytest.approx(wald_p(-100 / 3 - 300 / 7, 1, 2, 3, 4, 1, 7))

    nn = row(table, "trouble×asked", "no×no")
    # c02 9, c03 10, c07 7, c08 9, c10 10 -> P 4, Pa 1: NPS 80
    assert (nn["n"], nn["nps"]) == (5, 80.0)
    yn = row(table, "trouble×asked", "yes×no")
    # c04 8, c09 0 -> Pa 1, D 1: NPS -50; n 2 < 3 -> small_n
    assert (yn["n"], yn["nps"], yn["small_n"]) == (2, -50.0, True)


def test_q_values_are_bh_over_rows_with_a_p_value(table):
    has_p = table["p_value"].notna()
    # 4 rows with a p-value: plan free, plan pro, no×no, yes×yes (the two small_n rows have none)
    assert has_p.sum() == 4
    np.testing.assert_allclose(
        table.loc[has_p, "q_value"], stats.false_discovery_control(table.loc[has_p, "p_value"])
    )
    assert table.loc[~has_p, "q_value"].isna().all()


def test_statistics_match_nps_summary(table):
    comments = hand_comments()
    for value, frame in comments.groupby("plan"):
        expected = nps_summary(frame["score"], min_n=3)
        r = row(table, "plan", value)
        for key in ("n", "nps", "se", "ci_low", "ci_high", "small_n"):
            assert r[key] == pytest.approx(expected[key]), (value, key)


def test_three_way_combo_and_value_text():
    comments = hand_comments().assign(
        satisfied=[True, False, True, False, True, False, True, False, True, False, True],
        size=[10.0, 10.0, 200.0, 200.0, 30.0, 30.0, 30.0, np.nan, 10.0, 10.0, 10.0],
    )
    t = segment_table(
        comments, ["size", "satisfied"], combos=[["trouble", "asked", "satisfied"]], min_n=1
    )
    # floats that are whole numbers print without ".0"; numbers sort numerically; NaN last
    assert t.loc[t["segment"] == "size", "value"].tolist() == ["10", "30", "200", MISSING_VALUE]
    # booleans: False before True
    assert t.loc[t["segment"] == "satisfied", "value"].tolist() == ["False", "True"]
    three = t[t["segment"] == "trouble×asked×satisfied"]
    # yes×yes×True: c01 (10), c05 (6) -> NPS 0
    r = row(three, "trouble×asked×satisfied", "yes×yes×True")
    assert (r["n"], r["nps"]) == (2, 0.0)
    assert three["n"].sum() == 10


def test_single_value_segment_has_no_rest():
    t = segment_table(hand_comments().assign(country="JP"), ["country"], min_n=1)
    assert len(t) == 1 and t["n"].iloc[0] == 10 and t["nps"].iloc[0] == pytest.approx(20.0)
    assert math.isnan(t["nps_vs_rest"].iloc[0]) and math.isnan(t["p_value"].iloc[0])


def test_duplicate_specs_and_combo_of_one_column():
    a = segment_table(hand_comments(), ["plan"], combos=[["plan"]], min_n=3)
    b = segment_table(hand_comments(), ["plan"], min_n=3)
    pd.testing.assert_frame_equal(a, b)


def test_empty_and_errors():
    empty = segment_table(hand_comments(), [])
    assert empty.empty and tuple(empty.columns) == SEGMENT_COLUMNS
    unscored = hand_comments().assign(score=pd.array([None] * 11, dtype="Int64"))
    out = segment_table(unscored, ["plan"])
    assert out.empty and tuple(out.columns) == SEGMENT_COLUMNS
    with pytest.raises(KeyError):
        segment_table(hand_comments(), ["nope"])
    with pytest.raises(KeyError):
        segment_table(hand_comments(), ["plan"], combos=[["plan", "nope"]])
    with pytest.raises(ValueError):
        segment_table(hand_comments(), ["plan"], combos=[[]])
    with pytest.raises(ValueError):
        segment_table(hand_comments(), [], combos=[["plan", "plan"]])
    with pytest.raises(ValueError, match=r"0\.\.10"):
        segment_table(hand_comments().assign(score=11), ["plan"])


def test_input_untouched_and_default_min_n():
    comments = hand_comments()
    before = comments.copy()
    t = segment_table(comments, ["plan", "trouble"])
    pd.testing.assert_frame_equal(comments, before)
    # default min_n = 30: every group of this table is small, so no p-values
    assert t["small_n"].all() and t["p_value"].isna().all()


def dated_comments() -> pd.DataFrame:
    # c01-c05 in the week of Mon 2026-10-05, c06-c10 in the week of 10-12 (c11 unscored)
    days = ["2026-10-05", "2026-10-06", "2026-10-07", "2026-10-08", "2026-10-11"]
    days += ["2026-10-12", "2026-10-13", "2026-10-14", "2026-10-15", "2026-10-18", "2026-10-18"]
    return hand_comments().assign(date=pd.to_datetime(days))


def test_nps_trend_overall_and_per_segment_by_hand():
    t = nps_trend(dated_comments(), ["plan"], periods=("W", "M"), min_n=3)
    assert tuple(t.columns) == NPS_TREND_COLUMNS
    weeks = t[(t["period_type"] == "W") & (t["segment"] == ALL)]
    # week 1: c01 10, c02 9, c03 10, c04 8, c05 6 -> P 3, D 1, n 5: NPS 40
    # week 2: c06 3, c07 7, c08 9, c09 0, c10 10 -> P 2, D 2, n 5: NPS 0
    assert weeks["period"].tolist() == [pd.Timestamp("2026-10-05"), pd.Timestamp("2026-10-12")]
    assert weeks["nps"].tolist() == pytest.approx([40.0, 0.0])
    assert weeks["value"].tolist() == [ALL, ALL]
    # plan pro in week 1: c01 c02 c03 c04 -> NPS 75; not in week 2 (c11 unscored): n 0, NaN
    pro = t[(t["period_type"] == "W") & (t["segment"] == "plan") & (t["value"] == "pro")]
    assert pro["n"].tolist() == [4, 0]
    assert pro["nps"].iloc[0] == pytest.approx(75.0) and math.isnan(pro["nps"].iloc[1])
    # plan free: week 1 c05 6 -> -100 (n 1, small_n); week 2 c06 c07 c08 c09 -> (1 - 2)/4 = -25
    free = t[(t["period_type"] == "W") & (t["segment"] == "plan") & (t["value"] == "free")]
    assert free["nps"].tolist() == pytest.approx([-100.0, -25.0])
    assert free["small_n"].tolist() == [True, False]
    assert set(t.loc[t["segment"] == "plan", "value"]) == {"pro", "free", MISSING_VALUE}
    # month: one October row overall, NPS 20 as in the whole table
    month = t[(t["period_type"] == "M") & (t["segment"] == ALL)]
    assert month["nps"].tolist() == pytest.approx([20.0]) and month["n"].tolist() == [10]


def test_segment_drivers_are_computed_within_each_value():
    comments = hand_comments()
    # "slow" is mentioned by c04 (8), c05 (6) and c06 (3)
    tags = pd.DataFrame(
        {
            "id": ["c04", "c05", "c06"],
            "sentence_idx": 0,
            "theme": "slow",
            "theme_name": "遅い",
            "department": "support",
            "polarity": "negative",
            "source": "lookup",
        }
    )
    d = segment_drivers(comments, tags, ["plan"], min_n=4, n_boot=50, min_mentions=1)
    assert tuple(d.columns) == SEGMENT_DRIVER_COLUMNS
    assert tuple(d.columns[3:]) == DRIVER_COLUMNS
    # the missing-plan group (c10 alone) is below min_n 4 and left out
    assert sorted(set(d["value"])) == ["free", "pro"]
    neg = d[d["polarity"] == "negative"].set_index("value")
    # pro: NPS 75; without c04 (8): c01 c02 c03 all promoters -> 100; impact 75 - 100 = -25
    assert neg.loc["pro", "segment_n"] == 4 and neg.loc["pro", "mentions"] == 1
    assert neg.loc["pro", "impact"] == pytest.approx(-25.0)
    # free: c05 6, c06 3, c07 7, c08 9, c09 0 -> NPS -40; without c05 c06: c07 c08 c09 -> 0
    #   impact -40 - 0 = -40; share 2/5
    assert neg.loc["free", "impact"] == pytest.approx(-40.0)
    assert neg.loc["free", "share"] == pytest.approx(0.4)
    empty = segment_drivers(comments, tags, ["plan"], min_n=100)
    assert empty.empty and tuple(empty.columns) == SEGMENT_DRIVER_COLUMNS
