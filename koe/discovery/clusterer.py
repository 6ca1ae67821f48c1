"""The clustering estimator of theme discovery, in scikit-learn's conventions.

:class:`ThemeClusterer` merges L2-normalized embeddings with a *base* clusterer — by default
cosine agglomerative clustering with average linkage and a distance threshold, chosen by
measurement (``bench/discovery_quality.py``, README): no random step, so the same vectors always
give the same clusters. Around the base it adds what discovery needs from any clusterer:

- above ``max_items`` (weighted) texts a seeded sample is fitted and the rest assigned, since
  average linkage is O(n²) in memory;
- clusters smaller than the minimum size (``min_cluster_size``, or ``min_cluster_share`` of the
  weighted texts) are dissolved; the rest are ordered by weighted size, ties by first member;
- every text whose cosine to the nearest centroid is at least ``assign_threshold`` joins that
  cluster, so only texts far from every theme stay outliers (-1).

Any object with ``fit_predict(X)`` can be the base (``KMeans(n_clusters=20)``, ``HDBSCAN()``),
BERTopic-style; its labels are post-processed the same way.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, clone
from sklearn.cluster import AgglomerativeClustering

if TYPE_CHECKING:
    from koe.config import ClusterConfig

OUTLIER = -1
# Defaults chosen on the Fukui labelled sets (bench/results/discovery_quality.md).
DISTANCE_THRESHOLD = 0.70
ASSIGN_THRESHOLD = 0.30
MIN_CLUSTER_SIZE = 3
MIN_CLUSTER_SHARE = 0.0025
MAX_ITEMS = 5000


@dataclass(frozen=True)
class ClusterResult:
    labels: np.ndarray  # cluster index per item, OUTLIER for unclustered
    similarity: np.ndarray  # cosine similarity to the assigned centroid (NaN for outliers)
    centroids: np.ndarray  # (k, dim), L2-normalized
    message: str = ""


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms == 0, 1, norms)


def effective_min_size(total: float, min_cluster_size: int, min_cluster_share: float) -> int:
    """The minimum cluster size for ``total`` (weighted) items: the larger of the two limits."""
    return max(int(min_cluster_size), math.ceil(min_cluster_share * total - 1e-9))


class ThemeClusterer(ClusterMixin, BaseEstimator):
    """Cluster embeddings into themes; outliers get -1.

    Args:
        distance_threshold: cosine distance at which the default agglomerative merging stops.
        min_cluster_size: clusters with fewer (weighted) members are dissolved.
        min_cluster_share: ... or with fewer than this share of all (weighted) items.
        assign_threshold: texts with cosine >= this to the nearest centroid join that cluster
            (dissolved clusters' members and, above ``max_items``, the unsampled texts).
        max_items: above this, a seeded sample is fitted and the rest assigned.
        random_state: seed of that sample.
        base: the clusterer that does the merging (any object with ``fit_predict``); None for
            cosine agglomerative clustering at ``distance_threshold``. It is cloned, not fitted.

    Attributes (after ``fit``):
        labels_: cluster index per item (largest cluster first), -1 for outliers.
        similarity_: cosine to the assigned centroid (NaN for outliers).
        cluster_centers_: (k, dim) L2-normalized weighted centroids.
        message_: why nothing (or one cluster) was found; "" when fine.
    """

    def __init__(
        self,
        distance_threshold: float = DISTANCE_THRESHOLD,
        min_cluster_size: int = MIN_CLUSTER_SIZE,
        min_cluster_share: float = MIN_CLUSTER_SHARE,
        assign_threshold: float = ASSIGN_THRESHOLD,
        max_items: int = MAX_ITEMS,
        random_state: int = 0,
        base: Any = None,
    ) -> None:
        self.distance_threshold = distance_threshold
        self.min_cluster_size = min_cluster_size
        self.min_cluster_share = min_cluster_share
        self.assign_threshold = assign_threshold
        self.max_items = max_items
        self.random_state = random_state
        self.base = base

    @classmethod
    def from_config(cls, config: ClusterConfig, seed: int = 0, base: Any = None) -> Self:
        """The clusterer of koe.yaml's ``cluster:`` settings."""
        return cls(
            distance_threshold=config.distance_threshold,
            min_cluster_size=config.min_cluster_size,
            min_cluster_share=config.min_cluster_share,
            assign_threshold=config.assign_threshold,
            max_items=config.max_items,
            random_state=seed,
            base=base,
        )

    def _check_params(self) -> None:
        if not 0 < self.distance_threshold < 2:
            raise ValueError(
                f"distance_threshold must be in (0, 2), got {self.distance_threshold}"
            )
        if self.min_cluster_size < 1 or not 0 <= self.min_cluster_share < 1:
            raise ValueError("min_cluster_size must be >= 1 and min_cluster_share in [0, 1)")
        if self.max_items < 2:
            raise ValueError(f"max_items must be >= 2, got {self.max_items}")

    def _base(self) -> Any:
        if self.base is not None:
            return clone(self.base)
        return AgglomerativeClustering(
            n_clusters=None, metric="cosine", linkage="average",
            distance_threshold=self.distance_threshold,
        )  # fmt: skip

    def _set(self, labels: np.ndarray, similarity: np.ndarray, centers: np.ndarray,
             message: str = "") -> Self:  # fmt: skip
        self.labels_, self.similarity_ = labels, similarity
        self.cluster_centers_, self.message_ = centers, message
        return self

    def fit(self, X: np.ndarray, y: None = None, sample_weight: np.ndarray | None = None) -> Self:
        """Cluster ``X`` (n, dim); ``sample_weight``: rows each item stands for."""
        self._check_params()
        X = np.asarray(X)
        n = len(X)
        weights = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
        if len(weights) != n:
            raise ValueError(f"{len(weights)} weights for {n} vectors")
        dim = X.shape[1] if X.ndim == 2 else 0
        none = (np.full(n, OUTLIER), np.full(n, np.nan), np.zeros((0, dim)))
        min_size = effective_min_size(weights.sum(), self.min_cluster_size,
                                      self.min_cluster_share)  # fmt: skip
        if n == 0 or weights.sum() < min_size:
            return self._set(*none, f"too few texts to cluster ({int(weights.sum())}; a cluster "
                                    f"needs at least {min_size})")  # fmt: skip
        X = l2_normalize(np.asarray(X, dtype=np.float64))
        if not np.linalg.norm(X, axis=1).any():
            return self._set(*none, "no text has an embedding")
        raw, sampled, message = self._raw_labels(X, weights)
        kept = self._kept_clusters(raw, weights, min_size, sampled)
        if not kept:
            return self._set(*none, f"no cluster reached the minimum size {min_size}; every "
                                    "text is an outlier")  # fmt: skip
        remap = {c: k for k, c in enumerate(kept)}
        labels = np.array([remap.get(c, OUTLIER) for c in raw])
        centers = l2_normalize(
            np.stack([np.average(X[labels == k], axis=0, weights=weights[labels == k])
                      for k in range(len(kept))])
        )  # fmt: skip
        sims = X @ centers.T
        nearest = sims.argmax(axis=1)
        best = sims[np.arange(n), nearest]
        assign = (labels == OUTLIER) & (best >= self.assign_threshold)
        labels[assign] = nearest[assign]
        similarity = np.where(labels == OUTLIER, np.nan, sims[np.arange(n), np.maximum(labels, 0)])
        return self._set(labels, similarity, centers.astype(np.float32), message)

    def _raw_labels(self, X: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, float, str]:
        """The base clusterer's labels (OUTLIER where unsampled), the sampled weight share, a
        message."""
        n = len(X)
        if n == 1 or np.allclose(X, X[0]):
            message = f"all {int(weights.sum())} texts are identical (or embed alike): one cluster"
            return np.zeros(n, dtype=int), 1.0, message
        fit_idx = np.arange(n)
        if n > self.max_items:
            rng = np.random.default_rng(self.random_state)
            fit_idx = np.sort(rng.choice(n, self.max_items, replace=False))
        raw = np.full(n, OUTLIER)
        raw[fit_idx] = self._base().fit_predict(X[fit_idx])
        return raw, weights[fit_idx].sum() / weights.sum(), ""

    @staticmethod
    def _kept_clusters(raw: np.ndarray, weights: np.ndarray, min_size: int,
                       sampled: float) -> list[int]:  # fmt: skip
        """Clusters big enough (in a sample: the minimum scaled to it), by weighted size then
        first member."""
        sizes: Counter[int] = Counter()
        first: dict[int, int] = {}
        for i, c in enumerate(raw):
            if c != OUTLIER:
                sizes[c] += weights[i]
                first.setdefault(c, i)
        needed = max(2.0, min_size * sampled) if sampled < 1 else min_size
        return sorted((c for c in sizes if sizes[c] >= needed), key=lambda c: (-sizes[c], first[c]))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The nearest fitted cluster of each vector at ``assign_threshold`` cosine, else -1."""
        centers = self.cluster_centers_
        if not len(centers):
            return np.full(len(X), OUTLIER)
        sims = l2_normalize(np.asarray(X, dtype=np.float64)) @ centers.T.astype(np.float64)
        nearest = sims.argmax(axis=1)
        return np.where(sims[np.arange(len(X)), nearest] >= self.assign_threshold, nearest, OUTLIER)

    def fit_predict(self, X: np.ndarray, y: None = None,
                    sample_weight: np.ndarray | None = None) -> np.ndarray:  # fmt: skip
        return self.fit(X, sample_weight=sample_weight).labels_

    def result(self) -> ClusterResult:
        """The fitted labels, similarities, centroids and message as one value."""
        return ClusterResult(self.labels_, self.similarity_, self.cluster_centers_, self.message_)


def cluster_vectors(
    vectors: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    distance_threshold: float = DISTANCE_THRESHOLD,
    min_cluster_size: int = MIN_CLUSTER_SIZE,
    min_cluster_share: float = 0.0,
    assign_threshold: float = ASSIGN_THRESHOLD,
    max_items: int = MAX_ITEMS,
    seed: int = 0,
) -> ClusterResult:
    """:class:`ThemeClusterer` with these settings fitted on ``vectors``, as a ClusterResult."""
    return ThemeClusterer(
        distance_threshold=distance_threshold, min_cluster_size=min_cluster_size,
        min_cluster_share=min_cluster_share, assign_threshold=assign_threshold,
        max_items=max_items, random_state=seed,
    ).fit(vectors, sample_weight=weights).result()  # fmt: skip
