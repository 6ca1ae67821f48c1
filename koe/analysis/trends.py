"""Theme volume over time and early warnings of sudden rises.

``theme_trends(comments, tags, period="W")`` gives one row per (theme, polarity, period): how
many comments of the period mention the theme with that polarity, how bad those comments are,
and whether the count jumps above its recent history. ``early_warnings(trends)`` lists the
jumps as English sentences for the report.

Comments are those with a non-missing score and a date (a non-datetime date column is parsed
with ``format="mixed"``; unparsable dates count as missing). A comment *mentions* (theme,
polarity) when it has at least one tag row with that theme and polarity (several sentences count
once). Tag rows whose id is not among the comments are ignored. Polarities are positive,
negative and neutral (tag rows with another or no polarity are ignored), plus "any" (every
mention of the theme) when ``include_any=True``.

Periods are calendar periods (``analysis.nps.PERIOD_FREQS``: "W" = Monday..Sunday weeks, "M",
"Q", "D"), identified by their first day. Every (theme, polarity) seen anywhere gets a row for
every period from the first to the last dated comment, with zero mentions where it was not
mentioned, so a theme that appears suddenly has a history of zeros.

trends.csv columns (``TREND_COLUMNS``, in this order):
    theme            str        theme id
    polarity         str        positive | negative | neutral (| any)
    period           datetime   first day of the period (a Monday for "W")
    period_comments  int        comments of the period (all themes)
    mentions         int        comments of the period mentioning (theme, polarity)
    share            float      mentions / period_comments (NaN when the period has none)
    detractors       int        detractors (0-6) among the mentioning comments
    detractor_share  float      detractors / mentions (NaN when mentions == 0)
    impact           float      leave-one-out impact within the period: NPS(period) - NPS(the
                                period's comments that do not mention it), in NPS points; 0
                                when mentions == 0, NaN when every comment mentions it or the
                                period has no comments
    change           float      mentions - mentions of the previous period (NaN for the first)
    trailing_mean    float      } mean and population standard deviation (ddof=0) of mentions
    trailing_std     float      } over the previous ``trailing`` periods that have comments
                                  (periods without any comment are skipped, so a pause in the
                                  survey does not look like a quiet history); NaN until that
                                  many such periods exist, and for periods without comments
    z_score          float      (mentions - trailing_mean) / max(trailing_std, sqrt(trailing_mean),
                                1): counts are Poisson-like, so their standard deviation is at
                                least about sqrt(mean); the floor keeps a short, by chance quiet
                                history (a noisy std estimate of a few periods) from raising
                                false alarms, and a flat history (std 0) from blowing z up
    warning          bool       z_score > z and mentions >= min_count (never while z_score is
                                NaN, i.e. before ``trailing`` periods of history); equivalently
                                mentions > trailing_mean + z·max(trailing_std,
                                sqrt(trailing_mean), 1)

Row order: theme id, polarity (positive, negative, neutral, any), period. ``attrs`` holds
period, trailing, z and min_count.

Counts, not shares, are tested: a period with many more answers than usual (a mailing wave)
raises every theme's count, so read a warning with ``share`` and ``period_comments`` beside it.

early_warnings columns (``WARNING_COLUMNS``): theme, polarity, period, mentions, trailing_mean,
z (the z_score), message (e.g. "product_reports negative: 14 mentions in week of 2026-10-19,
trailing mean 0.8 (z = 13.2)"). Latest period first, then z descending, theme, polarity.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from koe.analysis.nps import PERIOD_FREQS, nps_from_counts
from koe.core.frames import DETRACTOR_MAX, POLARITIES, PROMOTER_MIN

TREND_COLUMNS = (
    "theme",
    "polarity",
    "period",
    "period_comments",
    "mentions",
    "share",
    "detractors",
    "detractor_share",
    "impact",
    "change",
    "trailing_mean",
    "trailing_std",
    "z_score",
    "warning",
)
WARNING_COLUMNS = ("theme", "polarity", "period", "mentions", "trailing_mean", "z", "message",
                   "theme_name")

_POL_ORDER = {p: i for i, p in enumerate((*POLARITIES, "any"))}
_INT_COLUMNS = ("period_comments", "mentions", "detractors")
_PERIOD_WORDS = {"D": "on", "W": "in week of", "M": "in month of", "Q": "in quarter of"}


def _empty_trends(attrs: dict) -> pd.DataFrame:
    cols = {}
    for c in TREND_COLUMNS:
        if c in ("theme", "polarity"):
            cols[c] = pd.Series(dtype="str")
        elif c == "period":
            cols[c] = pd.Series(dtype="datetime64[ns]")
        elif c in _INT_COLUMNS:
            cols[c] = pd.Series(dtype="int64")
        elif c == "warning":
            cols[c] = pd.Series(dtype="bool")
        else:
            cols[c] = pd.Series(dtype="float64")
    out = pd.DataFrame(cols)
    out.attrs.update(attrs)
    return out


def _dated_comments(comments: pd.DataFrame, date_col: str, freq: str) -> pd.DataFrame:
    """id, period, promoter, detractor of the comments with a score and a date."""
    score = pd.to_numeric(comments["score"]).astype("Float64")
    dates = comments[date_col]
    if not pd.api.types.is_datetime64_any_dtype(dates):
        dates = pd.to_datetime(dates, errors="coerce", format="mixed")
    if isinstance(dates.dtype, pd.DatetimeTZDtype):
        dates = dates.dt.tz_localize(None)
    keep = (score.notna() & dates.notna()).to_numpy(dtype=bool)
    s = score[keep].to_numpy(dtype=float)
    if s.size and (s.min() < 0 or s.max() > 10):
        raise ValueError("scores must be within 0..10")
    out = pd.DataFrame(
        {
            "id": comments.loc[keep, "id"].astype("str").to_numpy(),
            "period": dates[keep].dt.to_period(freq).dt.start_time.to_numpy(),
            "prom": (s >= PROMOTER_MIN).astype("int64"),
            "det": (s <= DETRACTOR_MAX).astype("int64"),
        }
    )
    if out["id"].duplicated().any():
        dup = out.loc[out["id"].duplicated(), "id"].iloc[0]
        raise ValueError(f"duplicate comment id {dup!r}")
    return out


def _trailing(mentions: pd.Series, keys: pd.Series, trailing: int) -> tuple[pd.Series, pd.Series]:
    """Mean and ddof=0 std of the previous ``trailing`` values within each key (NaN before)."""
    grouped = mentions.groupby(keys, sort=False)
    mean = grouped.transform(lambda v: v.rolling(trailing, min_periods=trailing).mean().shift(1))
    std = grouped.transform(
        lambda v: v.rolling(trailing, min_periods=trailing).std(ddof=0).shift(1)
    )
    return mean, std


def theme_trends(
    comments: pd.DataFrame,
    tags: pd.DataFrame,
    *,
    period: str = "W",
    trailing: int = 4,
    z: float = 2.0,
    min_count: int = 5,
    date_col: str = "date",
    include_any: bool = False,
) -> pd.DataFrame:
    """Mentions per (theme, polarity, period) with a trailing-window spike detector.

    Args:
        comments: CommentFrame; needs id (unique), score and ``date_col``.
        tags: TagFrame; needs id, theme, polarity.
        period: "W" (weeks starting Monday), "M", "Q" or "D".
        trailing: number of earlier periods (with comments) the spike is measured against.
        z: a warning needs mentions > trailing_mean + z·max(trailing_std, sqrt(trailing_mean), 1).
        min_count: a warning also needs at least this many mentions.
        date_col: name of the date column.
        include_any: also add polarity "any" rows (every mention of the theme).

    Returns:
        A new frame with ``TREND_COLUMNS`` (see the module docstring). Empty comments, tags or
        no dated comment give an empty frame with the columns.

    Raises:
        KeyError: a required column is missing.
        ValueError: unknown period, trailing < 1, duplicate ids, a score outside 0..10.
    """
    if period not in PERIOD_FREQS:
        raise ValueError(f"period must be one of {sorted(PERIOD_FREQS)}, got {period!r}")
    if trailing < 1:
        raise ValueError(f"trailing must be >= 1, got {trailing}")
    attrs = {"period": period, "trailing": trailing, "z": z, "min_count": min_count}
    if len(comments) == 0 or len(tags) == 0:
        return _empty_trends(attrs)
    for name, frame, cols in (
        ("comments", comments, ("id", "score", date_col)),
        ("tags", tags, ("id", "theme", "polarity")),
    ):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise KeyError(f"{name} has no column(s) {missing}")

    freq = PERIOD_FREQS[period]
    dated = _dated_comments(comments, date_col, freq)
    if dated.empty:
        return _empty_trends(attrs)

    themed = tags.loc[tags["theme"].notna()]
    t = pd.DataFrame(
        {
            "id": themed["id"].astype("str").to_numpy(),
            "theme": themed["theme"].astype("str").to_numpy(),
            "polarity": themed["polarity"].astype("str").to_numpy(),
        }
    )
    known = t["polarity"].isin(POLARITIES).to_numpy() & themed["polarity"].notna().to_numpy()
    t = pd.concat([t.loc[known], t.assign(polarity="any")] if include_any else [t.loc[known]])
    pairs = t.drop_duplicates().merge(dated, on="id", how="inner")
    if pairs.empty:
        return _empty_trends(attrs)

    periods = pd.period_range(dated["period"].min(), dated["period"].max(), freq=freq)
    per_period = (
        dated.groupby("period")
        .agg(period_comments=("id", "size"), _p=("prom", "sum"), _d=("det", "sum"))
        .reindex(periods.start_time, fill_value=0)
        .rename_axis("period")
        .reset_index()
    )
    keys = pairs[["theme", "polarity"]].drop_duplicates()
    keys = keys.assign(_pol=keys["polarity"].map(_POL_ORDER))
    keys = keys.sort_values(["theme", "_pol"], kind="stable")
    grid = keys.merge(per_period, how="cross")
    counts = (
        pairs.groupby(["theme", "polarity", "period"])
        .agg(mentions=("id", "size"), _mp=("prom", "sum"), detractors=("det", "sum"))
        .reset_index()
    )
    out = grid.merge(counts, on=["theme", "polarity", "period"], how="left")
    for c in ("mentions", "_mp", "detractors", "period_comments", "_p", "_d"):
        out[c] = out[c].fillna(0).astype("int64")
    out = out.sort_values(["theme", "_pol", "period"], kind="stable").reset_index(drop=True)

    n_t = out["period_comments"].to_numpy(dtype=float)
    m = out["mentions"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["share"] = np.where(n_t > 0, m / n_t, np.nan)
        out["detractor_share"] = np.where(m > 0, out["detractors"].to_numpy() / m, np.nan)
    nps_all = nps_from_counts(out["_p"].to_numpy(), out["_d"].to_numpy(), n_t)
    nps_rest = nps_from_counts(
        out["_p"].to_numpy() - out["_mp"].to_numpy(),
        out["_d"].to_numpy() - out["detractors"].to_numpy(),
        n_t - m,
    )
    out["impact"] = nps_all - nps_rest  # 0 when m == 0; NaN when n_t == m

    key = out["theme"] + "\x00" + out["polarity"]
    out["change"] = out["mentions"].astype("float64").groupby(key, sort=False).diff()
    active = out["period_comments"].to_numpy() > 0
    mean, std = _trailing(out.loc[active, "mentions"].astype("float64"), key[active], trailing)
    out["trailing_mean"] = mean.reindex(out.index)
    out["trailing_std"] = std.reindex(out.index)
    spread = np.maximum(np.maximum(out["trailing_std"], np.sqrt(out["trailing_mean"])), 1.0)
    out["z_score"] = (out["mentions"] - out["trailing_mean"]) / spread
    out["warning"] = (
        out["z_score"].notna().to_numpy()
        & (out["z_score"].fillna(-np.inf).to_numpy() > z)
        & (out["mentions"].to_numpy() >= min_count)
    )
    out["theme"] = out["theme"].astype("str")
    out["polarity"] = out["polarity"].astype("str")
    out["period"] = out["period"].astype("datetime64[ns]")
    out = out[list(TREND_COLUMNS)].copy()
    out.attrs.update(attrs)
    return out


def _period_label(start: pd.Timestamp, period: str | None) -> str:
    if period == "M":
        return f"in month of {start:%Y-%m}"
    if period == "Q":
        return f"in quarter of {start.year}-Q{start.quarter}"
    word = _PERIOD_WORDS.get(period or "", "in period of")
    return f"{word} {start:%Y-%m-%d}"


def early_warnings(trends: pd.DataFrame, *, period: str | None = None,
                   names: Mapping[str, str] | None = None) -> pd.DataFrame:  # fmt: skip
    """The rows of a ``theme_trends`` frame whose ``warning`` is set, with a readable message.

    Args:
        trends: output of ``theme_trends`` (or trends.csv read back: a text period is parsed).
        period: period code for the wording ("W" -> "week of 2026-10-19", "M" -> "month of
            2026-10", ...); default ``trends.attrs["period"]``, else "period of <date>".
        names: theme id -> the name a reader knows (lookup theme names, emergent themes'
            labels); the message uses it, the id stays in ``theme`` (default: the id).

    Returns:
        A new frame with ``WARNING_COLUMNS`` (see the module docstring): latest period first,
        then z descending, theme, polarity. No warning gives an empty frame with the columns.
    """
    names = names or {}
    missing = [c for c in (*WARNING_COLUMNS[:5], "z_score", "warning") if c not in trends.columns]
    if missing:
        raise KeyError(f"trends has no column(s) {missing}")
    code = period if period is not None else trends.attrs.get("period")
    hits = trends.loc[trends["warning"].astype("bool")]
    out = pd.DataFrame(
        {
            "theme": hits["theme"].astype("str").to_numpy(),
            "polarity": hits["polarity"].astype("str").to_numpy(),
            "period": pd.to_datetime(hits["period"]).astype("datetime64[ns]").to_numpy(),
            "mentions": hits["mentions"].astype("int64").to_numpy(),
            "trailing_mean": hits["trailing_mean"].astype("float64").to_numpy(),
            "z": hits["z_score"].astype("float64").to_numpy(),
        }
    )
    out["theme_name"] = [str(names.get(t) or t) for t in out["theme"]]
    out["message"] = [
        f"{r.theme_name} {r.polarity}: {r.mentions} mentions {_period_label(r.period, code)}, "
        f"trailing mean {r.trailing_mean:.1f} (z = {r.z:.1f})"
        for r in out.itertuples(index=False)
    ]
    out["message"] = out["message"].astype("str")
    out["_pol"] = out["polarity"].map(_POL_ORDER).fillna(len(_POL_ORDER))
    out = out.sort_values(
        ["period", "z", "theme", "_pol"], ascending=[False, False, True, True], kind="stable"
    )
    return out[list(WARNING_COLUMNS)].reset_index(drop=True)
