"""Drivers for every score kind: the drivers.csv rows of CSAT, CES, yes/no and labelled scores.

Every metric is the mean of a per-respondent value in its own unit (koe.core.scores), so a
theme's statistics are those of compute_drivers with NPS replaced by that mean:
``nps_mentioning`` / ``nps_not_mentioning`` / ``nps_difference`` / ``impact`` and their
intervals hold the metric in its unit (the ``metric`` column says which), and ``promoters`` /
``passives`` / ``detractors`` count the scale's high / middle / low class (e.g. CSAT 4-5, 3,
1-2). impact = metric(all) - metric(all but the mentioning respondents) = share ·
difference, with the same shared bootstrap (``n_boot`` resamples, seeded) for its interval.

p_value: Welch's z-test of the difference, each group's variance computed with two
pseudo-respondents added at the metric's extremes (for a share this is Agresti-Caffo's
adjustment; it keeps a small group that all answered alike from looking certain). q_value:
Benjamini-Hochberg within the metric. small_n and row order as in drivers.csv.

``metric_drivers(comments, tags, scale)``: comments needs ``id`` and the scale's column (the
metric name; ``score`` for nps). Respondents without that score are left out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse, stats

from koe.analysis.drivers import (
    _BOOT_CHUNK_CELLS,
    _TAG_REQUIRED,
    DRIVER_COLUMNS,
    _empty_drivers,
    _mention_pairs,
    _percentiles,
    _require,
    benjamini_hochberg,
    compute_drivers,
    driver_frame,
    in_driver_order,
    mention_matrix,
)
from koe.analysis.resample import distinct_rows, resample_counts
from koe.core.scores import ScoreScale

METRIC_DRIVER_COLUMNS = (*DRIVER_COLUMNS, "metric")


def metric_column(scale: ScoreScale) -> str:
    """The CommentFrame column of a scale: ``score`` for the 0-10 recommend score."""
    return "score" if scale.name == "nps" else scale.name


def metric_range(scale: ScoreScale) -> tuple[float, float]:
    """The smallest and largest per-respondent value of the metric."""
    if scale.kind == "nps":
        return -100.0, 100.0
    return (scale.low, scale.high) if scale.kind == "ces" else (0.0, 100.0)


def score_values(comments: pd.DataFrame, scale: ScoreScale) -> np.ndarray:
    """Each comment's score on ``scale`` as float, NaN where it has none."""
    return pd.to_numeric(comments[metric_column(scale)], errors="coerce").to_numpy(dtype=float)


def respondent_values(comments: pd.DataFrame, scale: ScoreScale) -> tuple[pd.Index, np.ndarray,
                                                                          np.ndarray]:  # fmt: skip
    """(ids, metric values, classes) of the comments that have this score."""
    raw = score_values(comments, scale)
    keep = ~np.isnan(raw)
    v = raw[keep]
    ids = pd.Index(comments.loc[keep, "id"].astype("str").to_numpy())
    if ids.has_duplicates:
        raise ValueError(f"duplicate comment id {ids[ids.duplicated()][0]!r}")
    return ids, scale.metric_values(v), scale.classes(v)


def welch_test(sum_a, sq_a, n_a, sum_b, sq_b, n_b, lo: float, hi: float):
    """(difference of means, two-sided p) with two pseudo-respondents (lo, hi) in each group's
    variance; NaN where a group is empty."""
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_a, mean_b = sum_a / n_a, sum_b / n_b

        def variance(s, q, n):
            s2, q2, n2 = s + lo + hi, q + lo * lo + hi * hi, n + 2
            return (q2 - s2 * s2 / n2) / (n2 - 1)

        se = np.sqrt(variance(sum_a, sq_a, n_a) / (n_a + 2)
                     + variance(sum_b, sq_b, n_b) / (n_b + 2))  # fmt: skip
        diff = mean_a - mean_b
        p = 2 * stats.norm.sf(np.abs(diff / se))
    empty = (np.asarray(n_a) == 0) | (np.asarray(n_b) == 0)
    return diff, np.where(empty, np.nan, p)


