"""Validation: a raw table becomes a CommentFrame and a QuarantineFrame.

`load_comments(path)` = `read_table(path)` + `prepare_comments(raw)`. Every input row ends in
exactly one of the two frames (see koe.core.frames for the column contracts). Rows that cannot be
analysed are quarantined with a machine-readable reason code (QUARANTINE_REASONS) and a
human-readable detail; they are never silently dropped.
"""

from __future__ import annotations

import math
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from koe.core.frames import QUARANTINE_COLUMNS, nps_class
from koe.ingest.columns import DEFAULT_MAPPING, ColumnMapping, resolve_columns
from koe.ingest.dates import parse_date
from koe.ingest.normalize import has_content, is_non_answer, normalize_text
from koe.ingest.readers import cell_to_str, read_table
from koe.ingest.rows import row_errors

# A comment longer than this (after normalization) is quarantined as text_too_long.
MAX_TEXT_CHARS = 20_000

# Reason codes, in the order the checks run (a row gets the first reason that applies).
QUARANTINE_REASONS = (
    "undecodable_row",
    "malformed_row",
    "missing_id",
    "invalid_id",
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


# C0/C1 control characters (NUL, tab, CR, LF, ...): never part of a real id.
_CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f]")


def normalize_id(raw: str) -> tuple[str, str, str]:
    """One id rule for ``koe run`` and ``koe tag``: (id, "", "") or (id, reason, detail).

    Surrounding whitespace (U+3000 and other Unicode spaces included) is stripped, so " R1 "
    and "R1" are the same id; lone surrogates become U+FFFD. An empty id is ``missing_id``;
    an id with a control character (NUL, tab, CR, LF, ...) is ``invalid_id`` (and the id
    returned has them escaped as ``\\xNN``, so that it can be written anywhere).
    """
    comment_id = _safe(raw.strip())
    if not comment_id:
        return "", "missing_id", "id is empty"
    bad = _CONTROL_RE.search(comment_id)
    if bad:
        detail = f"id {_preview(comment_id)} contains the control character U+{ord(bad[0]):04X}"
        return _CONTROL_RE.sub(lambda m: f"\\x{ord(m[0]):02x}", comment_id), "invalid_id", detail
    return comment_id, "", ""


def check_text(raw: str) -> tuple[str, str, str]:
    """(normalized text, "", "") or (text, reason, detail): empty_text, no_text_content (only
    symbols or emoji, unless a non-answer such as 「特になし」) or text_too_long."""
    text = normalize_text(raw)
    if not text:
        return text, "empty_text", "text is empty"
    if not has_content(text) and not is_non_answer(text):
        detail = f"text {_preview(text)} has no letters or digits (only symbols/emoji)"
        return text, "no_text_content", detail
    if len(text) > MAX_TEXT_CHARS:
        detail = f"text has {len(text):,} characters; the limit is {MAX_TEXT_CHARS:,}"
        return text, "text_too_long", detail
    return text, "", ""


def _check_row_and_id(
    raw: pd.DataFrame, pos: int, raw_id: str, row: int, first_row: dict[str, int]
) -> tuple[str, str, str, str | None]:
    """The checks prepare_comments and prepare_texts share, in order: a record the reader could
    not read (koe.ingest.rows), the id rule (normalize_id), a repeated id (``first_row``: id ->
    row of its first occurrence, updated here). Returns (id, reason, detail, raw record of a
    bad record or None); reason is "" when the row goes on to the next checks."""
    comment_id, reason, detail = normalize_id(raw_id)
    error = row_errors(raw).get(pos)
    if error is not None:
        # a bad record keeps its id only where the id itself is fine, and does not own it
        shown_id = "" if reason else comment_id
        return shown_id, error.reason, f"line {error.line}: {error.detail}", _safe(error.raw)
    if reason:
        return comment_id, reason, detail, None
    if comment_id in first_row:
        detail = (
            f"id {_preview(comment_id)} already appears in row {first_row[comment_id]} "
            "(the first occurrence is kept)"
        )
        return comment_id, "duplicate_id", detail, None
    first_row[comment_id] = row
    return comment_id, "", "", None


def _quarantine_frame(quarantine: dict[str, list]) -> pd.DataFrame:
    """A QuarantineFrame from its columns' lists (see koe.core.frames)."""
    return pd.DataFrame(
        {
            "source_row": np.array(quarantine["source_row"], dtype=np.int64),
            **{c: pd.array(quarantine[c], dtype="string") for c in QUARANTINE_COLUMNS[1:]},
        }
    )


def _strings(raw: pd.DataFrame, pos: int | None) -> list[str]:
    if pos is None:
        return [""] * len(raw)
    return [cell_to_str(v) for v in raw.iloc[:, pos].tolist()]


# --------------------------------------------------------------------------------------------
# CommentFrame + QuarantineFrame
# --------------------------------------------------------------------------------------------


