"""Bootstrap over distinct rows: the cost of a resample is the distinct rows, not the comments.

Driver statistics depend on a comment only through a few discrete values (its theme flags, its
score class, its sub-scores), so comments with the same values are exchangeable. Resampling n
comments with replacement is then the same, in distribution, as a multinomial draw of how many
copies of each distinct row the resample holds. Tens of thousands of comments collapse to a
few thousand distinct rows at most, so a nightly run over a growing window stays cheap.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

_PACK_ROWS = 50_000  # rows bit-packed at a time: 1M rows x 300 flags is 38 MB packed


def distinct_rows(
    flags: sparse.spmatrix | np.ndarray | None, *values: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group equal rows of 0/1 ``flags`` (n x k) and per-row ``values`` (each (n,) or (n, j)).

    NaN values compare equal to each other. Returns (first, code, counts): ``first`` (P,) the
    index of each distinct row's first occurrence (in sorted row order), ``code`` (n,) the
    distinct row of each input row, ``counts`` (P,) float how many rows each one stands for.
    """
    parts: list[np.ndarray] = []
    if flags is not None and flags.shape[1] > 0:
        step = _PACK_ROWS
        dense = (lambda a: a.toarray()) if sparse.issparse(flags) else np.asarray
        parts.append(
            np.vstack(
                [
                    np.packbits(dense(flags[i : i + step]) != 0, axis=1)
                    for i in range(0, flags.shape[0], step)
                ]
            ).astype(np.int64)
        )
    for value in values:
        column = np.asarray(value, dtype=float).reshape(len(value), -1)
        column = np.where(np.isnan(column), np.inf, column)  # NaN rows group together
        parts.append(column)
    n = parts[0].shape[0] if parts else 0
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    key = pd.DataFrame(np.hstack(parts))
    # hash grouping (pandas) rather than np.unique(axis=0): a lexicographic sort of wide rows
    # costs seconds at 100k rows; group numbers follow the sorted key, so they are stable
    code = key.groupby(list(key.columns), sort=True).ngroup().to_numpy()
    _, first = np.unique(code, return_index=True)
    return first, code, np.bincount(code, minlength=first.size).astype(float)


def resample_counts(rng: np.random.Generator, counts: np.ndarray, size: int) -> np.ndarray:
    """(size x P): copies of each distinct row in ``size`` resamples of sum(counts) rows."""
    n = round(float(counts.sum()))
    return rng.multinomial(n, counts / n, size=size).astype(float)
