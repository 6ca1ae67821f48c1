"""`koe discover` / `koe eval-clusters`, bad input, stable theme ids across runs (real embedder)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from typer.testing import CliRunner

from koe.cli import app
from koe.config import load_config
from koe.discovery import cluster_units, discover_table, prepare_table
from koe.evaluate import evaluate_clusters
from koe.models.embeddings import model_id
from koe.store import RunStore

# fmt: off
TOPICS = {
    "parking": ["駐車場が狭い。", "駐車場が少なくて停められなかった。", "駐車場が満車だった。",
                "駐車場の台数を増やしてほしい。", "駐車場代が高い。", "駐車場が遠かった。"],
    "toilet": ["トイレが汚かった。", "トイレが少ない。", "トイレが古くて和式だった。",
               "トイレをきれいにしてほしい。", "トイレットペーパーがなかった。", "トイレが混んでいた。"],
    "wifi": ["Wi-Fiがつながらない。", "Wi-Fiが弱い。", "電波が悪かった。", "Wi-Fiがなかった。",
             "携帯の電波が入らない。", "フリーWi-Fiがほしい。"],
    "trash": ["ゴミ箱がない。", "ゴミ箱が見当たらない。", "ゴミを捨てる場所がない。",
              "ゴミ箱を増やしてほしい。", "ゴミ箱が少ない。", "ゴミ箱が遠い。", "ゴミ箱がなくて困った。",
              "ゴミ箱を置いてほしい。"],
}
# fmt: on


def survey(*topics: str) -> pd.DataFrame:
    rows = [(f"{t}{i}", text, t) for t in topics for i, text in enumerate(TOPICS[t])]
    return pd.DataFrame(rows, columns=["id", "text", "label"])


def write(frame: pd.DataFrame, path):
    frame.to_csv(path, index=False)
    return path


# -- koe discover / koe eval-clusters ------------------------------------------------------------


def test_discover_writes_the_contract_files_and_eval_scores_them(tmp_path):
    data = survey("parking", "toilet", "wifi")
    data = pd.concat(
        [data, pd.DataFrame({"id": ["e1"], "text": ["😀😀"], "label": ["none"]})]
    )  # an emoji-only answer: kept as an outlier, not a crash
    source = write(data.rename(columns={"id": "回答ID", "text": "コメント"}), tmp_path / "in.csv")
    result = CliRunner().invoke(
        app, ["discover", "--input", str(source), "--out", str(tmp_path / "out"),
              "--id-col", "回答ID", "--text-col", "コメント"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "without text content" in result.output
    clusters = pd.read_csv(tmp_path / "out" / "clusters.csv", dtype=str)
    assert list(clusters.columns) == ["id", "cluster_id", "cluster_label", "similarity"]
    assert clusters["id"].tolist() == data["id"].tolist()  # input order, one row per id
    assert clusters.set_index("id").loc["e1", "cluster_id"] == "-1"
    by_topic = clusters.iloc[:18].groupby(data["label"].iloc[:18].to_numpy())["cluster_id"]
    assert by_topic.nunique().tolist() == [1, 1, 1]  # each topic is one cluster
    themes = pd.read_csv(tmp_path / "out" / "emergent_themes.csv")
    assert themes["size"].tolist() == [6, 6, 6]
    assert {"catch_keywords", "nearest_theme", "proposal"} <= set(themes.columns)

    labels = write(data[["id", "label"]], tmp_path / "labels.csv")
    result = CliRunner().invoke(
        app, ["eval-clusters", "--labels", str(labels), "--clusters",
              str(tmp_path / "out" / "clusters.csv")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = {line[:20].strip(): line[20:].split()[0] for line in result.output.splitlines()}
    assert lines["clusters"] == "3"
    assert lines["outlier share"] == "0.053"  # 1 of 19
    assert lines["NMI"] == "1.000"  # the emoji row is alone in -1 and alone in its label


def test_evaluate_clusters_counts_outliers_as_one_cluster():
    labels = pd.DataFrame({"id": ["a", "b", "c", "d", "e", "f"],
                           "label": ["x", "x", "x", "y", "y", "y"]})  # fmt: skip
    perfect = pd.DataFrame({"id": list("abcdef"), "cluster_id": ["1", "1", "1", "2", "2", "2"]})
    assert evaluate_clusters(labels, perfect)["nmi"] == pytest.approx(1.0)
    # two outliers from different labels share the -1 cluster: NMI drops, the clustered-only
    # score stays perfect
    partial = perfect.assign(cluster_id=["1", "1", "-1", "-1", "2", "2"])
    result = evaluate_clusters(labels, partial)
    assert result["outlier_share"] == pytest.approx(2 / 6) and result["clusters"] == 2
    assert result["nmi"] < 0.8 and result["nmi_clustered"] == pytest.approx(1.0)
    # a labelled id missing from the clusters file is an outlier; several rows per id (sentence
    # units): the clustered row with the highest similarity wins
    rows = pd.DataFrame({"id": ["a", "a", "b", "c", "d", "e"],
                         "cluster_id": ["-1", "1", "1", "1", "2", "2"],
                         "similarity": ["", "0.9", "0.8", "0.7", "0.9", "0.9"]})  # fmt: skip
    result = evaluate_clusters(labels, rows)
    assert result["missing"] == 1 and result["outlier_share"] == pytest.approx(1 / 6)
    with pytest.raises(ValueError, match="label"):
        evaluate_clusters(labels.drop(columns="label"), perfect)


# fmt: off
BAD_INPUTS = [
    (["駐車場が狭い。"], "too few texts"),                                 # a single comment
    (["駐車場が狭い。", "トイレが汚い。"], "too few texts"),                # fewer than a cluster
    (["駐車場が狭い。"] * 5, "identical"),                                  # all identical
    (["😀", "🙏🙏", "！！"], "nothing to cluster"),                        # only emoji
]
# fmt: on


@pytest.mark.parametrize(("texts", "message"), BAD_INPUTS)
def test_bad_input_gives_a_message_and_every_row_a_cluster_or_minus_one(texts, message):
    raw = pd.DataFrame({"id": [f"r{i}" for i in range(len(texts))], "text": texts})
    table, _ = prepare_table(raw, "id", "text")
    clusters, themes, info = discover_table(table, load_config(None))
    assert any(message in m for m in info["messages"]), info
    assert clusters["id"].tolist() == raw["id"].tolist()
    if message == "identical":
        assert set(clusters["cluster_id"]) == {"cluster_01"} and len(themes) == 1
    else:
        assert set(clusters["cluster_id"]) == {"-1"} and themes.empty


def test_discover_cli_missing_column_is_a_clear_error(tmp_path):
    source = write(survey("parking"), tmp_path / "in.csv")
    result = CliRunner().invoke(
        app, ["discover", "--input", str(source), "--out", str(tmp_path / "o"), "--text-col", "x"]
    )
    assert result.exit_code == 2 and "missing column(s) ['x']" in result.output


# -- stable ids across runs ------------------------------------------------------------------------


def run_once(frame: pd.DataFrame, store: RunStore) -> pd.DataFrame:
    units = frame.assign(sentence_idx=0, start=0, end=frame["text"].str.len())
    assignments, _, _ = cluster_units(
        units.reset_index(drop=True), frame.assign(score=math.nan), load_config(None), store
    )
    return assignments.set_index("id")["cluster_id"]


def test_unchanged_themes_keep_their_ids_and_new_ones_get_fresh_numbers(tmp_path):
    store = RunStore(f"sqlite:///{tmp_path / 'state.sqlite'}")
    first = run_once(survey("parking", "toilet", "wifi"), store)
    ids = {t: first[f"{t}0"] for t in ("parking", "toilet", "wifi")}
    assert sorted(ids.values()) == ["cluster_01", "cluster_02", "cluster_03"]
    # next night: the same comments and a new, larger theme (by size it would come first)
    second = run_once(survey("trash", "parking", "toilet", "wifi"), store)
    assert {t: second[f"{t}0"] for t in ids} == ids
    assert second["trash0"] == "cluster_04"
    # a night without toilets but with the trash theme and new Wi-Fi wording: kept ids, and
    # numbers are never reused (cluster_02 of the missing theme is not handed out again)
    third = run_once(survey("trash", "parking", "wifi"), store)
    assert third["trash0"] == "cluster_04" and third["parking0"] == ids["parking"]
    known_ids, _, next_number = store.known_cluster_themes(model_id("koe-default"))
    assert next_number == 5 and len(known_ids) == 4
    store.close()


def test_same_input_and_seed_give_identical_files(tmp_path):
    source = write(survey("parking", "toilet", "wifi", "trash"), tmp_path / "in.csv")
    outputs = []
    for name in ("a", "b"):
        result = CliRunner().invoke(
            app, ["discover", "--input", str(source), "--out", str(tmp_path / name)]
        )
        assert result.exit_code == 0, result.output
        outputs.append(
            [(tmp_path / name / f).read_bytes() for f in ("clusters.csv", "emergent_themes.csv")]
        )
    assert outputs[0] == outputs[1]
