"""Ingest: read a survey export and split it into a CommentFrame and a QuarantineFrame.

`load_comments(path)` = `read_table(path)` + `prepare_comments(raw)`. Every input row ends in
exactly one of the two frames (see koe.core.frames for the column contracts). Rows that cannot be
analysed are quarantined with a machine-readable reason code (QUARANTINE_REASONS) and a
human-readable detail; they are never silently dropped.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import charset_normalizer
import numpy as np
import pandas as pd

from koe.core.frames import COMMENT_COLUMNS, QUARANTINE_COLUMNS, nps_class
from koe.ingest.normalize import has_content, is_non_answer, normalize_text

__all__ = [
    "MAX_TEXT_CHARS",
    "QUARANTINE_REASONS",
    "ColumnMapping",
    "IngestError",
    "as_strings",
    "detect_encoding",
    "load_comments",
    "parse_date",
    "prepare_comments",
    "read_table",
]

logger = logging.getLogger(__name__)

# A comment longer than this (after normalization) is quarantined as text_too_long.
MAX_TEXT_CHARS = 20_000

# Reason codes, in the order the checks run (a row gets the first reason that applies).
QUARANTINE_REASONS = (
    "missing_id",
    "duplicate_id",
    "missing_score",
    "invalid_score",
    "score_out_of_range",
    "empty_text",
    "no_text_content",
    "text_too_long",
    "invalid_date",
)

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


def detect_encoding(path: str | Path) -> str:
    """Detect the text encoding of a CSV/TSV file.

    Order: a UTF-8 BOM -> "utf-8-sig" (a UTF-16/32 BOM -> "utf-16"/"utf-32", as written by
    Excel's "Unicode text" export); bytes that decode as UTF-8 -> "utf-8"; bytes that decode as
    cp932 (the Shift_JIS superset Japanese Excel writes) -> "cp932"; otherwise charset_normalizer's
    best guess. Every candidate must also look like text (at most 5% + 4 control, private-use or
    replacement characters): binary data or random bytes raise instead of being read as mojibake
    through some single-byte code page.

    Args:
        path: The file to inspect.

    Returns:
        A Python codec name.

    Raises:
        IngestError: If no encoding gives plausible text.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(f"cannot read {path}: {exc}") from exc
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "utf-32"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    for encoding in ("utf-8", "cp932"):
        if _decodes_as_text(data, encoding):
            return encoding
    best = charset_normalizer.from_bytes(data).best()
    if best is not None and _looks_like_text(str(best)):
        return best.encoding
    raise IngestError(f"cannot detect the text encoding of {path}; save it as UTF-8 or Shift_JIS")


def _cell_to_str(value: object) -> str:
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
        {i: [_cell_to_str(v) for v in df.iloc[:, i].tolist()] for i in range(df.shape[1])},
        dtype=str,
    )
    out.columns = [str(c) for c in df.columns]
    return out


def as_strings(df: pd.DataFrame) -> pd.DataFrame:
    """A copy with str column names and every cell as str (missing -> ""), like read_table's.

    For tables that do not come from a file, e.g. a SQL query (koe.ingest.sources).
    """
    return _all_strings(df)


@contextmanager
def _text_table_errors(path: Path, encoding: str, sep: str) -> Iterator[None]:
    """Turn pandas' parser errors into IngestError; a row longer than the header is an error."""
    try:
        with warnings.catch_warnings():
            # A data row with more fields than the header would be silently truncated.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            yield
    except pd.errors.EmptyDataError as exc:
        raise IngestError(f"{path} is empty (no header row)") from exc
    except pd.errors.ParserWarning as exc:
        raise IngestError(
            f"{path} is not a valid table: a data row has more fields than the header row"
        ) from exc
    except (pd.errors.ParserError, UnicodeError, ValueError) as exc:
        raise IngestError(f"{path} is not a valid table ({encoding}, sep={sep!r}): {exc}") from exc


_CSV_OPTIONS: dict[str, Any] = {
    "dtype": str, "keep_default_na": False, "na_filter": False, "index_col": False,
}  # fmt: skip


