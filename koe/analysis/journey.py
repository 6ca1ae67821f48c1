"""Journey segments: every score per cell of what happened to the customer, comparisons between
cells, and where continuation is at risk.

A journey is a list of segment columns, e.g. ``[trouble, contacted, response]``; a cell is one
observed combination of their values ("あり×あり×期待以下"; a missing part is "(missing)"). Every
metric is the mean of a per-respondent value (koe.core.scores); intervals are normal
(mean ± z·sd/√n, clipped to the metric's range) and tests are koe.analysis.metrics.welch_test.

journey.csv (``JOURNEY_COLUMNS``), one row per (cell, metric), plus the cell "(all)":
    journey      str    the columns joined by "×"
    cell         str    the values joined by "×"; "(all)" for every respondent
    metric       str    nps | the score's name
    n            int    respondents in the cell with this score
    value        float  the metric in its unit (koe.core.scores)
    ci_low, ci_high  float  interval of value (level 1 - alpha)
    share_high   float  share of the scale's high class (promoters, top box, "easy", yes)
    share_low    float  share of its low class (detractors, bottom box, no)
    small_n      bool   n < min_n
    vs_rest      float  value - the metric of every other respondent
    p_value      float  Welch test of vs_rest (NaN for small_n and "(all)")
    q_value      float  Benjamini-Hochberg over the table

journey_comparisons.csv (``COMPARISON_COLUMNS``), one row per (declared comparison, metric):
    comparison, metric, a_n, a_value, b_n, b_value, difference (a - b), ci_low, ci_high,
    p_value, q_value (BH over the table), significant (q < alpha and both groups >= min_n)

journey_drivers.csv: the drivers of every metric within each cell with at least ``min_n``
respondents: cell, cell_n, then koe.analysis.metrics.METRIC_DRIVER_COLUMNS (impact on the
cell's own metric; BH within each cell and metric).

segment_scores.csv: journey.csv's columns for each segment column on its own (``journey`` is
the column, ``cell`` its value): every score per segment value, not only NPS. score_trend.csv:
the same with the period (``journey`` = "period", ``cell`` = the week or month).

churn_risk.csv (``RISK_COLUMNS``): the risk metric (continuation intent, or the primary) per cell
and per (cell, negative theme), surely lowest first (by the interval's upper end):
    level ("cell" | "theme"), cell, theme, theme_name, metric, n, value, ci_low, ci_high,
    vs_all (value - the metric over everyone), at_risk (ci_high < the metric over everyone)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from koe.analysis.drivers import benjamini_hochberg
from koe.analysis.metrics import (
    METRIC_DRIVER_COLUMNS,
    metric_drivers,
    metric_range,
    score_values,
    welch_test,
)
from koe.analysis.segments import COMBO_SEPARATOR, _value_text
from koe.core.frames import THEME_SOURCES
from koe.core.scores import ScoreScale

ALL_CELL = "(all)"
JOURNEY_COLUMNS = ("journey", "cell", "metric", "n", "value", "ci_low", "ci_high", "share_high",
                   "share_low", "small_n", "vs_rest", "p_value", "q_value")  # fmt: skip
COMPARISON_COLUMNS = ("comparison", "metric", "a_n", "a_value", "b_n", "b_value", "difference",
                      "ci_low", "ci_high", "p_value", "q_value", "significant")  # fmt: skip
RISK_COLUMNS = ("level", "cell", "theme", "theme_name", "metric", "n", "value", "ci_low",
                "ci_high", "vs_all", "at_risk")  # fmt: skip


def journey_cells(comments: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """Each comment's cell: its values of ``columns`` joined by "×" (missing: "(missing)")."""
    parts = [comments[c].map(_value_text) for c in columns]  # _value_text: "(missing)" too
    cells = parts[0].astype(str)
    for part in parts[1:]:
        cells = cells + COMBO_SEPARATOR + part.astype(str)
    return cells.rename("journey_cell")


def _values(comments: pd.DataFrame, scale: ScoreScale) -> tuple[np.ndarray, np.ndarray]:
    raw = score_values(comments, scale)
    return scale.metric_values(raw), scale.classes(raw)


def _interval(v: np.ndarray, scale: ScoreScale, z: float) -> tuple[float, float, float]:
    """(mean, low, high) of the values that are not NaN."""
    v = v[~np.isnan(v)]
    if v.size == 0:
        return np.nan, np.nan, np.nan
    mean = float(v.mean())
    half = z * float(v.std(ddof=1)) / np.sqrt(v.size) if v.size > 1 else np.inf
    lo, hi = metric_range(scale)
    return mean, max(lo, mean - half), min(hi, mean + half)


def _sums(v: np.ndarray) -> tuple[float, float, int]:
    v = v[~np.isnan(v)]
    return float(v.sum()), float((v * v).sum()), int(v.size)


