"""Regression view of the drivers: the effect of each theme holding the other themes fixed.

``compute_drivers`` compares comments that mention a theme with all the others, one theme at a
time, so two themes that are often mentioned together share each other's effect (the innocent
one looks like a driver too). ``theme_regression`` fits one model over all themes at once:

* target "detractor" (score 0-6 vs 7-10) or "promoter" (9-10 vs 0-8): L2-penalized logistic
  regression (scikit-learn ``LogisticRegression``, Newton-Cholesky, deterministic);
* target "score" (0-10): ridge regression, closed form.

Features: one 0/1 column per (theme, polarity) with polarity in positive, negative, neutral, set
when the comment has at least one tag row with that theme and polarity. A theme's negative and
positive mentions are separate features, so a *hygiene* theme (say, login) shows a large effect
when negative and about none when positive. Features with fewer than ``min_mentions`` mentioning
comments, or fewer than ``min_mentions`` comments *not* mentioning them, are left out of the
model (``dropped``) and listed with NaN statistics. Tag rows with another or no polarity, and
tag rows whose id is not a scored comment, are ignored. Comments are those with a non-missing
score; comments without any tag are in the model with all features 0.

The penalty is ``l2``·‖β‖²/2 added to the summed log-loss (logistic: C = 1/l2) or ``l2``·‖β‖²
added to the summed squared error (ridge); the intercept is not penalized. With thousands of
comments the default l2 = 1 barely shrinks anything; it keeps the fit finite when a feature
perfectly separates the classes.

Regression columns (``REGRESSION_COLUMNS``, in this order):
    theme        str    theme id
    polarity     str    positive | negative | neutral
    feature      str    "theme:polarity"
    target       str    detractor | promoter | score
    mentions     int    comments with the feature
    coef         float  model coefficient: log odds ratio (logistic) or points of score (ridge)
    odds_ratio   float  exp(coef) for the logistic targets; NaN for "score"
    effect       float  coef for "score" (points of the 0-10 score when the feature is present,
                        other features fixed); NaN for the logistic targets
    ci_low       float  } seeded bootstrap percentile interval of coef, level 1 - alpha
    ci_high      float  } (exp() of them is the odds-ratio interval)
    p_value      float  two-sided normal p-value of coef / bootstrap standard error (ddof=1 std
                        of the valid replicates). NaN when n_boot < 2
    q_value      float  Benjamini-Hochberg adjusted p_value over the features in the model
    significant  bool   q_value < alpha (never for dropped features)
    dropped      bool   left out of the model (see above); coef, intervals, p and q are NaN

Row order: features in the model by |coef| descending; then dropped features by mentions
descending; ties by theme id, then polarity (positive, negative, neutral).

``attrs``: target, n (comments in the model), intercept, l2, dropped (the dropped features, in
row order), n_boot, valid_boot (replicates that could be fitted: a logistic replicate whose
resample has a single class is skipped).

Bootstrap: ``n_boot`` resamples of the comments with replacement (numpy Generator seeded with
``seed``), drawn and fitted as count weights of the distinct (features, target) rows
(analysis.resample: the cost depends on the distinct rows, not on the comments); each
logistic refit starts from the full-data coefficients (warm start), so the order of the
replicates does not matter. p-values use the bootstrap
standard error rather than the share of replicates on either side of 0: the latter cannot go
below 1/n_boot, so after BH over m features a lone strong driver would get q >= m/n_boot.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import sparse, stats
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from koe.analysis.drivers import benjamini_hochberg
from koe.analysis.resample import distinct_rows, resample_counts
from koe.core.frames import DETRACTOR_MAX, POLARITIES, PROMOTER_MIN

REGRESSION_COLUMNS = (
    "theme",
    "polarity",
    "feature",
    "target",
    "mentions",
    "coef",
    "odds_ratio",
    "effect",
    "ci_low",
    "ci_high",
    "p_value",
    "q_value",
    "significant",
    "dropped",
)
TARGETS = ("detractor", "promoter", "score")

_POL_ORDER = {p: i for i, p in enumerate(POLARITIES)}
_MAX_ITER = 1000


def _empty_regression() -> pd.DataFrame:
    dtypes = {
        "theme": "str",
        "polarity": "str",
        "feature": "str",
        "target": "str",
        "mentions": "int64",
        "significant": "bool",
        "dropped": "bool",
    }
    return pd.DataFrame({c: pd.Series(dtype=dtypes.get(c, "float64")) for c in REGRESSION_COLUMNS})


def theme_features(
    comments: pd.DataFrame, tags: pd.DataFrame
) -> tuple[pd.DataFrame, sparse.csr_matrix, np.ndarray, pd.DataFrame]:
    """The scored comments and their (theme, polarity) indicator matrix.

    Args:
        comments: CommentFrame; needs id (unique) and score.
        tags: TagFrame; needs id, theme, polarity.

    Returns:
        (scored, x, score, keys): ``scored`` the comments with a score (in input order), ``x`` a
        CSR 0/1 matrix (comments x features), ``score`` float array, ``keys`` a frame with
        theme, polarity, feature, mentions, one row per column of ``x`` sorted by theme then
        polarity (positive, negative, neutral).

    Raises:
        KeyError: a required column is missing.
        ValueError: duplicate ids or a score outside 0..10.
    """
    for name, frame, cols in (
        ("comments", comments, ("id", "score")),
        ("tags", tags, ("id", "theme", "polarity")),
    ):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise KeyError(f"{name} has no column(s) {missing}")
    score = pd.to_numeric(comments["score"]).astype("Float64")
    keep = score.notna().to_numpy(dtype=bool)
    s = score[keep].to_numpy(dtype=float)
    if s.size and (s.min() < 0 or s.max() > 10):
        raise ValueError("scores must be within 0..10")
    scored = comments.loc[keep]
    ids = pd.Index(scored["id"].astype("str").to_numpy())
    if ids.has_duplicates:
        raise ValueError(f"duplicate comment id {ids[ids.duplicated()][0]!r}")

    ok = tags["theme"].notna().to_numpy() & tags["polarity"].isin(POLARITIES).to_numpy()
    t = pd.DataFrame(
        {
            "theme": tags.loc[ok, "theme"].astype("str").to_numpy(),
            "polarity": tags.loc[ok, "polarity"].astype("str").to_numpy(),
            "pos": ids.get_indexer(tags.loc[ok, "id"].astype("str")),
        }
    )
    t = t.loc[t["pos"] >= 0].drop_duplicates()
    keys = t[["theme", "polarity"]].drop_duplicates()
    keys = keys.assign(_pol=keys["polarity"].map(_POL_ORDER))
    keys = keys.sort_values(["theme", "_pol"], kind="stable").reset_index(drop=True)
    code = pd.MultiIndex.from_frame(keys[["theme", "polarity"]]).get_indexer(
        pd.MultiIndex.from_frame(t[["theme", "polarity"]])
    )
    x = sparse.csr_matrix(
        (np.ones(len(t)), (t["pos"].to_numpy(), code)), shape=(len(ids), len(keys))
    )
    keys["feature"] = keys["theme"] + ":" + keys["polarity"]
    keys["mentions"] = np.asarray(x.sum(axis=0)).ravel().astype("int64")
    return scored, x, s, keys.drop(columns="_pol")


def _fit_ridge(
    x: sparse.csr_matrix, xt: sparse.csr_matrix, y: np.ndarray, w: np.ndarray, l2: float
) -> tuple[np.ndarray, float]:
    """Weighted ridge with an unpenalized intercept: (coef, intercept). ``xt`` = x.T as CSR."""
    total = w.sum()
    xtw = xt.multiply(w[None, :]).tocsr()  # X^T diag(w), sparse
    mx = np.asarray(xtw.sum(axis=1)).ravel() / total
    my = (w @ y) / total
    gram = (xtw @ x).toarray() - total * np.outer(mx, mx)
    rhs = xtw @ y - total * mx * my
    gram[np.diag_indices_from(gram)] += l2
    coef = np.linalg.lstsq(gram, rhs, rcond=None)[0] if l2 == 0 else np.linalg.solve(gram, rhs)
    return coef, float(my - mx @ coef)


def _bootstrap_p(coef: np.ndarray, reps: np.ndarray) -> np.ndarray:
    """Two-sided normal p-value of coef / (bootstrap standard error) per row.

    The standard error is the ddof=1 standard deviation of the non-NaN replicates (NaN with
    fewer than 2). Unlike counting replicates on either side of 0, this has no 1/n_boot floor,
    so a lone strong driver among many features can survive the BH correction. A zero standard
    error gives p = 0 for a non-zero coefficient and 1 for a zero one.
    """
    valid = ~np.isnan(reps)
    count = valid.sum(axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        se = np.nanstd(reps, axis=1, ddof=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.abs(coef) / se
    z = np.where(se == 0, np.where(coef == 0, 0.0, np.inf), z)
    p = 2 * stats.norm.sf(z)
    return np.where(count >= 2, p, np.nan)


def theme_regression(
    comments: pd.DataFrame,
    tags: pd.DataFrame,
    *,
    target: str = "detractor",
    min_mentions: int = 5,
    n_boot: int = 200,
    seed: int = 0,
    l2: float = 1.0,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Multiple-regression effect of every (theme, polarity) on detractors, promoters or score.

    Args:
        comments: CommentFrame; needs id (unique) and score (rows with a missing score dropped).
        tags: TagFrame; needs id, theme, polarity.
        target: "detractor" or "promoter" (logistic), or "score" (ridge).
        min_mentions: features with fewer mentioning (or non-mentioning) comments are dropped.
        n_boot: bootstrap resamples for intervals and p-values (0: none, NaN).
        seed: seed of the numpy Generator drawing the resamples.
        l2: L2 penalty strength (> 0 for the logistic targets, >= 0 for "score").
        alpha: interval level 1 - alpha and false discovery rate for ``significant``.

    Returns:
        A new frame with ``REGRESSION_COLUMNS`` and ``attrs`` (see the module docstring). No
        comments or tags give an empty frame with the columns; a logistic target with a single
        class (e.g. no detractor at all) gives the rows with NaN statistics.

    Raises:
        KeyError: a required column is missing.
        ValueError: unknown target, a bad parameter, duplicate ids, a score outside 0..10.
    """
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, got {target!r}")
    logistic = target != "score"
    if n_boot < 0 or min_mentions < 1 or l2 < 0 or (logistic and l2 == 0):
        raise ValueError("need n_boot >= 0, min_mentions >= 1, l2 > 0 (l2 >= 0 for score)")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if len(comments) == 0 or len(tags) == 0:
        return _empty_regression()
    _, x_all, s, keys = theme_features(comments, tags)
    n = s.size
    if n == 0 or keys.empty:
        return _empty_regression()

    m = keys["mentions"].to_numpy()
    in_model = (m >= min_mentions) & (n - m >= min_mentions)
    x = x_all[:, np.flatnonzero(in_model)].tocsr()
    k = x.shape[1]
    if target == "detractor":
        y = (s <= DETRACTOR_MAX).astype(float)
    elif target == "promoter":
        y = (s >= PROMOTER_MIN).astype(float)
    else:
        y = s
    coef = np.full(k, np.nan)
    intercept = np.nan
    reps = np.full((k, n_boot), np.nan)
    fittable = k > 0 and (not logistic or 0 < y.sum() < n)
    # Comments with the same features and target are one weighted row: the fits (and the
    # bootstrap's count weights, summed per row) are the same, at the cost of the distinct rows.
    first, _, counts = distinct_rows(x, y)
    xu, yu = x[first].tocsr(), y[first]

    if fittable and logistic:
        model = LogisticRegression(
            C=1.0 / l2, solver="newton-cholesky", max_iter=_MAX_ITER, tol=1e-8
        )
        model.warm_start = True
        yu_int = yu.astype(int)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(xu, yu_int, sample_weight=counts)
            coef, intercept = model.coef_[0].copy(), float(model.intercept_[0])
            rng = np.random.default_rng(seed)
            for b in range(n_boot):
                w = resample_counts(rng, counts, 1)[0]
                positives = w @ yu
                if positives == 0 or positives == n:
                    continue
                model.coef_[0] = coef
                model.intercept_[0] = intercept
                model.fit(xu, yu_int, sample_weight=w)
                reps[:, b] = model.coef_[0]
    elif fittable:
        xut = xu.T.tocsr()
        coef, intercept = _fit_ridge(xu, xut, yu, counts, l2)
        rng = np.random.default_rng(seed)
        for b in range(n_boot):
            reps[:, b] = _fit_ridge(xu, xut, yu, resample_counts(rng, counts, 1)[0], l2)[0]

    if n_boot > 0 and k > 0:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            low, high = np.nanpercentile(reps, [100 * alpha / 2, 100 * (1 - alpha / 2)], axis=1)
        p_val = _bootstrap_p(coef, reps)
    else:
        low = high = p_val = np.full(k, np.nan)
    q_val = benjamini_hochberg(p_val)

    def spread(values: np.ndarray) -> np.ndarray:
        full = np.full(len(keys), np.nan)
        full[in_model] = values
        return full

    coef_full = spread(coef)
    out = pd.DataFrame(
        {
            "theme": keys["theme"].astype("str").to_numpy(),
            "polarity": keys["polarity"].astype("str").to_numpy(),
            "feature": keys["feature"].astype("str").to_numpy(),
            "target": target,
            "mentions": keys["mentions"].astype("int64").to_numpy(),
            "coef": coef_full,
            "odds_ratio": np.exp(coef_full) if logistic else np.nan,
            "effect": np.nan if logistic else coef_full,
            "ci_low": spread(low),
            "ci_high": spread(high),
            "p_value": spread(p_val),
            "q_value": spread(q_val),
        }
    )
    out["significant"] = np.nan_to_num(out["q_value"].to_numpy(), nan=1.0) < alpha
    out["dropped"] = ~in_model
    for c in ("theme", "polarity", "feature", "target"):
        out[c] = out[c].astype("str")
    for c in ("odds_ratio", "effect"):
        out[c] = out[c].astype("float64")

    order = pd.DataFrame(
        {
            "dropped": ~in_model,
            "neg_abs": np.where(np.isnan(coef_full), np.inf, -np.abs(coef_full)),
            "neg_mentions": np.where(in_model, 0, -m),
            "theme": out["theme"],
            "pol": out["polarity"].map(_POL_ORDER),
        }
    ).sort_values(["dropped", "neg_abs", "neg_mentions", "theme", "pol"], kind="stable")
    out = out.loc[order.index].reset_index(drop=True)
    out.attrs.update(
        {
            "target": target,
            "n": int(n),
            "intercept": float(intercept),
            "l2": float(l2),
            "dropped": out.loc[out["dropped"], "feature"].tolist(),
            "n_boot": int(n_boot),
            "valid_boot": int((~np.isnan(reps[0])).sum()) if k else 0,
        }
    )
    return out