def _read_text_table(path: Path, sep: str) -> pd.DataFrame:
    encoding = detect_encoding(path)
    with _text_table_errors(path, encoding, sep):
        df = pd.read_csv(path, sep=sep, encoding=encoding, **_CSV_OPTIONS)
    return df.fillna("")


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
        encoding = detect_encoding(path)
        with _text_table_errors(path, encoding, sep):
            reader = pd.read_csv(path, sep=sep, encoding=encoding, chunksize=rows, **_CSV_OPTIONS)
        with reader:
            while True:
                with _text_table_errors(path, encoding, sep):
                    chunk = next(reader, None)
                if chunk is None:
                    return
                yield chunk.fillna("")
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


# --------------------------------------------------------------------------------------------
# Column mapping
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnMapping:
    """Input column names of the survey export.

    The CommentFrame uses the canonical names (id, text, score, date, customer_id) and keeps
    sub-score and segment columns under their names here. `date` and `customer_id` are optional:
    when the named column is absent (or the field is None) the output column is all NaT/<NA>.
    Named sub-score and segment columns must exist. `segments=None` makes every other input
    column a segment.
    """

    id: str = "id"
    text: str = "text"
    score: str = "score"
    date: str | None = "date"
    customer_id: str | None = "customer_id"
    sub_scores: tuple[str, ...] = ()
    segments: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        # Accept lists from config files while keeping the mapping hashable.
        object.__setattr__(self, "sub_scores", tuple(self.sub_scores))
        if self.segments is not None:
            object.__setattr__(self, "segments", tuple(self.segments))
        for field in ("id", "text", "score"):
            value = getattr(self, field)
            if not isinstance(value, str) or not value.strip():
                raise IngestError(f"ColumnMapping.{field} must be a non-empty column name")


DEFAULT_MAPPING = ColumnMapping()


def _header_key(name: str) -> str:
    return str(name).replace("\ufeff", "").strip()


def _header_fold(name: str) -> str:
    return unicodedata.normalize("NFKC", _header_key(name)).casefold()


def _find_column(columns: list[str], name: str) -> int | None:
    """Return the position of `name`: exact, then stripped of spaces/BOM, then NFKC+casefold."""
    for key in (lambda c: c, _header_key, _header_fold):
        wanted = key(name)
        for pos, column in enumerate(columns):
            if key(column) == wanted:
                return pos
    return None


@dataclass(frozen=True)
class _Resolved:
    id: int
    text: int
    score: int
    date: int | None
    customer_id: int | None
    sub_scores: tuple[tuple[str, int], ...]
    segments: tuple[tuple[str, int], ...]


def _resolve_columns(raw: pd.DataFrame, mapping: ColumnMapping, label: str) -> _Resolved:
    columns = [str(c) for c in raw.columns]
    missing: list[str] = []

    def find(name: str) -> int | None:
        pos = _find_column(columns, name)
        if pos is None:
            missing.append(name)
        return pos

    id_pos, text_pos, score_pos = find(mapping.id), find(mapping.text), find(mapping.score)
    sub_scores = [(name, find(name)) for name in mapping.sub_scores]
    segments = [(name, find(name)) for name in mapping.segments or ()]
    if missing:
        present = ", ".join(repr(c) for c in columns) or "(none)"
        hint = "Check the header row, the column mapping and the file encoding."
        if len(columns) == 1 and any(s in columns[0] for s in (",", ";", "\t", "|")):
            hint = "The file has a single column: is the separator right?"
        raise IngestError(
            f"{label}: missing required column(s): {', '.join(map(repr, missing))}. "
            f"Columns present: {present}. {hint}"
        )
    date_pos = _find_column(columns, mapping.date) if mapping.date else None
    customer_pos = _find_column(columns, mapping.customer_id) if mapping.customer_id else None

    reserved = set(COMMENT_COLUMNS)
    explicit = [name for name, _ in sub_scores] + [name for name, _ in segments]
    clashes = sorted({n for n in explicit if n in reserved or explicit.count(n) > 1})
    if clashes:
        raise IngestError(
            f"{label}: sub-score/segment column name(s) {', '.join(map(repr, clashes))} clash "
            f"with CommentFrame columns {COMMENT_COLUMNS} or are listed twice"
        )
    if mapping.segments is None:
        used = {id_pos, text_pos, score_pos, date_pos, customer_pos}
        used.update(pos for _, pos in sub_scores)
        taken = reserved | {name for name, _ in sub_scores}
        segments = []
        for pos, column in enumerate(columns):
            name = _header_key(column)
            if pos in used:
                continue
            if not name or re.fullmatch(r"Unnamed: \d+", name) or name in taken:
                logger.warning("%s: column %r is not used as a segment", label, column)
                continue
            taken.add(name)
            segments.append((name, pos))
    return _Resolved(
        id=id_pos,  # type: ignore[arg-type]  # not None: checked above
        text=text_pos,  # type: ignore[arg-type]
        score=score_pos,  # type: ignore[arg-type]
        date=date_pos,
        customer_id=customer_pos,
        sub_scores=tuple(sub_scores),  # type: ignore[arg-type]
        segments=tuple(segments),  # type: ignore[arg-type]
    )


