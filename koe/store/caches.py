"""The store's caches: embeddings per (model, text hash), tags per (tagger key, text hash)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

import numpy as np
import sqlalchemy as sa

from koe.store.schema import StoreState, chunks, embeddings_table, tag_cache_table


class CacheMixin(StoreState):
    """RunStore's embeddings and tag caches (tables ``embeddings`` and ``tag_cache``)."""

    def get_embeddings(self, model_id: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        """Cached vectors for the given text hashes (missing ones are simply absent)."""
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(hashes))
        with self.engine.connect() as conn:
            for chunk in chunks(unique):
                rows = conn.execute(
                    sa.select(embeddings_table.c.text_hash, embeddings_table.c.vector).where(
                        embeddings_table.c.model_id == model_id,
                        embeddings_table.c.text_hash.in_(chunk),
                    )
                )
                for h, blob in rows:
                    found[h] = np.frombuffer(blob, dtype=np.float32)
        pending = self._pending.embeddings
        for h in unique:
            if h not in found and (model_id, h) in pending:
                found[h] = np.frombuffer(pending[model_id, h]["vector"], dtype=np.float32)
        return found

    def put_embeddings(self, model_id: str, items: Iterable[tuple[str, np.ndarray]]) -> int:
        """Insert vectors not yet cached; returns how many were written (or queued)."""
        rows = [
            {"model_id": model_id, "text_hash": h, "dim": int(v.shape[0]),
             "vector": np.asarray(v, dtype=np.float32).tobytes()}
            for h, v in items
        ]  # fmt: skip
        if not rows:
            return 0
        existing = self.get_embeddings(model_id, [r["text_hash"] for r in rows])
        rows = [r for r in rows if r["text_hash"] not in existing]
        rows = list({r["text_hash"]: r for r in rows}.values())
        if self.deferred:
            self._pending.embeddings.update({(model_id, r["text_hash"]): r for r in rows})
        elif rows:
            with self.engine.begin() as conn:
                conn.execute(embeddings_table.insert(), rows)
        return len(rows)

    def get_tags(self, tagger_key: str, hashes: Sequence[str]) -> dict[str, list[dict]]:
        """Cached lookup tags per comment text hash for one tagger version (see tag_cache)."""
        found: dict[str, list[dict]] = {}
        unique = list(dict.fromkeys(hashes))
        with self.engine.connect() as conn:
            for chunk in chunks(unique):
                rows = conn.execute(
                    sa.select(tag_cache_table.c.text_hash, tag_cache_table.c.tags).where(
                        tag_cache_table.c.tagger_key == tagger_key,
                        tag_cache_table.c.text_hash.in_(chunk),
                    )
                )
                found.update({h: json.loads(tags) for h, tags in rows})
        pending = self._pending.tags
        for h in unique:
            if h not in found and (tagger_key, h) in pending:
                found[h] = json.loads(pending[tagger_key, h]["tags"])
        return found

    def put_tags(self, tagger_key: str, items: Iterable[tuple[str, list[dict]]]) -> int:
        """Cache the lookup tags of comment texts not cached yet; returns how many."""
        rows = {
            h: {"tagger_key": tagger_key, "text_hash": h,
                "tags": json.dumps(tags, ensure_ascii=False, sort_keys=True)}
            for h, tags in items
        }  # fmt: skip
        existing = self.get_tags(tagger_key, list(rows))
        new = [r for h, r in rows.items() if h not in existing]
        if self.deferred:
            self._pending.tags.update({(tagger_key, r["text_hash"]): r for r in new})
        elif new:
            with self.engine.begin() as conn:
                conn.execute(tag_cache_table.insert(), new)
        return len(new)
