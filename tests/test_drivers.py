"""Tests of analysis.drivers: driver table values computed by hand, bootstrap, BH, simulation."""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from koe.analysis.drivers import (
    DRIVER_COLUMNS,
    THEME_VOLUME_COLUMNS,
    benjamini_hochberg,
    compute_drivers,
    theme_volume,
)
from koe.analysis.nps import nps_summary

# ---------------------------------------------------------------------------------------------
# The hand table: 10 comments.
#   id     c01 c02 c03 c04 c05 c06 c07 c08 c09 c10
#   score   10  10   9   8   7   6   5   3   0  10
#   class    P   P   P  Pa  Pa   D   D   D   D   P
# Overall: 4 promoters, 2 passives, 4 detractors -> NPS(all) = (4 - 4) / 10 · 100 = 0.
#
# Tags:
#   price negative : c04, c06 (two sentences), c08, c09
#   support positive: c01, c02, c05
#   support negative: c09
#   ui neutral      : c03
# ---------------------------------------------------------------------------------------------
SCORES = [10, 10, 9, 8, 7, 6, 5, 3, 0, 10]
TAG_ROWS = [
    ("c04", 0, "price", "negative"),
    ("c06", 0, "price", "negative"),
    ("c06", 1, "price", "negative"),  # same comment again: counted once
    ("c08", 0, "price", "negative"),
    ("c09", 0, "price", "negative"),
    ("c01", 0, "support", "positive"),
    ("c02", 0, "support", "positive"),
    ("c05", 0, "support", "positive"),
    ("c09", 1, "support", "negative"),
    ("c03", 0, "ui", "neutral"),
]
NAMES = {"price": "価格", "support": "サポート", "ui": "画面"}


def hand_comments() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [f"c{i:02d}" for i in range(1, 11)],
            "text": ["..."] * 10,
            "score": pd.array(SCORES, dtype="Int64"),
        }
    )


def hand_tags() -> pd.DataFrame:
    frame = pd.DataFrame(TAG_ROWS, columns=["id", "sentence_idx", "theme", "polarity"])
    frame["theme_name"] = frame["theme"].map(NAMES)
    frame["department"] = frame["theme"].map({"price": "sales", "support": "cs", "ui": "dev"})
    frame["source"] = "lookup"
    return frame


def row(drivers: pd.DataFrame, theme: str, polarity: str) -> pd.Series:
    hit = drivers[(drivers["theme"] == theme) & (drivers["polarity"] == polarity)]
    assert len(hit) == 1, (theme, polarity)
    return hit.iloc[0]


def wald_p(diff: float, p_a: int, d_a: int, n_a: int, p_b: int, d_b: int, n_b: int) -> float:
    """Adjusted-Wald p-value: each group's variance from counts P + 3/4, D + 3/4, n + 3."""

    def var(p: int, d: int, n: int) -> float:
        pp, dd = (p + 0.75) / (n + 3), (d + 0.75) / (n + 3)
        return 10_000 * (pp + dd - (pp - dd) ** 2) / (n + 3)

    z = abs(diff) / math.sqrt(var(p_a, d_a, n_a) + var(p_b, d_b, n_b))
    return math.erfc(z / math.sqrt(2))


@pytest.fixture(scope="module")
def hand_drivers() -> pd.DataFrame:
    return compute_drivers(hand_comments(), hand_tags(), n_boot=400, seed=7, min_mentions=3)


def test_columns_and_rows(hand_drivers):
    assert tuple(hand_drivers.columns) == DRIVER_COLUMNS
    # rows only for observed (theme, polarity) pairs, plus "any" per theme
    pairs = set(zip(hand_drivers["theme"], hand_drivers["polarity"], strict=True))
    assert pairs == {
        ("price", "negative"),
        ("price", "any"),
        ("support", "positive"),
        ("support", "negative"),
        ("support", "any"),
        ("ui", "neutral"),
        ("ui", "any"),
    }
    price = row(hand_drivers, "price", "negative")
    assert (price["theme_name"], price["department"], price["source"]) == (
        "価格",
        "sales",
        "lookup",
    )


