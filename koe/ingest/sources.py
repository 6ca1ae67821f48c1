"""Input sources: one export file, a folder of daily export files, or a SQL query.

- A **file** (``input: exports/survey.csv``) is read whole every night; a growing file is fine:
  comments already seen are recognized by id in the run-state store and re-use cached tags and
  embeddings.
- A **folder** (``input: exports/``) is a drop box of daily exports (.csv .tsv .txt .xlsx .xlsm
  .parquet, read in name order). A night reads only the files the store has not processed yet,
  by path and SHA-256: a new file, or a file whose content changed. Files are remembered as
  processed only when the run completes.
- A **SQL query** (``input_sql`` + ``input_db_url``, or ``koe run --input-sql ... --db-url ...``)
  is run with SQLAlchemy and ``pandas.read_sql``; its columns are mapped like a file's.

Duplicate ids, first wins: within a file (koe.ingest), across the files of one night (the file
that sorts first wins) and, for a folder, across nights (an id already accepted from another
file wins). Every later occurrence is quarantined as ``duplicate_id`` with the place of the
first one in ``detail``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd
import sqlalchemy as sa

from koe.config import SAMPLE_INPUT, ConfigError, KoeConfig
from koe.core.dburl import create_db_engine, safe_url
from koe.core.frames import QUARANTINE_COLUMNS
from koe.ingest import ColumnMapping, IngestError, as_strings, prepare_comments, read_table

EXPORT_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".parquet")


@dataclass(frozen=True)
class SourceFile:
    """An export file read in this run."""

    path: str
    sha256: str
    rows: int


@dataclass
class RawInput:
    """The raw tables of one run, in processing order, each with its source label."""

    kind: Literal["file", "folder", "sql"]
    label: str  # the manifest's input path: a file, a folder, or "sql:<url>"
    tables: list[tuple[str, pd.DataFrame]]
    files: list[SourceFile] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # folder files processed before

    @property
    def rows(self) -> int:
        return sum(len(t) for _, t in self.tables)

    @property
    def sha256(self) -> str:
        """The file's SHA-256; for a folder or a query, a digest of what was read."""
        if self.kind == "file" and self.files:
            return self.files[0].sha256
        digest = hashlib.sha256()
        if self.kind == "folder":
            for f in self.files:
                digest.update(f"{Path(f.path).name}\0{f.sha256}\n".encode())
        else:
            for _, table in self.tables:
                digest.update(table.to_csv(index=False, lineterminator="\n").encode("utf-8"))
        return digest.hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def list_export_files(folder: Path) -> list[Path]:
    """Export files of a folder, in name order (hidden files and sub-folders are ignored)."""
    return sorted(
        p for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in EXPORT_SUFFIXES
        and not p.name.startswith((".", "~$"))
    )  # fmt: skip


def read_sql(query: str, url: str) -> pd.DataFrame:
    """Run a SELECT with SQLAlchemy and return every cell as a string (like read_table).

    Raises:
        IngestError: the query fails (the message names the database, password hidden).
        MissingDriverError: the URL's driver is not installed (the message says what to install).
    """
    safe = safe_url(url)
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            frame = pd.read_sql(sa.text(query), conn)
    except (sa.exc.SQLAlchemyError, pd.errors.DatabaseError) as exc:
        cause = exc if isinstance(exc, sa.exc.SQLAlchemyError) else exc.__cause__
        detail = getattr(cause, "orig", None) or cause or exc
        raise IngestError(f"input_sql on {safe} failed: {detail}") from exc
    finally:
        engine.dispose()
    return as_strings(frame)


def check_input(config: KoeConfig) -> None:
    """Fail fast, before anything starts, on an input koe cannot read: a missing path, an
    empty, binary or unsupported file, no header, or a missing required column. Reads the
    header and at most 100 rows; a folder or a SQL query is checked when it is read.

    Raises:
        IngestError: with the one-line reason.
    """
    from koe.ingest.columns import resolve_columns
    from koe.ingest.readers import iter_table_chunks

    if config.input_sql is not None:
        return
    path = Path(config.input) if config.input is not None else SAMPLE_INPUT
    if path.is_dir():
        return
    first = next(iter_table_chunks(path, rows=100), None)  # missing / empty / binary: raises
    if first is None or first.shape[1] == 0:
        return  # a header-only file is an empty night, not an error
    resolve_columns(first, column_mapping(config, config.sub_scores or ()), str(path))


def column_mapping(config: KoeConfig, sub_scores: Sequence[str]) -> ColumnMapping:
    """The input columns of koe.yaml (``columns``, ``segments``) with these sub-score columns."""
    columns = config.columns
    return ColumnMapping(
        id=columns.id, text=columns.text, score=columns.score, date=columns.date,
        customer_id=columns.customer_id, sub_scores=tuple(sub_scores),
        segments=tuple(config.segments) if config.segments is not None else None,
        scores=tuple(s.scale() for s in config.scores),
    )  # fmt: skip


def describe_input(config: KoeConfig) -> str:
    """The configured input in one line (for the runs table, before anything is read)."""
    if config.input_sql is not None:
        url = config.input_db_url or ""
        safe = sa.engine.make_url(url).render_as_string(hide_password=True) if url else "?"
        return f"sql:{safe}"
    return str(config.input if config.input is not None else SAMPLE_INPUT)


