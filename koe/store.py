"""The run-state database: comments seen, the embedding cache, and every run.

SQLite through SQLAlchemy Core by default (one file beside the runs, no server, transactional);
any SQLAlchemy URL works, so a team can point it at PostgreSQL. Tables:

- ``comments``: id, text_hash, first_seen_run, last_seen_run, first_seen_at, last_seen_at
- ``embeddings``: model_id, text_hash, dim, vector (float32 bytes) — a text is never encoded twice
  by the same model
- ``runs``: run_id, started_at, ended_at, status, input_path, manifest (JSON)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import sqlalchemy as sa

metadata = sa.MetaData()

comments_table = sa.Table(
    "comments",
    metadata,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("text_hash", sa.String(64), nullable=False),
    sa.Column("first_seen_run", sa.String, nullable=False),
    sa.Column("last_seen_run", sa.String, nullable=False),
    sa.Column("first_seen_at", sa.DateTime, nullable=False),
    sa.Column("last_seen_at", sa.DateTime, nullable=False),
)
embeddings_table = sa.Table(
    "embeddings",
    metadata,
    sa.Column("model_id", sa.String, primary_key=True),
    sa.Column("text_hash", sa.String(64), primary_key=True),
    sa.Column("dim", sa.Integer, nullable=False),
    sa.Column("vector", sa.LargeBinary, nullable=False),
)
runs_table = sa.Table(
    "runs",
    metadata,
    sa.Column("run_id", sa.String, primary_key=True),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("ended_at", sa.DateTime),
    sa.Column("status", sa.String, nullable=False),
    sa.Column("input_path", sa.String),
    sa.Column("manifest", sa.Text),
)


def text_hash(text: str) -> str:
    """SHA-256 of the UTF-8 text: the cache key of a comment or sentence."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class RunStore:
    """Access to the run-state database.

    Args:
        url: a SQLAlchemy URL, e.g. ``sqlite:////path/koe_state.sqlite`` or ``postgresql://...``.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        connect_args = {"timeout": 60} if url.startswith("sqlite") else {}
        self.engine = sa.create_engine(url, connect_args=connect_args)
        metadata.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    # -- embeddings cache -------------------------------------------------------------------
    def get_embeddings(self, model_id: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        """Cached vectors for the given text hashes (missing ones are simply absent)."""
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(hashes))
        with self.engine.connect() as conn:
            for i in range(0, len(unique), 500):
                chunk = unique[i : i + 500]
                rows = conn.execute(
                    sa.select(embeddings_table.c.text_hash, embeddings_table.c.vector).where(
                        embeddings_table.c.model_id == model_id,
                        embeddings_table.c.text_hash.in_(chunk),
                    )
                )
                for h, blob in rows:
                    found[h] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_embeddings(self, model_id: str, items: Iterable[tuple[str, np.ndarray]]) -> int:
        """Insert vectors not yet cached; returns how many were written."""
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
        if rows:
            with self.engine.begin() as conn:
                conn.execute(embeddings_table.insert(), rows)
        return len(rows)

    # -- comments ---------------------------------------------------------------------------
    def record_comments(self, run_id: str, ids: Sequence[str], texts: Sequence[str]) -> dict:
        """Upsert comments seen in this run; returns counts of new, changed and unchanged."""
        now = _now()
        hashes = {i: text_hash(t) for i, t in zip(ids, texts, strict=True)}
        known: dict[str, str] = {}
        with self.engine.begin() as conn:
            id_list = list(hashes)
            for i in range(0, len(id_list), 500):
                chunk = id_list[i : i + 500]
                rows = conn.execute(
                    sa.select(comments_table.c.id, comments_table.c.text_hash).where(
                        comments_table.c.id.in_(chunk)
                    )
                )
                known.update(dict(rows.all()))
            new = [
                {"id": i, "text_hash": h, "first_seen_run": run_id, "last_seen_run": run_id,
                 "first_seen_at": now, "last_seen_at": now}
                for i, h in hashes.items() if i not in known
            ]  # fmt: skip
            if new:
                conn.execute(comments_table.insert(), new)
            seen = [i for i in hashes if i in known]
            for i in range(0, len(seen), 500):
                chunk = seen[i : i + 500]
                conn.execute(
                    comments_table.update()
                    .where(comments_table.c.id.in_(chunk))
                    .values(last_seen_run=run_id, last_seen_at=now)
                )
            changed = [i for i in seen if known[i] != hashes[i]]
            for i in changed:
                conn.execute(
                    comments_table.update()
                    .where(comments_table.c.id == i)
                    .values(text_hash=hashes[i])
                )
        return {"new": len(new), "changed": len(changed), "unchanged": len(seen) - len(changed)}

    # -- runs -------------------------------------------------------------------------------
    def start_run(self, run_id: str, input_path: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                runs_table.insert().values(
                    run_id=run_id, started_at=_now(), status="running", input_path=input_path
                )
            )

    def finish_run(self, run_id: str, status: str, manifest: dict[str, Any] | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                runs_table.update()
                .where(runs_table.c.run_id == run_id)
                .values(
                    ended_at=_now(),
                    status=status,
                    manifest=json.dumps(manifest, ensure_ascii=False, default=str)
                    if manifest is not None
                    else None,
                )
            )

    def runs(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(runs_table).order_by(runs_table.c.started_at))
            return [dict(r._mapping) for r in rows]
