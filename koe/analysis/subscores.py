"""Sub-score drivers: which sub-items (speed, knowledge, accuracy, ...) separate promoters.

``subscore_drivers(comments, ["sub_speed", "sub_knowledge", "sub_accuracy"])`` gives one row per
sub-score with its means per NPS class, its rank correlation with the 0-10 score, how well it
separates promoters from the rest, and its share of the explained variance of the score.

Rows: comments with a non-missing score (0..10). Per-sub-score statistics use the rows where that
sub-score is present; the relative importance uses the rows where every listed sub-score is
present (complete cases). Sub-scores may be on any numeric scale (1-5, 0-10, ...).

Relative importance (LMG, i.e. the Shapley value of R²): R²(S) is the R² of the least-squares
regression of score on the sub-scores in S (with intercept); sub-score j gets

    φ_j = Σ_{S ⊆ others} |S|!·(k - |S| - 1)!/k! · (R²(S ∪ {j}) - R²(S)),

averaged over all orders in which the sub-scores can enter the model; the φ_j sum exactly to the
R² of the full model. Computed exactly over all 2^k subsets (k <= ``MAX_SUBSCORES`` = 12).

Subscore columns (``SUBSCORE_COLUMNS``, in this order):
    sub_score          str    column name
    n                  int    rows with a score and this sub-score
    mean_promoters     float  } mean sub-score among promoters (9-10), passives (7-8), detractors
    mean_passives      float  } (0-6); NaN for an empty class
    mean_detractors    float  }
    spearman           float  Spearman rank correlation with the score (NaN if either constant)
    spearman_ci_low    float  } bootstrap percentile interval (level 1 - alpha)
    spearman_ci_high   float  }
    point_biserial     float  Pearson correlation of the sub-score with the promoter indicator
    point_biserial_ci_low   float  } bootstrap percentile interval
    point_biserial_ci_high  float  }
    auc                float  P(sub-score of a random promoter > that of a random non-promoter)
                              + ½·P(tie): 0.5 = no separation, 1 = promoters always higher
    auc_ci_low         float  } bootstrap percentile interval
    auc_ci_high        float  }
    importance         float  LMG / Shapley share of R² (complete cases); sums to r2
    importance_ci_low  float  } bootstrap percentile interval
    importance_ci_high float  }
    importance_share   float  importance / r2 (sums to 1; NaN when r2 == 0)
    r2                 float  R² of score on all the sub-scores (same on every row)
    n_complete         int    complete-case rows used for importance and r2 (same on every row)

Rows in the order of ``sub_scores``. Bootstrap: ``n_boot`` resamples of the scored rows with
replacement (numpy Generator seeded with ``seed``), shared by every statistic and sub-score;
a replicate where a statistic is undefined (e.g. no promoter drawn) is skipped for it. Rows with
the same score and sub-scores are computed once, with a weight: a resample is a multinomial
draw of the distinct rows' counts, so the cost depends on the distinct rows (at most 11 x the
scale's values per sub-score, in practice), not on the number of comments.
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pandas as pd

from koe.analysis.resample import distinct_rows, resample_counts
from koe.core.frames import DETRACTOR_MAX, PROMOTER_MIN

SUBSCORE_COLUMNS = (
    "sub_score",
    "n",
    "mean_promoters",
    "mean_passives",
    "mean_detractors",
    "spearman",
    "spearman_ci_low",
    "spearman_ci_high",
    "point_biserial",
    "point_biserial_ci_low",
    "point_biserial_ci_high",
    "auc",
    "auc_ci_low",
    "auc_ci_high",
    "importance",
    "importance_ci_low",
    "importance_ci_high",
    "importance_share",
    "r2",
    "n_complete",
)
MAX_SUBSCORES = 12
# Replicates are processed in chunks of about this many (replicate x distinct row) cells.
_CHUNK_CELLS = 1 << 21


def _weighted_pearson(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted Pearson correlation per row of w (B x P) of values a and b ((P,) or (B x P)).

    The same as the correlation of the rows repeated w times; NaN where either is constant.
    """
    total = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ma = (w * a).sum(axis=1) / total
        mb = (w * b).sum(axis=1) / total
        da = a - ma[:, None]
        db = b - mb[:, None]
        cov = (w * da * db).sum(axis=1)
        var = (w * da * da).sum(axis=1) * (w * db * db).sum(axis=1)
        r = cov / np.sqrt(var)
    return np.where(var > 1e-12 * np.maximum(total, 1) ** 2, r, np.nan)


