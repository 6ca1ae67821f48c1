"""Net Promoter Score statistics.

NPS = % promoters (score 9-10) - % detractors (score 0-6), in -100..100. Passives (7-8) count in
the denominator only. The class thresholds are those of ``koe.core.frames.nps_class``.

Standard error (the usual multinomial / delta-method formula, on the -100..100 scale)::

    Var = 100² · (p + d - (p - d)²)        p, d = shares of promoters, detractors
    SE  = sqrt(Var / n)

Confidence intervals are the normal approximation ``nps ± 1.96·SE`` clipped to [-100, 100]. They
are poor for small groups (and degenerate, zero width, when every answer has the same class),
which is why every summary carries a ``small_n`` flag.

Scores may be any 1-D array-like (list, numpy array, pandas Series incl. nullable ``Int64``).
Missing scores (None, NaN, <NA>) are dropped before counting; a score outside 0..10 raises
ValueError.

Summary columns (``SUMMARY_COLUMNS``; the keys of ``nps_summary`` and the statistic columns of
``nps_by`` / ``nps_by_period``):
    n             int     number of (non-missing) scores
    promoters     int     scores 9-10
    passives      int     scores 7-8
    detractors    int     scores 0-6
    nps           float   -100..100, NaN when n == 0
    se            float   standard error of nps, NaN when n == 0
    ci_low        float   max(-100, nps - 1.96·se)
    ci_high       float   min(100, nps + 1.96·se)
    small_n       bool    n < min_n
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy.special import erfc

from koe.core.frames import DETRACTOR_MAX, PROMOTER_MIN

Z_95 = 1.959963984540054

SUMMARY_COLUMNS = (
    "n",
    "promoters",
    "passives",
    "detractors",
    "nps",
    "se",
    "ci_low",
    "ci_high",
    "small_n",
)

# period code -> pandas Period frequency. Weeks run Monday..Sunday ("W-SUN" = ending Sunday).
PERIOD_FREQS = {"D": "D", "W": "W-SUN", "M": "M", "Q": "Q-DEC"}


def _scores_array(scores: Iterable[float] | pd.Series | np.ndarray) -> np.ndarray:
    """Return the non-missing scores as a float array; raise ValueError if any is outside 0..10."""
    values = pd.to_numeric(pd.Series(list(scores) if not hasattr(scores, "__len__") else scores))
    arr = values.astype("Float64").dropna().to_numpy(dtype=float)
    if arr.size and (arr.min() < 0 or arr.max() > 10):
        bad = arr[(arr < 0) | (arr > 10)][0]
        raise ValueError(f"NPS scores must be within 0..10, got {bad:g}")
    return arr


def nps_from_counts(promoters, detractors, n):
    """NPS from counts, vectorized.

    Args:
        promoters: number(s) of promoters (scalar or numpy array).
        detractors: number(s) of detractors.
        n: number(s) of respondents.

    Returns:
        100 · (promoters - detractors) / n as float (array), NaN where n == 0.
    """
    promoters = np.asarray(promoters, dtype=float)
    detractors = np.asarray(detractors, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(n > 0, 100.0 * (promoters - detractors) / n, np.nan)
    return out[()] if out.ndim == 0 else out


def nps_variance_from_counts(promoters, detractors, n):
    """Per-respondent variance of the NPS (-100..100 scale) from counts, vectorized.

    Args:
        promoters: number(s) of promoters.
        detractors: number(s) of detractors.
        n: number(s) of respondents.

    Returns:
        100² · (p + d - (p - d)²) with p = promoters/n, d = detractors/n; NaN where n == 0.
        Divide by n for the variance of the NPS estimate.
    """
    promoters = np.asarray(promoters, dtype=float)
    detractors = np.asarray(detractors, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = promoters / n
        d = detractors / n
        var = np.where(n > 0, 10_000.0 * (p + d - (p - d) ** 2), np.nan)
    # p + d - (p - d)² >= 0 mathematically; clip rounding noise (e.g. all promoters).
    var = np.where(np.isnan(var), np.nan, np.maximum(var, 0.0))
    return var[()] if var.ndim == 0 else var


def nps(scores: Iterable[float] | pd.Series | np.ndarray) -> float:
    """Net Promoter Score of a set of 0-10 scores.

    Args:
        scores: 1-D array-like of 0-10 scores; missing values are ignored.

    Returns:
        %promoters(9-10) - %detractors(0-6), in -100..100; NaN for empty input.
    """
    arr = _scores_array(scores)
    return float(
        nps_from_counts((arr >= PROMOTER_MIN).sum(), (arr <= DETRACTOR_MAX).sum(), arr.size)
    )


def nps_standard_error(scores: Iterable[float] | pd.Series | np.ndarray) -> float:
    """Standard error of the NPS (on the -100..100 scale).

    Args:
        scores: 1-D array-like of 0-10 scores; missing values are ignored.

    Returns:
        sqrt(Var / n) with Var = 100²·(p + d - (p - d)²), p and d the promoter and detractor
        shares; NaN for n == 0 (0.0 when every score has the same class).
    """
    arr = _scores_array(scores)
    p, d, n = (arr >= PROMOTER_MIN).sum(), (arr <= DETRACTOR_MAX).sum(), arr.size
    if n == 0:
        return float("nan")
    return float(np.sqrt(nps_variance_from_counts(p, d, n) / n))


def _summary_from_counts(counts: pd.DataFrame, min_n: int) -> pd.DataFrame:
    """Add nps, se, ci_low, ci_high, small_n to a frame with n, promoters, passives, detractors."""
    out = counts.copy()
    for col in ("n", "promoters", "passives", "detractors"):
        out[col] = out[col].astype("int64")
    n = out["n"].to_numpy()
    score = nps_from_counts(out["promoters"].to_numpy(), out["detractors"].to_numpy(), n)
    with np.errstate(divide="ignore", invalid="ignore"):
        var = nps_variance_from_counts(out["promoters"].to_numpy(), out["detractors"].to_numpy(), n)
        se = np.where(n > 0, np.sqrt(var / np.where(n > 0, n, 1)), np.nan)
    out["nps"] = np.asarray(score, dtype=float)
    out["se"] = np.asarray(se, dtype=float)
    out["ci_low"] = np.clip(out["nps"] - Z_95 * out["se"], -100.0, 100.0)
    out["ci_high"] = np.clip(out["nps"] + Z_95 * out["se"], -100.0, 100.0)
    out["small_n"] = out["n"] < min_n
    return out


def _summary_dict(promoters: int, passives: int, detractors: int, min_n: int) -> dict:
    """``nps_summary`` dict from class counts."""
    counts = pd.DataFrame(
        {
            "n": [promoters + passives + detractors],
            "promoters": [promoters],
            "passives": [passives],
            "detractors": [detractors],
        }
    )
    row = _summary_from_counts(counts, min_n).iloc[0]
    return {
        "n": int(row["n"]),
        "promoters": int(row["promoters"]),
        "passives": int(row["passives"]),
        "detractors": int(row["detractors"]),
        "nps": float(row["nps"]),
        "se": float(row["se"]),
        "ci_low": float(row["ci_low"]),
        "ci_high": float(row["ci_high"]),
        "small_n": bool(row["small_n"]),
    }


def nps_summary(scores: Iterable[float] | pd.Series | np.ndarray, *, min_n: int = 30) -> dict:
    """NPS with counts, standard error and a 95% normal-approximation interval.

    Args:
        scores: 1-D array-like of 0-10 scores; missing values are ignored.
        min_n: groups with fewer scores than this are flagged ``small_n``.

    Returns:
        dict with the keys of ``SUMMARY_COLUMNS``: n, promoters, passives, detractors (int),
        nps, se, ci_low, ci_high (float, NaN when n == 0), small_n (bool).
    """
    arr = _scores_array(scores)
    p = int((arr >= PROMOTER_MIN).sum())
    d = int((arr <= DETRACTOR_MAX).sum())
    return _summary_dict(p, arr.size - p - d, d, min_n)


def _class_counts(comments: pd.DataFrame, score_col: str) -> pd.DataFrame:
    """Copy of ``comments`` restricted to scored rows, with 0/1 _n/_p/_pa/_d indicator columns."""
    if score_col not in comments.columns:
        raise KeyError(f"comments has no {score_col!r} column")
    score = pd.to_numeric(comments[score_col]).astype("Float64")
    _scores_array(score)  # range check
    keep = score.notna().to_numpy(dtype=bool)
    out = comments.loc[keep].copy()
    s = score[keep].to_numpy(dtype=float)
    out["_n"] = 1
    out["_p"] = (s >= PROMOTER_MIN).astype("int64")
    out["_d"] = (s <= DETRACTOR_MAX).astype("int64")
    out["_pa"] = out["_n"] - out["_p"] - out["_d"]
    return out


def _grouped_counts(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Sum the indicator columns of ``_class_counts`` per group (NA keys kept as a group)."""
    grouped = (
        frame.groupby(keys, dropna=False, observed=True, sort=True)[["_n", "_p", "_pa", "_d"]]
        .sum()
        .reset_index()
    )
    return grouped.rename(
        columns={"_n": "n", "_p": "promoters", "_pa": "passives", "_d": "detractors"}
    )


