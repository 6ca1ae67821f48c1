"""Emergent themes: cluster the texts no lookup theme caught, label each cluster, keep its id.

:func:`find_themes` runs the clustering estimator (``clusterer``), the labels (``labels``) and
the stable ids (``stable_ids``) over one set of units, and adds each cluster's statistics: size,
comments, share, NPS of its comments, representative texts and the lookup theme it is closest to.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from koe.config import ClusterConfig
from koe.core.frames import DETRACTOR_MAX, PROMOTER_MIN
from koe.discovery.clusterer import OUTLIER, ThemeClusterer
from koe.discovery.labels import catch_keywords, ctfidf_keywords, words_with_display
from koe.discovery.stable_ids import KnownThemes, match_cluster_ids, nearest_themes

THEME_COLUMNS = [
    "cluster_id", "label", "keywords", "size", "comments", "share", "promoters_share",
    "detractors_share", "nps", "representatives", "catch_keywords", "catch_coverage",
    "catch_precision", "nearest_theme", "nearest_theme_similarity", "proposal",
    "parent_id", "parent_label", "label_phrase",
]  # fmt: skip
# A representative text this short (or its first clause) reads as a label phrase.
PHRASE_MAX_CHARS = 24


@dataclass(frozen=True)
class Discovery:
    """What :func:`find_themes` found.

    assignments: the units plus ``cluster_id`` ("" for outliers), ``cluster_label``,
        ``similarity``.
    themes: one row per cluster, columns ``THEME_COLUMNS``, largest first.
    centroids: (len(themes), dim) L2-normalized, row-aligned with ``themes``.
    message: a note for the manifest/report ("" when fine).
    kept_ids / new_ids: ids matched to an earlier run's theme, and ids issued now.
    distance_threshold: the merging distance the clusterer used (None when it did not merge).
    groups: how many groups (distinct parent_id); 0 when the clusters are not grouped.
    """

    assignments: pd.DataFrame
    themes: pd.DataFrame
    centroids: np.ndarray
    message: str = ""
    kept_ids: tuple[str, ...] = ()
    new_ids: tuple[str, ...] = ()
    distance_threshold: float | None = None
    groups: int = 0


@dataclass(frozen=True)
class _Labels:
    keywords: list[list[str]]  # display forms, per cluster
    ranked_words: list[list[str]]  # normalized forms, c-TF-IDF order, per cluster
    word_sets: list[frozenset[str]]  # content words per distinct text
    words: list[list[str]]  # content words per distinct text, in order
    nouns: set[str]
    display: dict[str, str]


def _label(distinct: list[str], labels: np.ndarray, weights: np.ndarray, k: int,
           max_keywords: int) -> _Labels:  # fmt: skip
    """c-TF-IDF keywords of each cluster, in the surface a reader expects."""
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
        [[w for i, ws in enumerate(words) if labels[i] == c for w in ws
          for _ in range(int(weights[i]))] for c in range(k)],
        max(max_keywords, 20),
    )  # fmt: skip
    keywords = [[display[w] for w in kw[:max_keywords]] for kw in ranked_words]
    return _Labels(keywords, ranked_words, [frozenset(ws) for ws in words], words, nouns, display)


def find_themes(
    units: pd.DataFrame,
    vectors: np.ndarray,
    comments: pd.DataFrame,
    *,
    settings: ClusterConfig | None = None,
    seed: int = 0,
    clusterer: ThemeClusterer | None = None,
    known: KnownThemes | None = None,
    theme_centroids: Mapping[str, np.ndarray] | None = None,
) -> Discovery:
    """Cluster texts (sentences or comments) into emergent themes.

    Args:
        units: frame with ``id``, ``text`` (the unit to cluster) and optional ``sentence_idx``,
            ``start``, ``end``.
        vectors: (len(units), dim) embeddings, row-aligned with ``units``.
        comments: frame with ``id`` and ``score`` (0-10, may be NaN) for cluster statistics.
        settings: koe.yaml's ``cluster:`` settings (keywords, representatives, id matching,
            proposals; and the clusterer's when ``clusterer`` is None).
        seed: the clusterer's sample seed when ``clusterer`` is None.
        clusterer: the estimator to cluster with (default: ``ThemeClusterer.from_config``).
        known: themes of earlier runs, whose ids are kept for matching clusters.
        theme_centroids: lookup theme id -> centroid of sentences tagged with it; each cluster
            gets its nearest theme and is proposed as an addition to it when the cosine is at
            least ``settings.propose_threshold``.

    Returns:
        A :class:`Discovery`. Theme columns: cluster_id, label (top 3 keywords), keywords
        (c-TF-IDF), size (units), comments, share (of comments), promoters_share,
        detractors_share, nps, representatives (" | "-joined, most central first),
        catch_keywords / catch_coverage / catch_precision (see :func:`catch_keywords`),
        nearest_theme, nearest_theme_similarity, proposal ("add_to_theme" or "new_theme"),
        parent_id (the cluster_id of the largest cluster of its group, where there are more
        than ``settings.max_groups`` clusters; else its own id), parent_label (the group's
        c-TF-IDF keywords), label_phrase (the most central text, or its first clause, when it
        is short; else "").
    """
    settings = settings or ClusterConfig()
    clusterer = clusterer or ThemeClusterer.from_config(settings, seed)
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
    result = clusterer.fit(distinct_vectors, sample_weight=weights).result()
    k = len(result.centroids)
    names, kept = match_cluster_ids(
        result.centroids, known or KnownThemes(), settings.id_match_threshold
    )
    lab = _label(distinct, result.labels, weights, k, settings.max_keywords)
    keywords, ranked_words, display = lab.keywords, lab.ranked_words, lab.display
    labels_text = ["・".join(kw[:3]) or name for kw, name in zip(keywords, names, strict=True)]
    parent_ids, parent_labels = _parents(result.groups, names, labels_text, lab, result.labels,
                                         weights)  # fmt: skip
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
        scored = len(member_scores) > 0
        promoters = float((member_scores >= PROMOTER_MIN).mean()) if scored else math.nan
        detractors = float((member_scores <= DETRACTOR_MAX).mean()) if scored else math.nan
        ranked = [i for i in by_similarity if result.labels[i] == c][:settings.representatives]
        catch, coverage, precision = catch_keywords(
            lab.word_sets, result.labels == c, weights,
            [w for w in ranked_words[c] if w in lab.nouns],
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
                if theme and theme_sim >= settings.propose_threshold
                else "new_theme",
                "parent_id": parent_ids[c],
                "parent_label": parent_labels[c],
                "label_phrase": label_phrase(distinct[ranked[0]]) if ranked else "",
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
        distance_threshold=None if math.isnan(result.distance_threshold)
        else round(float(result.distance_threshold), 4),
        groups=0 if result.groups is None else int(result.groups.max()) + 1,
    )


def label_phrase(text: str, max_chars: int = PHRASE_MAX_CHARS) -> str:
    """``text``, or its first clause, when it is at most ``max_chars`` long; else ""."""
    text = " ".join(text.split())
    for candidate in (text, re.split(r"[、。,.!?！？\n]", text)[0].strip()):
        if 2 <= len(candidate) <= max_chars:
            return candidate
    return ""


def _parents(groups: np.ndarray | None, names: list[str], labels_text: list[str], lab: _Labels,
             labels: np.ndarray, weights: np.ndarray) -> tuple[list[str], list[str]]:  # fmt: skip
    """parent_id and parent_label per cluster: each group is named by its largest cluster
    (clusters are largest first) and labelled by c-TF-IDF over the groups."""
    if groups is None:
        return list(names), list(labels_text)
    head = {int(g): names[c] for c, g in reversed(list(enumerate(groups)))}
    group_of_text = np.where(labels == OUTLIER, OUTLIER, groups[np.maximum(labels, 0)])
    ranked = ctfidf_keywords(
        [[w for i, ws in enumerate(lab.words) if group_of_text[i] == g for w in ws
          for _ in range(int(weights[i]))] for g in range(int(groups.max()) + 1)],
        3,
    )  # fmt: skip
    group_label = ["・".join(lab.display[w] for w in kw) or head[g] for g, kw in enumerate(ranked)]
    return [head[int(g)] for g in groups], [group_label[int(g)] for g in groups]


def discover_themes(
    units: pd.DataFrame, vectors: np.ndarray, comments: pd.DataFrame, **options: object
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """(assignments, themes, message) of :func:`find_themes` (same options)."""
    found = find_themes(units, vectors, comments, **options)  # type: ignore[arg-type]
    return found.assignments, found.themes, found.message


def empty_themes() -> pd.DataFrame:
    """An emergent-themes table with no rows."""
    return pd.DataFrame(columns=THEME_COLUMNS)
