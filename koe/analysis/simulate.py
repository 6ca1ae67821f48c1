"""Synthetic surveys with planted theme effects, for testing and benchmarking the driver views.

Generating model (a proportional-odds / ordered-logit model):

    y* = Σ_j β_j·x_j + L,   L ~ Logistic(0, 1)
    score = #{k : y* > c_k},  c_1 < ... < c_10 the logits of the cumulative ``BASE_SCORE_PMF``

x_j is 1 when the comment mentions planted feature j (a (theme, polarity) pair). Mentions are
independent Bernoulli(prevalence) draws, except a feature with ``follows`` set: it is mentioned by
a ``follow_rate`` share of the comments that mention the followed feature, and a ``prevalence``
share of the others (so it is correlated with it). A feature with ``count`` set is mentioned by
exactly that many random comments (a small theme).

Under this model P(detractor | x) = σ(c_7 - Σ β_j x_j) and P(promoter | x) = σ(Σ β_j x_j - c_9):
the detractor logistic regression has true coefficients -β (promoter: +β), so a null feature's
(β = 0) true coefficient is exactly 0 even when it is correlated with a real driver. The true
leave-one-out impact (drivers.csv) and the true ridge effect on the score have no closed form;
``true_values`` estimates them by Monte Carlo on a very large sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from koe.core.frames import DETRACTOR_MAX, PROMOTER_MIN

# Score distribution of a comment that mentions no planted theme: 13% detractors, 37% passives,
# 50% promoters (NPS +37).
BASE_SCORE_PMF = (0.01, 0.005, 0.005, 0.01, 0.01, 0.03, 0.06, 0.15, 0.22, 0.25, 0.25)


@dataclass(frozen=True)
class PlantedFeature:
    """One (theme, polarity) feature of the generating model (see the module docstring)."""

    theme: str
    polarity: str
    beta: float
    prevalence: float = 0.0
    follows: str | None = None  # "theme:polarity" of the feature it is correlated with
    follow_rate: float = 0.0
    count: int | None = None

    @property
    def feature(self) -> str:
        return f"{self.theme}:{self.polarity}"


# The default planted survey: five drivers of distinct sizes (|β| 2.6 > 2.0 > 1.5 > 1.0 > 0.6; the
# true leave-one-out impacts have the same order: about -9.1, +5.5, -4.2, -3.5, +2.2 NPS points),
# a hygiene theme (login: negative hurts, positive does nothing), an outage driver with a
# correlated null companion (status_page: 60% of outage comments mention it, 3% of the others),
# four independent nulls, and two small themes (3 and 2 mentions).
PLANTED_FEATURES = (
    PlantedFeature("billing", "negative", -2.6, 0.10),
    PlantedFeature("support", "positive", 2.0, 0.10),
    PlantedFeature("login", "negative", -1.5, 0.08),  # hygiene: bad when negative ...
    PlantedFeature("login", "positive", 0.0, 0.10),  # ... and no effect when positive
    PlantedFeature("outage", "negative", -1.0, 0.10),
    PlantedFeature("status_page", "negative", 0.0, 0.03, "outage:negative", 0.6),
    PlantedFeature("docs", "positive", 0.6, 0.12),
    PlantedFeature("ui", "neutral", 0.0, 0.10),
    PlantedFeature("pricing", "neutral", 0.0, 0.08),
    PlantedFeature("mobile", "positive", 0.0, 0.08),
    PlantedFeature("search", "negative", 0.0, 0.08),
    PlantedFeature("sso", "negative", -1.0, count=3),
    PlantedFeature("export", "positive", 0.5, count=2),
)


def _thresholds() -> np.ndarray:
    cum = np.cumsum(BASE_SCORE_PMF)[:-1]
    return np.log(cum / (1 - cum))


def simulate_survey(
    n: int,
    seed: int,
    features: tuple[PlantedFeature, ...] = PLANTED_FEATURES,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Draw a survey from the generating model.

    Args:
        n: number of comments.
        seed: seed of the numpy Generator.
        features: the planted features (``follows`` must name an earlier feature).

    Returns:
        (comments, tags): comments with id, text, score (Int64), nps_class; tags with id,
        sentence_idx, theme, theme_name, department, polarity, source (one row per mention).
    """
    rng = np.random.default_rng(seed)
    drawn: dict[str, np.ndarray] = {}
    for f in features:
        if f.count is not None:
            x = np.zeros(n, dtype=bool)
            x[rng.choice(n, size=min(f.count, n), replace=False)] = True
        elif f.follows is not None:
            lead = drawn[f.follows]
            u = rng.random(n)
            x = np.where(lead, u < f.follow_rate, u < f.prevalence)
        else:
            x = rng.random(n) < f.prevalence
        drawn[f.feature] = x
    latent = rng.logistic(size=n)
    for f in features:
        latent += f.beta * drawn[f.feature]
    score = (latent[:, None] > _thresholds()[None, :]).sum(axis=1)
    ids = np.array([f"s{i:06d}" for i in range(n)])
    comments = pd.DataFrame(
        {
            "id": ids,
            "text": "...",
            "score": pd.array(score, dtype="Int64"),
            "nps_class": np.where(
                score >= PROMOTER_MIN, "promoter",
                np.where(score > DETRACTOR_MAX, "passive", "detractor"),
            ),
        }
    )
    parts = [
        pd.DataFrame({"id": ids[drawn[f.feature]], "theme": f.theme, "polarity": f.polarity})
        for f in features
    ]
    tags = pd.concat(parts, ignore_index=True)
    tags.insert(1, "sentence_idx", tags.groupby("id").cumcount())
    tags["theme_name"] = tags["theme"]
    tags["department"] = "cs"
    tags["source"] = "lookup"
    return comments, tags[
        ["id", "sentence_idx", "theme", "theme_name", "department", "polarity", "source"]
    ]


def true_values(
    features: tuple[PlantedFeature, ...] = PLANTED_FEATURES,
    *,
    n: int = 1_000_000,
    seed: int = 12345,
) -> pd.DataFrame:
    """Population values of the estimands, by Monte Carlo on one very large sample.

    Returns:
        One row per planted feature that is not a small theme (``count`` unset): theme,
        polarity, feature, beta, coef_detractor (= -beta exactly under the model),
        coef_detractor_mc (the detractor logistic fitted on the large sample), effect_score_mc
        (the ridge effect on the score), impact_mc (drivers.csv leave-one-out impact, NPS
        points). The regressions use the same l2 = 1 as the defaults, negligible at this n.
    """
    from koe.analysis.drivers import compute_drivers
    from koe.analysis.regression import theme_regression

    big = tuple(f for f in features if f.count is None)
    comments, tags = simulate_survey(n, seed, big)
    drivers = compute_drivers(comments, tags, n_boot=0).set_index(["theme", "polarity"])
    logit = theme_regression(comments, tags, target="detractor", n_boot=0).set_index("feature")
    ridge = theme_regression(comments, tags, target="score", n_boot=0).set_index("feature")
    rows = []
    for f in big:
        rows.append(
            {
                "theme": f.theme,
                "polarity": f.polarity,
                "feature": f.feature,
                "beta": f.beta,
                "coef_detractor": -f.beta,
                "coef_detractor_mc": float(logit.loc[f.feature, "coef"]),
                "effect_score_mc": float(ridge.loc[f.feature, "effect"]),
                "impact_mc": float(drivers.loc[(f.theme, f.polarity), "impact"]),
            }
        )
    return pd.DataFrame(rows)