def test_price_negative_by_hand(hand_drivers):
    r = row(hand_drivers, "price", "negative")
    # mentioning: c04 (8), c06 (6), c08 (3), c09 (0) -> 4 comments (c06 counted once)
    assert r["mentions"] == 4
    assert r["share"] == pytest.approx(0.4)
    assert (r["promoters"], r["passives"], r["detractors"]) == (0, 1, 3)
    # 0 of 4 promoters mention it; 3 of 4 detractors do
    assert r["share_among_promoters"] == 0.0
    assert r["share_among_detractors"] == pytest.approx(0.75)
    # NPS mentioning = (0 - 3) / 4 · 100 = -75
    assert r["nps_mentioning"] == pytest.approx(-75.0)
    # not mentioning: c01 10, c02 10, c03 9, c05 7, c07 5, c10 10 -> P 4, D 1, n 6
    #   NPS = (4 - 1) / 6 · 100 = 50
    assert r["nps_not_mentioning"] == pytest.approx(50.0)
    assert r["nps_difference"] == pytest.approx(-125.0)
    # impact = NPS(all) - NPS(not mentioning) = 0 - 50 = -50 (= share · difference = 0.4 · -125)
    assert r["impact"] == pytest.approx(-50.0)
    # adjusted Wald: mentioning P .75, D 3.75, n 7 -> Var_m = 100²(4.5/7 - (3/7)²) = 4591.8;
    #   others P 4.75, D 1.75, n 9 -> Var_o = 100²(6.5/9 - (3/9)²) = 6111.1
    #   se = sqrt(4591.8/7 + 6111.1/9) = 36.54; z = 125 / 36.54 = 3.421; p = 0.00062
    p = wald_p(-125.0, 0, 3, 4, 4, 1, 6)
    assert p == pytest.approx(0.000624, abs=1e-6)
    assert r["p_value"] == pytest.approx(p)
    assert not r["small_n"]
    # "any" is the same comments (every price tag is negative)
    r_any = row(hand_drivers, "price", "any")
    for col in ("mentions", "nps_mentioning", "nps_not_mentioning", "impact", "p_value"):
        assert r_any[col] == pytest.approx(r[col])


def test_support_by_hand(hand_drivers):
    pos = row(hand_drivers, "support", "positive")
    # mentioning: c01 10, c02 10, c05 7 -> P 2, Pa 1, D 0: NPS = 2/3 · 100 = 66.67
    assert pos["mentions"] == 3
    assert (pos["promoters"], pos["passives"], pos["detractors"]) == (2, 1, 0)
    assert pos["nps_mentioning"] == pytest.approx(200 / 3)
    # not: c03 9, c04 8, c06 6, c07 5, c08 3, c09 0, c10 10 -> P 2, D 4, n 7: -200/7 = -28.57
    assert pos["nps_not_mentioning"] == pytest.approx(-200 / 7)
    # impact = 0 - (-28.57) = +28.57: support pulls the NPS up
    assert pos["impact"] == pytest.approx(200 / 7)
    assert pos["share_among_promoters"] == pytest.approx(0.5)
    # adjusted Wald on (P 2, D 0, n 3) vs (P 2, D 4, n 7)
    p = wald_p(200 / 3 + 200 / 7, 2, 0, 3, 2, 4, 7)
    assert pos["p_value"] == pytest.approx(p)

    anyp = row(hand_drivers, "support", "any")
    # c01, c02, c05, c09 -> P 2, Pa 1, D 1: NPS 25; others c03 9, c04 8, c06, c07, c08, c10 10
    #   -> P 2, D 3, n 6: -16.67; impact = 0 - (-16.67) = 16.67
    assert anyp["mentions"] == 4
    assert anyp["nps_mentioning"] == pytest.approx(25.0)
    assert anyp["nps_not_mentioning"] == pytest.approx(-100 / 6)
    assert anyp["impact"] == pytest.approx(100 / 6)

    neg = row(hand_drivers, "support", "negative")
    # c09 only: -100; others P 4, D 3, n 9: 11.11; impact = 0 - 11.11
    assert neg["mentions"] == 1
    assert neg["nps_mentioning"] == -100.0
    assert neg["impact"] == pytest.approx(-100 / 9)


def test_small_n_rows(hand_drivers):
    small = hand_drivers[hand_drivers["small_n"]]
    # min_mentions = 3: support negative, ui neutral, ui any have 1 mention each
    assert set(zip(small["theme"], small["polarity"], strict=True)) == {
        ("support", "negative"),
        ("ui", "neutral"),
        ("ui", "any"),
    }
    assert small["p_value"].isna().all() and small["q_value"].isna().all()
    assert not small["significant"].any()
    # statistics are still reported for small rows
    ui = row(hand_drivers, "ui", "neutral")
    # c03 (9) -> 100; others P 3, D 4 of 9 -> -11.11; impact = 0 - (-11.11) = 11.11
    assert ui["nps_mentioning"] == 100.0
    assert ui["impact"] == pytest.approx(100 / 9)