def journey_table(comments: pd.DataFrame, columns: Sequence[str], scales: Sequence[ScoreScale],
                  *, min_n: int = 30, alpha: float = 0.05) -> pd.DataFrame:  # fmt: skip
    """journey.csv (see the module docstring); cells in their natural order."""
    cells = journey_cells(comments, columns).to_numpy()
    z = stats.norm.ppf(1 - alpha / 2)
    rows = []
    for scale in scales:
        v, classes = _values(comments, scale)
        lo, hi = metric_range(scale)
        for cell in [ALL_CELL, *sorted(set(cells))]:
            inside = np.ones(len(v), bool) if cell == ALL_CELL else cells == cell
            mine = v[inside]
            answered = ~np.isnan(mine)
            mean, ci_low, ci_high = _interval(mine, scale, z)
            n = int(answered.sum())
            mine_classes = classes[inside][answered]
            diff = p = np.nan
            if cell != ALL_CELL:
                diff, p = (float(x) for x in welch_test(*_sums(mine), *_sums(v[~inside]), lo, hi))
            rows.append({
                "journey": COMBO_SEPARATOR.join(columns), "cell": cell, "metric": scale.name,
                "n": n, "value": mean, "ci_low": ci_low, "ci_high": ci_high,
                "share_high": (mine_classes == "high").mean() if n else np.nan,
                "share_low": (mine_classes == "low").mean() if n else np.nan,
                "small_n": n < min_n, "vs_rest": diff,
                "p_value": np.nan if n < min_n else p,
            })  # fmt: skip
    table = pd.DataFrame(rows, columns=[c for c in JOURNEY_COLUMNS if c != "q_value"])
    table["q_value"] = benjamini_hochberg(table["p_value"].to_numpy(dtype=float))
    return table


def _matches(comments: pd.DataFrame, where: Mapping[str, str | list[str]]) -> np.ndarray:
    mask = np.ones(len(comments), dtype=bool)
    for column, wanted in where.items():
        allowed = {wanted} if isinstance(wanted, str) else set(wanted)
        mask &= comments[column].map(_value_text).isin(allowed).to_numpy()
    return mask


def compare_cells(comments: pd.DataFrame, comparisons: Sequence[tuple[str, Mapping, Mapping]],
                  scales: Sequence[ScoreScale], *, min_n: int = 30,
                  alpha: float = 0.05) -> pd.DataFrame:  # fmt: skip
    """journey_comparisons.csv: each (name, a filter, b filter) on every metric."""
    z = stats.norm.ppf(1 - alpha / 2)
    values = {scale.name: _values(comments, scale)[0] for scale in scales}
    rows = []
    for name, a, b in comparisons:
        in_a, in_b = _matches(comments, a), _matches(comments, b)
        for scale in scales:
            v = values[scale.name]
            sa, sb = _sums(v[in_a]), _sums(v[in_b])
            lo, hi = metric_range(scale)
            diff, p = (float(x) for x in welch_test(*sa, *sb, lo, hi))
            va, vb = v[in_a & ~np.isnan(v)], v[in_b & ~np.isnan(v)]
            se = (np.sqrt(va.var(ddof=1) / va.size + vb.var(ddof=1) / vb.size)
                  if va.size > 1 and vb.size > 1 else np.nan)  # fmt: skip
            rows.append({
                "comparison": name, "metric": scale.name, "a_n": sa[2],
                "a_value": va.mean() if va.size else np.nan, "b_n": sb[2],
                "b_value": vb.mean() if vb.size else np.nan, "difference": diff,
                "ci_low": diff - z * se, "ci_high": diff + z * se,
                "p_value": p if min(sa[2], sb[2]) >= 2 else np.nan,
                "_small": min(sa[2], sb[2]) < min_n,
            })  # fmt: skip
    table = pd.DataFrame(rows, columns=[*COMPARISON_COLUMNS[:-2], "_small"])
    table["q_value"] = benjamini_hochberg(table["p_value"].to_numpy(dtype=float))
    table["significant"] = ~table["_small"] & (table["q_value"].fillna(1.0) < alpha)
    return table.drop(columns="_small")[list(COMPARISON_COLUMNS)]


