"""The store's discovered theme ids: every cluster theme ever issued, with its latest centroid."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import sqlalchemy as sa

from koe.store.schema import StoreState, chunks, cluster_themes_table, utcnow


def upsert_cluster_themes(conn: sa.Connection, records: list[dict[str, Any]]) -> None:
    """Replace the stored themes of the records' ids, keeping each one's ``first_seen_at``."""
    t = cluster_themes_table
    for chunk in chunks(records):
        ids = [r["cluster_id"] for r in chunk]
        first = dict(
            conn.execute(sa.select(t.c.cluster_id, t.c.first_seen_at).where(
                t.c.cluster_id.in_(ids))).all()
        )  # fmt: skip
        conn.execute(t.delete().where(t.c.cluster_id.in_(ids)))
        conn.execute(
            t.insert(),
            [{**r, "first_seen_at": first.get(r["cluster_id"], r["first_seen_at"])}
             for r in chunk],
        )  # fmt: skip


class ThemeMixin(StoreState):
    """RunStore's discovered theme ids (table ``cluster_themes``)."""

    def known_cluster_themes(self, model_id: str) -> tuple[list[str], np.ndarray, int]:
        """(ids, latest centroids) of the cluster themes found with ``model_id``, and the next
        free id number (one more than the highest ever issued, whatever the model)."""
        with self.engine.connect() as conn:
            rows = {
                r["cluster_id"]: dict(r)
                for r in conn.execute(sa.select(cluster_themes_table)).mappings()
            }
        rows.update(self._pending.cluster_themes)
        tails = [i.rsplit("_", 1)[-1] for i in rows]
        mine = sorted((r for r in rows.values() if r["model_id"] == model_id),
                      key=lambda r: r["cluster_id"])  # fmt: skip
        centroids = (
            np.stack([np.frombuffer(r["centroid"], dtype=np.float32) for r in mine])
            if mine else np.zeros((0, 0), dtype=np.float32)
        )  # fmt: skip
        next_number = max((int(t) for t in tails if t.isdigit()), default=0) + 1
        return [r["cluster_id"] for r in mine], centroids, next_number

    def save_cluster_themes(self, model_id: str, themes: Sequence[dict[str, Any]]) -> None:
        """Insert or update cluster themes (cluster_id, label, keywords, size, centroid)."""
        now = utcnow()
        records = {
            str(th["cluster_id"]): {
                "cluster_id": str(th["cluster_id"]), "model_id": model_id,
                "dim": int(np.asarray(th["centroid"]).shape[0]),
                "centroid": np.asarray(th["centroid"], dtype=np.float32).tobytes(),
                "label": str(th["label"]), "keywords": str(th["keywords"]),
                "size": int(th["size"]), "first_seen_at": now, "last_seen_at": now,
            }
            for th in themes
        }  # fmt: skip
        if self.deferred:
            self._pending.cluster_themes.update(records)
        else:
            with self.engine.begin() as conn:
                upsert_cluster_themes(conn, list(records.values()))