def _as_list(by: str | list[str] | None) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def nps_by(
    comments: pd.DataFrame,
    by: str | list[str],
    *,
    min_n: int = 30,
    score_col: str = "score",
) -> pd.DataFrame:
    """NPS per group (segment, plan, department, ...).

    Args:
        comments: CommentFrame; needs ``score_col`` (0-10, missing scores ignored) and the
            ``by`` columns.
        by: one column name or a list of column names to group on. Missing values in a group
            column form their own group (NaN key); categorical columns give observed groups only.
        min_n: groups with fewer scores than this are flagged ``small_n``.
        score_col: name of the score column.

    Returns:
        One row per group, sorted by the group keys: the ``by`` columns followed by
        ``SUMMARY_COLUMNS`` (n, promoters, passives, detractors, nps, se, ci_low, ci_high,
        small_n). Groups whose rows all lack a score do not appear. Empty input gives an empty
        frame with these columns.
    """
    keys = _as_list(by)
    if not keys:
        raise ValueError("nps_by needs at least one column in `by`")
    missing = [k for k in keys if k not in comments.columns]
    if missing:
        raise KeyError(f"comments has no column(s) {missing}")
    scored = _class_counts(comments, score_col)
    if scored.empty:
        empty = pd.DataFrame({k: comments[k].iloc[:0] for k in keys})
        counts = pd.DataFrame(
            {c: pd.Series(dtype="int64") for c in ("n", "promoters", "passives", "detractors")}
        )
        return _summary_from_counts(pd.concat([empty, counts], axis=1), min_n)
    counts = _grouped_counts(scored, keys)
    return _summary_from_counts(counts, min_n).reset_index(drop=True)