def churn_risk(comments: pd.DataFrame, tags: pd.DataFrame, columns: Sequence[str],
               scale: ScoreScale, *, min_n: int = 30, min_mentions: int = 5,
               alpha: float = 0.05) -> pd.DataFrame:  # fmt: skip
    """churn_risk.csv: cells (n >= min_n) and (cell, negative theme) pairs (>= min_mentions
    respondents), surely lowest first."""
    z = stats.norm.ppf(1 - alpha / 2)
    v, _ = _values(comments, scale)
    overall = float(np.nanmean(v)) if (~np.isnan(v)).any() else np.nan
    cells = journey_cells(comments, columns).to_numpy()
    respondents = pd.DataFrame({"cell": cells, "theme": "", "value": v})
    negative = tags[tags["source"].isin(THEME_SOURCES) & (tags["polarity"] == "negative")]
    names = negative.drop_duplicates("theme").set_index("theme")["theme_name"].to_dict()
    pos = pd.Index(comments["id"].astype(str)).get_indexer(negative["id"].astype(str))
    pairs = pd.DataFrame({"pos": pos, "theme": negative["theme"].astype(str).to_numpy()})
    pairs = pairs[pairs["pos"] >= 0].drop_duplicates()  # a respondent counts once per theme
    mentions = pd.DataFrame({"cell": cells[pairs["pos"]], "theme": pairs["theme"].to_numpy(),
                             "value": v[pairs["pos"]]})  # fmt: skip
    lo, hi = metric_range(scale)
    parts = []
    for level, frame, least in (("cell", respondents, min_n), ("theme", mentions, min_mentions)):
        g = frame.dropna(subset=["value"]).groupby(["cell", "theme"])["value"]
        stat = g.agg(["count", "mean", "std"]).reset_index()
        stat = stat[stat["count"] >= least]
        half = z * stat["std"].fillna(np.inf) / np.sqrt(stat["count"])
        parts.append(pd.DataFrame({
            "level": level, "cell": stat["cell"], "theme": stat["theme"],
            "theme_name": [names.get(t, "") for t in stat["theme"]], "metric": scale.name,
            "n": stat["count"].astype("int64"), "value": stat["mean"],
            "ci_low": (stat["mean"] - half).clip(lower=lo), "ci_high": (stat["mean"] + half).clip(
                upper=hi),
        }))  # fmt: skip
    table = pd.concat(parts, ignore_index=True)
    table["vs_all"] = table["value"] - overall
    table["at_risk"] = table["ci_high"] < overall
    return table[list(RISK_COLUMNS)].sort_values(["ci_high", "value", "level", "cell", "theme"],
                                                 kind="stable", ignore_index=True)  # fmt: skip


def journey_drivers(comments: pd.DataFrame, tags: pd.DataFrame, columns: Sequence[str],
                    scales: Sequence[ScoreScale], *, min_n: int = 30, n_boot: int = 200,
                    seed: int = 0, min_mentions: int = 5,
                    alpha: float = 0.05) -> pd.DataFrame:  # fmt: skip
    """journey_drivers.csv (see the module docstring); cells in their natural order."""
    cells = journey_cells(comments, columns)
    parts = []
    for cell in sorted(set(cells)):
        members = comments[(cells == cell).to_numpy()]
        if len(members) < min_n:
            continue
        mine = tags[tags["id"].isin(set(members["id"]))]
        for scale in scales:
            table = metric_drivers(members, mine, scale, n_boot=n_boot, seed=seed,
                                   min_mentions=min_mentions, alpha=alpha)  # fmt: skip
            table.insert(0, "cell_n", len(members))
            table.insert(0, "cell", cell)
            parts.append(table)
    if not parts:
        return pd.DataFrame(columns=["cell", "cell_n", *METRIC_DRIVER_COLUMNS])
    return pd.concat(parts, ignore_index=True)


def segment_scores(comments: pd.DataFrame, segments: Sequence[str],
                   scales: Sequence[ScoreScale], *, min_n: int = 30,
                   alpha: float = 0.05) -> pd.DataFrame:  # fmt: skip
    """segment_scores.csv: every score per value of each segment column (BH over the table)."""
    parts = [table[table["cell"] != ALL_CELL] for table in
             (journey_table(comments, [c], scales, min_n=min_n, alpha=alpha) for c in segments)]
    if not parts:
        return pd.DataFrame(columns=list(JOURNEY_COLUMNS))
    table = pd.concat(parts, ignore_index=True)
    table["q_value"] = benjamini_hochberg(table["p_value"].to_numpy(dtype=float))
    return table.reset_index(drop=True)


def overall_scores(comments: pd.DataFrame, scales: Sequence[ScoreScale],
                   alpha: float = 0.05) -> list[dict]:  # fmt: skip
    """Each score over every respondent: name, kind, unit, n, value, ci_low, ci_high."""
    z = stats.norm.ppf(1 - alpha / 2)
    out = []
    for scale in scales:
        v, _ = _values(comments, scale)
        value, low, high = _interval(v, scale, z)
        out.append({"name": scale.name, "kind": scale.kind, "unit": scale.unit,
                    "n": int((~np.isnan(v)).sum()), "value": value, "ci_low": low,
                    "ci_high": high})  # fmt: skip
    return out