def prepare_comments(
    raw: pd.DataFrame, mapping: ColumnMapping = DEFAULT_MAPPING, *, source: str = ""
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validate and normalize raw survey rows into a CommentFrame and a QuarantineFrame.

    Every row of `raw` ends in exactly one of the two frames, in input order; `source_row` is
    its 1-based position in `raw`. A row gets the first reason that applies, checked in this
    order (more score columns, ``mapping.scores``, right after the 0-10 score; see
    koe.core.scores, an empty one is NaN): undecodable_row / malformed_row (a record the
    reader could not read, see koe.ingest.rows; detail starts with its physical line, text
    is the raw record);
    missing_id / invalid_id (see normalize_id); duplicate_id (the first occurrence of an id
    in the file owns it, even if that row is itself quarantined for another reason; the
    detail names that row);
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
    cols = resolve_columns(raw, mapping, label)
    raw_ids = _strings(raw, cols.id)
    raw_texts = _strings(raw, cols.text)
    raw_scores = _strings(raw, cols.score)
    raw_dates = _strings(raw, cols.date)
    raw_more = [(scale, _strings(raw, pos)) for scale, pos in cols.scores]
    more_values: dict[str, list[float]] = {scale.name: [] for scale, _ in raw_more}

    accepted: list[int] = []  # 0-based positions
    ids: list[str] = []
    texts: list[str] = []
    scores: list[int] = []
    dates: list[np.datetime64] = []
    quarantine: dict[str, list] = {name: [] for name in QUARANTINE_COLUMNS}
    first_row: dict[str, int] = {}

    for pos in range(len(raw)):
        row = pos + 1
        comment_id, reason, detail, raw_record = _check_row_and_id(
            raw, pos, raw_ids[pos], row, first_row
        )
        score: int | None = None
        text = ""
        date = np.datetime64("NaT", "ns")
        if not reason and cols.score is not None:
            score, reason, detail = _check_score(raw_scores[pos])
        values: list[float] = []
        for scale, cells in raw_more:
            if reason:
                break
            value, reason, detail = scale.parse(cells[pos])
            values.append(value)
        if not reason:
            text, reason, detail = check_text(raw_texts[pos])
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
            # The raw cell as given (a bad record: the whole record, bytes escaped); <NA> only
            # when the cell itself is missing.
            missing_cell = not isinstance(raw_text, str) and not raw_texts[pos]
            if raw_record is not None:
                quarantine["text"].append(raw_record)
            else:
                quarantine["text"].append(pd.NA if missing_cell else _safe(raw_texts[pos]))
            continue
        accepted.append(pos)
        ids.append(comment_id)
        texts.append(text)
        scores.append(score)  # type: ignore[arg-type]  # not None when there is no reason
        dates.append(date)
        for (scale, _), value in zip(raw_more, values, strict=True):
            more_values[scale.name].append(value)

    customer_ids = _strings(raw, cols.customer_id)
    comments = pd.DataFrame(
        {
            "id": pd.array(ids, dtype="string"),
            "text": pd.array(texts, dtype="string"),
            "score": pd.array(scores, dtype="Int64"),
            "nps_class": pd.array([nps_class(s) if s is not None else pd.NA for s in scores],
                                  dtype="string"),
            "date": np.array(dates, dtype="datetime64[ns]"),
            "customer_id": pd.array(
                [_safe(customer_ids[p].strip()) or pd.NA for p in accepted], dtype="string"
            ),
            "source_row": np.array([p + 1 for p in accepted], dtype=np.int64),
        }
    )
    for name, col_pos in cols.sub_scores:
        cells = _strings(raw, col_pos)
        comments[name] = np.array([_parse_float(cells[p]) for p in accepted], dtype=np.float64)
    for name, parsed in more_values.items():
        comments[name] = np.array(parsed, dtype=np.float64)
    for name, col_pos in cols.segments:
        values = _strings(raw, col_pos)
        comments[name] = pd.array(
            [_safe(values[p].strip()) or pd.NA for p in accepted], dtype="string"
        )

    return comments, _quarantine_frame(quarantine)


def prepare_texts(
    raw: pd.DataFrame,
    id_col: str = "id",
    text_col: str = "text",
    *,
    seen: dict[str, int] | None = None,
    source: str = "",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``koe tag``'s validation: prepare_comments' id and text rules, without score or date.

    Args:
        raw: A table or one piece of it (koe.ingest.iter_table_chunks): ``source_row`` is
            ``raw.index + 1``, so pieces keep the file's row numbers.
        id_col, text_col: Column names, matched as prepare_comments matches them.
        seen: id -> row of its first occurrence in earlier pieces; updated in place.
        source: File name used in error messages.

    Returns:
        (comments with id and normalized text, quarantine as in prepare_comments).

    Raises:
        IngestError: a missing id or text column.
    """
    from koe.ingest.columns import find_column
    from koe.ingest.readers import IngestError

    names = [str(c) for c in raw.columns]
    positions = {c: find_column(names, c) for c in (id_col, text_col)}
    missing = [c for c, p in positions.items() if p is None]
    if missing:
        raise IngestError(f"{source or 'input'}: missing column(s) {missing}; "
                          f"columns present: {names}")  # fmt: skip
    raw_ids, raw_texts = _strings(raw, positions[id_col]), _strings(raw, positions[text_col])
    seen = {} if seen is None else seen
    ids: list[str] = []
    texts: list[str] = []
    quarantine: dict[str, list] = {name: [] for name in QUARANTINE_COLUMNS}
    for pos, index in enumerate(raw.index):
        row = int(index) + 1
        comment_id, reason, detail, raw_record = _check_row_and_id(
            raw, pos, raw_ids[pos], row, seen
        )
        shown = raw_record if raw_record is not None else _safe(raw_texts[pos])
        text = ""
        if not reason:
            text, reason, detail = check_text(raw_texts[pos])
        if reason:
            for name, value in zip(
                QUARANTINE_COLUMNS, (row, comment_id or pd.NA, reason, detail, shown), strict=True
            ):
                quarantine[name].append(value)
            continue
        ids.append(comment_id)
        texts.append(text)
    comments = pd.DataFrame(
        {"id": pd.array(ids, dtype="string"), "text": pd.array(texts, dtype="string")}
    )
    return comments, _quarantine_frame(quarantine)


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
