"""The review loop: `koe themes accept / merge / rename` edit lookup lists safely, and the next
run's lookup tagging picks an accepted theme up."""

from __future__ import annotations

import difflib
import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from koe import pipeline
from koe.cli import app
from koe.config import load_config
from koe.discovery import write_discovery
from koe.taggers.lookup_lists import load_lookup_lists
from koe.themes import ThemeEditError, accept_cluster, merge_cluster, rename_theme

from .conftest import LOOKUP_LISTS

PARKING = ["駐車場が狭い。", "駐車場が少なくて停められなかった。", "駐車場が満車だった。",
           "駐車場の台数を増やしてほしい。", "駐車場代が高い。", "駐車場が遠かった。"]  # fmt: skip
OTHER = ["サポートの返信が遅い。", "レポートの表示が速くて助かる。", "料金が高い。"]


@pytest.fixture
def lists(tmp_path):
    folder = tmp_path / "lists"
    shutil.copytree(LOOKUP_LISTS, folder)
    return folder


def comments_of(texts: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"id": [f"c{i}" for i in range(len(texts))], "text": texts,
                         "score": [3] * len(texts), "non_answer": False})  # fmt: skip


def discover_run(texts: list[str], lists, run_folder):
    """The tagging and discovery stages of a run; writes the run's emergent_themes.csv."""
    config = load_config(None, lookup_lists=lists)
    comments = comments_of(texts)
    sentences = pipeline.sentences_of(comments)
    tags, tagger = pipeline.lookup_tag(sentences, lists)
    found = pipeline.discover(sentences, tags, comments, config, None, tagger)
    write_discovery(run_folder, found.assignments, found.themes)
    return tags, found


def test_accepted_theme_is_tagged_by_the_next_run(lists, tmp_path):
    run = tmp_path / "runs" / "20261101T020000Z"
    tags, found = discover_run(PARKING + OTHER, lists, run)
    assert not tags["theme"].str.contains("parking").any()
    parking = found.assignments.set_index("text").loc[PARKING[0], "cluster_id"]
    edit = accept_cluster(parking, "parking", run=run, lists=lists, department="product",
                          name="駐車場")  # fmt: skip
    assert edit.created_file and edit.path == lists / "accepted.yaml"
    assert "駐車場" in edit.keywords_added
    theme = load_lookup_lists(lists).themes["parking"]  # the strict loader accepts the file
    assert (theme.name_ja, theme.department) == ("駐車場", "product")
    assert set(theme.examples_match) <= set(PARKING) and theme.examples_match
    # next night: the new theme tags every parking comment, and discovery no longer sees them
    tags, found = discover_run(PARKING + OTHER, lists, tmp_path / "runs" / "next")
    tagged = set(tags.loc[tags["theme"] == "parking", "id"])
    assert tagged == {f"c{i}" for i in range(len(PARKING))}
    assert not set(found.assignments["text"]) & set(PARKING)
    # a second accept appends to the same file, keeping the first theme
    with pytest.raises(ThemeEditError, match="already exists"):
        accept_cluster(parking, "parking", run=run, lists=lists)


def test_merge_and_rename_keep_the_analysts_comments_and_layout(lists, tmp_path):
    run = tmp_path / "run"
    write_discovery(
        run, pd.DataFrame(),
        pd.DataFrame({"cluster_id": ["cluster_01"], "label": ["チャット・窓口"],
                      "keywords": ["チャット, 窓口, 電話"], "catch_keywords": ["チャット窓口, 窓口"],
                      "representatives": [""]}),
    )  # fmt: skip
    before = (lists / "saas.yaml").read_text(encoding="utf-8")
    edit = merge_cluster("cluster_01", "support_general", run=run, lists=lists)
    assert edit.keywords_added == ["チャット窓口", "窓口"]
    rename_theme("support_general", "サポート全体", lists=lists)
    after = (lists / "saas.yaml").read_text(encoding="utf-8")
    changed = [line for line in difflib.ndiff(before.splitlines(), after.splitlines())
               if line[:1] in "+-"]  # fmt: skip
    assert changed == [
        "-     name: {ja: サポート全般, en: Support overall}",
        "+     name: {ja: サポート全体, en: Support overall}",
        "+       - チャット窓口",
        "+       - 窓口",
    ]
    theme = load_lookup_lists(lists).themes["support_general"]
    assert theme.name_ja == "サポート全体" and theme.keywords[-2:] == ("チャット窓口", "窓口")
    with pytest.raises(ThemeEditError, match="already has every keyword"):
        merge_cluster("cluster_01", "support_general", run=run, lists=lists)


def test_an_invalid_change_leaves_the_lists_untouched(lists, tmp_path):
    run = tmp_path / "run"
    write_discovery(run, pd.DataFrame(), pd.DataFrame(
        {"cluster_id": ["cluster_01"], "label": ["駐車場"], "keywords": ["駐車場"],
         "catch_keywords": ["駐車場"], "representatives": ["駐車場が狭い。"]}))  # fmt: skip
    files = {p.name: p.read_bytes() for p in lists.iterdir()}
    runner = CliRunner()
    for args, message in [
        (["accept", "cluster_01", "--as", "parking", "--department", "nope"], "unknown department"),
        (["accept", "cluster_01", "--as", "Parking!"], "ASCII slug"),
        (["accept", "cluster_09", "--as", "parking"], "not in"),
        (["accept", "cluster_01", "--as", "parking", "--parent", "missing"], "parent 'missing'"),
        (["merge", "cluster_01", "--into", "no_such_theme"], "unknown theme"),
    ]:
        result = runner.invoke(app, ["themes", *args, "--lists", str(lists), "--run", str(run)])
        assert result.exit_code == 2 and message in result.output, (args, result.output)
    assert {p.name: p.read_bytes() for p in lists.iterdir()} == files  # nothing written or left
    result = runner.invoke(
        app, ["themes", "accept", "cluster_01", "--as", "parking", "--lists", str(lists),
              "--run", str(run)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "parking (駐車場) written to" in result.output
    assert load_lookup_lists(lists).themes["parking"].department == "triage"
