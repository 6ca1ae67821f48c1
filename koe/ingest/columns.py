"""Column mapping: which input columns are id, text, score, date, customer id, sub-scores and
segments; header matching that forgives spaces, a BOM, full-width letters and case."""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass

import pandas as pd

from koe.core.frames import COMMENT_COLUMNS
from koe.core.scores import ScoreScale
from koe.ingest.readers import IngestError

logger = logging.getLogger(__name__)



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
    score: str | None = "score"  # None: no 0-10 score (score and nps_class stay <NA>)
    date: str | None = "date"
    customer_id: str | None = "customer_id"
    sub_scores: tuple[str, ...] = ()
    segments: tuple[str, ...] | None = None
    scores: tuple[ScoreScale, ...] = ()  # more score columns (CSAT, CES, ...), by metric name

    def __post_init__(self) -> None:
        # Accept lists from config files while keeping the mapping hashable.
        object.__setattr__(self, "sub_scores", tuple(self.sub_scores))
        object.__setattr__(self, "scores", tuple(self.scores))
        if self.segments is not None:
            object.__setattr__(self, "segments", tuple(self.segments))
        for field in ("id", "text", "score"):
            value = getattr(self, field)
            if field == "score" and value is None:
                continue
            if not isinstance(value, str) or not value.strip():
                raise IngestError(f"ColumnMapping.{field} must be a non-empty column name")


DEFAULT_MAPPING = ColumnMapping()


def _header_key(name: str) -> str:
    return str(name).replace("\ufeff", "").strip()


def _header_fold(name: str) -> str:
    return unicodedata.normalize("NFKC", _header_key(name)).casefold()


def find_column(columns: list[str], name: str) -> int | None:
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
    score: int | None
    date: int | None
    customer_id: int | None
    sub_scores: tuple[tuple[str, int], ...]
    segments: tuple[tuple[str, int], ...]
    scores: tuple[tuple[ScoreScale, int], ...] = ()


def resolve_columns(raw: pd.DataFrame, mapping: ColumnMapping, label: str) -> _Resolved:
    columns = [str(c) for c in raw.columns]
    missing: list[str] = []

    def find(name: str) -> int | None:
        pos = find_column(columns, name)
        if pos is None:
            missing.append(name)
        return pos

    id_pos, text_pos = find(mapping.id), find(mapping.text)
    score_pos = find(mapping.score) if mapping.score is not None else None
    sub_scores = [(name, find(name)) for name in mapping.sub_scores]
    segments = [(name, find(name)) for name in mapping.segments or ()]
    scores = [(scale, find(scale.column)) for scale in mapping.scores]
    if missing:
        present = ", ".join(repr(c) for c in columns) or "(none)"
        hint = "Check the header row, the column mapping and the file encoding."
        if len(columns) == 1 and any(s in columns[0] for s in (",", ";", "\t", "|")):
            hint = "The file has a single column: is the separator right?"
        raise IngestError(
            f"{label}: missing required column(s): {', '.join(map(repr, missing))}. "
            f"Columns present: {present}. {hint}"
        )
    date_pos = find_column(columns, mapping.date) if mapping.date else None
    customer_pos = find_column(columns, mapping.customer_id) if mapping.customer_id else None

    reserved = set(COMMENT_COLUMNS)
    explicit = [name for name, _ in sub_scores] + [name for name, _ in segments]
    explicit += [scale.name for scale, _ in scores]
    clashes = sorted({n for n in explicit if n in reserved or explicit.count(n) > 1})
    if clashes:
        raise IngestError(
            f"{label}: sub-score/segment/score name(s) {', '.join(map(repr, clashes))} clash "
            f"with CommentFrame columns {COMMENT_COLUMNS} or are listed twice"
        )
    if mapping.segments is None:
        used = {id_pos, text_pos, score_pos, date_pos, customer_pos}
        used.update(pos for _, pos in (*sub_scores, *scores))
        taken = reserved | {name for name, _ in sub_scores} | {s.name for s, _ in scores}
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
        score=score_pos,
        date=date_pos,
        customer_id=customer_pos,
        sub_scores=tuple(sub_scores),  # type: ignore[arg-type]
        segments=tuple(segments),  # type: ignore[arg-type]
        scores=tuple(scores),  # type: ignore[arg-type]
    )
