"""Stable ids of emergent themes: an unchanged theme keeps its id across runs.

Ids of the previous runs are matched to the new clusters by centroid cosine (Hungarian
assignment); a new theme gets a number never issued before. Each cluster also gets its nearest
lookup theme, to propose it as an addition to that theme.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from koe.discovery.clusterer import l2_normalize

ID_PREFIX = "cluster_"
ID_MATCH_THRESHOLD = 0.90
PROPOSE_THRESHOLD = 0.75


@dataclass(frozen=True)
class KnownThemes:
    """Cluster themes of earlier runs: ids with their latest centroids, and the next free number.

    ``next_number`` is one more than the highest number ever issued, so ids are never reused.
    """

    ids: tuple[str, ...] = ()
    centroids: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    next_number: int = 1


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
        sims = l2_normalize(np.asarray(centroids, dtype=np.float64)) @ l2_normalize(prior).T
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
    matrix = l2_normalize(np.stack([np.asarray(theme_centroids[t], np.float64) for t in names]))
    if matrix.shape[1] != centroids.shape[1]:
        return [("", math.nan)] * len(centroids)
    sims = l2_normalize(np.asarray(centroids, dtype=np.float64)) @ matrix.T
    best = sims.argmax(axis=1)
    return [(names[b], float(sims[i, b])) for i, b in enumerate(best)]
