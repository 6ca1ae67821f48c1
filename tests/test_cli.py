"""The CLI contract: koe tag, koe lists check/show, and clear errors instead of tracebacks."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from koe.cli import app

from .conftest import FIXTURES

runner = CliRunner()


def test_help_lists_the_contract_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("run", "tag", "lists"):
        assert command in result.output
    for command in ("run", "tag"):
        sub = runner.invoke(app, [command, "--help"])
        assert sub.exit_code == 0 and "--input" in sub.output


def test_tag_writes_long_format_tags_csv(tmp_path):
    out = tmp_path / "tags.csv"
    result = runner.invoke(
        app, ["tag", "--input", str(FIXTURES / "mini_survey.csv"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    tags = pd.read_csv(out)
    assert list(tags.columns[:6]) == ["id", "theme", "department", "polarity", "source", "evidence"]
    assert set(tags["source"]) == {"lookup", "semantic"}  # the semantic layer is on by default
    assert (tags.loc[tags["source"] == "lookup", "confidence"] == 1.0).all()
    row = tags[(tags["id"] == "M01") & (tags["theme"] == "support_response_speed")].iloc[0]
    assert row["department"] == "support" and row["polarity"] == "negative"
    assert row["evidence"] == "返信"
    assert not tags.duplicated(["id", "theme"]).any()


def test_tag_streams_in_chunks_with_the_same_tags(tmp_path):  # Shift_JIS, a repeated id
    raw = pd.read_csv(FIXTURES / "mini_survey.csv", dtype=str, keep_default_na=False)
    raw = pd.concat([raw, raw.iloc[[0]]], ignore_index=True)  # a repeated id and text
    sjis = tmp_path / "survey.csv"
    raw.to_csv(sjis, index=False, encoding="cp932", errors="replace")
    whole, chunked = tmp_path / "whole.csv", tmp_path / "chunked.csv"
    for out, size in ((whole, "100000"), (chunked, "3")):
        result = runner.invoke(
            app, ["tag", "--input", str(sjis), "--out", str(out), "--chunk-rows", size]
        )
        assert result.exit_code == 0, result.output
        assert result.output.startswith(f"{len(raw)} comments")
    a, b = pd.read_csv(whole), pd.read_csv(chunked)
    pd.testing.assert_frame_equal(a, b)
    assert "(1 rows skipped: repeated id, the first row wins)" in result.output
    single = tmp_path / "single.csv"  # without the repeated row: the same tags
    raw.iloc[:-1].to_csv(tmp_path / "once.csv", index=False)
    runner.invoke(app, ["tag", "--input", str(tmp_path / "once.csv"), "--out", str(single)])
    pd.testing.assert_frame_equal(pd.read_csv(single), a)
    assert not list(tmp_path.glob(".*.partial"))


def test_tag_in_worker_processes_gives_the_same_tags(tmp_path):
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    survey = str(FIXTURES / "mini_survey.csv")
    for out, workers in ((one, "1"), (two, "2")):
        result = runner.invoke(
            app,
            ["tag", "--input", survey, "--out", str(out), "--chunk-rows", "4",
             "--workers", workers],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    pd.testing.assert_frame_equal(pd.read_csv(one), pd.read_csv(two))
    assert len(pd.read_csv(one)) > 20


def test_tag_with_workers_and_bad_lists_is_a_clear_error(tmp_path):
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "bad.yaml").write_text("themes:\n  - id: [\n", encoding="utf-8")
    result = runner.invoke(
        app,
        ["tag", "--input", str(FIXTURES / "mini_survey.csv"), "--out", str(tmp_path / "t.csv"),
         "--lookup-lists", str(lists), "--workers", "2"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "bad.yaml" in result.output


def test_tag_quarantines_a_ragged_row_in_a_later_chunk(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,text\n1,返信が遅い\n2,速い\n3,遅い,extra\n4,高い\n", encoding="utf-8")
    out = tmp_path / "t.csv"
    result = runner.invoke(
        app, ["tag", "--input", str(bad), "--out", str(out), "--chunk-rows", "1"]
    )
    assert result.exit_code == 0, result.output
    assert "4 comments" in result.output and "1 rows quarantined (1 malformed_row)" in result.output
    quarantine = pd.read_csv(tmp_path / "t.quarantine.csv", dtype=str, encoding="utf-8-sig")
    rows = quarantine[["source_row", "id", "reason"]].to_numpy().tolist()
    assert rows == [["3", "3", "malformed_row"]]
    assert quarantine["detail"].iloc[0] == "line 4: 3 fields where the header has 2"
    assert quarantine["text"].iloc[0] == "3,遅い,extra"
    assert set(pd.read_csv(out, dtype=str)["id"]) <= {"1", "2", "4"}
    assert not list(tmp_path.glob(".*.partial"))


def test_tag_missing_column_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("no,comment\n1,返信が遅い\n", encoding="utf-8")
    result = runner.invoke(app, ["tag", "--input", str(bad), "--out", str(tmp_path / "t.csv")])
    assert result.exit_code == 2
    assert "missing column(s) ['id', 'text']" in result.output


def test_lists_check_runs_every_example():
    result = runner.invoke(app, ["lists", "check"])
    assert result.exit_code == 0, result.output
    assert "examples pass" in result.output


def test_lists_show_prints_normalized_keywords():
    result = runner.invoke(app, ["lists", "show", "support_response_speed"])
    assert result.exit_code == 0, result.output
    assert "support_response_speed" in result.output and "->" in result.output


def test_run_with_a_bad_config_fails_before_prefect_starts(tmp_path):
    config = tmp_path / "koe.yaml"
    config.write_text("lookup_lists: nowhere\n", encoding="utf-8")
    result = runner.invoke(app, ["run", "--config", str(config)])
    assert result.exit_code == 2
    assert "lookup-list folder not found" in result.output
