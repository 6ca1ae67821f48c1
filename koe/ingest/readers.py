"""Reading survey exports: encoding detection and CSV/TSV/XLSX/Parquet readers, whole or in
chunks, every cell as text."""

from __future__ import annotations

import io
import logging
import math
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import charset_normalizer
import pandas as pd

from koe.ingest.rows import majority_encoding, read_records, row_errors

logger = logging.getLogger(__name__)

_TEXT_EXTENSIONS = {".csv": ",", ".tsv": "\t", ".txt": "\t"}
_EXCEL_EXTENSIONS = {".xlsx", ".xlsm"}

# A decoded file "looks like text" when at most this share of its characters (plus 4) are control
# characters (other than tab/newline), private-use characters or U+FFFD.
_MAX_BAD_CHAR_RATIO = 0.05


class IngestError(ValueError):
    """A user-facing ingest error; the message names the file and what is wrong."""


# --------------------------------------------------------------------------------------------
# Reading files
# --------------------------------------------------------------------------------------------


# Control characters except tab/CR/LF, surrogates, private-use characters and U+FFFD.
_BAD_CHAR_RE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\uf8ff\ufffd\U000f0000-\U0010ffff]"
)


def _looks_like_text(text: str) -> bool:
    """Return True if a decoded file has few control/private-use/replacement characters."""
    # The small allowance keeps a tiny file with a stray NUL readable.
    return len(_BAD_CHAR_RE.findall(text)) <= _MAX_BAD_CHAR_RATIO * len(text) + 4


def _decodes_as_text(data: bytes, encoding: str) -> bool:
    try:
        return _looks_like_text(data.decode(encoding))
    except UnicodeDecodeError:
        return False


def _detect(data: bytes, path: Path) -> tuple[str, bool]:
    """(encoding, damaged): see detect_encoding; damaged when only most lines decode."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig", not _decodes_as_text(data, "utf-8-sig")
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "utf-32", False
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16", False
    for encoding in ("utf-8", "cp932"):
        if _decodes_as_text(data, encoding):
            return encoding, False
    majority = majority_encoding(data)
    if majority is not None and _looks_like_text(data.decode(majority, errors="replace")):
        return majority, True
    best = charset_normalizer.from_bytes(data).best()
    if best is not None and _looks_like_text(str(best)):
        return best.encoding, False
    raise IngestError(f"cannot detect the text encoding of {path}; save it as UTF-8 or Shift_JIS")


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise IngestError(f"cannot read {path}: {exc}") from exc


def detect_encoding(path: str | Path) -> str:
    """Detect the text encoding of a CSV/TSV file.

    Order: a UTF-8 BOM -> "utf-8-sig" (a UTF-16/32 BOM -> "utf-16"/"utf-32", as written by
    Excel's "Unicode text" export); bytes that decode as UTF-8 -> "utf-8"; bytes that decode as
    cp932 (the Shift_JIS superset Japanese Excel writes) -> "cp932"; then, for a file where
    only some lines do not decode, the one of the two that decodes most of its lines (those
    lines are quarantined as ``undecodable_row``, koe.ingest.rows); otherwise
    charset_normalizer's best guess. Every candidate must also look like text (at most 5% + 4
    control, private-use or replacement characters): binary data or random bytes raise instead
    of being read as mojibake through some single-byte code page.

    Args:
        path: The file to inspect.

    Returns:
        A Python codec name.

    Raises:
        IngestError: If no encoding gives plausible text.
    """
    path = Path(path)
    return _detect(_read_bytes(path), path)[0]


def cell_to_str(value: object) -> str:
    """Convert one cell to str; missing values (None, NaN, NaT, <NA>) become ""."""
    if isinstance(value, str):
        return value
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if pd.api.types.is_scalar(value) and pd.isna(value):
        return ""
    return str(value)


def _all_strings(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy with str column names and every cell as str (missing -> "")."""
    out = pd.DataFrame(
        {i: [cell_to_str(v) for v in df.iloc[:, i].tolist()] for i in range(df.shape[1])},
        dtype=str,
    )
    out.columns = [str(c) for c in df.columns]
    return out


