"""Tests of analysis.trends: theme_trends values by hand, spike detection, early_warnings."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from koe.analysis.trends import TREND_COLUMNS, WARNING_COLUMNS, early_warnings, theme_trends

# ---------------------------------------------------------------------------------------------
# The hand table: four Monday-Sunday weeks, theme "reports" negative.
#   week of     comments (score)                          reports:negative mentions
#   2026-10-05  a1 9, a2 10, a3 7, a4 3                   a4                 -> 1
#   2026-10-12  b1 9, b2 8, b3 10, b4 6                   b4                 -> 1
#   2026-10-19  c1 0, c2 5, c3 9, c4 10, c5 8             c1 c2 c3 c5        -> 4 (spike)
#   2026-10-26  d1 10, d2 9, d3 2, d4 8                   d3                 -> 1
# plus "ui" positive on a1, b1 (twice: two sentences, counted once), d1.
# ---------------------------------------------------------------------------------------------
WEEKS = {
    "2026-10-05": [("a1", 9), ("a2", 10), ("a3", 7), ("a4", 3)],
    "2026-10-12": [("b1", 9), ("b2", 8), ("b3", 10), ("b4", 6)],
    "2026-10-19": [("c1", 0), ("c2", 5), ("c3", 9), ("c4", 10), ("c5", 8)],
    "2026-10-26": [("d1", 10), ("d2", 9), ("d3", 2), ("d4", 8)],
}
REPORTS = ["a4", "b4", "c1", "c2", "c3", "c5", "d3"]
UI = ["a1", "b1", "b1", "d1"]


def hand_comments() -> pd.DataFrame:
    rows = []
    for week, items in WEEKS.items():
        monday = pd.Timestamp(week)
        for i, (cid, score) in enumerate(items):
            # spread over the week (Monday .. Sunday stay in the same week)
            rows.append((cid, score, monday + pd.Timedelta(days=(i * 2) % 7, hours=13)))
    frame = pd.DataFrame(rows, columns=["id", "score", "date"])
    frame["score"] = frame["score"].astype("Int64")
    return frame


def hand_tags() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": REPORTS + UI,
            "theme": ["reports"] * len(REPORTS) + ["ui"] * len(UI),
            "polarity": ["negative"] * len(REPORTS) + ["positive"] * len(UI),
        }
    )


def series(trends: pd.DataFrame, theme: str, polarity: str) -> pd.DataFrame:
    return trends[(trends["theme"] == theme) & (trends["polarity"] == polarity)].set_index("period")


@pytest.fixture(scope="module")
def trends() -> pd.DataFrame:
    return theme_trends(hand_comments(), hand_tags(), trailing=2, z=2.0, min_count=3)


def test_columns_and_grid(trends):
    assert tuple(trends.columns) == TREND_COLUMNS
    # 2 (theme, polarity) pairs x 4 weeks; ui has rows for the weeks it is not mentioned
    assert len(trends) == 8
    assert (
        list(zip(trends["theme"], trends["polarity"], strict=True))
        == [("reports", "negative")] * 4 + [("ui", "positive")] * 4
    )
    assert trends["period"].iloc[:4].tolist() == [pd.Timestamp(w) for w in WEEKS]
    assert trends["warning"].dtype == bool and trends["mentions"].dtype == "int64"
    assert trends.attrs["period"] == "W" and trends.attrs["trailing"] == 2


def test_spike_week_by_hand(trends):
    r = series(trends, "reports", "negative").loc[pd.Timestamp("2026-10-19")]
    assert (r["period_comments"], r["mentions"]) == (5, 4)
    assert r["share"] == pytest.approx(4 / 5)
    # mentioning c1 0, c2 5, c3 9, c5 8 -> detractors c1, c2: 2 / 4 = 0.5
    assert (r["detractors"], r["detractor_share"]) == (2, 0.5)
    # NPS(week) = (P c3 c4 - D c1 c2) / 5 = 0; NPS(not mentioning) = c4 10 -> 100
    #   impact = 0 - 100 = -100
    assert r["impact"] == pytest.approx(-100.0)
    # change = 4 - 1 = 3
    assert r["change"] == 3.0
    # history (trailing 2): weeks 10-05 and 10-12, mentions 1 and 1 -> mean 1, std 0
    #   z = (4 - 1) / max(0, sqrt(1), 1) = 3 > 2 and 4 >= min_count 3 -> warning
    assert (r["trailing_mean"], r["trailing_std"], r["z_score"]) == (1.0, 0.0, 3.0)
    assert r["warning"]


def test_other_weeks_by_hand(trends):
    s = series(trends, "reports", "negative")
    first, second, last = (
        s.loc[pd.Timestamp(w)] for w in ("2026-10-05", "2026-10-12", "2026-10-26")
    )
    # week 1: no previous week -> change NaN; fewer than 2 earlier weeks -> no z, no warning
    assert math.isnan(first["change"]) and math.isnan(first["trailing_mean"])
    assert math.isnan(second["z_score"]) and not second["warning"]
    # week 1: a4 (3) mentions; NPS(week) = (2 - 1)/4 = 25; without a4: a1 9, a2 10, a3 7 -> 66.67
    #   impact = 25 - 66.67 = -41.67
    assert first["impact"] == pytest.approx(25 - 200 / 3)
    # last week: history 10-12 (1) and 10-19 (4): mean 2.5, std (ddof 0) 1.5
    #   z = (1 - 2.5) / max(1.5, sqrt(2.5) = 1.5811, 1) = -0.94868; change 1 - 4 = -3
    assert (last["trailing_mean"], last["trailing_std"]) == (2.5, 1.5)
    assert last["z_score"] == pytest.approx(-1.5 / math.sqrt(2.5))
    assert last["change"] == -3.0 and not last["warning"]


def test_unmentioned_weeks_have_zero_mentions(trends):
    ui = series(trends, "ui", "positive")
    # a1, b1 (two tag rows, one comment), nothing in 10-19, d1
    assert ui["mentions"].tolist() == [1, 1, 0, 1]
    wk3 = ui.loc[pd.Timestamp("2026-10-19")]
    assert wk3["impact"] == 0.0 and math.isnan(wk3["detractor_share"]) and wk3["share"] == 0.0
    assert not ui["warning"].any()


def test_early_warnings_message(trends):
    w = early_warnings(trends)
    assert tuple(w.columns) == WARNING_COLUMNS
    assert len(w) == 1
    r = w.iloc[0]
    assert (r["theme"], r["polarity"], r["period"], r["mentions"]) == (
        "reports",
        "negative",
        pd.Timestamp("2026-10-19"),
        4,
    )
    assert r["trailing_mean"] == 1.0 and r["z"] == 3.0
    assert r["message"] == (
        "reports negative: 4 mentions in week of 2026-10-19, trailing mean 1.0 (z = 3.0)"
    )


def test_min_count_blocks_small_spikes():
    # same data, min_count 5: the 4-mention spike has z 3 but too few mentions
    t = theme_trends(hand_comments(), hand_tags(), trailing=2, min_count=5)
    assert not t["warning"].any()
    assert early_warnings(t).empty
    assert tuple(early_warnings(t).columns) == WARNING_COLUMNS


def weekly_survey(
    mentions_per_week: list[int], per_week: int = 20, start: str = "2026-06-01"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A weekly survey with `per_week` comments a week, the first k of week w mentioning X."""
    rows, tag_ids = [], []
    for w, k in enumerate(mentions_per_week):
        for i in range(per_week):
            cid = f"w{w:02d}c{i:02d}"
            day = pd.Timestamp(start) + pd.Timedelta(days=7 * w + i % 7)
            rows.append((cid, (i * 3) % 11, day))
            if i < k:
                tag_ids.append(cid)
    comments = pd.DataFrame(rows, columns=["id", "score", "date"])
    tags = pd.DataFrame({"id": tag_ids, "theme": "product_reports", "polarity": "negative"})
    return comments, tags