# --------------------------------------------------------------------------------------------
# Field parsers
# --------------------------------------------------------------------------------------------

_ERA_BASE = {"令和": 2018, "R": 2018, "平成": 1988, "H": 1988, "昭和": 1925, "S": 1925}
_WEEKDAY_RE = re.compile(r"\s*\([月火水木金土日](?:曜日?)?\)\s*")
_ISO_DATE_RE = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})")
_COMPACT_DATE_RE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_JA_DATE_RE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_ERA_DATE_RE = re.compile(
    r"(令和|平成|昭和|R|H|S)\s*(\d{1,2}|元)\s*"
    r"(?:年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日|([-/.])(\d{1,2})\5(\d{1,2}))",
    re.IGNORECASE,
)
_CLOCK_TIME_RE = re.compile(
    r"(?:T|\s+)(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(?:Z|[+-]\d{2}:?\d{2})?"
)
_JA_TIME_RE = re.compile(
    r"\s*(午前|午後)?\s*(\d{1,2})\s*時(?:\s*(\d{1,2})\s*分(?:\s*(\d{1,2})\s*秒)?)?"
)


def _parse_time(rest: str) -> tuple[int, int, int, int]:
    """Parse the part after the date: "", " 10:30[:15[.123]][+09:00]" or "10時30分[15秒]"."""
    if not rest.strip():
        return 0, 0, 0, 0
    if m := _CLOCK_TIME_RE.fullmatch(rest):
        fraction = (m.group(4) or "").ljust(9, "0")
        return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0), int(fraction) // 1000
    if m := _JA_TIME_RE.fullmatch(rest):
        hour = int(m.group(2))
        if m.group(1) == "午後" and hour < 12:
            hour += 12
        elif m.group(1) == "午前" and hour == 12:
            hour = 0
        return hour, int(m.group(3) or 0), int(m.group(4) or 0), 0
    raise ValueError(f"unrecognized time {rest.strip()!r}")


def parse_date(value: str) -> pd.Timestamp | None:
    """Parse a survey answer date into a timezone-naive Timestamp.

    Accepted (after NFKC, so full-width digits work; a weekday such as 「(日)」 is ignored):
    2026-11-01, 2026/11/01, 2026.11.01, 20261101; 2026年11月1日; Japanese eras 令和8年11月1日,
    令和元年5月1日, R8.11.1, R8/11/1 (also 平成/H and 昭和/S). Each may be followed by a time:
    " 10:30", "T10:30:15.123", " 10:30:00+09:00" (the offset is dropped, the wall-clock time
    kept) or 「10時30分」 (「午後3時」 too). Day-month order is never guessed: 11/01/2026 is
    rejected, as are dates outside the datetime64[ns] range.

    Args:
        value: The cell text.

    Returns:
        The Timestamp, or None for an empty cell.

    Raises:
        ValueError: If the value is not empty and not a recognized, valid date.
    """
    text = unicodedata.normalize("NFKC", value).strip()
    if not text:
        return None
    text = _WEEKDAY_RE.sub(" ", text).strip()
    if m := _ERA_DATE_RE.match(text):
        era = m.group(1).upper() if m.group(1).isascii() else m.group(1)
        era_year = 1 if m.group(2) == "元" else int(m.group(2))
        if era_year < 1:
            raise ValueError(f"invalid era year in {value!r}")
        year = _ERA_BASE[era] + era_year
        month, day = int(m.group(3) or m.group(6)), int(m.group(4) or m.group(7))
    elif m := (_ISO_DATE_RE.match(text) or _JA_DATE_RE.match(text) or _COMPACT_DATE_RE.match(text)):
        groups = [g for g in m.groups() if g and g.isdigit()]
        year, month, day = (int(g) for g in groups)
    else:
        raise ValueError(f"unrecognized date {value!r}")
    hour, minute, second, microsecond = _parse_time(text[m.end() :])
    if not 1678 <= year <= 2261:
        raise ValueError(f"date {value!r} is out of range")
    # Raises ValueError for impossible dates (2026-02-30) and times (25:00).
    return pd.Timestamp(
        year=year,
        month=month,
        day=day,
        hour=hour,
        minute=minute,
        second=second,
        microsecond=microsecond,
    )