def _weighted_ranks(values: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Mid-ranks (B x P) of P values in samples holding value p w[:, p] times (ties averaged).

    Equal to ``scipy.stats.rankdata`` of the repeated rows; the value of each row is the rank
    its copies get.
    """
    uniq, code = np.unique(values, return_inverse=True)
    mass = np.zeros((w.shape[0], uniq.size))
    np.add.at(mass.T, code.ravel(), w.T)  # weight per distinct value
    below = np.cumsum(mass, axis=1) - mass
    return (below + (mass + 1) / 2)[:, code.ravel()]


def _pairwise_stats(v: np.ndarray, s: np.ndarray, prom: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Spearman, point-biserial and AUC for each row of the (B x P) row weights -> (3 x B).

    ``v`` (P,) holds NaN where the sub-score is missing; ``s`` and ``prom`` are the score and
    promoter indicator of the P distinct rows; ``w`` how often each row is in each sample.
    """
    valid = ~np.isnan(v)
    vv, sv, pv, wv = v[valid], s[valid], prom[valid], w[:, valid]
    if vv.size == 0:
        return np.full((3, w.shape[0]), np.nan)
    rv = _weighted_ranks(vv, wv)
    rs = _weighted_ranks(sv, wv)
    spearman = _weighted_pearson(rv, rs, wv)
    point_biserial = _weighted_pearson(vv, pv.astype(float), wv)
    n_p = wv[:, pv].sum(axis=1)
    n_o = wv.sum(axis=1) - n_p
    rank_sum = (wv[:, pv] * rv[:, pv]).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = (rank_sum - n_p * (n_p + 1) / 2) / (n_p * n_o)
    auc = np.where((n_p > 0) & (n_o > 0), auc, np.nan)
    return np.vstack([spearman, point_biserial, auc])


def _subset_r2(cov: np.ndarray) -> dict[tuple[int, ...], np.ndarray]:
    """R² of y on every subset of the predictors from (B x (k+1) x (k+1)) covariances.

    Index 0 of the covariance is y, 1..k the predictors. Returns subset (sorted tuple of
    0-based predictor indices) -> (B,) R² (NaN where var(y) == 0).
    """
    k = cov.shape[1] - 1
    var_y = cov[:, 0, 0]
    out: dict[tuple[int, ...], np.ndarray] = {(): np.zeros(cov.shape[0])}
    for size in range(1, k + 1):
        for subset in itertools.combinations(range(k), size):
            idx = np.array(subset) + 1
            c_ss = cov[:, idx[:, None], idx[None, :]]
            c_sy = cov[:, idx, 0]
            beta = np.einsum("bij,bj->bi", np.linalg.pinv(c_ss, hermitian=True), c_sy)
            explained = np.einsum("bi,bi->b", beta, c_sy)
            with np.errstate(invalid="ignore", divide="ignore"):
                out[subset] = np.where(var_y > 0, explained / var_y, np.nan)
    return out


def _shapley(r2: dict[tuple[int, ...], np.ndarray], k: int) -> np.ndarray:
    """Exact Shapley values (k x B) of the R² set function."""
    b = next(iter(r2.values())).shape[0]
    phi = np.zeros((k, b))
    for j in range(k):
        others = [i for i in range(k) if i != j]
        for size in range(k):
            weight = math.factorial(size) * math.factorial(k - size - 1) / math.factorial(k)
            for subset in itertools.combinations(others, size):
                with_j = tuple(sorted((*subset, j)))
                phi[j] += weight * (r2[with_j] - r2[subset])
    return phi


def _weighted_cov(z: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted covariance matrices (B x p x p) of the columns of z (n x p), weights w (B x n)."""
    total = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (w @ z) / total[:, None]
        outer = (z[:, :, None] * z[:, None, :]).reshape(z.shape[0], -1)  # n x p²
        second = (w @ outer).reshape(w.shape[0], z.shape[1], z.shape[1]) / total[:, None, None]
    return second - mean[:, :, None] * mean[:, None, :]


def _percentiles(reps: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    if reps.shape[-1] == 0:
        nan = np.full(reps.shape[0], np.nan)
        return nan, nan.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanpercentile(reps, [100 * alpha / 2, 100 * (1 - alpha / 2)], axis=-1)
    return low, high


def _empty_subscores() -> pd.DataFrame:
    dtypes = {"sub_score": "str", "n": "int64", "n_complete": "int64"}
    return pd.DataFrame({c: pd.Series(dtype=dtypes.get(c, "float64")) for c in SUBSCORE_COLUMNS})


def subscore_drivers(
    comments: pd.DataFrame,
    sub_scores: list[str],
    *,
    n_boot: int = 500,
    seed: int = 0,
    alpha: float = 0.05,
    score_col: str = "score",
) -> pd.DataFrame:
    """Per sub-score: class means, Spearman with score, promoter AUC, and LMG importance.

    Args:
        comments: CommentFrame; needs ``score_col`` and the ``sub_scores`` columns (numeric;
            missing values allowed).
        sub_scores: sub-score column names (at most ``MAX_SUBSCORES``), in output order.
        n_boot: bootstrap resamples for the intervals (0: NaN intervals).
        seed: seed of the numpy Generator drawing the resamples.
        alpha: the intervals have level 1 - alpha.
        score_col: name of the 0-10 score column.

    Returns:
        A new frame with ``SUBSCORE_COLUMNS`` (see the module docstring), one row per
        sub-score. No sub-scores or no scored row give an empty frame with the columns.

    Raises:
        KeyError: a column is missing.
        ValueError: too many or repeated sub-scores, a score outside 0..10, a bad parameter.
    """
    sub_scores = list(sub_scores)
    missing = [c for c in [score_col, *sub_scores] if c not in comments.columns]
    if missing:
        raise KeyError(f"comments has no column(s) {missing}")
    if len(sub_scores) > MAX_SUBSCORES:
        raise ValueError(f"at most {MAX_SUBSCORES} sub-scores, got {len(sub_scores)}")
    if len(set(sub_scores)) != len(sub_scores):
        raise ValueError(f"repeated sub-score in {sub_scores}")
    if n_boot < 0 or not 0 < alpha < 1:
        raise ValueError("need n_boot >= 0 and 0 < alpha < 1")
    score = pd.to_numeric(comments[score_col]).astype("Float64")
    keep = score.notna().to_numpy(dtype=bool)
    s = score[keep].to_numpy(dtype=float)
    if s.size and (s.min() < 0 or s.max() > 10):
        raise ValueError("scores must be within 0..10")
    if not sub_scores or s.size == 0:
        return _empty_subscores()
    k = len(sub_scores)
    v = np.column_stack(
        [
            pd.to_numeric(comments.loc[keep, c])
            .astype("Float64")
            .to_numpy(dtype=float, na_value=np.nan)
            for c in sub_scores
        ]
    )  # n x k, NaN = missing
    prom = s >= PROMOTER_MIN
    det = s <= DETRACTOR_MAX
    # Rows with the same score and sub-scores are exchangeable: every statistic is computed on
    # the distinct rows with weights, and a bootstrap resample of the n rows is a multinomial
    # draw of how often each distinct row appears. Cost: distinct rows, not n.
    first, _, counts = distinct_rows(None, np.column_stack([s, v]))
    d_s, d_v, d_prom = s[first], v[first], prom[first]
    d_complete = ~np.isnan(d_v).any(axis=1)
    z = np.column_stack([d_s, d_v])[d_complete]  # complete distinct rows: score, sub-scores
    complete = ~np.isnan(v).any(axis=1)

    # Point estimates: the sample itself.
    point = np.stack(
        [_pairwise_stats(d_v[:, j], d_s, d_prom, counts[None, :])[:, 0] for j in range(k)]
    )
    if complete.sum() >= 2:
        cov = _weighted_cov(z, counts[None, d_complete])
        r2_sets = _subset_r2(cov)
        importance = _shapley(r2_sets, k)[:, 0]
        r2 = float(r2_sets[tuple(range(k))][0])
    else:
        importance = np.full(k, np.nan)
        r2 = np.nan

    boot_pair = np.full((k, 3, n_boot), np.nan)
    boot_imp = np.full((k, n_boot), np.nan)
    if n_boot > 0:
        rng = np.random.default_rng(seed)
        chunk = max(1, _CHUNK_CELLS // counts.size)
        for start in range(0, n_boot, chunk):
            b = min(chunk, n_boot - start)
            w = resample_counts(rng, counts, b)
            for j in range(k):
                boot_pair[j, :, start : start + b] = _pairwise_stats(d_v[:, j], d_s, d_prom, w)
            if d_complete.sum() >= 2:
                wc = w[:, d_complete]
                ok = wc.sum(axis=1) >= 2
                phi = _shapley(_subset_r2(_weighted_cov(z, wc[ok])), k)
                block = np.full((k, b), np.nan)
                block[:, ok] = phi
                boot_imp[:, start : start + b] = block

    out = pd.DataFrame({"sub_score": pd.Series(sub_scores, dtype="str")})
    out["n"] = (~np.isnan(v)).sum(axis=0).astype("int64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for name, mask in (("promoters", prom), ("passives", ~prom & ~det), ("detractors", det)):
            out[f"mean_{name}"] = np.nanmean(v[mask], axis=0) if mask.any() else np.nan
    for i, name in enumerate(("spearman", "point_biserial", "auc")):
        out[name] = point[:, i]
        out[f"{name}_ci_low"], out[f"{name}_ci_high"] = _percentiles(boot_pair[:, i, :], alpha)
    out["importance"] = importance
    out["importance_ci_low"], out["importance_ci_high"] = _percentiles(boot_imp, alpha)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["importance_share"] = importance / r2 if r2 and not np.isnan(r2) else np.nan
    out["r2"] = r2
    out["n_complete"] = int(complete.sum())
    for c in SUBSCORE_COLUMNS:
        if c not in ("sub_score", "n", "n_complete"):
            out[c] = out[c].astype("float64")
    return out[list(SUBSCORE_COLUMNS)]
