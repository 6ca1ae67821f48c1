"""Key-driver statistics: which themes move the NPS, in which direction, and how surely.

``compute_drivers(comments, tags)`` returns one row per (theme, polarity) that has at least one
mention, polarity in {positive, negative, neutral, any}. "any" counts every mention of the theme
whatever its polarity. A comment *mentions* (theme, polarity) when it has at least one tag row
with that theme and polarity; a comment is counted once however many sentences mention it.

Comments are those with a non-missing score (missing scores are dropped before anything is
counted); tag rows whose id is not among them are ignored. Tag rows with a polarity outside
{positive, negative, neutral} (or missing) count only towards "any".

drivers.csv columns (``DRIVER_COLUMNS``, in this order):
    theme                   str    theme id
    theme_name              str    display name   } most frequent value among the theme's tag
    department              str    owning team    } rows (ties: alphabetically first; "" when
    source                  str    lookup|cluster } missing)
    polarity                str    positive | negative | neutral | any
    mentions                int    comments mentioning (theme, polarity)
    share                   float  mentions / all comments, 0..1
    promoters               int    } counts among the mentioning comments
    passives                int    }
    detractors              int    }
    share_among_promoters   float  mentioning promoters / all promoters (NaN if no promoters)
    share_among_detractors  float  mentioning detractors / all detractors (NaN if none)
    nps_mentioning          float  NPS of the mentioning comments
    nps_not_mentioning      float  NPS of the other comments (NaN if every comment mentions)
    nps_difference          float  nps_mentioning - nps_not_mentioning
    impact                  float  leave-one-out impact: NPS(all) - NPS(all but the mentioning
                                   comments), in NPS points. Positive = the theme pulls the
                                   overall NPS up; negative = it drags it down. Identity:
                                   impact = share · nps_difference.
    impact_ci_low           float  } bootstrap percentile interval of impact
    impact_ci_high          float  }
    nps_mentioning_ci_low   float  } bootstrap percentile interval of nps_mentioning
    nps_mentioning_ci_high  float  }
    p_value                 float  two-sided p-value of nps_difference != 0 (see below)
    q_value                 float  Benjamini-Hochberg adjusted p_value
    significant             bool   q_value < alpha and not small_n
    small_n                 bool   mentions < min_mentions

Row order: rows that are not small_n first, by abs(impact) descending (NaN impact last); then the
small_n rows by mentions descending; ties by theme id, then polarity in the order
positive, negative, neutral, any.

Statistics:
    * NPS and its variance are those of ``analysis.nps``: NPS = 100·(p - d) and per-respondent
      variance 100²·(p + d - (p - d)²), p and d the promoter and detractor shares.
    * Bootstrap: ``n_boot`` resamples of the comments with replacement (numpy Generator seeded
      with ``seed``), drawn as counts of the distinct comment rows. They are shared by every
      (theme, polarity) row, so the intervals of different rows are computed on the same
      resamples. Interval level is 1 - alpha (95% by default): the alpha/2 and 1 - alpha/2
      percentiles (linear interpolation) of the replicate values. Replicates where the statistic
      is undefined (no mentioning comment in the resample, for nps_mentioning; every comment
      mentioning, for impact) are skipped; a replicate with no mentioning comment has impact 0.
      ``n_boot=0`` skips the bootstrap (NaN intervals).
    * p_value: adjusted-Wald test of nps_difference (``analysis.nps.nps_difference_test``): each
      group's NPS variance from its counts with ¾ promoter, ¾ detractor and 3 respondents added
      (Rocks 2016), z = nps_difference / sqrt(Var_m/(n_m+3) + Var_o/(n_o+3)), m = mentioning,
      o = not mentioning comments, p = 2·(1 - Φ(|z|)). The adjustment keeps a small group that
      is all one class (plain variance 0) from looking certain. NaN when a group is empty.
      Still rough for tiny groups, hence ``min_mentions``.
    * q_value: Benjamini-Hochberg over the rows that are not small_n and have a p-value (one
      family for the whole table, all polarities together). small_n rows get NaN p and q
      values and significant False.

The module is longer than koe's ~400-line guide because this docstring is the drivers.csv
column contract; the code itself is about 350 lines.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import sparse

from koe.analysis.nps import nps_difference_test, nps_from_counts
from koe.analysis.resample import distinct_rows, resample_counts
from koe.core.frames import DETRACTOR_MAX, POLARITIES, PROMOTER_MIN

DRIVER_COLUMNS = (
    "theme",
    "theme_name",
    "department",
    "source",
    "polarity",
    "mentions",
    "share",
    "promoters",
    "passives",
    "detractors",
    "share_among_promoters",
    "share_among_detractors",
    "nps_mentioning",
    "nps_not_mentioning",
    "nps_difference",
    "impact",
    "impact_ci_low",
    "impact_ci_high",
    "nps_mentioning_ci_low",
    "nps_mentioning_ci_high",
    "p_value",
    "q_value",
    "significant",
    "small_n",
)
DRIVER_POLARITIES = (*POLARITIES, "any")
THEME_VOLUME_COLUMNS = ("theme", "polarity", "mentions", "comments")

_STR_COLUMNS = ("theme", "theme_name", "department", "source", "polarity")
_INT_COLUMNS = ("mentions", "promoters", "passives", "detractors")
_BOOL_COLUMNS = ("significant", "small_n")
_TAG_REQUIRED = ("id", "theme", "theme_name", "department", "polarity", "source")
# Bootstrap replicates are processed in chunks of about this many (replicate x comment) cells.
_BOOT_CHUNK_CELLS = 1 << 22


def _empty_drivers() -> pd.DataFrame:
    cols = {}
    for c in DRIVER_COLUMNS:
        if c in _STR_COLUMNS:
            cols[c] = pd.Series(dtype="str")
        elif c in _INT_COLUMNS:
            cols[c] = pd.Series(dtype="int64")
        elif c in _BOOL_COLUMNS:
            cols[c] = pd.Series(dtype="bool")
        else:
            cols[c] = pd.Series(dtype="float64")
    return pd.DataFrame(cols)


def _require(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KeyError(f"{name} has no column(s) {missing}")


def benjamini_hochberg(p_values) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values).

    Args:
        p_values: 1-D array-like of p-values in [0, 1]; NaN entries are left out of the family
            (m = number of non-NaN p-values) and come back as NaN.

    Returns:
        float array of the same length: q_(i) = min over j >= i of min(1, m·p_(j)/j), p sorted
        ascending, mapped back to the input order.
    """
    p = np.asarray(p_values, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = ok.size
    if m == 0:
        return q
    order = ok[np.argsort(p[ok], kind="stable")]
    ranked = p[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    q[order] = np.minimum(ranked, 1.0)
    return q


def _mode_per_theme(tags: pd.DataFrame, col: str) -> pd.Series:
    """Most frequent value of ``col`` per theme (ties: alphabetically first); "" for missing."""
    frame = pd.DataFrame(
        {"theme": tags["theme"], "value": tags[col].astype("str").where(tags[col].notna(), "")}
    )
    counts = frame.value_counts(["theme", "value"]).reset_index(name="count")
    counts = counts.sort_values(
        ["theme", "count", "value"], ascending=[True, False, True], kind="stable"
    )
    return counts.drop_duplicates("theme").set_index("theme")["value"]


def _mention_pairs(comment_ids: pd.Index, tags: pd.DataFrame) -> pd.DataFrame:
    """Unique (theme, polarity, pos) rows: pos = position of the mentioning comment."""
    t = tags.loc[tags["theme"].notna(), ["id", "theme", "polarity"]]
    pos = comment_ids.get_indexer(t["id"].astype("str"))
    t = pd.DataFrame(
        {
            "theme": t["theme"].astype("str").to_numpy(),
            "polarity": t["polarity"].astype("str").where(t["polarity"].notna(), "").to_numpy(),
            "pos": pos,
        }
    )
    t = t.loc[t["pos"] >= 0]
    known = t.loc[t["polarity"].isin(POLARITIES)]
    anyp = t.assign(polarity="any")
    pairs = pd.concat([known, anyp], ignore_index=True).drop_duplicates()
    return pairs


def _bootstrap(
    x: sparse.csr_matrix,
    prom: np.ndarray,
    det: np.ndarray,
    n_boot: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Bootstrap replicates of nps_mentioning and impact, each (rows x n_boot).

    Each replicate is a multinomial draw of how often each distinct comment row (theme flags,
    promoter, detractor) is in the resample (analysis.resample), from one seeded Generator in
    fixed-size chunks of replicates; every row's statistics are sparse-matrix products with
    those counts, so the cost depends on the distinct rows, not on the comments.
    """
    n = x.shape[1]
    # comments with the same theme flags and class are exchangeable (analysis.resample)
    first, _, counts = distinct_rows(x.T.tocsr(), prom, det)
    xd = x[:, first].tocsr()
    promf = prom[first].astype(float)
    detf = det[first].astype(float)
    rng = np.random.default_rng(seed)
    chunk = max(1, _BOOT_CHUNK_CELLS // counts.size)
    nps_m_parts, impact_parts = [], []
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        counts_t = resample_counts(rng, counts, b).T  # distinct rows x b
        n_m = np.asarray(xd @ counts_t)  # k x b
        p_m = np.asarray(xd @ (counts_t * promf[:, None]))
        d_m = np.asarray(xd @ (counts_t * detf[:, None]))
        p_all = promf @ counts_t  # b
        d_all = detf @ counts_t
        nps_m_parts.append(nps_from_counts(p_m, d_m, n_m))
        nps_all = nps_from_counts(p_all, d_all, np.full(b, n))
        nps_other = nps_from_counts(p_all - p_m, d_all - d_m, n - n_m)
        impact_parts.append(nps_all[None, :] - nps_other)
    return np.concatenate(nps_m_parts, axis=1), np.concatenate(impact_parts, axis=1)


def _percentiles(reps: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise alpha/2 and 1 - alpha/2 percentiles ignoring NaN (NaN for all-NaN rows)."""
    if reps.shape[1] == 0:
        nan = np.full(reps.shape[0], np.nan)
        return nan, nan.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanpercentile(reps, [100 * alpha / 2, 100 * (1 - alpha / 2)], axis=1)
    return low, high


def compute_drivers(
    comments: pd.DataFrame,
    tags: pd.DataFrame,
    *,
    n_boot: int = 500,
    seed: int = 0,
    min_mentions: int = 5,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Driver table: NPS difference, leave-one-out impact and significance per (theme, polarity).

    Args:
        comments: CommentFrame; needs ``id`` (unique) and ``score`` (0-10; rows with a missing
            score are dropped).
        tags: TagFrame; needs id, theme, theme_name, department, polarity, source.
        n_boot: number of bootstrap resamples for the intervals (0 = no intervals).
        seed: seed of the numpy Generator that draws the resamples; same inputs and seed give
            identical output.
        min_mentions: rows with fewer mentioning comments are ``small_n`` (no p/q value, never
            significant, listed last).
        alpha: false discovery rate for ``significant``; the bootstrap intervals have level
            1 - alpha.

    Returns:
        A new frame with ``DRIVER_COLUMNS`` (see the module docstring), one row per
        (theme, polarity) with at least one mention, sorted as described there. Empty
        comments or tags give an empty frame with all the columns.

    Raises:
        KeyError: a required column is missing.
        ValueError: duplicate comment ids, a score outside 0..10, or a bad parameter.
    """
    if n_boot < 0:
        raise ValueError(f"n_boot must be >= 0, got {n_boot}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if len(comments) == 0 or len(tags) == 0:
        return _empty_drivers()
    _require(comments, ("id", "score"), "comments")
    _require(tags, _TAG_REQUIRED, "tags")

    score = pd.to_numeric(comments["score"]).astype("Float64")
    keep = score.notna().to_numpy(dtype=bool)
    s = score[keep].to_numpy(dtype=float)
    if s.size and (s.min() < 0 or s.max() > 10):
        raise ValueError("scores must be within 0..10")
    ids = pd.Index(comments.loc[keep, "id"].astype("str").to_numpy())
    if ids.has_duplicates:
        dup = ids[ids.duplicated()][0]
        raise ValueError(f"duplicate comment id {dup!r}")
    n = ids.size
    pairs = _mention_pairs(ids, tags)
    if n == 0 or pairs.empty:
        return _empty_drivers()

    prom = s >= PROMOTER_MIN
    det = s <= DETRACTOR_MAX
    n_prom, n_det = int(prom.sum()), int(det.sum())

    keys, x = mention_matrix(pairs, n)
    k = len(keys)

    n_m = np.asarray(x.sum(axis=1)).ravel()
    p_m = x @ prom.astype(float)
    d_m = x @ det.astype(float)
    n_o = n - n_m
    p_o = n_prom - p_m
    d_o = n_det - d_m

    nps_all = nps_from_counts(n_prom, n_det, n)
    nps_m = nps_from_counts(p_m, d_m, n_m)
    nps_o = nps_from_counts(p_o, d_o, n_o)
    impact = nps_all - nps_o
    small = n_m < min_mentions
    p_val = np.where(small, np.nan, nps_difference_test(p_m, d_m, n_m, p_o, d_o, n_o)[1])
    q_val = benjamini_hochberg(p_val)

    if n_boot > 0:
        boot_nps_m, boot_impact = _bootstrap(x, prom, det, n_boot, seed)
    else:
        boot_nps_m = boot_impact = np.empty((k, 0))
    nps_m_low, nps_m_high = _percentiles(boot_nps_m, alpha)
    impact_low, impact_high = _percentiles(boot_impact, alpha)

    out = driver_frame(
        keys, tags, n, n_m, p_m, d_m, n_prom, n_det,
        {
            "nps_mentioning": nps_m,
            "nps_not_mentioning": nps_o,
            "nps_difference": nps_m - nps_o,
            "impact": impact,
            "impact_ci_low": impact_low,
            "impact_ci_high": impact_high,
            "nps_mentioning_ci_low": nps_m_low,
            "nps_mentioning_ci_high": nps_m_high,
            "p_value": p_val,
            "q_value": q_val,
            "significant": (~small) & (np.nan_to_num(q_val, nan=1.0) < alpha),
            "small_n": small,
        },
    )  # fmt: skip
    return in_driver_order(out, keys, impact, small, n_m)


def driver_frame(
    keys: pd.DataFrame, tags: pd.DataFrame, n: int, n_m: np.ndarray, high_m: np.ndarray,
    low_m: np.ndarray, n_high: float, n_low: float, statistics: dict[str, np.ndarray],
) -> pd.DataFrame:
    """A driver table in ``keys``' order: theme metadata (the most frequent value among the
    theme's tags), volumes, the high / middle / low class counts (promoters, passives,
    detractors for NPS) and their shares among all of that class, then ``statistics``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        share_high = high_m / n_high if n_high else np.full(len(keys), np.nan)
        share_low = low_m / n_low if n_low else np.full(len(keys), np.nan)
    themed = tags.loc[tags["theme"].notna()]
    themed = themed.assign(theme=themed["theme"].astype("str"))
    meta = {c: _mode_per_theme(themed, c) for c in ("theme_name", "department", "source")}
    out = pd.DataFrame(
        {
            "theme": keys["theme"].to_numpy(),
            **{c: keys["theme"].map(meta[c]).to_numpy() for c in meta},
            "polarity": keys["polarity"].to_numpy(),
            "mentions": n_m.astype("int64"),
            "share": n_m / n,
            "promoters": high_m.astype("int64"),
            "passives": (n_m - high_m - low_m).astype("int64"),
            "detractors": low_m.astype("int64"),
            "share_among_promoters": share_high,
            "share_among_detractors": share_low,
            **statistics,
        }
    )
    for c in _STR_COLUMNS:
        out[c] = out[c].astype("str")
    return out


def mention_matrix(pairs: pd.DataFrame, n: int) -> tuple[pd.DataFrame, sparse.csr_matrix]:
    """(keys, x): the (theme, polarity) rows sorted by theme then polarity order (with
    ``_pol_rank``), and one sparse row per key: x[k, i] = 1 if comment i mentions row k."""
    keys = pairs[["theme", "polarity"]].drop_duplicates().reset_index(drop=True)
    pol_rank = {p: i for i, p in enumerate(DRIVER_POLARITIES)}
    keys["_pol_rank"] = keys["polarity"].map(pol_rank)
    keys = keys.sort_values(["theme", "_pol_rank"], kind="stable").reset_index(drop=True)
    key_code = pd.MultiIndex.from_frame(keys[["theme", "polarity"]]).get_indexer(
        pd.MultiIndex.from_frame(pairs[["theme", "polarity"]])
    )
    shape = (len(keys), n)
    return keys, sparse.csr_matrix((np.ones(len(pairs)), (key_code, pairs["pos"].to_numpy())),
                                   shape=shape)  # fmt: skip


def in_driver_order(out: pd.DataFrame, keys: pd.DataFrame, impact: np.ndarray,
                    small: np.ndarray, n_m: np.ndarray) -> pd.DataFrame:  # fmt: skip
    """Rows ranked by |impact| desc (NaN last), then the small_n rows by mentions desc; ties by
    theme id, then polarity order."""
    abs_impact = np.abs(impact)
    order_key = pd.DataFrame(
        {
            "small": small,
            "neg_abs_impact": np.where(small | np.isnan(abs_impact), np.inf, -abs_impact),
            "neg_mentions": np.where(small, -n_m, 0),
            "theme": out["theme"],
            "pol": keys["_pol_rank"].to_numpy(),
        }
    )
    order = order_key.sort_values(
        ["small", "neg_abs_impact", "neg_mentions", "theme", "pol"], kind="stable"
    ).index
    return out.loc[order].reset_index(drop=True)


def theme_volume(tags: pd.DataFrame) -> pd.DataFrame:
    """Mention volume per (theme, polarity), regardless of scores.

    Args:
        tags: TagFrame; needs id, theme, polarity.

    Returns:
        Columns theme (str), polarity (positive | negative | neutral | any), mentions (int:
        tag rows), comments (int: distinct comment ids). One row per observed combination,
        sorted by theme then polarity order (positive, negative, neutral, any). Tag rows with a
        polarity outside positive/negative/neutral count only towards "any".
    """
    if len(tags) == 0:
        return pd.DataFrame(
            {
                "theme": pd.Series(dtype="str"),
                "polarity": pd.Series(dtype="str"),
                "mentions": pd.Series(dtype="int64"),
                "comments": pd.Series(dtype="int64"),
            }
        )
    _require(tags, ("id", "theme", "polarity"), "tags")
    t = tags.loc[tags["theme"].notna(), ["id", "theme", "polarity"]]
    t = pd.DataFrame(
        {
            "id": t["id"].astype("str").to_numpy(),
            "theme": t["theme"].astype("str").to_numpy(),
            "polarity": t["polarity"].astype("str").where(t["polarity"].notna(), "").to_numpy(),
        }
    )
    rows = pd.concat(
        [t.loc[t["polarity"].isin(POLARITIES)], t.assign(polarity="any")], ignore_index=True
    )
    out = (
        rows.groupby(["theme", "polarity"], sort=False)["id"]
        .agg(mentions="size", comments="nunique")
        .reset_index()
    )
    out["_pol"] = out["polarity"].map({p: i for i, p in enumerate(DRIVER_POLARITIES)})
    out = out.sort_values(["theme", "_pol"], kind="stable").drop(columns="_pol")
    out["mentions"] = out["mentions"].astype("int64")
    out["comments"] = out["comments"].astype("int64")
    return out.reset_index(drop=True)
