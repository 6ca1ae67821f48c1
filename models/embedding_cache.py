"""Embedding with the run-state cache: a text is encoded at most once per model, ever."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from koe.models.embeddings import embed_texts, load_embedder, model_id

if TYPE_CHECKING:
    from koe.store import RunStore


@dataclass(frozen=True)
class EmbedStats:
    texts: int
    distinct: int
    cached: int
    encoded: int
    model_id: str


def embed_with_cache(
    texts: Sequence[str],
    model_name: str,
    store: RunStore | None,
    *,
    batch_size: int = 64,
    show_progress: bool = False,
) -> tuple[np.ndarray, EmbedStats]:
    """Embed ``texts`` (row-aligned result), reusing and filling the store's cache.

    Args:
        texts: texts to embed (duplicates are encoded once).
        model_name: "koe-default", a hub name available offline, or a local path.
        store: the run-state store, or None for no cross-run cache.

    Returns:
        (vectors of shape (len(texts), dim), stats with cached/encoded counts).
    """
    from koe.store import text_hash

    mid = model_id(model_name)
    distinct = list(dict.fromkeys(texts))
    hashes = [text_hash(t) for t in distinct]
    cached = store.get_embeddings(mid, hashes) if store is not None else {}
    todo = [t for t, h in zip(distinct, hashes, strict=True) if h not in cached]
    vectors: dict[str, np.ndarray] = {
        t: cached[h] for t, h in zip(distinct, hashes, strict=True) if h in cached
    }
    if todo:
        model = load_embedder(model_name)
        encoded = embed_texts(todo, model, batch_size=batch_size, show_progress=show_progress)
        new = dict(zip(todo, encoded, strict=True))
        vectors.update(new)
        if store is not None:
            store.put_embeddings(mid, ((text_hash(t), v) for t, v in new.items()))
    if texts:
        matrix = np.stack([vectors[t] for t in texts]).astype(np.float32)
    else:
        dim = next(iter(vectors.values())).shape[0] if vectors else 0
        matrix = np.zeros((0, dim), dtype=np.float32)
    return matrix, EmbedStats(len(texts), len(distinct), len(cached), len(todo), mid)