def nps_by_period(
    comments: pd.DataFrame,
    period: str = "W",
    date_col: str = "date",
    *,
    by: str | list[str] | None = None,
    min_n: int = 30,
    score_col: str = "score",
    fill_gaps: bool = True,
) -> pd.DataFrame:
    """NPS per calendar period (trend), optionally per segment.

    A date column that is not datetime is parsed element by element (``format="mixed"``).
    Rows whose date is missing (NaT, or unparsable) are excluded from every period. Their
    NPS is reported separately in ``result.attrs["unknown_date"]``: an ``nps_summary`` dict
    (its ``"n"`` is the number of scored comments without a date), so undated comments are
    never silently lost.
    Timezone-aware dates are bucketed by their local wall-clock date.

    Args:
        comments: CommentFrame; needs ``date_col``, ``score_col`` and the ``by`` columns.
        period: "W" (ISO weeks, Monday..Sunday), "M" (calendar months); also "D" (days) and
            "Q" (calendar quarters).
        date_col: name of the date column.
        by: optional segment column(s); one time series per observed segment combination.
        min_n: periods with fewer scores than this are flagged ``small_n``.
        score_col: name of the score column.
        fill_gaps: when True, periods between the first and the last dated comment that have no
            comments (per segment) appear with n == 0 and NaN statistics, so a trend chart
            shows the gap instead of interpolating over it.

    Returns:
        Columns: ``period`` (Timestamp, the first day of the period: a Monday for "W"), the
        ``by`` columns, then ``SUMMARY_COLUMNS``. Sorted by the ``by`` columns, then period.
        ``attrs["unknown_date"]`` as above; ``attrs["period"]`` is the period code.
    """
    if period not in PERIOD_FREQS:
        raise ValueError(f"period must be one of {sorted(PERIOD_FREQS)}, got {period!r}")
    keys = _as_list(by)
    missing = [k for k in [date_col, *keys] if k not in comments.columns]
    if missing:
        raise KeyError(f"comments has no column(s) {missing}")
    scored = _class_counts(comments, score_col)
    dates = scored[date_col]
    if not pd.api.types.is_datetime64_any_dtype(dates):
        dates = pd.to_datetime(dates, errors="coerce", format="mixed")
    if isinstance(dates.dtype, pd.DatetimeTZDtype):
        dates = dates.dt.tz_localize(None)
    has_date = dates.notna().to_numpy(dtype=bool)

    undated = scored.loc[~has_date]
    unknown = _summary_dict(
        int(undated["_p"].sum()), int(undated["_pa"].sum()), int(undated["_d"].sum()), min_n
    )

    dated = scored.loc[has_date].copy()
    freq = PERIOD_FREQS[period]
    dated["period"] = dates[has_date].dt.to_period(freq).dt.start_time.to_numpy()
    if dated.empty:
        counts = pd.DataFrame(
            {
                "period": pd.Series(dtype="datetime64[ns]"),
                **{k: comments[k].iloc[:0] for k in keys},
                **{
                    c: pd.Series(dtype="int64")
                    for c in ("n", "promoters", "passives", "detractors")
                },
            }
        )
    else:
        counts = _grouped_counts(dated, [*keys, "period"])
        if fill_gaps:
            periods = pd.period_range(
                dated["period"].min(), dated["period"].max(), freq=freq
            ).start_time
            grid = pd.DataFrame({"period": periods.to_numpy()})
            if keys:
                combos = counts[keys].drop_duplicates()
                grid = combos.merge(grid, how="cross")
            counts = grid.merge(counts, on=[*keys, "period"], how="left")
            for c in ("n", "promoters", "passives", "detractors"):
                counts[c] = counts[c].fillna(0).astype("int64")
        counts = counts.sort_values([*keys, "period"], kind="stable")
        counts = counts[["period", *keys, "n", "promoters", "passives", "detractors"]]
    result = _summary_from_counts(counts, min_n).reset_index(drop=True)
    result.attrs["unknown_date"] = unknown
    result.attrs["period"] = period
    return result


