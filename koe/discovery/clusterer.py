"""The clustering estimator of theme discovery, in scikit-learn's conventions.

:class:`ThemeClusterer` merges L2-normalized embeddings with a *base* clusterer — by default
cosine agglomerative clustering with average linkage, no random step, so the same vectors always
give the same clusters. The granularity comes from the data (README: Discovery; measured in
``bench/discovery_gold.py``): merging stops at ``distance_scale`` times the corpus' mean pairwise
cosine distance, so long texts, which all embed closer together, are cut finer than short
answers; a cluster holding more than ``max_cluster_share`` of the texts is re-cut the same way
relative to its own members' mean distance. Around the base it adds what discovery needs from
any clusterer:

- above ``max_items`` (weighted) texts a seeded sample is fitted and the rest assigned, since
  average linkage is O(n²) in memory;
- clusters smaller than the minimum size (``min_cluster_size``, or ``min_cluster_share`` of the
  weighted texts) are dissolved; the rest are ordered by weighted size, ties by first member;
- every text whose cosine to the nearest centroid is at least ``assign_threshold`` joins that
  cluster, so only texts far from every theme stay outliers (-1);
- above ``max_groups`` clusters, the clusters are grouped for reading (Ward linkage over their
  centroids, the number of groups by the best cosine silhouette between 10 and ``max_groups``).

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
DISTANCE_SCALE = 0.85
MAX_CLUSTER_SHARE = 0.25
MAX_SPLIT_DEPTH = 3
# A big cluster whose members are this much closer than the corpus' mean pair is one theme.
COHESIVE_RATIO = 0.65
# Fewer (weighted) texts than this are too few to measure a spread: fixed threshold, no re-cut.
MIN_MEASURED = 50
SMALL_CORPUS_THRESHOLD = 0.70
MAX_GROUPS = 20
MIN_GROUPS = 10
SILHOUETTE_SAMPLE = 2000
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
    groups: np.ndarray | None = None  # group index per cluster (None: no grouping)
    distance_threshold: float = math.nan  # the merging distance used (data-derived by default)


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms == 0, 1, norms)


def mean_pair_distance(x: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Weighted mean cosine distance between two different unit vectors of ``x``, in O(n)."""
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=np.float64)
    total = w.sum()
    pairs = total * total - (w * w).sum()
    if pairs <= 0:
        return 0.0
    s = w @ x
    return float(1.0 - (s @ s - (w * w * np.einsum("ij,ij->i", x, x)).sum()) / pairs)


def effective_min_size(total: float, min_cluster_size: int, min_cluster_share: float) -> int:
    """The minimum cluster size for ``total`` (weighted) items: the larger of the two limits."""
    return max(int(min_cluster_size), math.ceil(min_cluster_share * total - 1e-9))