_INTEGER_RE = re.compile(r"[+-]?[0-9]+(?:\.0*)?")


def _preview(value: str, limit: int = 40) -> str:
    return repr(value if len(value) <= limit else value[:limit] + "…")


def _check_score(raw: str) -> tuple[int | None, str, str]:
    """Return (score, "", "") or (None, reason, detail)."""
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text:
        return None, "missing_score", "score is empty"
    if not _INTEGER_RE.fullmatch(text):
        return None, "invalid_score", f"score {_preview(raw)} is not a whole number"
    whole = text.split(".")[0]
    digits = whole.lstrip("+-").lstrip("0") or "0"
    if len(digits) > 2:  # also avoids int() on thousands of digits
        return None, "score_out_of_range", f"score {_preview(raw)} is outside 0-10"
    score = int(whole)
    if not 0 <= score <= 10:
        return None, "score_out_of_range", f"score {score} is outside 0-10"
    return score, "", ""


def _parse_float(raw: str) -> float:
    """Parse a sub-score; anything that is not a finite number becomes NaN."""
    try:
        value = float(unicodedata.normalize("NFKC", raw).strip())
    except ValueError:
        return math.nan
    return value if math.isfinite(value) else math.nan


_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def _safe(text: str) -> str:
    """Replace lone surrogates (which cannot be stored as UTF-8) with U+FFFD."""
    return _SURROGATE_RE.sub("\ufffd", text)


def _strings(raw: pd.DataFrame, pos: int | None) -> list[str]:
    if pos is None:
        return [""] * len(raw)
    return [_cell_to_str(v) for v in raw.iloc[:, pos].tolist()]


# --------------------------------------------------------------------------------------------
# CommentFrame + QuarantineFrame
# --------------------------------------------------------------------------------------------


