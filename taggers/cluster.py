"""Theme discovery: cluster sentence embeddings and label clusters with Japanese keywords.

Deterministic by construction: agglomerative clustering (average linkage, cosine distance,
distance threshold) has no random step; above ``max_items`` distinct texts a seeded sample is
clustered and the rest assigned to the nearest centroid. Small clusters become outliers, and
outliers close enough to a centroid (``assign_threshold``) are assigned to it, so few are left
unclustered. Labels are c-TF-IDF over Sudachi normalized content words.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import AgglomerativeClustering

from taggers.tokenize import content_words, tokenize

OUTLIER = -1


@dataclass(frozen=True)
class ClusterResult:
    labels: np.ndarray  # cluster index per item, OUTLIER for unclustered
    similarity: np.ndarray  # cosine similarity to the assigned centroid (NaN for outliers)
    centroids: np.ndarray  # (k, dim), L2-normalized
    message: str = ""


def _normalize(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms == 0, 1, norms)


def cluster_vectors(
    vectors: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    distance_threshold: float = 0.55,
    min_cluster_size: int = 3,
    assign_threshold: float = 0.5,
    max_items: int = 5000,
    seed: int = 0,
) -> ClusterResult:
    """Cluster L2-normalized vectors.

    Args:
        vectors: (n, dim) embeddings of distinct texts.
        weights: how many rows each distinct text stands for (cluster size counts these).
        distance_threshold: cosine distance at which agglomerative merging stops.
        min_cluster_size: clusters with fewer (weighted) members become outliers.
        assign_threshold: outliers with cosine >= this to a centroid join that cluster.
        max_items: above this, a seeded sample is clustered and the rest assigned.
        seed: seed for that sample.

    Returns:
        A ClusterResult; cluster indices are ordered by size (largest first), ties by first item.
    """
    n = len(vectors)
    weights = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    dim = vectors.shape[1] if vectors.ndim == 2 else 0
    empty = ClusterResult(np.full(n, OUTLIER), np.full(n, np.nan), np.zeros((0, dim)))
    if n == 0 or weights.sum() < min_cluster_size:
        return ClusterResult(
            empty.labels, empty.similarity, empty.centroids,
            f"too few texts to cluster ({int(weights.sum())} < min_cluster_size "
            f"{min_cluster_size})",
        )  # fmt: skip
    vectors = _normalize(np.asarray(vectors, dtype=np.float64))
    if n == 1 or np.allclose(vectors, vectors[0]):
        raw = np.zeros(n, dtype=int)
    else:
        fit_idx = np.arange(n)
        if n > max_items:
            fit_idx = np.sort(np.random.default_rng(seed).choice(n, max_items, replace=False))
        model = AgglomerativeClustering(
            n_clusters=None,
            metric="cosine",
            linkage="average",
            distance_threshold=distance_threshold,
        )
        raw = np.full(n, OUTLIER)
        raw[fit_idx] = model.fit_predict(vectors[fit_idx])
    # Keep clusters big enough, ordered by weighted size then first member.
    sizes = Counter()
    first: dict[int, int] = {}
    for i, c in enumerate(raw):
        if c != OUTLIER:
            sizes[c] += weights[i]
            first.setdefault(c, i)
    kept = sorted(
        (c for c in sizes if sizes[c] >= min_cluster_size), key=lambda c: (-sizes[c], first[c])
    )
    if not kept:
        return ClusterResult(
            empty.labels, empty.similarity, empty.centroids,
            "no cluster reached min_cluster_size; every text is an outlier",
        )  # fmt: skip
    remap = {c: k for k, c in enumerate(kept)}
    labels = np.array([remap.get(c, OUTLIER) for c in raw])
    centroids = _normalize(
        np.stack([np.average(vectors[labels == k], axis=0, weights=weights[labels == k])
                  for k in range(len(kept))])
    )  # fmt: skip
    sims = vectors @ centroids.T
    nearest = sims.argmax(axis=1)
    best = sims[np.arange(n), nearest]
    outliers = labels == OUTLIER
    assign = outliers & (best >= assign_threshold)
    labels[assign] = nearest[assign]
    similarity = np.where(labels == OUTLIER, np.nan, sims[np.arange(n), np.maximum(labels, 0)])
    return ClusterResult(labels, similarity, centroids.astype(np.float32))


def ctfidf_keywords(docs_per_cluster: Sequence[Sequence[str]], top_n: int = 6) -> list[list[str]]:
    """Top c-TF-IDF words per cluster (BERTopic's class-based TF-IDF).

    Args:
        docs_per_cluster: for each cluster, the content words of all its members.
        top_n: keywords per cluster.
    """
    counts = [Counter(words) for words in docs_per_cluster]
    total = Counter()
    for c in counts:
        total.update(c)
    avg_words = sum(total.values()) / max(len(counts), 1)
    out = []
    for c in counts:
        size = sum(c.values()) or 1
        scored = sorted(((c[w] / size) * math.log(1 + avg_words / total[w]), w) for w in c)
        scored.sort(key=lambda sw: (-sw[0], sw[1]))
        out.append([w for _, w in scored[:top_n]])
    return out


def discover_themes(
    units: pd.DataFrame,
    vectors: np.ndarray,
    comments: pd.DataFrame,
    *,
    distance_threshold: float = 0.55,
    min_cluster_size: int = 3,
    assign_threshold: float = 0.5,
    max_keywords: int = 6,
    representatives: int = 4,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Cluster texts (sentences or comments) into emergent themes.

    Args:
        units: frame with ``id``, ``text`` (the unit to cluster) and optional ``sentence_idx``,
            ``start``, ``end``.
        vectors: (len(units), dim) embeddings, row-aligned with ``units``.
        comments: CommentFrame (id, text, score, nps_class) for cluster statistics.

    Returns:
        (assignments, themes, message):
        assignments: units plus ``cluster_id`` (e.g. "cluster_01", "" for outliers),
            ``cluster_label``, ``similarity``.
        themes: one row per cluster: cluster_id, label, keywords, size, comments, share,
            promoters_share, detractors_share, nps, representatives (" | "-joined texts).
        message: a note for the manifest/report (e.g. too few texts), "" when fine.
    """
    texts = units["text"].astype(str).tolist()
    distinct = list(dict.fromkeys(texts))
    index = {t: i for i, t in enumerate(distinct)}
    row_of = np.array([index[t] for t in texts], dtype=int)
    weights = np.bincount(row_of, minlength=len(distinct)).astype(float)
    first_row: dict[int, int] = {}
    for row, i in enumerate(row_of):
        first_row.setdefault(int(i), row)
    distinct_vectors = (
        vectors[[first_row[i] for i in range(len(distinct))]] if distinct else vectors[:0]
    )
    result = cluster_vectors(
        distinct_vectors,
        weights,
        distance_threshold=distance_threshold,
        min_cluster_size=min_cluster_size,
        assign_threshold=assign_threshold,
        seed=seed,
    )
    width = max(2, len(str(len(result.centroids))))
    names = [f"cluster_{k + 1:0{width}d}" for k in range(len(result.centroids))]
    words = [content_words(tokenize(t)) for t in distinct]
    keywords = ctfidf_keywords(
        [[w for i, ws in enumerate(words) if result.labels[i] == k for w in ws
          for _ in range(int(weights[i]))] for k in range(len(names))],
        max_keywords,
    )  # fmt: skip
    labels_text = ["・".join(kw[:3]) or name for kw, name in zip(keywords, names, strict=True)]
    assigned = result.labels[row_of]
    assignments = units.copy()
    assignments["cluster_id"] = [names[c] if c != OUTLIER else "" for c in assigned]
    assignments["cluster_label"] = [labels_text[c] if c != OUTLIER else "" for c in assigned]
    assignments["similarity"] = result.similarity[row_of]
    scores = comments.set_index("id")["score"]
    n_comments = max(len(comments), 1)
    by_similarity = np.argsort(-np.nan_to_num(result.similarity, nan=-2), kind="stable")
    theme_rows = []
    for k, name in enumerate(names):
        members = assignments[assignments["cluster_id"] == name]
        ids = members["id"].unique()
        member_scores = scores.reindex(ids).dropna().astype(int)
        promoters = float((member_scores >= 9).mean()) if len(member_scores) else math.nan
        detractors = float((member_scores <= 6).mean()) if len(member_scores) else math.nan
        ranked = [i for i in by_similarity if result.labels[i] == k][:representatives]
        theme_rows.append(
            {
                "cluster_id": name,
                "label": labels_text[k],
                "keywords": ", ".join(keywords[k]),
                "size": len(members),
                "comments": len(ids),
                "share": len(ids) / n_comments,
                "promoters_share": promoters,
                "detractors_share": detractors,
                "nps": (promoters - detractors) * 100 if len(member_scores) else math.nan,
                "representatives": " | ".join(distinct[i] for i in ranked),
            }
        )
    themes = pd.DataFrame(
        theme_rows,
        columns=["cluster_id", "label", "keywords", "size", "comments", "share",
                 "promoters_share", "detractors_share", "nps", "representatives"],
    )  # fmt: skip
    return assignments, themes, result.message
