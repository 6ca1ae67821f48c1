"""Theme discovery: cluster sentence embeddings and label clusters with Japanese keywords.

Algorithm (chosen by measurement, see ``bench/discovery_quality.py`` and the README): cosine
agglomerative clustering with average linkage and a distance threshold. It has no random step,
so the same vectors always give the same clusters; above ``max_items`` distinct texts a seeded
sample is clustered and the rest assigned to the nearest centroid (average linkage is O(n²) in
memory). Clusters smaller than the minimum size are dissolved, and every text whose cosine to
the nearest centroid is at least ``assign_threshold`` joins that cluster: the borderline ones are
kept, only texts far from every theme stay outliers.

Each cluster gets c-TF-IDF keywords over Sudachi normalized content words, the keywords that
would catch it as a lookup theme (greedy coverage at a minimum precision), its nearest lookup
theme, and a stable id: ids of the previous runs are matched to the new clusters by centroid
cosine (Hungarian assignment), so an unchanged theme keeps its id and a new one gets a number
never issued before.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import AgglomerativeClustering

from koe.taggers.tokenize import content_words, tokenize

OUTLIER = -1
_INFLECTING = frozenset({"動詞", "形容詞", "VERB", "ADJ"})
_NOUNS = frozenset({"名詞", "NOUN", "PROPN"})
ID_PREFIX = "cluster_"

# Defaults chosen on the Fukui labelled sets (bench/results/discovery_quality.md).
DISTANCE_THRESHOLD = 0.70
ASSIGN_THRESHOLD = 0.30
MIN_CLUSTER_SIZE = 3
MIN_CLUSTER_SHARE = 0.0025
MAX_ITEMS = 5000
ID_MATCH_THRESHOLD = 0.90
PROPOSE_THRESHOLD = 0.75

THEME_COLUMNS = [
    "cluster_id", "label", "keywords", "size", "comments", "share", "promoters_share",
    "detractors_share", "nps", "representatives", "catch_keywords", "catch_coverage",
    "catch_precision", "nearest_theme", "nearest_theme_similarity", "proposal",
]  # fmt: skip


@dataclass(frozen=True)
class ClusterResult:
    labels: np.ndarray  # cluster index per item, OUTLIER for unclustered
    similarity: np.ndarray  # cosine similarity to the assigned centroid (NaN for outliers)
    centroids: np.ndarray  # (k, dim), L2-normalized
    message: str = ""


@dataclass(frozen=True)
class KnownThemes:
    """Cluster themes of earlier runs: ids with their latest centroids, and the next free number.

    ``next_number`` is one more than the highest number ever issued, so ids are never reused.
    """

    ids: tuple[str, ...] = ()
    centroids: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    next_number: int = 1


@dataclass(frozen=True)
class Discovery:
    """What :func:`find_themes` found.

    assignments: the units plus ``cluster_id`` ("" for outliers), ``cluster_label``,
        ``similarity``.
    themes: one row per cluster, columns ``THEME_COLUMNS``, largest first.
    centroids: (len(themes), dim) L2-normalized, row-aligned with ``themes``.
    message: a note for the manifest/report ("" when fine).
    kept_ids / new_ids: ids matched to an earlier run's theme, and ids issued now.
    """

    assignments: pd.DataFrame
    themes: pd.DataFrame
    centroids: np.ndarray
    message: str = ""
    kept_ids: tuple[str, ...] = ()
    new_ids: tuple[str, ...] = ()


def _normalize(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms == 0, 1, norms)


def effective_min_size(total: float, min_cluster_size: int, min_cluster_share: float) -> int:
    """The minimum cluster size for ``total`` (weighted) items: the larger of the two limits."""
    return max(int(min_cluster_size), math.ceil(min_cluster_share * total - 1e-9))


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
    """Cluster L2-normalized vectors.

    Args:
        vectors: (n, dim) embeddings of distinct texts.
        weights: how many rows each distinct text stands for (cluster size counts these).
        distance_threshold: cosine distance at which agglomerative merging stops.
        min_cluster_size: clusters with fewer (weighted) members are dissolved.
        min_cluster_share: ... or with fewer than this share of all (weighted) items.
        assign_threshold: texts with cosine >= this to the nearest centroid join that cluster
            (dissolved clusters' members and, above ``max_items``, the unsampled texts).
        max_items: above this, a seeded sample is clustered and the rest assigned.
        seed: seed for that sample.

    Returns:
        A ClusterResult; cluster indices are ordered by size (largest first), ties by first item.
    """
    if not 0 < distance_threshold < 2:
        raise ValueError(f"distance_threshold must be in (0, 2), got {distance_threshold}")
    if min_cluster_size < 1 or not 0 <= min_cluster_share < 1:
        raise ValueError("min_cluster_size must be >= 1 and min_cluster_share in [0, 1)")
    if max_items < 2:
        raise ValueError(f"max_items must be >= 2, got {max_items}")
    vectors = np.asarray(vectors)
    n = len(vectors)
    weights = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    if len(weights) != n:
        raise ValueError(f"{len(weights)} weights for {n} vectors")
    dim = vectors.shape[1] if vectors.ndim == 2 else 0
    empty = ClusterResult(np.full(n, OUTLIER), np.full(n, np.nan), np.zeros((0, dim)))
    min_size = effective_min_size(weights.sum(), min_cluster_size, min_cluster_share)
    if n == 0 or weights.sum() < min_size:
        return ClusterResult(
            empty.labels, empty.similarity, empty.centroids,
            f"too few texts to cluster ({int(weights.sum())}; a cluster needs at least "
            f"{min_size})",
        )  # fmt: skip
    vectors = _normalize(np.asarray(vectors, dtype=np.float64))
    if not np.linalg.norm(vectors, axis=1).any():
        return ClusterResult(
            empty.labels, empty.similarity, empty.centroids, "no text has an embedding"
        )
    message = ""
    sampled = 1.0  # share of the (weighted) texts the clustering saw
    if n == 1 or np.allclose(vectors, vectors[0]):
        raw = np.zeros(n, dtype=int)
        message = f"all {int(weights.sum())} texts are identical (or embed alike): one cluster"
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
        sampled = weights[fit_idx].sum() / weights.sum()
    # Keep clusters big enough (in a sample: the minimum scaled to the sample), ordered by
    # weighted size then first member.
    sizes: Counter[int] = Counter()
    first: dict[int, int] = {}
    for i, c in enumerate(raw):
        if c != OUTLIER:
            sizes[c] += weights[i]
            first.setdefault(c, i)
    needed = max(2.0, min_size * sampled) if sampled < 1 else min_size
    kept = sorted((c for c in sizes if sizes[c] >= needed), key=lambda c: (-sizes[c], first[c]))
    if not kept:
        return ClusterResult(
            empty.labels, empty.similarity, empty.centroids,
            f"no cluster reached the minimum size {min_size}; every text is an outlier",
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
    return ClusterResult(labels, similarity, centroids.astype(np.float32), message)


def ctfidf_keywords(docs_per_cluster: Sequence[Sequence[str]], top_n: int = 6) -> list[list[str]]:
    """Top c-TF-IDF words per cluster (BERTopic's class-based TF-IDF).

    Args:
        docs_per_cluster: for each cluster, the content words of all its members.
        top_n: keywords per cluster.
    """
    counts = [Counter(words) for words in docs_per_cluster]
    total: Counter[str] = Counter()
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


def catch_keywords(
    word_sets: Sequence[frozenset[str]],
    members: np.ndarray,
    weights: np.ndarray,
    candidates: Sequence[str],
    *,
    max_keywords: int = 5,
    min_precision: float = 0.5,
    min_support: float = 0.05,
) -> tuple[list[str], float, float]:
    """Keywords that would catch a cluster as a lookup theme.

    Greedy over ``candidates`` (c-TF-IDF order; discovery passes nouns only, as the lookup lists
    mark themes with nouns and leave evaluative words to the polarity lexicon): a word is taken
    when at least ``min_precision`` of the (weighted) texts containing it are members, at least
    ``min_support`` of the members (and 2) contain it, and it covers a member not yet covered.

    Args:
        word_sets: content words of every text clustered in the run.
        members: boolean mask of the cluster's texts.
        weights: rows per text.
        candidates: words to consider, best first.

    Returns:
        (keywords, coverage: share of members containing one of them, precision: share of
        texts containing one of them that are members; NaN when no keyword was found).
    """
    members = np.asarray(members, dtype=bool)
    covered = np.zeros(len(word_sets), dtype=bool)
    chosen: list[str] = []
    support = max(2.0, min_support * weights[members].sum())
    for word in candidates:
        has = np.fromiter((word in s for s in word_sets), dtype=bool, count=len(word_sets))
        hit = weights[has].sum()
        in_members = weights[has & members].sum()
        if not hit or in_members < support or in_members / hit < min_precision:
            continue
        if not (has & members & ~covered).any():
            continue
        chosen.append(word)
        covered |= has
        if len(chosen) == max_keywords:
            break
    member_weight = weights[members].sum()
    if not chosen or not member_weight:
        return chosen, 0.0, math.nan
    coverage = weights[covered & members].sum() / member_weight
    precision = weights[covered & members].sum() / weights[covered].sum()
    return chosen, float(coverage), float(precision)


def words_with_display(text: str) -> list[tuple[str, str, bool]]:
    """(key, display, is_noun) per content word.

    The key is the normalized form (what c-TF-IDF counts and lookup lists match on), the display
    form what a reader expects: the surface of a noun (ゴミ箱, not the normalized 塵箱), the
    dictionary form of a verb or adjective.
    """
    out = []
    for token in tokenize(text):
        key = content_words([token])
        if key:
            inflecting = token.pos in _INFLECTING
            out.append((key[0], token.lemma if inflecting else token.surface,
                        token.pos in _NOUNS or (token.pos == "X" and token.norm.isalpha())))
    return out


def cluster_id(number: int) -> str:
    """The id of the ``number``-th cluster theme ever issued: cluster_01, ..., cluster_100."""
    return f"{ID_PREFIX}{number:02d}"


def id_number(theme_id: str) -> int:
    """The number of a cluster id (0 when it is not one)."""
    tail = theme_id.removeprefix(ID_PREFIX)
    return int(tail) if theme_id.startswith(ID_PREFIX) and tail.isdigit() else 0


def match_cluster_ids(
    centroids: np.ndarray, known: KnownThemes, threshold: float = ID_MATCH_THRESHOLD
) -> tuple[list[str], list[bool]]:
    """Ids for new clusters: an earlier theme's id when the centroids match, else a fresh one.

    One-to-one matching that maximizes total cosine (Hungarian assignment); a pair below
    ``threshold`` is not a match. Fresh ids are numbered from ``known.next_number`` in the order
    of ``centroids`` (largest cluster first), so they are deterministic and never reused.

    Returns:
        (ids, kept): kept[i] tells whether ids[i] came from ``known``.
    """
    k = len(centroids)
    ids: list[str | None] = [None] * k
    prior = np.asarray(known.centroids, dtype=np.float64)
    if k and len(known.ids) and prior.ndim == 2 and prior.shape[1] == centroids.shape[1]:
        sims = _normalize(np.asarray(centroids, dtype=np.float64)) @ _normalize(prior).T
        rows, cols = linear_sum_assignment(-sims)
        for r, c in zip(rows, cols, strict=True):
            if sims[r, c] >= threshold:
                ids[r] = known.ids[c]
    kept = [i is not None for i in ids]
    number = known.next_number
    out = []
    for i in ids:
        if i is None:
            i = cluster_id(number)
            number += 1
        out.append(i)
    return out, kept


def nearest_themes(
    centroids: np.ndarray, theme_centroids: Mapping[str, np.ndarray]
) -> list[tuple[str, float]]:
    """For each cluster centroid, the closest lookup theme centroid and its cosine."""
    if not theme_centroids or not len(centroids):
        return [("", math.nan)] * len(centroids)
    names = sorted(theme_centroids)
    matrix = _normalize(np.stack([np.asarray(theme_centroids[t], np.float64) for t in names]))
    if matrix.shape[1] != centroids.shape[1]:
        return [("", math.nan)] * len(centroids)
    sims = _normalize(np.asarray(centroids, dtype=np.float64)) @ matrix.T
    best = sims.argmax(axis=1)
    return [(names[b], float(sims[i, b])) for i, b in enumerate(best)]


def find_themes(
    units: pd.DataFrame,
    vectors: np.ndarray,
    comments: pd.DataFrame,
    *,
    distance_threshold: float = DISTANCE_THRESHOLD,
    min_cluster_size: int = MIN_CLUSTER_SIZE,
    min_cluster_share: float = MIN_CLUSTER_SHARE,
    assign_threshold: float = ASSIGN_THRESHOLD,
    max_items: int = MAX_ITEMS,
    max_keywords: int = 6,
    representatives: int = 4,
    seed: int = 0,
    known: KnownThemes | None = None,
    id_match_threshold: float = ID_MATCH_THRESHOLD,
    theme_centroids: Mapping[str, np.ndarray] | None = None,
    propose_threshold: float = PROPOSE_THRESHOLD,
) -> Discovery:
    """Cluster texts (sentences or comments) into emergent themes.

    Args:
        units: frame with ``id``, ``text`` (the unit to cluster) and optional ``sentence_idx``,
            ``start``, ``end``.
        vectors: (len(units), dim) embeddings, row-aligned with ``units``.
        comments: frame with ``id`` and ``score`` (0-10, may be NaN) for cluster statistics.
        known: themes of earlier runs, whose ids are kept for matching clusters.
        theme_centroids: lookup theme id -> centroid of sentences tagged with it; each cluster
            gets its nearest theme and is proposed as an addition to it when the cosine is at
            least ``propose_threshold``.

    Returns:
        A :class:`Discovery`. Theme columns: cluster_id, label (top 3 keywords), keywords
        (c-TF-IDF), size (units), comments, share (of comments), promoters_share,
        detractors_share, nps, representatives (" | "-joined, most central first),
        catch_keywords / catch_coverage / catch_precision (see :func:`catch_keywords`),
        nearest_theme, nearest_theme_similarity, proposal ("add_to_theme" or "new_theme").
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
        min_cluster_share=min_cluster_share,
        assign_threshold=assign_threshold,
        max_items=max_items,
        seed=seed,
    )
    k = len(result.centroids)
    names, kept = match_cluster_ids(result.centroids, known or KnownThemes(), id_match_threshold)
    pairs = [words_with_display(t) for t in distinct] if k else []
    words = [[key for key, _, _ in p] for p in pairs]
    nouns = {key for p in pairs for key, _, noun in p if noun}
    shown: Counter[tuple[str, str]] = Counter()
    for i, p in enumerate(pairs):
        for key, form, _ in p:
            shown[key, form] += weights[i]
    display: dict[str, str] = {}
    for (key, form), _ in sorted(shown.items(), key=lambda kv: (-kv[1], kv[0])):
        display.setdefault(key, form)
    ranked_words = ctfidf_keywords(
        [[w for i, ws in enumerate(words) if result.labels[i] == c for w in ws
          for _ in range(int(weights[i]))] for c in range(k)],
        max(max_keywords, 20),
    )  # fmt: skip
    keywords = [[display[w] for w in kw[:max_keywords]] for kw in ranked_words]
    word_sets = [frozenset(ws) for ws in words]
    labels_text = ["・".join(kw[:3]) or name for kw, name in zip(keywords, names, strict=True)]
    nearest = nearest_themes(result.centroids, theme_centroids or {})
    assigned = result.labels[row_of]
    assignments = units.copy()
    assignments["cluster_id"] = [names[c] if c != OUTLIER else "" for c in assigned]
    assignments["cluster_label"] = [labels_text[c] if c != OUTLIER else "" for c in assigned]
    assignments["similarity"] = result.similarity[row_of]
    scores = pd.to_numeric(comments.set_index("id")["score"], errors="coerce")
    scores = scores[~scores.index.duplicated()]
    n_comments = max(len(comments), 1)
    by_similarity = np.argsort(-np.nan_to_num(result.similarity, nan=-2), kind="stable")
    theme_rows = []
    for c, name in enumerate(names):
        members = assignments[assignments["cluster_id"] == name]
        ids = members["id"].unique()
        member_scores = scores.reindex(ids).dropna()
        promoters = float((member_scores >= 9).mean()) if len(member_scores) else math.nan
        detractors = float((member_scores <= 6).mean()) if len(member_scores) else math.nan
        ranked = [i for i in by_similarity if result.labels[i] == c][:representatives]
        catch, coverage, precision = catch_keywords(
            word_sets, result.labels == c, weights, [w for w in ranked_words[c] if w in nouns]
        )
        theme, theme_sim = nearest[c]
        theme_rows.append(
            {
                "cluster_id": name,
                "label": labels_text[c],
                "keywords": ", ".join(keywords[c]),
                "size": len(members),
                "comments": len(ids),
                "share": len(ids) / n_comments,
                "promoters_share": promoters,
                "detractors_share": detractors,
                "nps": (promoters - detractors) * 100 if len(member_scores) else math.nan,
                "representatives": " | ".join(distinct[i] for i in ranked),
                "catch_keywords": ", ".join(display[w] for w in catch),
                "catch_coverage": coverage,
                "catch_precision": precision,
                "nearest_theme": theme,
                "nearest_theme_similarity": theme_sim,
                "proposal": "add_to_theme"
                if theme and theme_sim >= propose_threshold
                else "new_theme",
            }
        )
    themes = pd.DataFrame(theme_rows, columns=THEME_COLUMNS)
    return Discovery(
        assignments=assignments,
        themes=themes,
        centroids=result.centroids,
        message=result.message,
        kept_ids=tuple(n for n, keep in zip(names, kept, strict=True) if keep),
        new_ids=tuple(n for n, keep in zip(names, kept, strict=True) if not keep),
    )


def discover_themes(
    units: pd.DataFrame,
    vectors: np.ndarray,
    comments: pd.DataFrame,
    **options: object,
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """(assignments, themes, message) of :func:`find_themes` (same options)."""
    found = find_themes(units, vectors, comments, **options)  # type: ignore[arg-type]
    return found.assignments, found.themes, found.message


def empty_themes() -> pd.DataFrame:
    """An emergent-themes table with no rows."""
    return pd.DataFrame(columns=THEME_COLUMNS)