def test_sort_order(hand_drivers):
    order = list(zip(hand_drivers["theme"], hand_drivers["polarity"], strict=True))
    assert order == [
        # ranked rows, |impact| desc: 50 (tie -> polarity order negative before any), 28.6, 16.7
        ("price", "negative"),
        ("price", "any"),
        ("support", "positive"),
        ("support", "any"),
        # small rows by mentions desc (all 1), then theme id, then polarity order
        ("support", "negative"),
        ("ui", "neutral"),
        ("ui", "any"),
    ]


def test_q_values_are_bh_over_ranked_rows(hand_drivers):
    ranked = hand_drivers[~hand_drivers["small_n"]]
    # 4 p-values: .000991, .000991, .026755, .451411
    #   rank 4: .451411; rank 3: .026755 · 4/3 = .035674; ranks 1-2: .000991 · 4/2 = .001983
    np.testing.assert_allclose(
        ranked["q_value"].to_numpy(), stats.false_discovery_control(ranked["p_value"].to_numpy())
    )
    assert ranked["q_value"].iloc[2] == pytest.approx(ranked["p_value"].iloc[2] * 4 / 3)
    assert ranked["significant"].tolist() == [True, True, True, False]


def test_bootstrap_intervals_contain_point_estimates(hand_drivers):
    d = hand_drivers
    assert (d["impact_ci_low"] <= d["impact"]).all()
    assert (d["impact"] <= d["impact_ci_high"]).all()
    assert (d["nps_mentioning_ci_low"] <= d["nps_mentioning"]).all()
    assert (d["nps_mentioning"] <= d["nps_mentioning_ci_high"]).all()
    assert d[["impact_ci_low", "nps_mentioning_ci_low"]].ge(-200).all().all()
    assert d[["nps_mentioning_ci_low", "nps_mentioning_ci_high"]].abs().le(100).all().all()


def test_impact_identity(hand_drivers):
    d = hand_drivers
    np.testing.assert_allclose(d["impact"], d["share"] * d["nps_difference"], atol=1e-9)
    np.testing.assert_allclose(
        d["nps_difference"], d["nps_mentioning"] - d["nps_not_mentioning"], atol=1e-9
    )


def test_seeded_repeat_is_identical_and_inputs_untouched():
    comments, tags = hand_comments(), hand_tags()
    c0, t0 = comments.copy(), tags.copy()
    a = compute_drivers(comments, tags, n_boot=200, seed=3, min_mentions=3)
    b = compute_drivers(comments, tags, n_boot=200, seed=3, min_mentions=3)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(comments, c0)
    pd.testing.assert_frame_equal(tags, t0)
    # a different seed moves the intervals, not the point estimates
    c = compute_drivers(comments, tags, n_boot=200, seed=4, min_mentions=3)
    pd.testing.assert_series_equal(a["impact"], c["impact"])
    assert not a["impact_ci_low"].equals(c["impact_ci_low"])


def test_input_row_order_does_not_change_output():
    a = compute_drivers(hand_comments(), hand_tags(), n_boot=100, seed=1, min_mentions=3)
    shuffled = hand_tags().sample(frac=1.0, random_state=5)
    b = compute_drivers(hand_comments(), shuffled, n_boot=100, seed=1, min_mentions=3)
    pd.testing.assert_frame_equal(a, b)


def test_default_min_mentions_flags_everything_small():
    d = compute_drivers(hand_comments(), hand_tags(), n_boot=50)
    assert d["small_n"].all()
    assert not d["significant"].any()
    # all small: ordered by mentions desc, then theme, then polarity
    assert d["mentions"].tolist() == [4, 4, 4, 3, 1, 1, 1]
    assert list(zip(d["theme"], d["polarity"], strict=True))[:3] == [
        ("price", "negative"),
        ("price", "any"),
        ("support", "any"),
    ]


def test_empty_inputs_give_empty_frame_with_columns():
    for comments, tags in [
        (hand_comments(), hand_tags().iloc[:0]),
        (hand_comments().iloc[:0], hand_tags()),
        (pd.DataFrame(), pd.DataFrame()),
        (hand_comments().assign(score=pd.array([None] * 10, dtype="Int64")), hand_tags()),
        # tags that refer to no known comment
        (hand_comments(), hand_tags().assign(id="zzz")),
    ]:
        out = compute_drivers(comments, tags)
        assert out.empty
        assert tuple(out.columns) == DRIVER_COLUMNS
        assert out["mentions"].dtype == "int64" and out["significant"].dtype == bool


