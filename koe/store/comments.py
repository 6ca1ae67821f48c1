"""The store's comment history: comments seen, their accepted rows and sources, processed files."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from koe.core.hashing import text_hash
from koe.store.schema import (
    StoreState,
    chunks,
    comment_rows_table,
    comments_table,
    source_files_table,
    utcnow,
)


def known_hashes(conn: sa.Connection, ids: Sequence[str]) -> dict[str, str]:
    """The stored text hash of each known comment id."""
    known: dict[str, str] = {}
    for chunk in chunks(ids):
        rows = conn.execute(
            sa.select(comments_table.c.id, comments_table.c.text_hash).where(
                comments_table.c.id.in_(chunk)
            )
        )
        known.update(dict(rows.all()))
    return known


def upsert_comments(
    conn: sa.Connection, run_id: str, hashes: dict[str, str], now: datetime
) -> None:
    """Insert new comment ids, mark known ones seen by ``run_id`` and update changed hashes."""
    known = known_hashes(conn, list(hashes))
    new = [
        {"id": i, "text_hash": h, "first_seen_run": run_id, "last_seen_run": run_id,
         "first_seen_at": now, "last_seen_at": now}
        for i, h in hashes.items() if i not in known
    ]  # fmt: skip
    if new:
        conn.execute(comments_table.insert(), new)
    seen = [i for i in hashes if i in known]
    for chunk in chunks(seen):
        conn.execute(
            comments_table.update()
            .where(comments_table.c.id.in_(chunk))
            .values(last_seen_run=run_id, last_seen_at=now)
        )
    for i in (i for i in seen if known[i] != hashes[i]):
        conn.execute(
            comments_table.update().where(comments_table.c.id == i).values(text_hash=hashes[i])
        )


def upsert_rows(conn: sa.Connection, records: list[dict[str, Any]]) -> None:
    """Replace the stored comment rows of the records' ids with the records."""
    for chunk in chunks([r["id"] for r in records]):
        conn.execute(comment_rows_table.delete().where(comment_rows_table.c.id.in_(chunk)))
    if records:
        conn.execute(comment_rows_table.insert(), records)


class CommentMixin(StoreState):
    """RunStore's comment history (tables ``comments``, ``comment_rows``, ``source_files``)."""

    def comment_stats(self, ids: Sequence[str], texts: Sequence[str]) -> dict[str, int]:
        """How many of these comments are new, changed (same id, new text) or unchanged."""
        hashes = {i: text_hash(t) for i, t in zip(ids, texts, strict=True)}
        with self.engine.connect() as conn:
            known = known_hashes(conn, list(hashes))
        changed = sum(1 for i, h in hashes.items() if i in known and known[i] != h)
        new = sum(1 for i in hashes if i not in known)
        return {"new": new, "changed": changed, "unchanged": len(hashes) - new - changed}

    def record_comments(self, run_id: str, ids: Sequence[str], texts: Sequence[str]) -> dict:
        """Upsert comments seen in this run; returns counts of new, changed and unchanged."""
        stats = self.comment_stats(ids, texts)
        hashes = {i: text_hash(t) for i, t in zip(ids, texts, strict=True)}
        if self.deferred:
            self._pending.comments.append((run_id, hashes))
        else:
            with self.engine.begin() as conn:
                upsert_comments(conn, run_id, hashes, utcnow())
        return stats

    def put_comment_rows(self, rows: Iterable[tuple[str, dict[str, Any]]]) -> None:
        """Keep accepted rows as history: (source, JSON-ready dict with ``id`` and ``date``).

        ``source`` is the file path (or ``sql:<url>``) the row came from. A row replaces the
        stored row of the same id. ``date`` (ISO text or None) is the survey date the drivers
        window filters on; rows without one are filtered on the last night koe stored them.
        """
        now = utcnow()
        records = {
            str(r["id"]): {
                "id": str(r["id"]), "source": source, "seen_at": now,
                "survey_date": datetime.fromisoformat(r["date"]) if r.get("date") else None,
                "row": json.dumps(r, ensure_ascii=False, sort_keys=True),
            }
            for source, r in rows
        }  # fmt: skip
        if self.deferred:
            self._pending.rows.update(records)
        else:
            with self.engine.begin() as conn:
                upsert_rows(conn, list(records.values()))

    def comment_rows(self, since: datetime | None = None) -> list[dict[str, Any]]:
        """Stored rows whose survey date (or, without one, the day koe saw them) >= ``since``."""
        t = comment_rows_table
        query = sa.select(t.c.row).order_by(t.c.id)
        if since is not None:
            day = sa.func.coalesce(t.c.survey_date, t.c.seen_at)
            query = query.where(day >= since)
        with self.engine.connect() as conn:
            return [json.loads(r) for (r,) in conn.execute(query)]

    def comment_sources(self, ids: Sequence[str]) -> dict[str, str]:
        """The input (file path, or ``sql``) each known comment id was accepted from."""
        found: dict[str, str] = {}
        with self.engine.connect() as conn:
            for chunk in chunks(list(dict.fromkeys(ids))):
                rows = conn.execute(
                    sa.select(comment_rows_table.c.id, comment_rows_table.c.source).where(
                        comment_rows_table.c.id.in_(chunk)
                    )
                )
                found.update(dict(rows.all()))
        for i in ids:
            if i not in found and i in self._pending.rows:
                found[i] = self._pending.rows[i]["source"]
        return found

    def processed_files(self) -> set[tuple[str, str]]:
        """(path, sha256) of every export file a completed run has processed."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(source_files_table.c.path, source_files_table.c.sha256))
            return {(p, s) for p, s in rows}

    def mark_files_processed(self, run_id: str, files: Iterable[tuple[str, str, int]]) -> None:
        """Remember (path, sha256, rows) files as processed by ``run_id``."""
        now = utcnow()
        done = self.processed_files()
        rows = [
            {"path": p, "sha256": s, "rows": n, "run_id": run_id, "processed_at": now}
            for p, s, n in dict.fromkeys(files) if (p, s) not in done
        ]  # fmt: skip
        if self.deferred:
            self._pending.files.extend(rows)
        elif rows:
            with self.engine.begin() as conn:
                conn.execute(source_files_table.insert(), rows)