def test_planted_spike_fires_and_flat_series_does_not():
    # 1 mention a week for 6 weeks, then 14: mean 1, std 0 (floored to 1) -> z = 13
    comments, tags = weekly_survey([1, 1, 1, 1, 1, 1, 14, 1])
    t = theme_trends(comments, tags)  # defaults: trailing 4, z 2, min_count 5
    assert t["warning"].tolist() == [False] * 6 + [True, False]
    w = early_warnings(t)
    assert w["message"].tolist() == [
        "product_reports negative: 14 mentions in week of 2026-07-13, trailing mean 1.0 (z = 13.0)"
    ]

    # flat: 8 mentions every week -> z 0 everywhere; never a warning even above min_count
    comments, tags = weekly_survey([8] * 10)
    t = theme_trends(comments, tags)
    assert (t["z_score"].dropna() == 0).all() and not t["warning"].any()


def test_too_short_history_does_not_fire():
    # a spike in the third week: with trailing 4 there are only 2 earlier weeks
    comments, tags = weekly_survey([0, 0, 15, 0, 0])
    t = theme_trends(comments, tags, trailing=4)
    assert t["z_score"].iloc[:4].isna().all()
    assert not t["warning"].any()
    # with trailing 2 the same spike fires: history [0, 0], z = (15 - 0) / 1 = 15
    t2 = theme_trends(comments, tags, trailing=2)
    assert t2["warning"].tolist() == [False, False, True, False, False]
    assert t2["z_score"].iloc[2] == 15.0


