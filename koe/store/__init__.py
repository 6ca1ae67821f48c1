"""The run-state database: comments seen, caches, processed input files, runs and the run lock.

SQLite through SQLAlchemy Core by default (one file beside the runs, no server, transactional);
any SQLAlchemy URL works, so a team can point it at PostgreSQL. Tables (koe.store.schema):

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
- ``review_decisions``: decision_id, created_at, author, action (confirm, reject, add,
  polarity), comment_id, sentence_idx, sentence, theme, polarity, undone_at — analysts'
  corrections, which the next run learns from (koe.corrections)
- ``cluster_names``: cluster_id, label, author, named_at — an analyst's name for an emergent
  theme, which every later run uses instead of the computed label
- ``list_edits``: edit_id, created_at, author, action, theme, detail, path, before_text,
  after_text, undone_at — lookup-list edits made in ``koe review``, with the file's text before
  and after (undo writes the before back while the file is still as the edit left it)

``RunStore`` is the one class callers use, composed of one part per concern: caches.py
(embeddings, tags), comments.py (comment history, rows, sources, processed files), themes.py
(cluster themes), reviews.py (review decisions), locks.py (the run lock) and runs.py (runs,
run ids, ``open_run``).

Crash safety: the nightly flow opens the store with ``deferred=True``. Everything a run would
write (comments, rows, tags, embeddings, processed files) is kept in memory (pending.py) and
written in one transaction by ``finish_run(run_id, "completed", ...)``, after the run folder is
complete. A run killed at any point leaves only its ``runs`` row (marked ``crashed`` by the
next run that takes the lock) and its lock row, which the next run reclaims when the process
is dead.
"""

from __future__ import annotations

from koe.core.dburl import normalize_db_url
from koe.core.hashing import text_hash
from koe.store.caches import CacheMixin
from koe.store.comments import CommentMixin
from koe.store.locks import LockTimeout
from koe.store.pending import PendingWrites
from koe.store.reviews import ReviewMixin
from koe.store.runs import RunMixin, RunRecord
from koe.store.schema import create_engine
from koe.store.themes import ThemeMixin

__all__ = ["LockTimeout", "RunRecord", "RunStore", "text_hash"]


class RunStore(CacheMixin, CommentMixin, ThemeMixin, ReviewMixin, RunMixin):
    """Access to the run-state database.

    Args:
        url: a SQLAlchemy URL, e.g. ``sqlite:////path/koe_state.sqlite`` or ``postgresql://...``
            (psycopg 3, ``pip install "koe[postgres]"``; koe.core.dburl).
        deferred: keep every write in memory until ``finish_run(..., "completed")`` writes them
            in one transaction (``failed`` discards them). Reads see the pending writes.
    """

    def __init__(self, url: str, *, deferred: bool = False) -> None:
        self.url = normalize_db_url(url)  # postgresql:// means psycopg 3
        self.deferred = deferred
        self.engine = create_engine(url)
        self._lock = None
        self._pending = PendingWrites()
