"""Row-by-row reading of damaged CSV/TSV exports: one bad row is quarantined, not the file.

pandas' C parser reads a well-formed file (the fast path, koe.ingest.readers). When a file has
a few lines that do not decode in its encoding, or a row with more fields than the header or
an unbalanced quote, the file is read again here, record by record, with Python's csv module
over the file's physical lines:

- a record with bytes that do not decode becomes an ``undecodable_row``;
- a record with more fields than the header, or with a quote that is never closed or is
  followed by more text (csv's strict mode: an unbalanced quote would swallow the rows after
  it), becomes a ``malformed_row``; reading resumes on the next physical line;
- every other record is read as pandas would (short rows padded with "", blank lines skipped).

Bad records stay in the table as rows of "" (their cells, where they decode, with U+FFFD for
bytes that do not), so the positions of all rows are their record numbers, and their
``RowError`` is in ``table.attrs[ROW_ERRORS]`` by position: koe.ingest.comments quarantines them
with the physical line and the raw bytes (undecodable ones escaped as ``\\xNN``).

The quote, separator and line-break bytes of UTF-8 and cp932 never occur inside a multi-byte
character, so records are found correctly even where a character does not decode.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pandas as pd

ROW_ERRORS = "koe_row_errors"

# Lone surrogates U+DC80-U+DCFF: bytes that did not decode (errors="surrogateescape").
_ESCAPED_BYTE_RE = re.compile("[\udc80-\udcff]")


@dataclass(frozen=True)
class RowError:
    """Why a record of a text export could not be read, where it starts, and its raw bytes."""

    reason: str  # "undecodable_row" | "malformed_row"
    line: int  # physical line (1-based) where the record starts
    detail: str
    raw: str  # the record as read, bytes that do not decode escaped as \\xNN


def row_errors(table: pd.DataFrame) -> dict[int, RowError]:
    """The RowErrors of a table read by koe.ingest.readers, by 0-based row position."""
    return table.attrs.get(ROW_ERRORS, {})


def _decodes(line: bytes, encoding: str) -> bool:
    try:
        line.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def majority_encoding(data: bytes) -> str | None:
    """For a file that does not decode whole: "utf-8" or "cp932", whichever decodes more of
    its non-ASCII lines (at least half of them; UTF-8 on a tie); None when neither does."""
    lines = [line for line in data.splitlines() if not line.isascii()]
    if not lines:
        return None
    best, best_count = None, 0
    for encoding in ("utf-8", "cp932"):
        count = sum(_decodes(line, encoding) for line in lines)
        if count > best_count:
            best, best_count = encoding, count
    return best if best_count * 2 >= len(lines) else None


@contextmanager
def _unlimited_fields() -> Iterator[None]:
    """csv refuses fields over 131,072 characters; pandas does not."""
    old = csv.field_size_limit()
    csv.field_size_limit(2**31 - 1)
    try:
        yield
    finally:
        csv.field_size_limit(old)


def _escape(raw: bytes, encoding: str) -> str:
    return raw.decode(encoding, errors="backslashreplace").rstrip("\r\n")


def _is_blank(text: str, sep: str) -> bool:
    """pandas skips a line of whitespace only (not containing the separator)."""
    return sep not in text and not text.strip()


def _column_names(cells: list[str]) -> list[str]:
    """Header cells named as pandas names them: "Unnamed: N" for an empty one, "x.1" for a
    repeated "x"."""
    names: list[str] = []
    seen: set[str] = set()
    for pos, cell in enumerate(cells):
        name = cell or f"Unnamed: {pos}"
        base, n = name, 0
        while name in seen:
            n += 1
            name = f"{base}.{n}"
        seen.add(name)
        names.append(name)
    return names


def iter_records(
    data: bytes, encoding: str, sep: str
) -> Iterator[tuple[list[str], RowError | None]]:
    """The header, then every data record of ``data``: (cells, None) or (cells, RowError).

    Cells of a bad record are its decodable part ("" where nothing decodes). The header must
    decode and parse: otherwise ValueError (the caller refuses the file).
    """
    codec = "utf-8" if encoding == "utf-8-sig" else encoding
    if encoding == "utf-8-sig" and data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    lines = data.splitlines(keepends=True)
    start = 0  # index of the next physical line to read
    header: list[str] | None = None
    with _unlimited_fields():
        while start < len(lines):
            first = start
            decoded = (
                lines[i].decode(codec, errors="surrogateescape") for i in range(first, len(lines))
            )
            reader = csv.reader(
                decoded, delimiter=sep, quotechar='"', doublequote=True, strict=True
            )
            restart = False
            while not restart:
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:  # strict: an unbalanced or stray quote
                    cells, error = [], f"unbalanced or stray quote ({exc})"
                    end, restart = start + 1, True
                else:
                    error = ""
                    end = first + reader.line_num
                raw = b"".join(lines[start:end])
                text = raw.decode(codec, errors="surrogateescape")
                line_no = start + 1
                if not error and _is_blank(text, sep):
                    start = end
                    continue
                spans = end - start > 1
                if not error and spans and text.count('"') % 2:
                    # an unbalanced quote swallowed the lines after it: read them again
                    error = "unbalanced quote (a quote that is never closed)"
                elif not error and header is not None and len(cells) > len(header):
                    error = f"{len(cells)} fields where the header has {len(header)}"
                elif not error and header is not None and spans and len(cells) != len(header):
                    # a stray quote closed by another one lines later
                    error = (
                        f"unbalanced quote: a quoted field over {end - start} lines leaves "
                        f"{len(cells)} fields where the header has {len(header)}"
                    )
                if error and spans:
                    end, raw, restart = start + 1, lines[start], True
                if header is None:
                    if error or _ESCAPED_BYTE_RE.search(text):
                        problem = error or f"it does not decode as {encoding}"
                        raise ValueError(
                            f"the header row (line {line_no}) cannot be read: {problem}"
                        )
                    header = _column_names(cells)
                    yield header, None
                    start = end
                    continue
                escaped = _ESCAPED_BYTE_RE.search(text) is not None
                clean = [_ESCAPED_BYTE_RE.sub("\ufffd", c) for c in cells]
                if error:
                    yield clean, RowError("malformed_row", line_no, error, _escape(raw, codec))
                elif escaped:
                    detail = f"bytes that are not valid {encoding}"
                    yield clean, RowError("undecodable_row", line_no, detail, _escape(raw, codec))
                else:
                    yield cells, None
                start = end
            # restart: a fresh reader from the line after the bad one


def read_records(
    data: bytes, encoding: str, sep: str, rows: int | None = None, *, skip: int = 0
) -> Iterator[pd.DataFrame]:
    """``iter_records`` as DataFrames of at most ``rows`` rows (all at once when None), with
    the header's columns, every cell a str, and RowErrors in ``attrs[ROW_ERRORS]`` by the
    position within each frame; the index counts data records from 0 (``skip`` first ones
    left out). Raises ValueError for an unreadable header (see iter_records).
    """
    records = iter_records(data, encoding, sep)
    header = next(records, None)
    if header is None:
        raise ValueError("no header row")
    columns = header[0]
    width = len(columns)
    batch: list[list[str]] = []
    errors: dict[int, RowError] = {}
    first = skip  # index of the batch's first record

    def frame() -> pd.DataFrame:
        table = pd.DataFrame(
            {c: pd.Series([row[i] for row in batch], dtype=str) for i, c in enumerate(columns)}
        )
        table.index = pd.RangeIndex(first, first + len(batch))
        table.attrs[ROW_ERRORS] = dict(errors)
        return table

    for n, (cells, error) in enumerate(records):
        if n < skip:
            continue
        if error is not None:
            errors[len(batch)] = error
        batch.append((cells + [""] * width)[:width])
        if rows is not None and len(batch) >= rows:
            yield frame()
            first += len(batch)
            batch, errors = [], {}
    if batch or rows is None:
        yield frame()
