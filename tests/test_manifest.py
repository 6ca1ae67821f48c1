"""manifest.json's parts as plain functions: counts, files, the manifest, stage timings, summary."""

from __future__ import annotations

import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from koe.config import KoeConfig
from koe.discovery.discover import DiscoveryResult
from koe.manifest import (
    Timings,
    build_manifest,
    run_counts,
    run_files,
    run_messages,
    summary_markdown,
    timed,
)
from koe.pipeline import AnalysisResult, IngestResult
from koe.store import RunRecord


@dataclass
class Lists:
    """The parts of koe.taggers.lookup_lists.LookupLists the manifest reads."""

    files: tuple[str, ...] = ("support.yaml", "product.yaml")
    sha256: str = "ab" * 32

    def __len__(self) -> int:
        return 12


def ingested() -> IngestResult:
    return IngestResult(
        comments=pd.DataFrame({"id": ["a", "b", "c"]}),
        quarantine=pd.DataFrame({"id": ["x", "y"], "reason": ["empty_text", "empty_text"]}),
        input_rows=5,
        input_path="exports/",
        input_sha256="cd" * 32,
        sub_scores=["q_support"],
        segments=["plan"],
        source_kind="folder",
        files=[("exports/day1.csv", "e" * 64, 3), ("exports/day2.csv", "f" * 64, 2)],
        skipped_files=["exports/day0.csv"],
    )


def discovery(info: dict | None = None) -> DiscoveryResult:
    return DiscoveryResult(
        assignments=pd.DataFrame(),
        themes=pd.DataFrame({"cluster_id": ["cluster_01"]}),
        tags=pd.DataFrame({"id": ["c"]}),
        info=info if info is not None else {"embedding": {"cached": 4}, "message": "few units"},
    )


def analysis() -> AnalysisResult:
    empty = pd.DataFrame()
    return AnalysisResult(
        drivers=empty, regression=empty, segments=empty, trends=empty,
        warnings=pd.DataFrame({"message": ["pricing: 12 mentions this week"]}),
        subscores=empty, nps_trend=empty, segment_drivers=empty, info={"segments": ["plan"]},
    )  # fmt: skip


def test_run_counts_count_rows_and_mentions():
    tagged = pd.DataFrame({"tagged": [True, False, False], "non_answer": [False, True, False]})
    counts = run_counts(
        ingested(), tagged, pd.DataFrame({"id": ["a", "a", "c", "c"]}),
        pd.DataFrame({"id": ["a", "a"]}), discovery(),
    )  # fmt: skip
    assert counts == {
        "input_rows": 5, "accepted": 3, "tagged": 3, "quarantined": 2, "non_answers": 1,
        "tagged_with_theme": 1, "untagged": 1, "sentences": 4, "lookup_mentions": 2, "semantic_mentions": 0,
        "cluster_mentions": 1, "emergent_themes": 1,
    }  # fmt: skip


def test_run_files_list_tables_report_manifest_and_routed_lists():
    files = run_files(["tags.csv"], {"support": 3, "product": 1}, {"follow_up": 1, "thank_you": 2})
    assert files == [
        "tags.csv", "report.html", "manifest.json",
        "routed/product.csv", "routed/product.xlsx", "routed/support.csv", "routed/support.xlsx",
        "routed/follow_up.csv", "routed/follow_up.xlsx", "routed/thank_you.csv",
        "routed/thank_you.xlsx",
    ]  # fmt: skip


def test_run_messages_keep_discoverys_message_only_when_it_left_one():
    assert run_messages({"message": "few units"}) == ["few units"]
    assert run_messages({"message": ""}) == [] == run_messages({})


def test_build_manifest_gathers_every_stage_result():
    started = datetime(2026, 12, 5, 21, 21, 40, tzinfo=UTC)
    manifest = build_manifest(
        run=RunRecord("20261205T212140Z", started), config=KoeConfig(seed=7),
        ingested=ingested(), counts={"input_rows": 5}, seen={"new": 3, "changed": 0},
        tag_stats={"tokenized": 2, "cached": 1, "copies": 0}, embedded=9, lists=Lists(),
        discovery=discovery(), analysis=analysis(), window=None, routed={"support": 3},
        close_the_loop={"follow_up": 1, "thank_you": 3}, tables=["tags.csv"],
        timings={"ingest": 0.5}, finished=datetime(2026, 12, 5, 21, 30, tzinfo=UTC),
    )  # fmt: skip
    assert manifest["run_id"] == "20261205T212140Z"
    assert manifest["started_at"] == "2026-12-05T21:21:40+00:00"
    assert manifest["finished_at"] == "2026-12-05T21:30:00+00:00"
    assert manifest["input"] == {
        "path": "exports/", "sha256": "cd" * 32, "kind": "folder",
        "files": ["exports/day1.csv", "exports/day2.csv"], "skipped_files": 1,
    }  # fmt: skip
    assert manifest["quarantine_by_reason"] == {"empty_text": 2}
    assert manifest["incremental"] == {
        "tokenized": 2, "tag_cache_hits": 1, "tag_copies": 0, "embedded": 9,
        "embedding_cache_hits": 4,
    }  # fmt: skip
    assert manifest["lookup_lists"] == {
        "folder": str(KoeConfig().lookup_lists), "files": ["support.yaml", "product.yaml"],
        "sha256": "ab" * 32, "themes": 12,
    }  # fmt: skip
    assert manifest["early_warnings"] == ["pricing: 12 mentions this week"]
    assert manifest["analysis"] == {"segments": ["plan"]}
    assert (manifest["segments"], manifest["sub_scores"], manifest["seed"]) == (
        ["plan"], ["q_support"], 7,
    )  # fmt: skip
    assert manifest["files"][:3] == ["tags.csv", "report.html", "manifest.json"]
    assert manifest["files"][-1] == "routed/thank_you.xlsx"
    assert manifest["messages"] == ["few units"]
    assert manifest["timings_s"] == {"ingest": 0.5}
    assert manifest["versions"]["python"] == platform.python_version()
    assert list(manifest)[-3:] == ["versions", "files", "messages"]


def test_timed_functions_record_into_the_entered_timings_only():
    double = timed("double", lambda x: 2 * x)
    fail = timed("fail", lambda: 1 / 0)
    assert double(2) == 4  # outside a Timings: nothing to record into
    with Timings() as timings:
        assert double(3) == 6
        with pytest.raises(ZeroDivisionError):
            fail()
        timed("second", str)(1)
    double(4)
    assert list(timings.seconds) == ["double", "second"]
    assert all(isinstance(s, float) and s >= 0 for s in timings.seconds.values())


def test_the_summary_is_a_markdown_table_of_counts():
    text = summary_markdown("20261205T212140Z", {"accepted": 3, "quarantined": 2}, Path("runs/x"))
    assert text == (
        "# koe run 20261205T212140Z\n\n| | |\n|---|---|\n| accepted | 3 |\n| quarantined | 2 |\n"
        "\nOutputs: `runs/x`\n"
    )