def test_std_floor_and_noisy_history():
    # history [2, 6, 2, 6]: mean 4, std 2 -> threshold 4 + 2·2 = 8; 8 does not fire, 9 does
    comments, tags = weekly_survey([2, 6, 2, 6, 8])
    assert not theme_trends(comments, tags)["warning"].any()
    comments, tags = weekly_survey([2, 6, 2, 6, 9])
    t = theme_trends(comments, tags)
    assert t["warning"].tolist() == [False] * 4 + [True]
    assert t["z_score"].iloc[4] == pytest.approx(2.5)


def test_poisson_floor_on_a_flat_history():
    # history [9, 9, 9, 9]: std 0, but counts this size vary by about sqrt(9) = 3 by chance:
    #   threshold 9 + 2·3 = 15; 15 does not fire (z = 2.0), 16 does (z = 7/3)
    comments, tags = weekly_survey([9, 9, 9, 9, 15])
    t = theme_trends(comments, tags)
    assert t["z_score"].iloc[4] == pytest.approx(2.0) and not t["warning"].any()
    comments, tags = weekly_survey([9, 9, 9, 9, 16])
    t = theme_trends(comments, tags)
    assert t["z_score"].iloc[4] == pytest.approx(7 / 3) and t["warning"].iloc[4]


def test_weeks_without_comments_are_skipped_in_history():
    # weeks 0-3 with 1 mention, weeks 4-5 have no comments at all, week 6 spikes
    comments, tags = weekly_survey([1, 1, 1, 1, 0, 0, 9])
    empty_weeks = comments["id"].str[:3].isin(["w04", "w05"])
    comments = comments[~empty_weeks]
    t = theme_trends(comments, tags)
    assert t["period_comments"].tolist() == [20, 20, 20, 20, 0, 0, 20]
    gap = t.iloc[4]
    assert math.isnan(gap["share"]) and math.isnan(gap["impact"]) and math.isnan(gap["z_score"])
    # history of week 6 = weeks 0-3 (the empty weeks are skipped): mean 1 -> z = 8
    assert t["trailing_mean"].iloc[6] == 1.0 and t["z_score"].iloc[6] == 8.0
    assert t["warning"].iloc[6]


