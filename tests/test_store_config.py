"""The run-state store (real SQLite through SQLAlchemy) and koe.yaml validation."""

from __future__ import annotations

import numpy as np
import pytest

from koe.config import ConfigError, load_config
from koe.store import RunStore, text_hash


def test_embedding_cache_round_trip(tmp_path):
    store = RunStore(f"sqlite:///{tmp_path / 'state.sqlite'}")
    v = np.arange(4, dtype=np.float32)
    assert store.put_embeddings("m", [(text_hash("返信が遅い"), v)]) == 1
    assert store.put_embeddings("m", [(text_hash("返信が遅い"), v)]) == 0  # never twice
    got = store.get_embeddings("m", [text_hash("返信が遅い"), text_hash("other")])
    assert list(got) == [text_hash("返信が遅い")]
    assert np.array_equal(got[text_hash("返信が遅い")], v)
    assert store.get_embeddings("other-model", [text_hash("返信が遅い")]) == {}


def test_comments_are_recorded_as_new_changed_unchanged(tmp_path):
    store = RunStore(f"sqlite:///{tmp_path / 'state.sqlite'}")
    assert store.record_comments("r1", ["a", "b"], ["x", "y"]) == {
        "new": 2, "changed": 0, "unchanged": 0}  # fmt: skip
    assert store.record_comments("r2", ["a", "b", "c"], ["x", "y2", "z"]) == {
        "new": 1, "changed": 1, "unchanged": 1}  # fmt: skip
    store.start_run("r2", "in.csv")
    store.finish_run("r2", "completed", {"counts": {"input_rows": 3}})
    (run,) = store.runs()
    assert run["status"] == "completed" and run["ended_at"] is not None


def test_config_defaults_and_relative_paths(tmp_path):
    (tmp_path / "koe.yaml").write_text(
        "input: data/survey.csv\ncolumns: {id: 回答ID, text: コメント, score: 推奨度}\n"
        "cluster: {min_cluster_size: 4}\n",
        encoding="utf-8",
    )
    config = load_config(tmp_path / "koe.yaml")
    assert config.input == tmp_path / "data" / "survey.csv"
    assert config.columns.text == "コメント" and config.columns.date == "date"
    assert config.cluster.min_cluster_size == 4
    assert config.routing_rules()[0].name == "support_follow_up"
    assert config.state_url().startswith("sqlite:///")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("colums: {id: x}\n", r"koe.yaml:1: colums: Extra inputs are not permitted"),
        ("seed: 1\ncluster:\n  min_cluster_size: one\n", r"koe.yaml:3: cluster.min_cluster_size"),
        ("seed: 1\ncluster: [\n", r"koe.yaml:\d+: invalid YAML"),
        ("- a\n- b\n", r"top level must be a mapping"),
    ],
)
def test_bad_config_names_file_and_line(tmp_path, text, message):
    (tmp_path / "koe.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_config(tmp_path / "koe.yaml")