def test_unknown_ids_missing_scores_and_odd_polarities():
    comments = hand_comments()
    comments.loc[9, "score"] = pd.NA  # c10 drops out: 9 comments, P 3, D 4
    tags = pd.concat(
        [
            hand_tags(),
            pd.DataFrame(
                {
                    "id": ["nobody", "c03"],
                    "sentence_idx": [0, 1],
                    "theme": ["price", "ui"],
                    "polarity": ["negative", None],  # missing polarity -> "any" only
                    "theme_name": ["価格", "画面"],
                    "department": ["sales", "dev"],
                    "source": ["lookup", "lookup"],
                }
            ),
        ],
        ignore_index=True,
    )
    d = compute_drivers(comments, tags, n_boot=50, min_mentions=3)
    price = row(d, "price", "negative")
    assert price["mentions"] == 4  # "nobody" ignored
    # not mentioning: c01, c02, c03, c05, c07 -> P 3, D 1, n 5: 40; all: (3 - 4)/9 = -11.11
    assert price["nps_not_mentioning"] == pytest.approx(40.0)
    assert price["impact"] == pytest.approx(-100 / 9 - 40)
    assert row(d, "ui", "any")["mentions"] == 1
    assert set(d["polarity"]) <= {"positive", "negative", "neutral", "any"}


def test_every_comment_mentioning_gives_nan_comparison():
    comments = hand_comments()
    tags = pd.DataFrame(
        {
            "id": comments["id"],
            "theme": "all",
            "theme_name": "全部",
            "department": "",
            "polarity": "neutral",
            "source": "cluster",
        }
    )
    d = compute_drivers(comments, tags, n_boot=50)
    r = row(d, "all", "neutral")
    assert r["mentions"] == 10 and r["share"] == 1.0
    assert r["nps_mentioning"] == 0.0
    assert math.isnan(r["nps_not_mentioning"]) and math.isnan(r["impact"])
    assert math.isnan(r["p_value"]) and not r["significant"]


def test_validation_errors():
    with pytest.raises(ValueError, match="duplicate"):
        compute_drivers(hand_comments().assign(id="same"), hand_tags())
    with pytest.raises(KeyError):
        compute_drivers(hand_comments(), hand_tags().drop(columns="polarity"))
    with pytest.raises(ValueError, match=r"0\.\.10"):
        compute_drivers(hand_comments().assign(score=11), hand_tags())
    with pytest.raises(ValueError):
        compute_drivers(hand_comments(), hand_tags(), alpha=1.5)


def test_n_boot_zero_skips_intervals():
    d = compute_drivers(hand_comments(), hand_tags(), n_boot=0, min_mentions=3)
    assert d["impact_ci_low"].isna().all() and d["nps_mentioning_ci_high"].isna().all()
    assert d["impact"].notna().all()


def test_benjamini_hochberg_by_hand():
    # m = 3, sorted: .01 (rank 1) -> .01·3/1 = .03; .03 (rank 2) -> .03·3/2 = .045;
    #   .04 (rank 3) -> .04·3/3 = .04. Step-up (running min from the largest rank):
    #   rank 3: .04; rank 2: min(.045, .04) = .04; rank 1: min(.03, .04) = .03
    q = benjamini_hochberg([0.01, 0.04, 0.03])
    np.testing.assert_allclose(q, [0.03, 0.04, 0.04])
    # NaN is left out of the family (m stays 3)
    q = benjamini_hochberg([0.01, np.nan, 0.04, 0.03])
    np.testing.assert_allclose(q, [0.03, np.nan, 0.04, 0.04])
    assert benjamini_hochberg([0.9, 0.8])[0] == pytest.approx(0.9)  # capped, monotone
    assert benjamini_hochberg([]).size == 0
    p = np.random.default_rng(0).random(50) ** 2
    np.testing.assert_allclose(benjamini_hochberg(p), stats.false_discovery_control(p))


def test_theme_volume():
    out = theme_volume(hand_tags())
    assert tuple(out.columns) == THEME_VOLUME_COLUMNS
    price = out[(out["theme"] == "price") & (out["polarity"] == "negative")].iloc[0]
    assert (price["mentions"], price["comments"]) == (5, 4)  # c06 has two sentences
    assert out["polarity"].tolist() == [
        "negative",
        "any",
        "positive",
        "negative",
        "any",
        "neutral",
        "any",
    ]
    assert theme_volume(hand_tags().iloc[:0]).empty


