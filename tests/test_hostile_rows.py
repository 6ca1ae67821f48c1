"""10,000 hostile rows (tests/hostile.py) through the real ``koe run`` and ``koe tag``.

No crash; every input row is accepted or in the quarantine file with a reason; the manifest's
counts close; every CSV written reads back with the same rows in Python's csv module and in an
Excel-like reader (a row ends at any CR or LF outside quotes); no cell starts a live formula.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from koe.cli import app
from koe.ingest import QUARANTINE_REASONS

from .hostile import hostile_rows

pytestmark = pytest.mark.slow

# 625 rows of each kind: undecodable (bytes, surrogates), malformed (unbalanced quote, an extra
# field, a stray quote after a quoted field)
EXPECTED_UNREADABLE = {"undecodable_row": 1250, "malformed_row": 1875}
LIVE_FORMULA = re.compile(r"(?:^|[\r\n])[=+\-@\t]")
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e-?\d+)?")


def excel_row_count(text: str) -> int:
    """Rows as a spreadsheet counts them: a row ends at CR, LF or CRLF outside quotes."""
    rows, quoted, i = 0, False, 0
    while i < len(text):
        char = text[i]
        if char == '"':
            quoted = not quoted
        elif char in "\r\n" and not quoted:
            rows += 1
            if char == "\r" and text[i + 1 : i + 2] == "\n":
                i += 1
        i += 1
    return rows + (1 if text and text[-1] not in "\r\n" else 0)


def read_back(path: Path) -> list[list[str]]:
    """The CSV's records (header included), checked against the Excel-like count."""
    text = path.read_text(encoding="utf-8-sig")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        records = list(csv.reader(handle, strict=True))
    assert excel_row_count(text) == len(records), f"{path.name}: phantom rows"
    return records


def assert_no_live_formula(path: Path, records: list[list[str]]) -> None:
    for record in records[1:]:
        for cell in record:
            if NUMBER.fullmatch(cell):
                continue
            assert not LIVE_FORMULA.search(cell), f"{path.name}: live formula {cell[:40]!r}"


@pytest.fixture(scope="module")
def hostile_file(tmp_path_factory) -> tuple[Path, int]:
    data, records = hostile_rows(10_000)
    path = tmp_path_factory.mktemp("hostile") / "hostile.csv"
    path.write_bytes(data)
    return path, records


def test_hostile_rows_through_koe_run(prefect_harness, hostile_file, tmp_path):
    path, records = hostile_file
    result = CliRunner().invoke(
        app, ["run", "--input", str(path), "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    (folder,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    counts = manifest["counts"]
    assert counts["input_rows"] == records == 10_000
    assert counts["accepted"] + counts["quarantined"] == records
    assert len(pd.read_parquet(folder / "tagged.parquet")) == counts["accepted"] > 3_000
    reasons = manifest["quarantine_by_reason"]
    assert {r: reasons[r] for r in EXPECTED_UNREADABLE} == EXPECTED_UNREADABLE
    assert set(reasons) <= set(QUARANTINE_REASONS)

    quarantine = read_back(folder / "quarantine.csv")
    assert quarantine[0][:5] == ["source_row", "id", "reason", "detail", "text"]
    assert len(quarantine) - 1 == counts["quarantined"]
    assert all(row[2] in QUARANTINE_REASONS and row[3] for row in quarantine[1:])
    assert sum(row[2] == "malformed_row" and row[3].startswith("line ") for row in quarantine) == (
        EXPECTED_UNREADABLE["malformed_row"]
    )
    written = sorted(folder.rglob("*.csv"))
    assert len(written) >= 15
    for csv_path in written:
        records_back = read_back(csv_path)
        assert_no_live_formula(csv_path, records_back)
    tags = pd.read_csv(folder / "tags.csv", dtype=str, keep_default_na=False)
    assert len(read_back(folder / "tags.csv")) - 1 == len(tags)


def test_hostile_rows_through_koe_tag(hostile_file, tmp_path):
    path, records = hostile_file
    out = tmp_path / "tags.csv"
    result = CliRunner().invoke(
        app,
        ["tag", "--input", str(path), "--out", str(out), "--chunk-rows", "3000"],
    )
    assert result.exit_code == 0, result.output
    quarantine = read_back(tmp_path / "tags.quarantine.csv")
    by_reason = pd.Series([row[2] for row in quarantine[1:]]).value_counts().to_dict()
    assert {r: by_reason[r] for r in EXPECTED_UNREADABLE} == EXPECTED_UNREADABLE
    assert set(by_reason) <= set(QUARANTINE_REASONS)
    assert "score" not in " ".join(by_reason)  # koe tag does not need a score
    accepted = records - (len(quarantine) - 1)
    assert f"{records} comments" in result.output
    assert f"{len(quarantine) - 1} rows quarantined" in result.output
    tags = read_back(out)
    assert_no_live_formula(out, tags)
    tagged_ids = {row[0] for row in tags[1:]}
    assert len(tagged_ids) <= accepted
    # one id rule: stripped (U+3000 too), never empty, no control characters
    assert all(i and i == i.strip() and not re.search("[\x00-\x1f]", i) for i in tagged_ids)