def _bootstrap(x: sparse.csr_matrix, v: np.ndarray, n_boot: int, seed: int):
    """Replicates (rows x n_boot) of the mentioning mean and of impact."""
    n = x.shape[1]
    first, _, counts = distinct_rows(x.T.tocsr(), v)
    xd, vf = x[:, first].tocsr(), v[first]
    rng = np.random.default_rng(seed)
    chunk = max(1, _BOOT_CHUNK_CELLS // max(counts.size, 1))
    mean_parts, impact_parts = [], []
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        c = resample_counts(rng, counts, b).T  # distinct rows x b
        n_m = np.asarray(xd @ c)
        s_m = np.asarray(xd @ (c * vf[:, None]))
        s_all = vf @ c
        with np.errstate(divide="ignore", invalid="ignore"):
            mean_parts.append(np.where(n_m > 0, s_m / n_m, np.nan))
            other = np.where(n - n_m > 0, (s_all[None, :] - s_m) / (n - n_m), np.nan)
        impact_parts.append(s_all[None, :] / n - other)
    return np.concatenate(mean_parts, axis=1), np.concatenate(impact_parts, axis=1)


def metric_drivers(
    comments: pd.DataFrame,
    tags: pd.DataFrame,
    scale: ScoreScale,
    *,
    n_boot: int = 500,
    seed: int = 0,
    min_mentions: int = 5,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """drivers.csv rows of one metric (``METRIC_DRIVER_COLUMNS``); nps: compute_drivers'."""
    if scale.name == "nps":
        table = compute_drivers(comments, tags, n_boot=n_boot, seed=seed,
                                min_mentions=min_mentions, alpha=alpha)  # fmt: skip
        return table.assign(metric="nps")
    if len(comments) == 0 or len(tags) == 0:
        return _empty_drivers().assign(metric=pd.Series(dtype="str"))
    _require(tags, _TAG_REQUIRED, "tags")
    ids, v, classes = respondent_values(comments, scale)
    n = ids.size
    pairs = _mention_pairs(ids, tags)
    if n == 0 or pairs.empty:
        return _empty_drivers().assign(metric=pd.Series(dtype="str"))
    keys, x = mention_matrix(pairs, n)
    high, low = (classes == "high").astype(float), (classes == "low").astype(float)
    n_m = np.asarray(x.sum(axis=1)).ravel()
    s_m, q_m = x @ v, x @ (v * v)
    s_all, q_all = v.sum(), (v * v).sum()
    n_o, s_o, q_o = n - n_m, s_all - s_m, q_all - q_m
    lo, hi = metric_range(scale)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_m = s_m / n_m
        mean_o = np.where(n_o > 0, s_o / n_o, np.nan)
    impact = s_all / n - mean_o
    diff, p = welch_test(s_m, q_m, n_m, s_o, q_o, n_o, lo, hi)
    small = n_m < min_mentions
    p = np.where(small, np.nan, p)
    q = benjamini_hochberg(p)
    if n_boot > 0:
        boot_mean, boot_impact = _bootstrap(x, v, n_boot, seed)
    else:
        boot_mean = boot_impact = np.empty((len(keys), 0))
    mean_low, mean_high = _percentiles(boot_mean, alpha)
    impact_low, impact_high = _percentiles(boot_impact, alpha)
    out = driver_frame(
        keys, tags, n, n_m, x @ high, x @ low, high.sum(), low.sum(),
        {
            "nps_mentioning": mean_m,
            "nps_not_mentioning": mean_o,
            "nps_difference": diff,
            "impact": impact,
            "impact_ci_low": impact_low,
            "impact_ci_high": impact_high,
            "nps_mentioning_ci_low": mean_low,
            "nps_mentioning_ci_high": mean_high,
            "p_value": p,
            "q_value": q,
            "significant": (~small) & (np.nan_to_num(q, nan=1.0) < alpha),
            "small_n": small,
        },
    ).assign(metric=scale.name).astype({"metric": "str"})  # fmt: skip
    return in_driver_order(out, keys, impact, small, n_m)


def all_metric_drivers(comments: pd.DataFrame, tags: pd.DataFrame,
                       scales: list[ScoreScale], **kwargs) -> pd.DataFrame:  # fmt: skip
    """drivers.csv: every scale's rows, in the order of ``scales`` (nps first)."""
    parts = [metric_drivers(comments, tags, s, **kwargs) for s in scales]
    return pd.concat(parts, ignore_index=True)[list(METRIC_DRIVER_COLUMNS)]