def as_strings(df: pd.DataFrame) -> pd.DataFrame:
    """A copy with str column names and every cell as str (missing -> ""), like read_table's.

    For tables that do not come from a file, e.g. a SQL query (koe.ingest.sources).
    """
    return _all_strings(df)


class _RowLevelError(Exception):
    """pandas could not parse a text file whole: read it row by row (koe.ingest.rows)."""


@contextmanager
def _text_table_errors(path: Path, encoding: str, sep: str) -> Iterator[None]:
    """pandas' errors: an empty file is an IngestError; a row longer than the header (which
    pandas would silently truncate) or any parser error is a _RowLevelError."""
    try:
        with warnings.catch_warnings():
            # A data row with more fields than the header would be silently truncated.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            yield
    except pd.errors.EmptyDataError as exc:
        raise IngestError(f"{path} is empty (no header row)") from exc
    except (pd.errors.ParserWarning, pd.errors.ParserError, UnicodeError, ValueError) as exc:
        # a ragged row, an unbalanced quote: the row-by-row reader quarantines the bad rows
        raise _RowLevelError(str(exc)) from exc


def _checked_chunk(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with "" for missing cells, unless a cell holds a line break: pandas also reads a
    stray quote paired with a quote lines later as one cell, so such a file is read again by
    the strict row-by-row reader (koe.ingest.rows), which tells the two apart."""
    for column in df.columns:
        values = df[column]
        if values.str.contains("[\r\n]", regex=True, na=False).any():
            raise _RowLevelError("a cell with a line break")
    return df.fillna("")


_CSV_OPTIONS: dict[str, Any] = {
    "dtype": str, "keep_default_na": False, "na_filter": False, "index_col": False,
}  # fmt: skip


def _records(path: Path, data: bytes, encoding: str, sep: str, rows: int | None, skip: int = 0
             ) -> Iterator[pd.DataFrame]:  # fmt: skip
    """The row-by-row reader (koe.ingest.rows), its refusals as IngestError."""
    try:
        for frame in read_records(data, encoding, sep, rows, skip=skip):
            if row_errors(frame):
                logger.warning("%s: %d rows could not be read (%s, sep=%r): quarantined", path,
                               len(row_errors(frame)), encoding, sep)  # fmt: skip
            yield frame
    except ValueError as exc:
        raise IngestError(f"{path} is not a valid table ({encoding}, sep={sep!r}): {exc}") from exc


def _read_text_table(path: Path, sep: str) -> pd.DataFrame:
    data = _read_bytes(path)
    encoding, damaged = _detect(data, path)
    if not damaged:
        try:
            with _text_table_errors(path, encoding, sep):
                df = pd.read_csv(io.BytesIO(data), sep=sep, encoding=encoding, **_CSV_OPTIONS)
            return _checked_chunk(df)
        except _RowLevelError:
            pass
    return next(_records(path, data, encoding, sep, None))


def _read_excel(path: Path, sheet: str | int | None) -> pd.DataFrame:
    try:
        book = pd.ExcelFile(path, engine="openpyxl")
    except Exception as exc:  # zipfile, openpyxl and XML errors of many types
        raise IngestError(f"cannot read {path} as an Excel workbook: {exc}") from exc
    with book:
        names = book.sheet_names
        if sheet is None:
            sheet = 0
        if (isinstance(sheet, int) and not 0 <= sheet < len(names)) or (
            isinstance(sheet, str) and sheet not in names
        ):
            raise IngestError(
                f"{path} has no sheet {sheet!r}; sheets: {', '.join(map(repr, names))}"
            )
        try:
            df = pd.read_excel(book, sheet_name=sheet, dtype=object, na_filter=False)
        except pd.errors.EmptyDataError as exc:
            raise IngestError(f"sheet {sheet!r} of {path} is empty") from exc
    return _all_strings(df)


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        df = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several unrelated exception types
        raise IngestError(f"cannot read {path} as a Parquet file: {exc}") from exc
    return _all_strings(df)


def _checked_table_path(path: str | Path) -> Path:
    """``path`` when it is a non-empty file of a supported type; IngestError otherwise."""
    path = Path(path)
    if path.is_dir():
        raise IngestError(f"{path} is a folder; give one export file (koe run --input also "
                          "takes a folder of daily exports)")  # fmt: skip
    if not path.is_file():
        raise IngestError(f"file not found: {path}")
    ext = path.suffix.lower()
    if ext not in _TEXT_EXTENSIONS and ext not in _EXCEL_EXTENSIONS and ext != ".parquet":
        hint = "; save old .xls workbooks as .xlsx" if ext == ".xls" else ""
        raise IngestError(
            f"unsupported file type {ext or '(no extension)'!r} for {path}; "
            f"use .csv, .tsv, .txt, .xlsx, .xlsm or .parquet{hint}"
        )
    if path.stat().st_size == 0:
        raise IngestError(f"{path} is empty")
    return path


def iter_table_chunks(
    path: str | Path, rows: int = 50_000, *, sep: str | None = None
) -> Iterator[pd.DataFrame]:
    """``read_table`` in pieces of at most ``rows`` data rows, for inputs too big for memory.

    CSV/TSV and Parquet are read piece by piece (memory bounded by ``rows``); an Excel sheet
    (at most 1,048,575 rows) is read whole and cut. Same columns, strings and errors as
    ``read_table``; the pieces keep the file's row order and their index counts on from the
    previous piece (position = data row - 1).
    """
    path = _checked_table_path(path)
    ext = path.suffix.lower()
    if ext in _TEXT_EXTENSIONS:
        sep = sep if sep is not None else _TEXT_EXTENSIONS[ext]
        data = _read_bytes(path)
        encoding, damaged = _detect(data, path)
        if damaged:
            yield from _records(path, data, encoding, sep, rows)
            return
        done = 0  # rows yielded by pandas before a row it cannot parse
        try:
            with _text_table_errors(path, encoding, sep):
                reader = pd.read_csv(
                    io.BytesIO(data), sep=sep, encoding=encoding, chunksize=rows, **_CSV_OPTIONS
                )
            with reader:
                while True:
                    with _text_table_errors(path, encoding, sep):
                        chunk = next(reader, None)
                        if chunk is None:
                            return
                        chunk = _checked_chunk(chunk)
                    done += len(chunk)
                    yield chunk
        except _RowLevelError:
            yield from _records(path, data, encoding, sep, rows, skip=done)
    elif ext == ".parquet":
        import pyarrow.parquet as pq

        try:
            batches = pq.ParquetFile(path).iter_batches(batch_size=rows)
        except Exception as exc:  # pyarrow raises several unrelated exception types
            raise IngestError(f"cannot read {path} as a Parquet file: {exc}") from exc
        start = 0
        for batch in batches:
            chunk = _all_strings(batch.to_pandas())
            chunk.index = pd.RangeIndex(start, start + len(chunk))
            start += len(chunk)
            yield chunk
    else:
        whole = read_table(path)
        for start in range(0, len(whole), rows):
            yield whole.iloc[start : start + rows]


def read_table(
    path: str | Path, *, sheet: str | int | None = None, sep: str | None = None
) -> pd.DataFrame:
    """Read a survey export with every column as strings.

    The format comes from the extension: .csv (sep ","), .tsv and .txt (sep "\\t"; see
    detect_encoding for the encoding), .xlsx/.xlsm (first sheet unless `sheet` is given),
    .parquet. Text files go through pandas' CSV parser, so quoted cells may contain newlines and
    separators; blank lines are skipped. Cells are never converted to NaN: "NA" stays "NA" and
    missing cells are "". Row i of the result (0-based position) is data row i + 1 of the file.

    Args:
        path: The file to read.
        sheet: Sheet name or 0-based index (Excel only).
        sep: Field separator overriding the extension default (text files only).

    Returns:
        A DataFrame with str column names and pandas' string dtype ("str") in every column.

    Raises:
        IngestError: Missing, empty or unreadable file, unknown extension, unknown encoding,
            ragged rows, or a missing sheet.
    """
    path = _checked_table_path(path)
    ext = path.suffix.lower()
    if ext in _TEXT_EXTENSIONS:
        df = _read_text_table(path, sep if sep is not None else _TEXT_EXTENSIONS[ext])
    elif ext in _EXCEL_EXTENSIONS:
        df = _read_excel(path, sheet)
    else:
        df = _read_parquet(path)
    if df.shape[1] == 0:
        raise IngestError(f"{path} has no columns (empty sheet or no header row)")
    return df.reset_index(drop=True)