def test_month_period_include_any_and_text_dates():
    comments = hand_comments()
    comments["date"] = comments["date"].dt.strftime("%Y/%m/%d")  # text dates are parsed
    t = theme_trends(comments, hand_tags(), period="M", include_any=True, trailing=1)
    assert set(t["polarity"]) == {"negative", "positive", "any"}
    # d4 is dated Sunday 2026-11-01 (week of 10-26, but November)
    assert t["period"].unique().tolist() == [pd.Timestamp("2026-10-01"), pd.Timestamp("2026-11-01")]
    reports = t[(t["theme"] == "reports") & (t["polarity"] == "negative")]
    assert reports["period_comments"].tolist() == [16, 1]
    assert reports["mentions"].tolist() == [7, 0]
    planted = t.assign(warning=True)
    msgs = early_warnings(planted)["message"]
    # latest period first; z = (0 - 3) / max(0, sqrt(3), 1) = -1.7
    assert msgs.iloc[0].endswith("in month of 2026-11, trailing mean 3.0 (z = -1.7)")
    assert msgs.str.contains("in month of 2026-10").sum() == len(msgs) // 2


def test_undated_unscored_and_unknown_rows_are_ignored():
    comments = pd.concat(
        [
            hand_comments(),
            pd.DataFrame(
                {
                    "id": ["x1", "x2"],
                    "score": pd.array([None, 5], dtype="Int64"),
                    "date": [pd.Timestamp("2026-10-20"), pd.NaT],
                }
            ),
        ],
        ignore_index=True,
    )
    tags = pd.concat(
        [
            hand_tags(),
            pd.DataFrame(
                {
                    "id": ["x1", "x2", "nobody", "c4"],
                    "theme": ["reports"] * 3 + ["odd"],
                    "polarity": ["negative"] * 3 + [None],
                }
            ),
        ],
        ignore_index=True,
    )
    a = theme_trends(comments, tags, trailing=2, min_count=3)
    b = theme_trends(hand_comments(), hand_tags(), trailing=2, min_count=3)
    pd.testing.assert_frame_equal(a, b)


def test_empty_inputs_and_errors():
    for comments, tags in [
        (hand_comments().iloc[:0], hand_tags()),
        (hand_comments(), hand_tags().iloc[:0]),
        (hand_comments().assign(date=pd.NaT), hand_tags()),
    ]:
        out = theme_trends(comments, tags)
        assert out.empty and tuple(out.columns) == TREND_COLUMNS
        assert early_warnings(out).empty
    with pytest.raises(ValueError):
        theme_trends(hand_comments(), hand_tags(), period="Y")
    with pytest.raises(ValueError):
        theme_trends(hand_comments(), hand_tags(), trailing=0)
    with pytest.raises(KeyError):
        theme_trends(hand_comments().drop(columns="date"), hand_tags())
    with pytest.raises(ValueError, match="duplicate"):
        theme_trends(hand_comments().assign(id="same"), hand_tags())


def test_deterministic_and_input_untouched():
    comments, tags = hand_comments(), hand_tags()
    c0, t0 = comments.copy(), tags.copy()
    a = theme_trends(comments, tags)
    b = theme_trends(comments, tags.sample(frac=1.0, random_state=3))
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(comments, c0)
    pd.testing.assert_frame_equal(tags, t0)
    assert np.isfinite(a["mentions"]).all()


def test_early_warnings_name_the_theme_and_keep_the_id(trends):
    from koe.pipeline import theme_names

    tags = pd.DataFrame({"theme": ["reports", "cluster_12"], "theme_name": ["レポート", "駐車場・狭い"]})
    w = early_warnings(trends, names=theme_names(tags))
    r = w.iloc[0]
    assert (r["theme"], r["theme_name"]) == ("reports", "レポート")
    assert r["message"].startswith("レポート negative: 4 mentions in week of 2026-10-19")