def read_input(config: KoeConfig, processed: set[tuple[str, str]] | None = None) -> RawInput:
    """Read the configured input: SQL query, folder (only unprocessed files) or file.

    Args:
        config: ``input_sql``/``input_db_url`` win over ``input``; no input: the sample survey.
        processed: (path, sha256) of files processed by earlier runs (RunStore.processed_files).

    Raises:
        ConfigError: ``input_sql`` without ``input_db_url``.
        IngestError: an unreadable file or a failing query.
    """
    if config.input_sql is not None:
        if not config.input_db_url:
            raise ConfigError(
                "input_sql needs input_db_url (a SQLAlchemy URL, e.g. sqlite:///x.db)"
            )
        safe = sa.engine.make_url(config.input_db_url).render_as_string(hide_password=True)
        label = f"sql:{safe}"
        return RawInput("sql", label, [(label, read_sql(config.input_sql, config.input_db_url))])
    path = Path(config.input) if config.input is not None else SAMPLE_INPUT
    if path.is_dir():
        done = processed or set()
        raw = RawInput("folder", str(path.resolve()), [])
        for file in list_export_files(path):
            key = (str(file.resolve()), file_sha256(file))
            if key in done:
                raw.skipped.append(key[0])
                continue
            table = read_table(file)
            raw.tables.append((key[0], table))
            raw.files.append(SourceFile(key[0], key[1], len(table)))
        return raw
    table = read_table(path)
    resolved = str(path.resolve())
    return RawInput("file", str(path), [(resolved, table)],
                    files=[SourceFile(resolved, file_sha256(path), len(table))])  # fmt: skip


def prepare_sources(
    raw: RawInput,
    mapping: ColumnMapping,
    known_sources: Callable[[Sequence[str]], dict[str, str]] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """prepare_comments over every table of ``raw``, with first-wins ids across tables.

    Args:
        raw: the tables read by read_input.
        mapping: input column names.
        known_sources: for a folder, gives the source file of ids accepted by earlier runs
            (RunStore.comment_sources); an id accepted from another file is a duplicate.

    Returns:
        (comments, quarantine, origins) — comments and quarantine as in
        koe.ingest.prepare_comments (``source_row`` is the row in its own file; for a folder,
        quarantine ``detail`` starts with the file name); origins: the source label of each
        accepted comment, row-aligned.
    """
    parts, quarantined, origins = [], [], []
    first_seen: dict[str, str] = {}  # id -> "file row N" of its accepted row tonight
    for label, table in raw.tables:
        comments, quarantine = prepare_comments(table, mapping, source=label)
        name = Path(label).name if raw.kind == "folder" else label
        lookup = raw.kind == "folder" and known_sources is not None and len(comments)
        known = known_sources(comments["id"].tolist()) if lookup else {}  # type: ignore[misc]
        dup_detail: list[str] = []
        keep = []
        for cid, row in zip(comments["id"], comments["source_row"], strict=True):
            if cid in first_seen:
                dup_detail.append(f"already appears in {first_seen[cid]}")
            elif raw.kind == "folder" and cid in known and known[cid] != label:
                dup_detail.append(f"was accepted from {Path(known[cid]).name} by an earlier run")
            else:
                first_seen[cid] = f"{name} row {row}"
                keep.append(True)
                continue
            keep.append(False)
        mask = pd.Series(keep, index=comments.index, dtype=bool)
        dups = comments[~mask]
        if len(dups):
            text_pos = _position_of(table, mapping.text)
            dup_rows = pd.DataFrame(
                {
                    "source_row": dups["source_row"].to_numpy(),
                    "id": dups["id"].to_numpy(),
                    "reason": "duplicate_id",
                    "detail": [
                        f"id {cid!r} {where} (the first occurrence is kept)"
                        for cid, where in zip(dups["id"], dup_detail, strict=True)
                    ],
                    "text": [table.iloc[r - 1, text_pos] for r in dups["source_row"]],
                }
            )
            quarantine = pd.concat([quarantine, dup_rows], ignore_index=True)
            quarantine = quarantine.sort_values("source_row", kind="stable", ignore_index=True)
        if raw.kind == "folder" and len(quarantine):
            quarantine = quarantine.assign(detail=f"{name}: " + quarantine["detail"])
        parts.append(comments[mask])
        quarantined.append(quarantine)
        origins.extend([label] * int(mask.sum()))
    if not parts:
        names = [mapping.id, mapping.text, mapping.score, *mapping.sub_scores,
                 *(mapping.segments or ())]  # fmt: skip
        return (*prepare_comments(pd.DataFrame(columns=names, dtype=str), mapping), [])
    comments = pd.concat(parts, ignore_index=True)
    for column in comments.columns:  # a segment that only some files have
        if any(str(p[column].dtype) == "string" for p in parts if column in p):
            comments[column] = comments[column].astype("string")
    quarantine = pd.concat(quarantined, ignore_index=True).astype(
        {"source_row": "int64", **{c: "string" for c in QUARANTINE_COLUMNS[1:]}}
    )
    return comments, quarantine, origins


def _position_of(table: pd.DataFrame, name: str) -> int:
    """The position of the column prepare_comments matched for ``name`` (exact, then loose)."""
    from koe.ingest.columns import find_column

    pos = find_column([str(c) for c in table.columns], name)
    if pos is None:  # prepare_comments has already raised for a missing text column
        raise IngestError(f"missing column {name!r}")
    return pos