class ThemeClusterer(ClusterMixin, BaseEstimator):
    """Cluster embeddings into themes; outliers get -1.

    Args:
        distance_threshold: cosine distance at which the default agglomerative merging stops;
            None (default): ``distance_scale`` x the texts' mean pairwise cosine distance.
        distance_scale: see ``distance_threshold``.
        max_cluster_share: a cluster with more of the (weighted) texts is re-cut on its own
            members (default base only), up to three times.
        max_groups: above this many clusters they are grouped (``groups_``).
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
        groups_: group index per cluster (largest group first), None without grouping.
        threshold_: the merging distance used.
    """

    def __init__(
        self,
        distance_threshold: float | None = None,
        min_cluster_size: int = MIN_CLUSTER_SIZE,
        min_cluster_share: float = MIN_CLUSTER_SHARE,
        assign_threshold: float = ASSIGN_THRESHOLD,
        max_items: int = MAX_ITEMS,
        random_state: int = 0,
        base: Any = None,
        distance_scale: float = DISTANCE_SCALE,
        max_cluster_share: float = MAX_CLUSTER_SHARE,
        max_groups: int = MAX_GROUPS,
    ) -> None:
        self.distance_threshold = distance_threshold
        self.distance_scale = distance_scale
        self.max_cluster_share = max_cluster_share
        self.max_groups = max_groups
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
            distance_scale=config.distance_scale,
            max_cluster_share=config.max_cluster_share,
            max_groups=config.max_groups,
        )

    def _check_params(self) -> None:
        if self.distance_threshold is not None and not 0 < self.distance_threshold < 2:
            raise ValueError(
                f"distance_threshold must be in (0, 2), got {self.distance_threshold}"
            )
        if not 0 < self.distance_scale < 2 or not 0 < self.max_cluster_share <= 1:
            raise ValueError("distance_scale must be in (0, 2) and max_cluster_share in (0, 1]")
        if self.max_groups < 2:
            raise ValueError(f"max_groups must be >= 2, got {self.max_groups}")
        if self.min_cluster_size < 1 or not 0 <= self.min_cluster_share < 1:
            raise ValueError("min_cluster_size must be >= 1 and min_cluster_share in [0, 1)")
        if self.max_items < 2:
            raise ValueError(f"max_items must be >= 2, got {self.max_items}")

    def _threshold(self, X: np.ndarray, weights: np.ndarray) -> float:
        if self.distance_threshold is not None:
            return float(self.distance_threshold)
        if weights.sum() < MIN_MEASURED:
            return SMALL_CORPUS_THRESHOLD
        return max(self.distance_scale * mean_pair_distance(X, weights), 1e-6)

    def _average_linkage(self, X: np.ndarray, threshold: float) -> np.ndarray:
        if len(X) < 2:
            return np.zeros(len(X), dtype=int)
        return AgglomerativeClustering(
            n_clusters=None, metric="cosine", linkage="average", distance_threshold=threshold,
        ).fit_predict(X)  # fmt: skip

    def _adaptive_labels(self, X: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Average linkage at the data's threshold; a cluster above ``max_cluster_share`` that is
        not cohesive (its mean pair distance above ``COHESIVE_RATIO`` x the corpus') is re-cut
        relative to its own members. A fixed ``distance_threshold`` or a small corpus is not
        re-cut."""
        labels = self._average_linkage(X, self.threshold_)
        if self.distance_threshold is not None or weights.sum() < MIN_MEASURED:
            return labels
        limit = self.max_cluster_share * weights.sum()
        cohesive = COHESIVE_RATIO * mean_pair_distance(X, weights)
        for _ in range(MAX_SPLIT_DEPTH):
            changed = False
            for c in np.unique(labels):
                members = labels == c
                if weights[members].sum() <= limit or members.sum() < MIN_MEASURED:
                    continue
                if mean_pair_distance(X[members], weights[members]) <= cohesive:
                    continue
                sub = self._average_linkage(X[members], self._threshold(X[members],
                                                                         weights[members]))
                if sub.max() > 0:
                    labels[members] = np.where(sub == 0, c, sub + labels.max())
                    changed = True
            if not changed:
                break
        return labels

    def _groups(self, X: np.ndarray, labels: np.ndarray, centers: np.ndarray,
                weights: np.ndarray) -> np.ndarray | None:  # fmt: skip
        """Group index per cluster (largest group first) when there are more than
        ``max_groups`` clusters: Ward over the centroids, cut at the best cosine silhouette."""
        from scipy.cluster.hierarchy import fcluster, linkage
        from sklearn.metrics import silhouette_score

        k = len(centers)
        if k <= self.max_groups:
            return None
        tree = linkage(centers.astype(np.float64), "ward")
        items = np.flatnonzero(labels != OUTLIER)
        if len(items) > SILHOUETTE_SAMPLE:
            rng = np.random.default_rng(self.random_state)
            items = np.sort(rng.choice(items, SILHOUETTE_SAMPLE, replace=False))
        best: tuple[float, np.ndarray] | None = None
        for g in range(min(MIN_GROUPS, k - 1), min(self.max_groups, k - 1) + 1):
            groups = fcluster(tree, g, "maxclust") - 1
            item_groups = groups[labels[items]]
            if len(set(item_groups)) < 2:
                continue
            score = silhouette_score(X[items], item_groups, metric="cosine")
            if best is None or score > best[0] + 1e-12:
                best = (score, groups)
        if best is None:
            return None
        groups = best[1]
        size = np.array([weights[labels == c].sum() for c in range(k)])
        order = sorted(set(groups), key=lambda g: (-size[groups == g].sum(),
                                                   np.flatnonzero(groups == g)[0]))  # fmt: skip
        rank = {g: r for r, g in enumerate(order)}
        return np.array([rank[g] for g in groups])

    def _base(self) -> Any:
        return clone(self.base)

    def _set(self, labels: np.ndarray, similarity: np.ndarray, centers: np.ndarray,
             message: str = "", groups: np.ndarray | None = None) -> Self:  # fmt: skip
        self.labels_, self.similarity_ = labels, similarity
        self.cluster_centers_, self.message_ = centers, message
        self.groups_ = groups
        return self

    def fit(self, X: np.ndarray, y: None = None, sample_weight: np.ndarray | None = None) -> Self:
        """Cluster ``X`` (n, dim); ``sample_weight``: rows each item stands for."""
        self._check_params()
        self.threshold_ = math.nan
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
        groups = self._groups(X, labels, centers, weights)
        return self._set(labels, similarity, centers.astype(np.float32), message, groups)

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
        if self.base is None:
            self.threshold_ = self._threshold(X[fit_idx], weights[fit_idx])
            raw[fit_idx] = self._adaptive_labels(X[fit_idx], weights[fit_idx])
        else:
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
        """The fitted labels, similarities, centroids, message and groups as one value."""
        return ClusterResult(self.labels_, self.similarity_, self.cluster_centers_, self.message_,
                             getattr(self, "groups_", None),
                             getattr(self, "threshold_", math.nan))  # fmt: skip


def cluster_vectors(
    vectors: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    distance_threshold: float | None = None,
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
