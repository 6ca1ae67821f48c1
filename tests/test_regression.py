"""Tests of the regression views: analysis.regression.theme_regression and
analysis.subscores.subscore_drivers (values by hand on small tables, constructed drivers)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from koe.analysis.regression import REGRESSION_COLUMNS, _bootstrap_p, theme_regression
from koe.analysis.subscores import SUBSCORE_COLUMNS, subscore_drivers


def comments_of(scores: list[int]) -> pd.DataFrame:
    return pd.DataFrame(
        {"id": [f"r{i:03d}" for i in range(len(scores))], "score": pd.array(scores, "Int64")}
    )


def tags_of(rows: list[tuple[int, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [f"r{i:03d}" for i, _, _ in rows],
            "theme": [t for _, t, _ in rows],
            "polarity": [p for _, _, p in rows],
        }
    )


def feature(table: pd.DataFrame, name: str) -> pd.Series:
    hit = table[table["feature"] == name]
    assert len(hit) == 1, name
    return hit.iloc[0]


# ---------------------------------------------------------------------------------------------
# theme_regression
# ---------------------------------------------------------------------------------------------
def test_ridge_one_feature_by_hand():
    # scores 2, 4 mention A:negative; 8, 8, 10, 10 do not.
    #   mean with A = 3, without = 9 -> least squares effect -6.
    #   centered: Sxx = n·p·(1 - p) = 6 · 1/3 · 2/3 = 4/3; Sxy = Sxx · (-6) = -8
    #   ridge (l2 = 1): β = Sxy / (Sxx + l2) = -8 / (7/3) = -24/7 = -3.4286
    comments = comments_of([2, 4, 8, 8, 10, 10])
    tags = tags_of([(0, "A", "negative"), (1, "A", "negative")])
    r = theme_regression(comments, tags, target="score", min_mentions=2, n_boot=0, l2=1.0)
    assert tuple(r.columns) == REGRESSION_COLUMNS
    a = feature(r, "A:negative")
    assert a["effect"] == pytest.approx(-24 / 7) and a["coef"] == pytest.approx(-24 / 7)
    assert math.isnan(a["odds_ratio"]) and math.isnan(a["ci_low"]) and math.isnan(a["p_value"])
    # intercept = mean(y) - β·mean(x) = 7 - (-24/7)·(1/3) = 7 + 8/7
    assert r.attrs["intercept"] == pytest.approx(7 + 8 / 7)
    # l2 = 0 gives the plain difference of means
    r0 = theme_regression(comments, tags, target="score", min_mentions=2, n_boot=0, l2=0.0)
    assert feature(r0, "A:negative")["effect"] == pytest.approx(-6.0)


def test_ridge_matches_least_squares_with_several_features():
    rng = np.random.default_rng(4)
    n = 300
    x = rng.random((n, 3)) < [0.3, 0.2, 0.4]
    score = np.clip(np.round(7 - 3 * x[:, 0] + 1 * x[:, 1] + rng.normal(0, 1.5, n)), 0, 10)
    comments = comments_of(score.astype(int).tolist())
    rows = [(i, t, "negative") for j, t in enumerate("ABC") for i in np.flatnonzero(x[:, j])]
    r = theme_regression(comments, tags_of(rows), target="score", n_boot=0, l2=0.0)
    design = np.column_stack([np.ones(n), x.astype(float)])
    ols = np.linalg.lstsq(design, score, rcond=None)[0]
    got = [feature(r, f"{t}:negative")["effect"] for t in "ABC"]
    np.testing.assert_allclose(got, ols[1:], atol=1e-9)
    assert r.attrs["intercept"] == pytest.approx(ols[0])


def test_logistic_one_feature_is_the_log_odds_ratio():
    # A:negative on 10 comments: 6 detractors, 4 not -> odds 6/4 = 1.5
    # the other 10: 2 detractors, 8 not            -> odds 2/8 = 0.25
    # unpenalized logistic coefficient = ln(1.5 / 0.25) = ln 6 = 1.7918
    scores = [3] * 6 + [9] * 4 + [3] * 2 + [9] * 8
    tags = tags_of([(i, "A", "negative") for i in range(10)])
    r = theme_regression(comments_of(scores), tags, n_boot=0, l2=1e-9)
    a = feature(r, "A:negative")
    assert a["coef"] == pytest.approx(math.log(6), abs=1e-4)
    assert a["odds_ratio"] == pytest.approx(6.0, rel=1e-4)
    assert math.isnan(a["effect"])
    # intercept = log odds without A = ln 0.25
    assert r.attrs["intercept"] == pytest.approx(math.log(0.25), abs=1e-4)
    # target promoter: promoters are exactly the non-detractors here -> coefficient -ln 6
    rp = theme_regression(comments_of(scores), tags, target="promoter", n_boot=0, l2=1e-9)
    assert feature(rp, "A:negative")["coef"] == pytest.approx(-math.log(6), abs=1e-4)


def determined_table() -> tuple[pd.DataFrame, pd.DataFrame]:
    """120 comments: A:negative on 30 of them, all detractors; nobody else is a detractor.

    B:positive is on every 3rd comment regardless of score; C:neutral on every 4th."""
    scores = [2] * 30 + [7, 8, 9, 10] * 22 + [9, 10]
    rows = [(i, "A", "negative") for i in range(30)]
    rows += [(i, "B", "positive") for i in range(0, 120, 3)]
    rows += [(i, "C", "neutral") for i in range(1, 120, 4)]
    return comments_of(scores), tags_of(rows)


def test_theme_that_determines_detractors_has_a_strong_positive_coefficient():
    comments, tags = determined_table()
    r = theme_regression(comments, tags, target="detractor", n_boot=200, seed=0)
    a = feature(r, "A:negative")
    # perfect separation: the unpenalized MLE is infinite; l2 = 1 keeps it finite but large
    assert a["coef"] > 3 and a["odds_ratio"] > 20
    assert a["ci_low"] > 1 and a["significant"]
    # every bootstrap replicate is positive: far from 0 in bootstrap standard errors
    assert a["p_value"] < 1e-4
    assert r["feature"].iloc[0] == "A:negative"  # largest |coef| first
    for name in ("B:positive", "C:neutral"):
        row = feature(r, name)
        assert abs(row["coef"]) < 1 and not row["significant"]
        assert row["ci_low"] < 0 < row["ci_high"]
    # for the promoter target A is strongly negative
    rp = theme_regression(comments, tags, target="promoter", n_boot=50)
    assert feature(rp, "A:negative")["coef"] < -2


def test_hygiene_theme_negative_hurts_positive_does_not():
    # 400 comments with a repeating base pattern of scores; login:negative comments score 2;
    # login:positive is on every 5th base comment: same score mix as everyone else.
    base = [6, 7, 8, 9, 10, 9, 10, 8, 9, 10]
    scores = [2] * 40 + base * 36
    rows = [(i, "login", "negative") for i in range(40)]
    rows += [(i, "login", "positive") for i in range(40, 400, 5)]
    comments, tags = comments_of(scores), tags_of(rows)
    r = theme_regression(comments, tags, target="score", n_boot=200, seed=1)
    neg, pos = feature(r, "login:negative"), feature(r, "login:positive")
    # negative: the 40 comments score 2 against a base mean of 8.6 -> about -6.6 points
    assert neg["effect"] == pytest.approx(-6.6, abs=0.2) and neg["significant"]
    # positive: every 5th base comment = scores 6, 9, 6, 9, ... mean 7.5 vs 8.6 overall, so
    # not exactly 0, but far smaller than the negative effect and not significant
    assert abs(pos["effect"]) < 0.25 * abs(neg["effect"])
    rd = theme_regression(comments, tags, target="detractor", n_boot=200, seed=1)
    assert feature(rd, "login:negative")["coef"] > 2
    assert feature(rd, "login:negative")["significant"]


def test_correlated_null_theme_does_not_borrow_the_effect():
    # X:negative drives detractors; Y:negative is on 80% of X comments and 5% of the others,
    # with no effect of its own. Marginally Y looks bad; in the regression it is ~0.
    rng = np.random.default_rng(0)
    n = 3000
    x = rng.random(n) < 0.15
    y = np.where(x, rng.random(n) < 0.8, rng.random(n) < 0.05)
    detractor = rng.random(n) < np.where(x, 0.7, 0.15)
    scores = np.where(detractor, rng.integers(0, 7, n), rng.integers(7, 11, n))
    rows = [(i, "X", "negative") for i in np.flatnonzero(x)]
    rows += [(i, "Y", "negative") for i in np.flatnonzero(y)]
    r = theme_regression(comments_of(scores.tolist()), tags_of(rows), n_boot=200, seed=0)
    assert feature(r, "X:negative")["significant"]
    ynull = feature(r, "Y:negative")
    assert not ynull["significant"] and ynull["ci_low"] < 0 < ynull["ci_high"]
    # the marginal log odds ratio of Y is large (it rides on X)
    marginal = np.log(
        detractor[y].mean()
        / (1 - detractor[y].mean())
        / (detractor[~y].mean() / (1 - detractor[~y].mean()))
    )
    assert marginal > 1.0 and abs(ynull["coef"]) < 0.3


def test_dropped_features_are_listed():
    comments, tags = determined_table()
    extra = tags_of([(40, "rare", "negative"), (41, "rare", "negative"), (42, "rare", "positive")])
    r = theme_regression(comments, pd.concat([tags, extra]), n_boot=20)
    dropped = r[r["dropped"]]
    assert dropped["feature"].tolist() == ["rare:negative", "rare:positive"]  # mentions 2, 1
    assert dropped["coef"].isna().all() and not dropped["significant"].any()
    assert r.attrs["dropped"] == ["rare:negative", "rare:positive"]
    assert r["dropped"].tolist() == [False, False, False, True, True]  # dropped rows last
    # a feature on all but min_mentions - 1 comments is dropped too (too common)
    everyone = tags_of([(i, "all", "neutral") for i in range(118)])
    r2 = theme_regression(comments, pd.concat([tags, everyone]), n_boot=0)
    assert feature(r2, "all:neutral")["dropped"]


def test_bootstrap_p_value_formula():
    # row 1: coef 1, replicates -1, 1, 2, 3: mean 1.25, squared deviations 5.0625 + 0.0625
    #   + 0.5625 + 3.0625 = 8.75, se = sqrt(8.75 / 3) = 1.70783; z = 0.58554 -> p = 0.55820
    # row 2: coef 0.5, replicates 1, 2 (NaN left out): se = sqrt(0.5) = 0.70711; z = 0.70711
    #   -> p = 0.47950
    # row 3: one valid replicate: no standard error -> NaN
    # row 4: zero spread, non-zero coef -> 0; row 5: zero spread, zero coef -> 1
    reps = np.array(
        [
            [-1.0, 1.0, 2.0, 3.0],
            [1.0, 2.0, np.nan, np.nan],
            [0.0, np.nan, np.nan, np.nan],
            [2.0, 2.0, 2.0, 2.0],
            [0.0, 0.0, 0.0, 0.0],
        ],
    )
    coef = np.array([1.0, 0.5, 0.0, 2.0, 0.0])
    np.testing.assert_allclose(
        _bootstrap_p(coef, reps), [0.55820, 0.47950, np.nan, 0.0, 1.0], atol=5e-5
    )
    # no 1/n_boot floor: a coefficient 10 standard errors from 0 gets p ~ 1.5e-23
    spread = np.linspace(-1, 1, 200)
    p = _bootstrap_p(np.array([10.0 * spread.std(ddof=1)]), (spread + 5)[None, :])[0]
    assert p == pytest.approx(1.5239e-23, rel=1e-3)


def test_seeded_repeat_identical_and_q_values_bh():
    comments, tags = determined_table()
    a = theme_regression(comments, tags, n_boot=100, seed=5)
    b = theme_regression(comments, tags.sample(frac=1.0, random_state=2), n_boot=100, seed=5)
    pd.testing.assert_frame_equal(a, b)
    c = theme_regression(comments, tags, n_boot=100, seed=6)
    pd.testing.assert_series_equal(a["coef"], c["coef"])
    assert not a["ci_low"].equals(c["ci_low"])
    kept = a[~a["dropped"]]
    np.testing.assert_allclose(
        kept["q_value"], stats.false_discovery_control(kept["p_value"].to_numpy())
    )
    assert a.attrs["valid_boot"] == 100 and a.attrs["n"] == 120


def test_empty_single_class_and_errors():
    comments, tags = determined_table()
    out = theme_regression(comments, tags.iloc[:0])
    assert out.empty and tuple(out.columns) == REGRESSION_COLUMNS
    # nobody is a detractor: rows are listed, statistics NaN
    happy = comments.assign(score=9)
    r = theme_regression(happy, tags, n_boot=10)
    assert len(r) == 3 and r["coef"].isna().all() and not r["significant"].any()
    with pytest.raises(ValueError):
        theme_regression(comments, tags, target="nps")
    with pytest.raises(ValueError):
        theme_regression(comments, tags, l2=0.0)  # logistic needs a penalty
    with pytest.raises(ValueError, match="duplicate"):
        theme_regression(comments.assign(id="x"), tags)
    with pytest.raises(KeyError):
        theme_regression(comments, tags.drop(columns="polarity"))


def test_5000_comments_100_null_features_none_significant():
    # scores independent of 102 random theme features: BH keeps the family-wise error low, so
    # this seeded table flags none (timing lives in bench/driver_simulation.py, not here)
    rng = np.random.default_rng(1)
    n, m = 5000, 15000
    themes = np.array([f"t{j:02d}" for j in range(34)])
    tags = pd.DataFrame(
        {
            "id": [f"r{i:03d}" for i in rng.integers(0, n, m)],
            "theme": themes[rng.integers(0, 34, m)],
            "polarity": rng.choice(["positive", "negative", "neutral"], m),
        }
    )
    comments = comments_of(rng.integers(0, 11, n).tolist())
    for target in ("detractor", "score"):
        r = theme_regression(comments, tags, target=target, n_boot=50)
        assert (~r["dropped"]).sum() == 102  # 34 themes x 3 polarities
        assert not r["significant"].any()
        assert r["p_value"].min() > 0.001


# ---------------------------------------------------------------------------------------------
# subscore_drivers
# ---------------------------------------------------------------------------------------------
def orthogonal_table(repeat: int = 10) -> pd.DataFrame:
    # a, b in {-1, +1}, uncorrelated; score = 5 + 2a + b (no noise)
    #   var(score) = 4·var(a) + var(b) = 5 (var(a) = var(b) = 1), R² = 1
    #   a alone explains 4/5, b alone 1/5; orthogonal -> no shared part, Shapley = 0.8 and 0.2
    # sub-scores on a 1-5 scale: sub_speed = 3 + 2a, sub_knowledge = 3 + b
    a = np.array([1, 1, -1, -1] * repeat)
    b = np.array([1, -1, 1, -1] * repeat)
    return pd.DataFrame(
        {
            "score": pd.array(5 + 2 * a + b, dtype="Int64"),  # 8, 6, 4, 2
            "sub_speed": 3.0 + 2 * a,
            "sub_knowledge": 3.0 + b,
        }
    )


def test_subscore_importance_by_hand():
    out = subscore_drivers(orthogonal_table(), ["sub_speed", "sub_knowledge"], n_boot=100)
    assert tuple(out.columns) == SUBSCORE_COLUMNS
    speed, knowledge = out.iloc[0], out.iloc[1]
    assert out["r2"].iloc[0] == pytest.approx(1.0)
    assert speed["importance"] == pytest.approx(0.8)
    assert knowledge["importance"] == pytest.approx(0.2)
    assert out["importance"].sum() == pytest.approx(out["r2"].iloc[0])
    assert out["importance_share"].tolist() == pytest.approx([0.8, 0.2])
    # scores 8, 6, 4, 2: no promoter (9-10), passives 8 (a=1, b=1), detractors the rest
    #   mean sub_speed among passives = 5, among detractors (6, 4, 2) = (5 + 1 + 1)/3
    assert math.isnan(speed["mean_promoters"])
    assert speed["mean_passives"] == 5.0 and speed["mean_detractors"] == pytest.approx(7 / 3)
    # no promoters: AUC and point-biserial undefined
    assert math.isnan(speed["auc"]) and math.isnan(speed["point_biserial"])


def test_driving_subscore_gets_the_largest_importance():
    rng = np.random.default_rng(3)
    n = 2000
    speed = rng.integers(1, 6, n).astype(float)
    knowledge = np.clip(speed + rng.integers(-1, 2, n), 1, 5)  # correlated with speed
    accuracy = rng.integers(1, 6, n).astype(float)
    score = np.clip(np.round(2.0 * speed + 0.3 * accuracy - 1 + rng.normal(0, 1.2, n)), 0, 10)
    frame = pd.DataFrame(
        {
            "score": pd.array(score.astype(int), dtype="Int64"),
            "sub_speed": speed,
            "sub_knowledge": knowledge,
            "sub_accuracy": accuracy,
        }
    )
    frame.loc[rng.random(n) < 0.1, "sub_accuracy"] = np.nan
    cols = ["sub_speed", "sub_knowledge", "sub_accuracy"]
    out = subscore_drivers(frame, cols, n_boot=200, seed=0).set_index("sub_score")
    assert out["importance"].idxmax() == "sub_speed"
    assert (
        out.loc["sub_speed", "importance_ci_low"] > out.loc["sub_knowledge", "importance_ci_high"]
    )
    assert out["importance"].sum() == pytest.approx(out["r2"].iloc[0])
    assert out["importance_share"].sum() == pytest.approx(1.0)

    # R² and exact Shapley against brute force over all 3! orders (complete cases, lstsq)
    cc = frame.dropna()
    y = cc["score"].to_numpy(dtype=float)

    def r2(subset: tuple[str, ...]) -> float:
        if not subset:
            return 0.0
        design = np.column_stack([np.ones(len(cc)), cc[list(subset)].to_numpy()])
        resid = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
        return 1 - resid @ resid / ((y - y.mean()) @ (y - y.mean()))

    shapley = dict.fromkeys(cols, 0.0)
    for order in itertools.permutations(cols):
        for i, c in enumerate(order):
            shapley[c] += (r2(tuple(order[: i + 1])) - r2(tuple(order[:i]))) / 6
    assert out["r2"].iloc[0] == pytest.approx(r2(tuple(cols)))
    for c in cols:
        assert out.loc[c, "importance"] == pytest.approx(shapley[c])
    assert out["n_complete"].iloc[0] == len(cc)

    # pairwise statistics on each column's non-missing rows, against scipy / scikit-learn
    for c in cols:
        ok = frame[c].notna().to_numpy()
        v, s = frame.loc[ok, c].to_numpy(), frame.loc[ok, "score"].to_numpy(dtype=float)
        assert out.loc[c, "n"] == ok.sum()
        assert out.loc[c, "spearman"] == pytest.approx(stats.spearmanr(v, s).statistic)
        assert out.loc[c, "auc"] == pytest.approx(roc_auc_score(s >= 9, v))
        assert out.loc[c, "point_biserial"] == pytest.approx(stats.pointbiserialr(s >= 9, v)[0])
        for stat in ("spearman", "auc", "point_biserial", "importance"):
            assert out.loc[c, f"{stat}_ci_low"] <= out.loc[c, stat] <= out.loc[c, f"{stat}_ci_high"]
        assert out.loc[c, "mean_promoters"] == pytest.approx(v[s >= 9].mean())
        assert out.loc[c, "mean_detractors"] == pytest.approx(v[s <= 6].mean())
    assert out.loc["sub_speed", "auc"] > 0.8 and out.loc["sub_speed", "spearman"] > 0.7


def test_subscores_seeded_and_errors():
    frame = orthogonal_table()
    a = subscore_drivers(frame, ["sub_speed", "sub_knowledge"], n_boot=50, seed=1)
    b = subscore_drivers(frame, ["sub_speed", "sub_knowledge"], n_boot=50, seed=1)
    pd.testing.assert_frame_equal(a, b)
    empty = subscore_drivers(frame, [])
    assert empty.empty and tuple(empty.columns) == SUBSCORE_COLUMNS
    with pytest.raises(KeyError):
        subscore_drivers(frame, ["sub_nope"])
    with pytest.raises(ValueError):
        subscore_drivers(frame, ["sub_speed", "sub_speed"])
    with pytest.raises(ValueError):
        subscore_drivers(
            frame.assign(**{f"s{i}": 1.0 for i in range(13)}), [f"s{i}" for i in range(13)]
        )
    # n_boot = 0: point estimates only
    c = subscore_drivers(frame, ["sub_speed", "sub_knowledge"], n_boot=0)
    assert c["importance_ci_low"].isna().all() and c["importance"].notna().all()
