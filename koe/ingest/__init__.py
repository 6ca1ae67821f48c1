"""Ingest: survey exports in, a CommentFrame of accepted rows and a QuarantineFrame out.

The stage's public door. Its modules: ``sources`` (a file, a folder of daily exports, a SQL
query), ``comments`` (readers, column matching, dates, score checks, quarantine rules) and
``normalize`` (text normalization and non-answers).
"""

from koe.ingest.comments import (
    MAX_TEXT_CHARS,
    QUARANTINE_REASONS,
    ColumnMapping,
    IngestError,
    as_strings,
    detect_encoding,
    iter_table_chunks,
    load_comments,
    parse_date,
    prepare_comments,
    read_table,
)

__all__ = [
    "MAX_TEXT_CHARS",
    "QUARANTINE_REASONS",
    "ColumnMapping",
    "IngestError",
    "as_strings",
    "detect_encoding",
    "iter_table_chunks",
    "load_comments",
    "parse_date",
    "prepare_comments",
    "read_table",
]
