"""The run-state tables (see koe.store for what each holds), engine creation and shared state."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from koe.core.dburl import create_db_engine

if TYPE_CHECKING:
    from koe.store.pending import PendingWrites

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

review_decisions_table = sa.Table(
    "review_decisions",
    metadata,
    sa.Column("decision_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("author", sa.String, nullable=False),
    sa.Column("action", sa.String, nullable=False),
    sa.Column("comment_id", sa.String, nullable=False),
    sa.Column("sentence_idx", sa.Integer, nullable=False),
    sa.Column("sentence", sa.Text, nullable=False),
    sa.Column("theme", sa.String, nullable=False),
    sa.Column("polarity", sa.String),
    sa.Column("undone_at", sa.DateTime),
)

cluster_names_table = sa.Table(
    "cluster_names",
    metadata,
    sa.Column("cluster_id", sa.String, primary_key=True),
    sa.Column("label", sa.String, nullable=False),
    sa.Column("author", sa.String, nullable=False),
    sa.Column("named_at", sa.DateTime, nullable=False),
)

list_edits_table = sa.Table(
    "list_edits",
    metadata,
    sa.Column("edit_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("author", sa.String, nullable=False),
    sa.Column("action", sa.String, nullable=False),
    sa.Column("theme", sa.String, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("path", sa.String, nullable=False),
    sa.Column("before_text", sa.Text, nullable=False),  # "" when the edit created the file
    sa.Column("after_text", sa.Text, nullable=False),
    sa.Column("undone_at", sa.DateTime),
)

def create_engine(url: str) -> sa.Engine:
    """An engine for ``url`` with every table created (SQLite waits up to 60 s for a lock).

    ``postgresql://`` uses psycopg 3; a driver that is not installed is a MissingDriverError
    naming the install command (koe.core.dburl).
    """
    connect_args = {"timeout": 60} if url.startswith("sqlite") else {}
    engine = create_db_engine(url, connect_args=connect_args)
    metadata.create_all(engine)
    return engine


def utcnow() -> datetime:
    """Now in UTC, without a zone (the tables' DateTime columns are naive UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


def chunks(items: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    """``items`` in slices of ``size``: the length of an ``IN (...)`` list."""
    for i in range(0, len(items), size):
        yield items[i : i + size]


class StoreState:
    """What the parts of RunStore share; RunStore.__init__ sets it."""

    url: str
    engine: sa.Engine
    deferred: bool
    _pending: PendingWrites
    _lock: dict[str, Any] | None

    @property
    def safe_url(self) -> str:
        """The URL with any password hidden, for messages."""
        return sa.engine.make_url(self.url).render_as_string(hide_password=True)
