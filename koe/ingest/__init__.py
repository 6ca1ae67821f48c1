"""Ingest: survey exports in, a CommentFrame of accepted rows and a QuarantineFrame out.

The stage's public door. Its modules, in the order a night uses them:

- ``sources``: what to read tonight (a file, the new files of a folder of daily exports, a SQL
  query), with each row's origin;
- ``readers``: encoding detection and the CSV/TSV/XLSX/Parquet readers, whole or in chunks;
- ``rows``: the row-by-row reader of damaged text exports (a bad row is quarantined);
- ``columns``: the column mapping and forgiving header matching;
- ``dates``: survey dates, Japanese eras included;
- ``normalize``: text normalization and non-answers (「特になし」);
- ``comments``: validation: score and text checks, quarantine reasons, the CommentFrame.
"""

from koe.ingest.columns import ColumnMapping, find_column
from koe.ingest.comments import (
    MAX_TEXT_CHARS,
    QUARANTINE_REASONS,
    load_comments,
    normalize_id,
    prepare_comments,
    prepare_texts,
)
from koe.ingest.dates import parse_date
from koe.ingest.readers import (
    IngestError,
    as_strings,
    detect_encoding,
    iter_table_chunks,
    read_table,
)

__all__ = [
    "MAX_TEXT_CHARS",
    "QUARANTINE_REASONS",
    "ColumnMapping",
    "IngestError",
    "as_strings",
    "detect_encoding",
    "find_column",
    "iter_table_chunks",
    "load_comments",
    "normalize_id",
    "parse_date",
    "prepare_comments",
    "prepare_texts",
    "read_table",
]