# ---------------------------------------------------------------------------------------------
# Planted-effect simulation
# ---------------------------------------------------------------------------------------------
def planted(n: int = 2000, seed: int = 11) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Theme A negative lowers the score, theme B positive raises it, theme C is noise."""
    rng = np.random.default_rng(seed)
    base_p = np.array([2, 1, 1, 2, 3, 5, 8, 14, 20, 22, 22], dtype=float)
    low_p = np.array([15, 12, 14, 15, 14, 12, 10, 4, 2, 1, 1], dtype=float)
    high_p = np.array([0, 0, 0, 0, 1, 1, 2, 6, 10, 30, 50], dtype=float)
    u = rng.random(n)
    group = np.where(u < 0.15, "A", np.where(u < 0.30, "B", "-"))
    scores = rng.choice(11, size=n, p=base_p / base_p.sum())
    scores[group == "A"] = rng.choice(11, size=(group == "A").sum(), p=low_p / low_p.sum())
    scores[group == "B"] = rng.choice(11, size=(group == "B").sum(), p=high_p / high_p.sum())
    ids = np.array([f"r{i:04d}" for i in range(n)])
    comments = pd.DataFrame({"id": ids, "score": pd.array(scores, dtype="Int64")})
    c_mask = rng.random(n) < 0.2  # C: independent of the score
    tags = pd.concat(
        [
            pd.DataFrame({"id": ids[group == "A"], "theme": "A", "polarity": "negative"}),
            pd.DataFrame({"id": ids[group == "B"], "theme": "B", "polarity": "positive"}),
            pd.DataFrame(
                {
                    "id": ids[c_mask],
                    "theme": "C",
                    "polarity": rng.choice(["neutral", "positive", "negative"], c_mask.sum()),
                }
            ),
        ],
        ignore_index=True,
    )
    tags["theme_name"] = tags["theme"]
    tags["department"] = "x"
    tags["source"] = "lookup"
    return comments, tags


def test_planted_effects_are_recovered():
    comments, tags = planted()
    start = time.perf_counter()
    d = compute_drivers(comments, tags, n_boot=500, seed=0)
    assert time.perf_counter() - start < 5.0

    a = row(d, "A", "negative")
    assert a["impact"] < 0 and a["nps_difference"] < 0 and a["significant"]
    b = row(d, "B", "positive")
    assert b["impact"] > 0 and b["nps_difference"] > 0 and b["significant"]
    c_rows = d[d["theme"] == "C"]
    assert len(c_rows) == 4
    assert not c_rows["significant"].any()
    # the planted drivers rank first (A negative / A any share their comments, as do B's)
    assert list(zip(d["theme"], d["polarity"], strict=True))[:4] == [
        ("A", "negative"),
        ("A", "any"),
        ("B", "positive"),
        ("B", "any"),
    ]

    for r in (a, b, *(r for _, r in c_rows.iterrows())):
        assert r["impact_ci_low"] <= r["impact"] <= r["impact_ci_high"]
        assert r["nps_mentioning_ci_low"] <= r["nps_mentioning"] <= r["nps_mentioning_ci_high"]
    # the null theme's impact interval covers 0; the planted ones exclude it
    assert (c_rows["impact_ci_low"] <= 0).all() and (c_rows["impact_ci_high"] >= 0).all()
    assert a["impact_ci_high"] < 0 < b["impact_ci_low"]

    # the bootstrap interval of nps_mentioning agrees with the normal-approximation one
    scores_a = comments.set_index("id").loc[tags.loc[tags["theme"] == "A", "id"], "score"]
    normal = nps_summary(scores_a)
    width_boot = a["nps_mentioning_ci_high"] - a["nps_mentioning_ci_low"]
    assert width_boot == pytest.approx(normal["ci_high"] - normal["ci_low"], rel=0.2)


@pytest.mark.slow
def test_speed_50_themes_5000_comments():
    rng = np.random.default_rng(1)
    n, m = 5000, 15000
    comments = pd.DataFrame(
        {"id": [f"r{i}" for i in range(n)], "score": pd.array(rng.integers(0, 11, n), "Int64")}
    )
    tags = pd.DataFrame(
        {
            "id": comments["id"].to_numpy()[rng.integers(0, n, m)],
            "theme": [f"t{j:02d}" for j in rng.integers(0, 50, m)],
            "polarity": rng.choice(["positive", "negative", "neutral"], m),
            "theme_name": "x",
            "department": "d",
            "source": "lookup",
        }
    )
    start = time.perf_counter()
    d = compute_drivers(comments, tags, n_boot=500, seed=0)
    elapsed = time.perf_counter() - start
    assert len(d) == 200
    assert elapsed < 5.0, elapsed
