"""A run folder's tables and report written from the stages' results, without Prefect."""

from __future__ import annotations

import pandas as pd

from koe.analysis.drivers import compute_drivers
from koe.analysis.segments import segment_table
from koe.analysis.trends import early_warnings, theme_trends
from koe.config import KoeConfig
from koe.discovery.discover import DiscoveryResult
from koe.outputs import clusters_table
from koe.pipeline import AnalysisResult, IngestResult, write_report, write_run_tables
from koe.report import external_references

from .report_data import EMERGENT, survey

ASSIGNMENTS = pd.DataFrame(
    {
        "id": ["R0001", "R0002"], "sentence_idx": [0, 0], "cluster_id": ["", "cluster_01"],
        "cluster_label": ["", "ログイン・エラー"], "similarity": [0.0, 0.91],
        "text": ["料金が高い。", "ログインできない"], "start": [0, 0],
    }
)  # fmt: skip


def stage_results() -> tuple[IngestResult, pd.DataFrame, DiscoveryResult, AnalysisResult]:
    comments, tags = survey(n=60, spike=0)
    ingested = IngestResult(
        comments=comments, quarantine=pd.DataFrame({"reason": ["invalid_score"], "id": ["X1"]}),
        input_rows=len(comments) + 1, input_path="exports/", input_sha256="", sub_scores=[],
        segments=["plan"],
    )  # fmt: skip
    discovery = DiscoveryResult(
        assignments=ASSIGNMENTS, themes=EMERGENT, tags=tags.iloc[0:0], info={"message": "few units"}
    )
    empty = pd.DataFrame()
    analysis = AnalysisResult(
        drivers=compute_drivers(comments, tags, n_boot=20, seed=0, min_mentions=5),
        regression=pd.DataFrame(columns=["target"]),
        segments=segment_table(comments, ["plan"], min_n=5),
        trends=empty,
        warnings=early_warnings(theme_trends(comments, tags, period="W", trailing=4, z=2.0)),
        subscores=empty, nps_trend=empty, segment_drivers=empty,
    )  # fmt: skip
    return ingested, tags, discovery, analysis


def test_clusters_table_keeps_its_columns_and_marks_units_without_a_cluster():
    table = clusters_table(ASSIGNMENTS)
    assert list(table.columns) == [
        "id", "sentence_idx", "cluster_id", "cluster_label", "similarity", "text"]  # fmt: skip
    assert table["cluster_id"].tolist() == ["-1", "cluster_01"]


def test_write_run_tables_writes_every_table_and_returns_the_tagged_comments(tmp_path):
    ingested, tags, discovery, analysis = stage_results()
    files, tagged = write_run_tables(
        tmp_path, ingested, tags, discovery, analysis, analysis.drivers
    )
    assert files == [
        "tagged.parquet", "quarantine.csv", "tags.csv", "drivers.csv", "regression.csv",
        "segments.csv", "trends.csv", "subscores.csv", "nps_trend.csv", "segment_drivers.csv",
        "emergent_themes.csv", "clusters.csv",
    ]  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(files)
    assert len(tagged) == 60 and tagged["tagged"].sum() == 50  # the 10 「特に問題ありません。」
    assert pd.read_parquet(tmp_path / "tagged.parquet")["id"].tolist() == tagged["id"].tolist()
    clusters = pd.read_csv(tmp_path / "clusters.csv", dtype={"cluster_id": str})
    assert clusters["cluster_id"].tolist() == ["-1", "cluster_01"]
    assert "start" not in clusters
    drivers = pd.read_csv(tmp_path / "drivers.csv")
    assert len(drivers) == len(analysis.drivers)


def test_write_report_renders_the_stage_results_into_one_offline_page(tmp_path):
    ingested, tags, discovery, analysis = stage_results()
    path = tmp_path / "report.html"
    write_report(
        path, run_id="20261101T000000Z", ingested=ingested, tags=tags,
        driver_table=analysis.drivers, discovery=discovery, analysis=analysis,
        routed_counts={"support": 20}, loop_counts={"follow_up": 4, "thank_you": 60},
        counts={"input_rows": 61, "accepted": 60, "quarantined": 1, "tagged_with_theme": 50},
        config=KoeConfig(),
    )  # fmt: skip
    page = path.read_text(encoding="utf-8")
    assert "20261101T000000Z" in page and "exports/" in page
    assert '<div class="warn"><div>few units</div></div>' in page
    assert 'href="routed/support.csv"' in page and 'href="routed/follow_up.csv"' in page
    assert external_references(page) == []