def prepare_comments(
    raw: pd.DataFrame, mapping: ColumnMapping = DEFAULT_MAPPING, *, source: str = ""
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validate and normalize raw survey rows into a CommentFrame and a QuarantineFrame.

    Every row of `raw` ends in exactly one of the two frames, in input order; `source_row` is
    its 1-based position in `raw`. A row gets the first reason that applies, checked in this
    order: missing_id; duplicate_id (the first occurrence of an id in the file owns it, even if
    that row is itself quarantined for another reason; the detail names that row);
    missing_score / invalid_score / score_out_of_range; empty_text / no_text_content /
    text_too_long (more than MAX_TEXT_CHARS after normalization); invalid_date. Non-answers
    (「特になし」, "-", see koe.ingest.normalize.NON_ANSWERS) are accepted even without letters.

    Column names are matched exactly, then ignoring surrounding spaces and a BOM, then
    NFKC + case-insensitively. Cells may be str or missing (None/NaN/<NA> count as empty).

    Output dtypes: id, text, nps_class, customer_id and segment columns use the nullable
    "string" dtype (missing = <NA>); score is Int64; date is datetime64[ns] (NaT when absent);
    source_row is int64; sub-score columns are float64 (invalid or empty -> NaN). Quarantine:
    source_row int64, id/reason/detail/text "string" (text is the raw, unnormalized cell).
    Both frames have a fresh RangeIndex.

    Args:
        raw: The table as read by read_table (not modified).
        mapping: Input column names.
        source: File name used in error messages.

    Returns:
        (comments, quarantine).

    Raises:
        IngestError: If a required (id, text, score) or named sub-score/segment column is
            missing, or a sub-score/segment name clashes with a CommentFrame column.
    """
    label = source or "input"
    cols = _resolve_columns(raw, mapping, label)
    raw_ids = _strings(raw, cols.id)
    raw_texts = _strings(raw, cols.text)
    raw_scores = _strings(raw, cols.score)
    raw_dates = _strings(raw, cols.date)

    accepted: list[int] = []  # 0-based positions
    ids: list[str] = []
    texts: list[str] = []
    scores: list[int] = []
    dates: list[np.datetime64] = []
    quarantine: dict[str, list] = {name: [] for name in QUARANTINE_COLUMNS}
    first_row: dict[str, int] = {}

    for pos in range(len(raw)):
        row = pos + 1
        comment_id = _safe(raw_ids[pos].strip())
        reason, detail = "", ""
        score: int | None = None
        text = ""
        date = np.datetime64("NaT", "ns")
        if not comment_id:
            reason, detail = "missing_id", "id is empty"
        elif comment_id in first_row:
            reason = "duplicate_id"
            detail = (
                f"id {_preview(comment_id)} already appears in row {first_row[comment_id]} "
                "(the first occurrence is kept)"
            )
        else:
            first_row[comment_id] = row
            score, reason, detail = _check_score(raw_scores[pos])
        if not reason:
            text = normalize_text(raw_texts[pos])
            if not text:
                reason, detail = "empty_text", "text is empty"
            elif not has_content(text) and not is_non_answer(text):
                reason = "no_text_content"
                detail = f"text {_preview(text)} has no letters or digits (only symbols/emoji)"
            elif len(text) > MAX_TEXT_CHARS:
                reason = "text_too_long"
                detail = f"text has {len(text):,} characters; the limit is {MAX_TEXT_CHARS:,}"
        if not reason:
            try:
                parsed = parse_date(raw_dates[pos])
            except ValueError:
                reason = "invalid_date"
                detail = (
                    f"date {_preview(raw_dates[pos])} is not a recognized date "
                    "(use YYYY-MM-DD, YYYY/MM/DD, YYYY年M月D日 or 令和N年M月D日)"
                )
            else:
                if parsed is not None:
                    date = parsed.to_datetime64().astype("datetime64[ns]")
        if reason:
            raw_text = raw.iloc[pos, cols.text]
            quarantine["source_row"].append(row)
            quarantine["id"].append(comment_id or pd.NA)
            quarantine["reason"].append(reason)
            quarantine["detail"].append(detail)
            # The raw cell as given; <NA> only when the cell itself is missing.
            missing_cell = not isinstance(raw_text, str) and not raw_texts[pos]
            quarantine["text"].append(pd.NA if missing_cell else _safe(raw_texts[pos]))
            continue
        accepted.append(pos)
        ids.append(comment_id)
        texts.append(text)
        scores.append(score)  # type: ignore[arg-type]  # not None when there is no reason
        dates.append(date)

    customer_ids = _strings(raw, cols.customer_id)
    comments = pd.DataFrame(
        {
            "id": pd.array(ids, dtype="string"),
            "text": pd.array(texts, dtype="string"),
            "score": pd.array(scores, dtype="Int64"),
            "nps_class": pd.array([nps_class(s) for s in scores], dtype="string"),
            "date": np.array(dates, dtype="datetime64[ns]"),
            "customer_id": pd.array(
                [_safe(customer_ids[p].strip()) or pd.NA for p in accepted], dtype="string"
            ),
            "source_row": np.array([p + 1 for p in accepted], dtype=np.int64),
        }
    )
    for name, col_pos in cols.sub_scores:
        values = _strings(raw, col_pos)
        comments[name] = np.array([_parse_float(values[p]) for p in accepted], dtype=np.float64)
    for name, col_pos in cols.segments:
        values = _strings(raw, col_pos)
        comments[name] = pd.array(
            [_safe(values[p].strip()) or pd.NA for p in accepted], dtype="string"
        )

    quarantined = pd.DataFrame(
        {
            "source_row": np.array(quarantine["source_row"], dtype=np.int64),
            "id": pd.array(quarantine["id"], dtype="string"),
            "reason": pd.array(quarantine["reason"], dtype="string"),
            "detail": pd.array(quarantine["detail"], dtype="string"),
            "text": pd.array(quarantine["text"], dtype="string"),
        }
    )
    return comments, quarantined


def load_comments(
    path: str | Path, mapping: ColumnMapping = DEFAULT_MAPPING, **read_kwargs: object
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read a survey export and prepare it (read_table + prepare_comments).

    Args:
        path: The file to read.
        mapping: Input column names.
        **read_kwargs: Passed to read_table (sheet, sep).

    Returns:
        (comments, quarantine) as described in prepare_comments.

    Raises:
        IngestError: See read_table and prepare_comments.
    """
    raw = read_table(path, **read_kwargs)  # type: ignore[arg-type]
    return prepare_comments(raw, mapping, source=str(path))
