"""Compare two koe output folders file by file (a run folder, a `koe discover` folder, tags.csv).

    python -m bench.compare_outputs OLD NEW

CSV, JSON-free text and Parquet files must be identical (Parquet: frame-equal, since the
writer's metadata carries a timestamp); XLSX files must hold the same cell values;
``manifest.json`` must be equal except run id, timestamps and timings; ``report.html`` equal
once the run id and its time stamp are masked. Prints each difference; exits 1 if any.
Used to check that a refactoring left koe's outputs unchanged.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pandas as pd
from openpyxl import load_workbook

VOLATILE_MANIFEST_KEYS = {"run_id", "started_at", "finished_at", "timings_s"}
RUN_ID = re.compile(r"\d{8}T\d{6}Z(-\d+)?")
STAMP = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC")


def _xlsx_values(path: Path) -> list[list[list[object]]]:
    book = load_workbook(path, read_only=True)
    return [[list(row) for row in sheet.iter_rows(values_only=True)] for sheet in book]


def _manifest(path: Path) -> dict:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if k not in VOLATILE_MANIFEST_KEYS}


def _report(path: Path) -> str:
    return STAMP.sub("<time>", RUN_ID.sub("<run>", path.read_text(encoding="utf-8")))


def compare_file(old: Path, new: Path) -> str | None:
    """None when the two files count as equal, else what differs."""
    if old.suffix == ".parquet":
        a, b = pd.read_parquet(old), pd.read_parquet(new)
        return None if a.equals(b) else "Parquet frames differ"
    if old.suffix == ".xlsx":
        return None if _xlsx_values(old) == _xlsx_values(new) else "XLSX cell values differ"
    if old.name == "manifest.json":
        a, b = _manifest(old), _manifest(new)
        keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        return None if not keys else f"manifest keys differ: {keys}"
    if old.name == "report.html":
        return None if _report(old) == _report(new) else "report differs"
    return None if old.read_bytes() == new.read_bytes() else "bytes differ"


def compare(old: Path, new: Path) -> list[str]:
    """Every difference between two files or folders (files present in one only included)."""
    if old.is_file():
        problem = compare_file(old, new)
        return [f"{new}: {problem}"] if problem else []
    names_old = {p.relative_to(old) for p in old.rglob("*") if p.is_file()}
    names_new = {p.relative_to(new) for p in new.rglob("*") if p.is_file()}
    problems = [f"only in {old}: {n}" for n in sorted(names_old - names_new)]
    problems += [f"only in {new}: {n}" for n in sorted(names_new - names_old)]
    for name in sorted(names_old & names_new):
        problem = compare_file(old / name, new / name)
        if problem:
            problems.append(f"{name}: {problem}")
    return problems


def main(argv: list[str]) -> int:
    old, new = (Path(a) for a in argv)
    problems = compare(old, new)
    print("\n".join(problems) if problems else f"identical: {old} == {new}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
