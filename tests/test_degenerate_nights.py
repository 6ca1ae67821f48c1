"""Nights with nothing to analyse still end well: a run folder, closing counts, exit 0.

A header-only file, a file whose every row is quarantined and a file whose only accepted
comment gets no tag each run the real nightly flow (Prefect, Sudachi, the default embedder).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from koe.cli import app

pytestmark = pytest.mark.slow

HEADER = "id,customer_id,date,score,text\n"
NIGHTS = {
    "header_only": HEADER,
    "all_quarantined": HEADER + "R1,C1,2026-09-07,11,点数が範囲外\nR2,C1,2026-09-07,5,\n",
    "single_untagged": HEADER + "R1,C1,2026-09-07,8,あいうえお\n",
    "only_non_answers": HEADER + "R1,C1,2026-09-07,8,特になし\nR2,C2,2026-09-07,3,なし\n",
}
EXPECTED = {  # (input_rows, quarantined, tagged, quarantine reasons)
    "header_only": (0, 0, 0, {}),
    "all_quarantined": (2, 2, 0, {"score_out_of_range": 1, "empty_text": 1}),
    "single_untagged": (1, 0, 1, {}),
    "only_non_answers": (2, 0, 2, {}),
}


@pytest.fixture(scope="module")
def nights(prefect_harness, tmp_path_factory):
    root = tmp_path_factory.mktemp("nights")
    runner = CliRunner()
    results = {}
    for name, content in NIGHTS.items():
        path = root / f"{name}.csv"
        path.write_text(content, encoding="utf-8")
        result = runner.invoke(app, ["run", "--input", str(path), "--out", str(root / name)])
        results[name] = result
    return root, results


@pytest.mark.parametrize("name", list(NIGHTS))
def test_degenerate_night_writes_a_complete_run_folder(nights, name):
    root, results = nights
    result = results[name]
    assert result.exit_code == 0, result.output
    folder = root / name / result.output.split("finished: ")[1].split()[0].split("/")[-1]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    counts = manifest["counts"]
    input_rows, quarantined, tagged, reasons = EXPECTED[name]
    assert (counts["input_rows"], counts["quarantined"], counts["tagged"]) == (
        input_rows, quarantined, tagged,
    )  # fmt: skip
    assert counts["input_rows"] == counts["tagged"] + counts["quarantined"]
    assert manifest["quarantine_by_reason"] == reasons
    quarantine = pd.read_csv(folder / "quarantine.csv")
    assert len(quarantine) == quarantined
    assert list(quarantine.columns[:5]) == ["source_row", "id", "reason", "detail", "text"]
    assert len(pd.read_parquet(folder / "tagged.parquet")) == tagged
    for routed in ("support.csv", "follow_up.csv", "thank_you.csv"):
        assert (folder / "routed" / routed).is_file()
    report = (folder / "report.html").read_text(encoding="utf-8")
    assert f"{input_rows}" in report
    if tagged == 0:
        assert "no comments to analyse" in report
