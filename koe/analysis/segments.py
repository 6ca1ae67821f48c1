"""NPS per segment and per combination of segments, compared with the rest of the respondents.

``segment_table(comments, ["plan", "role"], combos=[["had_trouble", "asked_us", "satisfied"]])``
gives one row per observed value of every listed segment column, and one row per observed
combination of values of every combo (e.g. "had trouble × asked us × satisfied with the
answer"). Each row carries the group's NPS with its sampling error (the formulas of
``analysis.nps``) and a test of the group against all other respondents.

Respondents are the comments with a non-missing score (0..10; others are dropped). A missing
segment value forms its own group, shown as ``MISSING_VALUE`` ("(missing)"); inside a combination
each missing part is shown that way.

segments.csv columns (``SEGMENT_COLUMNS``, in this order):
    segment       str    the column name, or the combo's column names joined by "×" ("a×b")
    value         str    the value (as text), or the combo's values joined by "×" ("v1×v2")
    n             int    respondents in the group
    promoters     int    scores 9-10
    passives      int    scores 7-8
    detractors    int    scores 0-6
    nps           float  NPS of the group, -100..100
    se            float  standard error: sqrt(100²·(p + d - (p - d)²) / n)
    ci_low        float  max(-100, nps - 1.96·se)
    ci_high       float  min(100, nps + 1.96·se)
    small_n       bool   n < min_n (the normal approximation is poor; read with care)
    nps_vs_rest   float  nps - NPS of every other respondent (NaN when nobody else is left)
    p_value       float  two-sided adjusted-Wald p-value of nps_vs_rest != 0
                         (``analysis.nps.nps_difference_test``: variances from counts with
                         ¾ promoter, ¾ detractor, 3 respondents added); NaN when the rest is
                         empty, and NaN for small_n rows (as in drivers.csv)
    q_value       float  Benjamini-Hochberg adjusted p_value; one family per table (every row
                         with a p-value, all segments and combos together)

Row order: segment name (alphabetically), then value in the natural order of the column(s):
numbers numerically, text lexicographically, booleans False before True, missing last.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from koe.analysis.drivers import DRIVER_COLUMNS, benjamini_hochberg, compute_drivers
from koe.analysis.nps import SUMMARY_COLUMNS, nps_by, nps_by_period, nps_difference_test

SEGMENT_COLUMNS = ("segment", "value", *SUMMARY_COLUMNS, "nps_vs_rest", "p_value", "q_value")
COMBO_SEPARATOR = "×"
MISSING_VALUE = "(missing)"


def _empty_segment_table() -> pd.DataFrame:
    dtypes = {
        "segment": "str",
        "value": "str",
        "n": "int64",
        "promoters": "int64",
        "passives": "int64",
        "detractors": "int64",
        "small_n": "bool",
    }
    return pd.DataFrame({c: pd.Series(dtype=dtypes.get(c, "float64")) for c in SEGMENT_COLUMNS})


def _value_text(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return MISSING_VALUE
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)


def _specs(segments: list[str], combos: list[list[str]] | None) -> list[list[str]]:
    """Distinct column lists to group on (a combo of one column equals that segment)."""
    specs: list[list[str]] = []
    seen: set[tuple[str, ...]] = set()
    for spec in [[s] for s in segments] + [list(c) for c in combos or []]:
        if not spec:
            raise ValueError("a combo needs at least one column")
        if len(set(spec)) != len(spec):
            raise ValueError(f"a combo repeats a column: {spec}")
        if tuple(spec) not in seen:
            seen.add(tuple(spec))
            specs.append(spec)
    return specs


def segment_table(
    comments: pd.DataFrame,
    segments: list[str],
    *,
    combos: list[list[str]] | None = None,
    min_n: int = 30,
    score_col: str = "score",
) -> pd.DataFrame:
    """NPS per segment value and per combination of segment values, each versus the rest.

    Args:
        comments: CommentFrame; needs ``score_col`` and every column named in ``segments`` and
            ``combos``.
        segments: segment columns; one row per observed value of each.
        combos: lists of columns whose values are crossed (e.g. [["had_trouble", "asked_us"]]);
            one row per observed combination. A combo of one column is the same as listing the
            column in ``segments`` (duplicates are dropped).
        min_n: groups with fewer respondents than this are flagged ``small_n``.
        score_col: name of the score column.

    Returns:
        A new frame with ``SEGMENT_COLUMNS`` (see the module docstring), sorted by segment then
        value. No segments and no combos, or no scored comment, give an empty frame with the
        columns.

    Raises:
        KeyError: a named column (or the score column) is missing.
        ValueError: a score outside 0..10, an empty combo, or a combo that repeats a column.
    """
    specs = _specs(list(segments), combos)
    needed = sorted({c for spec in specs for c in spec} | {score_col})
    missing = [c for c in needed if c not in comments.columns]
    if missing:
        raise KeyError(f"comments has no column(s) {missing}")
    if not specs:
        return _empty_segment_table()
    overall = nps_by(comments.assign(_all=0), "_all", min_n=min_n, score_col=score_col)
    if overall.empty:
        return _empty_segment_table()
    n_all = int(overall["n"].iloc[0])
    p_all = int(overall["promoters"].iloc[0])
    d_all = int(overall["detractors"].iloc[0])

    parts = []
    for spec in sorted(specs, key=lambda s: COMBO_SEPARATOR.join(s)):
        table = nps_by(comments, spec, min_n=min_n, score_col=score_col)
        values = [
            COMBO_SEPARATOR.join(_value_text(v) for v in key)
            for key in table[spec].itertuples(index=False, name=None)
        ]
        part = table[list(SUMMARY_COLUMNS)].copy()
        part.insert(0, "value", values)
        part.insert(0, "segment", COMBO_SEPARATOR.join(spec))
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)

    n_g = out["n"].to_numpy(dtype=float)
    p_g = out["promoters"].to_numpy(dtype=float)
    d_g = out["detractors"].to_numpy(dtype=float)
    diff, p_val = nps_difference_test(p_g, d_g, n_g, p_all - p_g, d_all - d_g, n_all - n_g)
    out["nps_vs_rest"] = diff
    out["p_value"] = np.where(out["small_n"].to_numpy(dtype=bool), np.nan, p_val)
    out["q_value"] = benjamini_hochberg(out["p_value"].to_numpy())
    out["segment"] = out["segment"].astype("str")
    out["value"] = out["value"].astype("str")
    out["small_n"] = out["small_n"].astype("bool")
    for c in ("nps_vs_rest", "p_value", "q_value"):
        out[c] = out[c].astype("float64")
    return out[list(SEGMENT_COLUMNS)].reset_index(drop=True)


NPS_TREND_COLUMNS = ("period_type", "segment", "value", "period", *SUMMARY_COLUMNS)
ALL = "(all)"


def nps_trend(
    comments: pd.DataFrame,
    segments: list[str],
    *,
    periods: tuple[str, ...] = ("W", "M"),
    min_n: int = 30,
    date_col: str = "date",
    score_col: str = "score",
) -> pd.DataFrame:
    """NPS per period, overall and per value of each segment column (nps_trend.csv).

    Columns (``NPS_TREND_COLUMNS``): period_type ("W" weeks from Monday, "M" months, ...),
    segment (``ALL`` for every respondent, else the column name), value (``ALL``, or the value
    as text; missing values as ``MISSING_VALUE``), period (first day of the period), then the
    ``analysis.nps.SUMMARY_COLUMNS`` (n, promoters, passives, detractors, nps, se, ci_low,
    ci_high, small_n). Periods between the first and last dated comment without any comment have
    n == 0 and NaN statistics. Rows: period_type in the given order, overall first, then segments
    in the given order, values as in ``segment_table``, period ascending. Comments without a
    date are left out (``nps_by_period`` reports them in its attrs).
    """
    parts = []
    for period in periods:
        overall = nps_by_period(
            comments, period=period, date_col=date_col, min_n=min_n, score_col=score_col
        )
        parts.append(overall.assign(period_type=period, segment=ALL, value=ALL))
        for column in segments:
            by = nps_by_period(
                comments.assign(_seg=[_value_text(v) for v in comments[column]]),
                period=period, by="_seg", date_col=date_col, min_n=min_n, score_col=score_col,
            )  # fmt: skip
            parts.append(
                by.rename(columns={"_seg": "value"}).assign(period_type=period, segment=column)
            )
    if not parts:
        return pd.DataFrame(columns=list(NPS_TREND_COLUMNS))
    out = pd.concat(parts, ignore_index=True)[list(NPS_TREND_COLUMNS)]
    for c in ("period_type", "segment", "value"):
        out[c] = out[c].astype("str")
    return out.reset_index(drop=True)


SEGMENT_DRIVER_COLUMNS = ("segment", "value", "segment_n", *DRIVER_COLUMNS)


def segment_drivers(
    comments: pd.DataFrame,
    tags: pd.DataFrame,
    segments: list[str],
    *,
    min_n: int = 30,
    n_boot: int = 200,
    seed: int = 0,
    min_mentions: int = 5,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """The driver table within each value of each segment column (segment_drivers.csv).

    Every figure of a row is computed among the segment's respondents only: ``impact`` is the
    theme's leave-one-out impact on the segment's NPS, ``share`` its share of the segment's
    comments, and BH runs within each (segment, value) table. Columns
    (``SEGMENT_DRIVER_COLUMNS``): segment, value (text, as in segments.csv), segment_n (scored
    respondents in the value), then ``DRIVER_COLUMNS``. Values with fewer than ``min_n`` scored
    respondents are left out (their drivers would be noise). Rows: segments in the given order,
    values sorted as text, then the driver order of ``compute_drivers``.
    """
    scored = comments[pd.to_numeric(comments["score"], errors="coerce").notna()]
    parts = []
    for column in segments:
        values = pd.Series([_value_text(v) for v in scored[column]], index=scored.index)
        for value in sorted(values.unique()):
            members = scored[values == value]
            if len(members) < min_n:
                continue
            table = compute_drivers(
                members, tags[tags["id"].isin(set(members["id"]))], n_boot=n_boot,
                seed=seed, min_mentions=min_mentions, alpha=alpha,
            )  # fmt: skip
            table.insert(0, "segment_n", len(members))
            table.insert(0, "value", value)
            table.insert(0, "segment", column)
            parts.append(table)
    if not parts:
        return pd.DataFrame(columns=list(SEGMENT_DRIVER_COLUMNS))
    return pd.concat(parts, ignore_index=True)[list(SEGMENT_DRIVER_COLUMNS)]
