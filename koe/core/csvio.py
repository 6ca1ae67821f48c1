"""CSV writing: every CSV koe writes goes through :func:`write_csv`.

Excel and LibreOffice end a row at CR, LF or CRLF outside quotes, so any field holding one of
them must be quoted; Python's csv writer with LF row ends quotes a field with LF but not one
with a lone CR, and an id like ``C1\\r=cmd|' /C calc'!A0`` would become a row of its own
starting with a live formula.
"""

from __future__ import annotations

import os
from typing import Any, TextIO

import pandas as pd


def _has_cr(frame: pd.DataFrame) -> bool:
    """Whether a header or text cell of ``frame`` holds a carriage return."""
    if any(isinstance(name, str) and "\r" in name for name in frame.columns):
        return True
    for _, column in frame.items():
        if isinstance(column.dtype, pd.CategoricalDtype):
            column = pd.Series(column.cat.categories)
        if column.dtype == object or pd.api.types.is_string_dtype(column):
            if column.astype(object).map(lambda v: isinstance(v, str) and "\r" in v).any():
                return True
    return False


def _lf_row_ends(text: str) -> str:
    """CSV text with CRLF row ends turned into LF; CRLF inside quoted fields is kept.

    Splitting on the quote character alternates outside / inside a quoted field (an escaped
    quote ``""`` only adds an empty piece), so the even pieces are the text outside quotes.
    """
    pieces = text.split('"')
    pieces[::2] = [piece.replace("\r\n", "\n") for piece in pieces[::2]]
    return '"'.join(pieces)


def write_csv(
    frame: pd.DataFrame,
    target: str | os.PathLike[str] | TextIO,
    *,
    bom: bool = False,
    header: bool = True,
) -> None:
    """Write ``frame`` as CSV (comma, LF row ends, no index) to a path or an open text handle.

    Every CSV koe writes goes through here. A field holding a comma, a quote, a CR or an LF is
    quoted: Python's csv writer with LF row ends leaves a lone CR unquoted, and Excel and
    LibreOffice start a new row there. A frame without any CR is written by the plain pandas
    call (the bytes of earlier runs); one with a CR is written with CRLF row ends, so every
    field with CR or LF is quoted, and its row ends are then turned back into LF.

    Args:
        frame: the table; its values are formatted as ``DataFrame.to_csv`` does.
        target: a file path (written in UTF-8, with a BOM if ``bom``) or a text handle opened
            with ``newline=""`` (its own encoding; ``bom`` is ignored).
        header: write the header row.
    """
    options: dict[str, Any] = {"index": False, "header": header}
    is_path = isinstance(target, (str, os.PathLike))
    if not _has_cr(frame):
        if is_path:
            options["encoding"] = "utf-8-sig" if bom else "utf-8"
        frame.to_csv(target, lineterminator="\n", **options)
        return
    text = _lf_row_ends(frame.to_csv(None, lineterminator="\r\n", **options))
    if is_path:
        with open(target, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
            handle.write(text)
    else:
        target.write(text)
