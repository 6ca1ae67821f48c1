"""The writes a deferred store keeps in memory until its run completes (see koe.store)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import sqlalchemy as sa

from koe.store.comments import upsert_comments, upsert_rows
from koe.store.schema import embeddings_table, source_files_table, tag_cache_table, utcnow
from koe.store.themes import upsert_cluster_themes


@dataclass
class PendingWrites:
    """A run's store writes, per kind; keyed where a later write replaces an earlier one."""

    embeddings: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    comments: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # (run_id, hashes)
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    tags: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    files: list[dict[str, Any]] = field(default_factory=list)
    cluster_themes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """How many writes of each kind are waiting."""
        return {f.name: len(getattr(self, f.name)) for f in fields(self)}

    def write(self, conn: sa.Connection) -> None:
        """Write everything, within the caller's transaction ``conn``."""
        now = utcnow()
        for run_id, hashes in self.comments:
            upsert_comments(conn, run_id, hashes, now)
        if self.rows:
            upsert_rows(conn, list(self.rows.values()))
        for table, rows in ((embeddings_table, self.embeddings), (tag_cache_table, self.tags)):
            if rows:
                conn.execute(table.insert(), list(rows.values()))
        if self.files:
            conn.execute(source_files_table.insert(), self.files)
        upsert_cluster_themes(conn, list(self.cluster_themes.values()))