def nps_difference_test(p_a, d_a, n_a, p_b, d_b, n_b) -> tuple[np.ndarray, np.ndarray]:
    """Difference of two independent groups' NPS and its two-sided normal-approximation p-value.

    Vectorized over numpy arrays (or scalars) of promoter, detractor and respondent counts of
    group a and group b.

    Returns:
        (difference, p_value): difference = NPS(a) - NPS(b) from the plain counts; p_value =
        2·(1 - Φ(|z|)) with z = difference / sqrt(Var_a/(n_a + 3) + Var_b/(n_b + 3)), where each
        variance is ``nps_variance_from_counts`` of the adjusted-Wald counts (promoters + ¾,
        detractors + ¾, n + 3; Rocks 2016, the best-covering NPS interval in his comparison).
        The adjustment matters for small groups: five comments that are all detractors have a
        plain variance of 0, which would make any difference "certain". Both are NaN where a
        group is empty.
    """
    p_a, d_a, n_a, p_b, d_b, n_b = (
        np.asarray(v, dtype=float) for v in (p_a, d_a, n_a, p_b, d_b, n_b)
    )
    diff = np.asarray(nps_from_counts(p_a, d_a, n_a) - nps_from_counts(p_b, d_b, n_b))
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(
            nps_variance_from_counts(p_a + 0.75, d_a + 0.75, n_a + 3) / (n_a + 3)
            + nps_variance_from_counts(p_b + 0.75, d_b + 0.75, n_b + 3) / (n_b + 3)
        )
        z = np.abs(diff) / se
    p = erfc(z / np.sqrt(2.0))
    ok = (n_a > 0) & (n_b > 0)
    return np.where(ok, diff, np.nan), np.where(ok, p, np.nan)
