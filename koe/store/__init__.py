"""The run-state database: comments seen, caches, processed input files, runs and the run lock.

SQLite through SQLAlchemy Core by default (one file beside the runs, no server, transactional);
any SQLAlchemy URL works, so a team can point it at PostgreSQL. Tables:

- ``comments``: id, text_hash, first_seen_run, last_seen_run, first_seen_at, last_seen_at
- ``comment_rows``: id, source, survey_date, seen_at, row (the accepted CommentFrame row as
  JSON) — the history a drivers window (``drivers.window_days``) is computed over
- ``embeddings``: model_id, text_hash, dim, vector (float32 bytes) — a text is never encoded twice
  by the same model
- ``tag_cache``: tagger_key, text_hash, tags (JSON) — a comment's lookup tags per lookup-list
  version, so unchanged text with unchanged lists is never tokenized or tagged again
- ``source_files``: path, sha256, rows, run_id, processed_at — export files already processed
- ``runs``: run_id, started_at, ended_at, status, input_path, manifest (JSON)
- ``locks``: name, owner, pid, pid_started, host, run_id, acquired_at — one run at a time
- ``cluster_themes``: cluster_id, model_id, dim, centroid (float32 bytes), label, keywords, size,
  first_seen_at, last_seen_at — every discovered theme id ever issued, with its latest centroid,
  so the next run keeps the ids of unchanged themes and never reuses one

Crash safety: the nightly flow opens the store with ``deferred=True``. Everything a run would
write (comments, rows, tags, embeddings, processed files) is kept in memory and written in one
transaction by ``finish_run(run_id, "completed", ...)``, after the run folder is complete. A run
killed at any point leaves only its ``runs`` row (marked ``crashed`` by the next run that takes
the lock) and its lock row, which the next run reclaims when the process is dead.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

from koe.core.hashing import text_hash as text_hash

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
comment_rows_table = sa.Table(
    "comment_rows",
    metadata,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("source", sa.String, nullable=False),
    sa.Column("survey_date", sa.DateTime),
    sa.Column("seen_at", sa.DateTime, nullable=False),
    sa.Column("row", sa.Text, nullable=False),
)
embeddings_table = sa.Table(
    "embeddings",
    metadata,
    sa.Column("model_id", sa.String, primary_key=True),
    sa.Column("text_hash", sa.String(64), primary_key=True),
    sa.Column("dim", sa.Integer, nullable=False),
    sa.Column("vector", sa.LargeBinary, nullable=False),
)
tag_cache_table = sa.Table(
    "tag_cache",
    metadata,
    sa.Column("tagger_key", sa.String(64), primary_key=True),
    sa.Column("text_hash", sa.String(64), primary_key=True),
    sa.Column("tags", sa.Text, nullable=False),
)
source_files_table = sa.Table(
    "source_files",
    metadata,
    sa.Column("path", sa.String, primary_key=True),
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("run_id", sa.String, nullable=False),
    sa.Column("processed_at", sa.DateTime, nullable=False),
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
locks_table = sa.Table(
    "locks",
    metadata,
    sa.Column("name", sa.String, primary_key=True),
    sa.Column("owner", sa.String(32), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("pid_started", sa.String, nullable=False),
    sa.Column("host", sa.String, nullable=False),
    sa.Column("run_id", sa.String),
    sa.Column("acquired_at", sa.DateTime, nullable=False),
)
cluster_themes_table = sa.Table(
    "cluster_themes",
    metadata,
    sa.Column("cluster_id", sa.String, primary_key=True),
    sa.Column("model_id", sa.String, nullable=False),
    sa.Column("dim", sa.Integer, nullable=False),
    sa.Column("centroid", sa.LargeBinary, nullable=False),
    sa.Column("label", sa.String, nullable=False),
    sa.Column("keywords", sa.String, nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("first_seen_at", sa.DateTime, nullable=False),
    sa.Column("last_seen_at", sa.DateTime, nullable=False),
)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _chunks(items: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


# -- the run lock -----------------------------------------------------------------------------


class LockTimeout(RuntimeError):
    """Another koe run holds the run lock of this store; the message says which and where."""


def process_start_time(pid: int) -> str:
    """The kernel's start time of ``pid`` (Linux ``/proc``), or "" where unavailable.

    Recorded with the pid so that a recycled pid is not mistaken for the lock's owner.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat[stat.rindex(")") + 2 :].split()[19]


