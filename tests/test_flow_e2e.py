"""End to end: `koe run` as a real Prefect flow run on a small fixture, with every output."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from koe.analysis.drivers import DRIVER_COLUMNS
from koe.cli import app
from koe.report import external_references
from koe.store import RunStore

from .conftest import FIXTURES

pytestmark = pytest.mark.slow

EXPECTED_FILES = [
    "tagged.parquet", "tags.csv", "drivers.csv", "report.html", "quarantine.csv",
    "regression.csv", "segments.csv", "trends.csv", "subscores.csv",
    "manifest.json", "emergent_themes.csv", "clusters.csv",
    "routed/support.csv", "routed/marketing.csv", "routed/product.csv", "routed/triage.csv",
    "routed/support.xlsx", "routed/follow_up.csv", "routed/follow_up.xlsx",
    "routed/thank_you.csv", "routed/thank_you.xlsx",
]  # fmt: skip


@pytest.fixture(scope="module")
def two_runs(prefect_harness, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    runner = CliRunner()
    folders = []
    for _ in range(2):
        result = runner.invoke(
            app, ["run", "--input", str(FIXTURES / "mini_survey.csv"), "--out", str(out)]
        )
        assert result.exit_code == 0, result.output
        folders.append(out / result.output.split("finished: ")[1].split()[0].split("/")[-1])
    return folders


def test_run_writes_every_file_and_accounts_for_every_row(two_runs):
    folder = two_runs[0]
    for name in EXPECTED_FILES:
        assert (folder / name).is_file(), name
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    counts = manifest["counts"]
    assert counts["input_rows"] == 30
    assert counts["quarantined"] == 2
    assert counts["tagged"] == 28
    assert counts["input_rows"] == counts["tagged"] + counts["quarantined"]
    assert manifest["quarantine_by_reason"] == {"empty_text": 1, "invalid_score": 1}
    assert manifest["embedding_model"] == "koe-default"
    assert set(manifest["timings_s"]) >= {"ingest", "lookup_tag", "embed_and_cluster", "analysis"}


def test_tags_follow_the_contract_and_catch_the_key_cases(two_runs):
    tags = pd.read_csv(two_runs[0] / "tags.csv")
    assert list(tags.columns[:6]) == ["id", "theme", "department", "polarity", "source", "evidence"]
    assert set(tags["source"]) <= {"lookup", "semantic", "cluster"}
    assert tags["confidence"].between(0, 1).all() and (tags.loc[tags["source"] == "lookup",
                                                               "confidence"] == 1).all()  # fmt: skip
    lookup = tags[tags["source"] == "lookup"].set_index(["id", "theme"])
    # 「問合せの返信が遅い。」: the support-response theme via the normalized form, negative
    assert lookup.loc[("M01", "support_response_speed"), "polarity"] == "negative"
    # 「説明は丁寧だが、返信が遅い。」: two themes, opposite polarity
    m02 = tags[(tags["id"] == "M02") & (tags["source"] == "lookup")]
    assert set(m02["polarity"]) >= {"positive", "negative"}
    # 「レスポンスは遅くないし、不満はないです。」: not a complaint
    assert lookup.loc[("M03", "support_response_speed"), "polarity"] != "negative"
    quarantine = pd.read_csv(two_runs[0] / "quarantine.csv", encoding="utf-8-sig")
    assert sorted(quarantine["id"]) == ["M06", "M11"]


def test_tagged_parquet_has_one_row_per_accepted_comment(two_runs):
    tagged = pd.read_parquet(two_runs[0] / "tagged.parquet")
    assert len(tagged) == 28 and tagged["id"].is_unique
    row = tagged.set_index("id").loc["M01"]
    assert "support_response_speed" in list(row["themes"])
    assert "support" in list(row["departments"])
    assert bool(tagged.set_index("id").loc["M10", "non_answer"]) is True
    # comment sentiment beside the themes: 「問合せの返信が遅い。」 is negative, the non-answer neutral
    assert row["sentiment"] == "negative" and row["sentiment_score"] == -1.0
    assert tagged.set_index("id").loc["M10", "sentiment"] == "neutral"
    assert set(tagged["sentiment"]) <= {"positive", "neutral", "negative"}


def test_every_stage_is_timed_and_the_run_recorded_completed(two_runs):
    manifest = json.loads((two_runs[0] / "manifest.json").read_text(encoding="utf-8"))
    assert list(manifest["timings_s"]) == [
        "ingest", "split_sentences", "lookup_tag", "semantic_tag", "sentiment", "embed_and_cluster",
        "analysis",
        "route", "write_routed", "close_the_loop", "write_close_the_loop", "write_tables", "report",
    ]  # fmt: skip
    store = RunStore(f"sqlite:///{two_runs[0].parent / 'koe_state.sqlite'}")
    assert [r["status"] for r in store.runs()] == ["completed", "completed"]
    assert json.loads(store.runs()[0]["manifest"])["run_id"] == two_runs[0].name
    assert store.lock_holder() is None


def test_report_is_self_contained_html(two_runs):
    html = (two_runs[0] / "report.html").read_text(encoding="utf-8")
    assert "顧客の声" in html and "<table>" in html
    # plotly.js is inlined once (its code names URLs it never loads); no element loads anything
    assert external_references(html) == [] and html.count("* plotly.js (basic - minified) v") == 1


def test_an_nps_only_config_gets_nps_drivers_and_no_journey_tables(two_runs):
    drivers = pd.read_csv(two_runs[0] / "drivers.csv")
    assert list(drivers.columns) == [*DRIVER_COLUMNS, "metric"] and len(drivers) > 10
    assert set(drivers["metric"]) == {"nps"}
    for name in ("journey.csv", "journey_comparisons.csv", "churn_risk.csv"):
        assert not (two_runs[0] / name).exists()


def test_seeded_rerun_gives_identical_tags_clusters_and_drivers(two_runs):
    first, second = two_runs
    assert first != second
    for name in ("tags.csv", "clusters.csv", "emergent_themes.csv", "drivers.csv",
                 "routed/support.csv"):  # fmt: skip
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    manifest = json.loads((second / "manifest.json").read_text(encoding="utf-8"))
    # the second run re-encodes nothing: every embedding comes from the run-state cache
    assert manifest["discovery"]["embedding"]["encoded"] == 0


def test_run_on_a_cp932_export_with_japanese_headers_via_flags(prefect_harness, tmp_path):
    mini = pd.read_csv(FIXTURES / "mini_survey.csv", dtype=str, keep_default_na=False)
    export = mini.rename(columns={"id": "回答ID", "text": "コメント", "score": "推奨度",
                                  "date": "回答日"})  # fmt: skip
    path = tmp_path / "export.csv"
    export.to_csv(path, index=False, encoding="cp932", errors="replace")  # emoji -> ?
    result = CliRunner().invoke(
        app,
        ["run", "--input", str(path), "--out", str(tmp_path / "runs"), "--id-col", "回答ID",
         "--text-col", "コメント", "--score-col", "推奨度", "--date-col", "回答日"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    folder = tmp_path / "runs" / result.output.split("finished: ")[1].split()[0].split("/")[-1]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["counts"]["tagged"] == 28 and manifest["counts"]["quarantined"] == 2
    tags = pd.read_csv(folder / "tags.csv")
    assert "support_response_speed" in set(tags[tags["id"] == "M01"]["theme"])


def test_koe_tag_gives_the_theme_tags_of_koe_run(two_runs, tmp_path):
    """The semantic layer learns from the whole input it is given: koe tag on the rows koe run
    accepted gives koe run's theme tags (lookup and semantic, same polarity and confidence)."""
    folder = two_runs[0]
    quarantined = set(pd.read_csv(folder / "quarantine.csv", dtype=str)["id"])
    rows = pd.read_csv(FIXTURES / "mini_survey.csv", dtype=str)
    rows[~rows["id"].isin(quarantined)].to_csv(tmp_path / "accepted.csv", index=False)
    result = CliRunner().invoke(
        app, ["tag", "--input", str(tmp_path / "accepted.csv"), "--out", str(tmp_path / "t.csv")]
    )
    assert result.exit_code == 0, result.output
    columns = ["id", "theme", "polarity", "source", "confidence"]
    run_tags = pd.read_csv(folder / "tags.csv", dtype=str)
    run_tags = run_tags[run_tags["source"] != "cluster"][columns].reset_index(drop=True)
    tag_tags = pd.read_csv(tmp_path / "t.csv", dtype=str)[columns]
    assert len(run_tags) > 0 and set(run_tags["source"]) <= {"lookup", "semantic"}
    pd.testing.assert_frame_equal(tag_tags, run_tags)