def process_alive(pid: int, started: str = "") -> bool:
    """Whether process ``pid`` (started at ``started``, see process_start_time) still runs."""
    if Path("/proc/self/stat").exists():
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] in ("Z", "X"):  # killed, not yet reaped
            return False
        return not started or fields[19] == started
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunStore:
    """Access to the run-state database.

    Args:
        url: a SQLAlchemy URL, e.g. ``sqlite:////path/koe_state.sqlite`` or ``postgresql://...``.
        deferred: keep every write in memory until ``finish_run(..., "completed")`` writes them
            in one transaction (``failed`` discards them). Reads see the pending writes.
    """

    def __init__(self, url: str, *, deferred: bool = False) -> None:
        self.url = url
        self.deferred = deferred
        connect_args = {"timeout": 60} if url.startswith("sqlite") else {}
        self.engine = sa.create_engine(url, connect_args=connect_args)
        metadata.create_all(self.engine)
        self._lock: dict[str, Any] | None = None
        self._pending: dict[str, Any] = {}
        self._reset_pending()

    def _reset_pending(self) -> None:
        self._pending = {"embeddings": {}, "comments": [], "rows": {}, "tags": {}, "files": []}
        self._pending["cluster_themes"] = {}

    @property
    def safe_url(self) -> str:
        """The URL with any password hidden, for messages."""
        return sa.engine.make_url(self.url).render_as_string(hide_password=True)

    def close(self) -> None:
        """Release the run lock if this store holds it, and close the connections."""
        if self._lock is not None:
            self.release_lock()
        self.engine.dispose()

    # -- embeddings cache -------------------------------------------------------------------
    def get_embeddings(self, model_id: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        """Cached vectors for the given text hashes (missing ones are simply absent)."""
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(hashes))
        with self.engine.connect() as conn:
            for chunk in _chunks(unique):
                rows = conn.execute(
                    sa.select(embeddings_table.c.text_hash, embeddings_table.c.vector).where(
                        embeddings_table.c.model_id == model_id,
                        embeddings_table.c.text_hash.in_(chunk),
                    )
                )
                for h, blob in rows:
                    found[h] = np.frombuffer(blob, dtype=np.float32)
        pending = self._pending["embeddings"]
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
            self._pending["embeddings"].update({(model_id, r["text_hash"]): r for r in rows})
        elif rows:
            with self.engine.begin() as conn:
                conn.execute(embeddings_table.insert(), rows)
        return len(rows)

    # -- lookup tags cache ------------------------------------------------------------------
    def get_tags(self, tagger_key: str, hashes: Sequence[str]) -> dict[str, list[dict]]:
        """Cached lookup tags per comment text hash for one tagger version (see tag_cache)."""
        found: dict[str, list[dict]] = {}
        unique = list(dict.fromkeys(hashes))
        with self.engine.connect() as conn:
            for chunk in _chunks(unique):
                rows = conn.execute(
                    sa.select(tag_cache_table.c.text_hash, tag_cache_table.c.tags).where(
                        tag_cache_table.c.tagger_key == tagger_key,
                        tag_cache_table.c.text_hash.in_(chunk),
                    )
                )
                found.update({h: json.loads(tags) for h, tags in rows})
        pending = self._pending["tags"]
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
            self._pending["tags"].update({(tagger_key, r["text_hash"]): r for r in new})
        elif new:
            with self.engine.begin() as conn:
                conn.execute(tag_cache_table.insert(), new)
        return len(new)

    # -- comments ---------------------------------------------------------------------------
    def comment_stats(self, ids: Sequence[str], texts: Sequence[str]) -> dict[str, int]:
        """How many of these comments are new, changed (same id, new text) or unchanged."""
        hashes = {i: text_hash(t) for i, t in zip(ids, texts, strict=True)}
        known = self._known_hashes(list(hashes))
        changed = sum(1 for i, h in hashes.items() if i in known and known[i] != h)
        new = sum(1 for i in hashes if i not in known)
        return {"new": new, "changed": changed, "unchanged": len(hashes) - new - changed}

    def _known_hashes(self, ids: Sequence[str]) -> dict[str, str]:
        known: dict[str, str] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(ids):
                rows = conn.execute(
                    sa.select(comments_table.c.id, comments_table.c.text_hash).where(
                        comments_table.c.id.in_(chunk)
                    )
                )
                known.update(dict(rows.all()))
        return known

    def record_comments(self, run_id: str, ids: Sequence[str], texts: Sequence[str]) -> dict:
        """Upsert comments seen in this run; returns counts of new, changed and unchanged."""
        stats = self.comment_stats(ids, texts)
        hashes = {i: text_hash(t) for i, t in zip(ids, texts, strict=True)}
        if self.deferred:
            self._pending["comments"].append((run_id, hashes))
        else:
            with self.engine.begin() as conn:
                self._upsert_comments(conn, run_id, hashes, _now())
        return stats

    def _upsert_comments(
        self, conn: sa.Connection, run_id: str, hashes: dict[str, str], now: datetime
    ) -> None:
        known: dict[str, str] = {}
        for chunk in _chunks(list(hashes)):
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
        for chunk in _chunks(seen):
            conn.execute(
                comments_table.update()
                .where(comments_table.c.id.in_(chunk))
                .values(last_seen_run=run_id, last_seen_at=now)
            )
        for i in (i for i in seen if known[i] != hashes[i]):
            conn.execute(
                comments_table.update().where(comments_table.c.id == i).values(text_hash=hashes[i])
            )

    def put_comment_rows(self, rows: Iterable[tuple[str, dict[str, Any]]]) -> None:
        """Keep accepted rows as history: (source, JSON-ready dict with ``id`` and ``date``).

        ``source`` is the file path (or ``sql:<url>``) the row came from. A row replaces the
        stored row of the same id. ``date`` (ISO text or None) is the survey date the drivers
        window filters on; rows without one are filtered on the last night koe stored them.
        """
        now = _now()
        records = {
            str(r["id"]): {
                "id": str(r["id"]), "source": source, "seen_at": now,
                "survey_date": datetime.fromisoformat(r["date"]) if r.get("date") else None,
                "row": json.dumps(r, ensure_ascii=False, sort_keys=True),
            }
            for source, r in rows
        }  # fmt: skip
        if self.deferred:
            self._pending["rows"].update(records)
        else:
            with self.engine.begin() as conn:
                self._upsert_rows(conn, list(records.values()))

    @staticmethod
    def _upsert_rows(conn: sa.Connection, records: list[dict[str, Any]]) -> None:
        for chunk in _chunks([r["id"] for r in records]):
            conn.execute(comment_rows_table.delete().where(comment_rows_table.c.id.in_(chunk)))
        if records:
            conn.execute(comment_rows_table.insert(), records)

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
            for chunk in _chunks(list(dict.fromkeys(ids))):
                rows = conn.execute(
                    sa.select(comment_rows_table.c.id, comment_rows_table.c.source).where(
                        comment_rows_table.c.id.in_(chunk)
                    )
                )
                found.update(dict(rows.all()))
        for i in ids:
            if i not in found and i in self._pending["rows"]:
                found[i] = self._pending["rows"][i]["source"]
        return found

    # -- processed input files --------------------------------------------------------------
    def processed_files(self) -> set[tuple[str, str]]:
        """(path, sha256) of every export file a completed run has processed."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(source_files_table.c.path, source_files_table.c.sha256))
            return {(p, s) for p, s in rows}

    def mark_files_processed(self, run_id: str, files: Iterable[tuple[str, str, int]]) -> None:
        """Remember (path, sha256, rows) files as processed by ``run_id``."""
        now = _now()
        done = self.processed_files()
        rows = [
            {"path": p, "sha256": s, "rows": n, "run_id": run_id, "processed_at": now}
            for p, s, n in dict.fromkeys(files) if (p, s) not in done
        ]  # fmt: skip
        if self.deferred:
            self._pending["files"].extend(rows)
        elif rows:
            with self.engine.begin() as conn:
                conn.execute(source_files_table.insert(), rows)

    # -- runs -------------------------------------------------------------------------------
    def start_run(self, run_id: str, input_path: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                runs_table.insert().values(
                    run_id=run_id, started_at=_now(), status="running", input_path=input_path
                )
            )
        if self._lock is not None:
            with self.engine.begin() as conn:
                conn.execute(
                    locks_table.update()
                    .where(locks_table.c.owner == self._lock["owner"])
                    .values(run_id=run_id)
                )

    def finish_run(self, run_id: str, status: str, manifest: dict[str, Any] | None = None) -> None:
        """Mark a run finished. ``completed`` also writes a deferred store's pending writes, in
        the same transaction; any other status discards them."""
        with self.engine.begin() as conn:
            if status == "completed":
                self._flush(conn)
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
        self._reset_pending()

    def _flush(self, conn: sa.Connection) -> None:
        pending = self._pending
        now = _now()
        for run_id, hashes in pending["comments"]:
            self._upsert_comments(conn, run_id, hashes, now)
        if pending["rows"]:
            self._upsert_rows(conn, list(pending["rows"].values()))
        for table, rows in ((embeddings_table, pending["embeddings"]), (tag_cache_table,
                            pending["tags"])):  # fmt: skip
            if rows:
                conn.execute(table.insert(), list(rows.values()))
        if pending["files"]:
            conn.execute(source_files_table.insert(), pending["files"])
        self._upsert_cluster_themes(conn, list(pending.get("cluster_themes", {}).values()))

    def runs(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(runs_table).order_by(runs_table.c.started_at))
            return [dict(r._mapping) for r in rows]

    def unique_run_id(self, base: str, out: Path | None = None) -> str:
        """``base``, or ``base-2``, ``base-3``… when a run or a run folder already has it."""
        with self.engine.connect() as conn:
            taken = {r for (r,) in conn.execute(sa.select(runs_table.c.run_id))}
        candidate, n = base, 1
        while candidate in taken or (
            out is not None
            and ((out / candidate).exists() or (out / f".{candidate}.partial").exists())
        ):
            n += 1
            candidate = f"{base}-{n}"
        return candidate

    def pending_counts(self) -> dict[str, int]:
        """Writes a deferred store holds for the end of the run, per kind. ``embeddings`` is the
        number of texts this run encoded: the cache had none of them."""
        return {kind: len(items) for kind, items in self._pending.items()}

    def table_counts(self) -> dict[str, int]:
        """Rows per table (for tests and diagnostics)."""
        with self.engine.connect() as conn:
            return {
                t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                for t in metadata.sorted_tables
            }

    # -- the run lock -----------------------------------------------------------------------
    def acquire_lock(
        self,
        *,
        timeout_s: float = 0.0,
        poll_s: float = 0.25,
        on_wait: Callable[[str], None] | None = None,
        name: str = "run",
    ) -> None:
        """Take the store's run lock; wait up to ``timeout_s`` seconds for another run.

        A lock left by a process of this host that no longer runs (killed, crashed) is
        reclaimed at once. When the lock is taken, runs still marked ``running`` are marked
        ``crashed``: a live run always holds the lock.

        Raises:
            LockTimeout: another run still held the lock after ``timeout_s`` seconds.
        """
        me = {
            "name": name, "owner": uuid.uuid4().hex, "pid": os.getpid(),
            "pid_started": process_start_time(os.getpid()), "host": socket.gethostname(),
        }  # fmt: skip
        deadline = time.monotonic() + timeout_s
        waiting_told = False
        while True:
            try:
                with self.engine.begin() as conn:
                    conn.execute(locks_table.insert().values(**me, acquired_at=_now()))
                break
            except sa.exc.IntegrityError:
                holder = self.lock_holder(name)
                if holder is None:
                    continue
                if holder["host"] == me["host"] and not process_alive(
                    holder["pid"], holder["pid_started"]
                ):
                    self._break_lock(holder)
                    continue
                message = self._held_message(holder)
                if time.monotonic() >= deadline:
                    raise LockTimeout(
                        f"{message}; gave up after waiting {timeout_s:g} s. Run again when it "
                        "has finished"
                        + ("" if holder["host"] == me["host"] else
                           f", or, if {holder['host']} no longer runs koe, `koe unlock`")
                    ) from None  # fmt: skip
                if on_wait is not None and not waiting_told:
                    on_wait(f"{message}; waiting up to {timeout_s:g} s")
                    waiting_told = True
                time.sleep(poll_s)
        self._lock = me
        with self.engine.begin() as conn:
            conn.execute(
                runs_table.update()
                .where(runs_table.c.status == "running")
                .values(status="crashed", ended_at=_now())
            )

    def _held_message(self, holder: dict[str, Any]) -> str:
        since = holder["acquired_at"].strftime("%Y-%m-%d %H:%M:%S")
        return (
            f"another koe run holds the run lock of {self.safe_url}: run "
            f"{holder['run_id'] or '(starting)'}, pid {holder['pid']} on {holder['host']}, "
            f"since {since} UTC"
        )

    def lock_holder(self, name: str = "run") -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(locks_table).where(locks_table.c.name == name)).first()
        return dict(row._mapping) if row is not None else None

    def _break_lock(self, holder: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                locks_table.delete().where(
                    locks_table.c.name == holder["name"], locks_table.c.owner == holder["owner"]
                )
            )

    def break_lock(self, name: str = "run") -> dict[str, Any] | None:
        """Remove the lock whoever holds it (``koe unlock``); returns the removed holder."""
        holder = self.lock_holder(name)
        if holder is not None:
            self._break_lock(holder)
        return holder

    def release_lock(self) -> None:
        """Release the run lock this store holds (a no-op when it holds none)."""
        if self._lock is None:
            return
        with self.engine.begin() as conn:
            conn.execute(locks_table.delete().where(locks_table.c.owner == self._lock["owner"]))
        self._lock = None

    # -- discovered theme ids ---------------------------------------------------------------
    def known_cluster_themes(self, model_id: str) -> tuple[list[str], np.ndarray, int]:
        """(ids, latest centroids) of the cluster themes found with ``model_id``, and the next
        free id number (one more than the highest ever issued, whatever the model)."""
        with self.engine.connect() as conn:
            rows = {
                r["cluster_id"]: dict(r)
                for r in conn.execute(sa.select(cluster_themes_table)).mappings()
            }
        rows.update(self._pending.get("cluster_themes", {}))
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
        now = _now()
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
            self._pending.setdefault("cluster_themes", {}).update(records)
        else:
            with self.engine.begin() as conn:
                self._upsert_cluster_themes(conn, list(records.values()))

    @staticmethod
    def _upsert_cluster_themes(conn: sa.Connection, records: list[dict[str, Any]]) -> None:
        t = cluster_themes_table
        for chunk in _chunks(records):
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
