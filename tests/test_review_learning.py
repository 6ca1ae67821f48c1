"""Analysts' review decisions (RunStore.review_decisions) and what the next run learns from
them: a rejected tag does not come back, an added theme is kept and similar sentences follow
it, a decided polarity sticks, an undone decision stops counting. Real flow, real embedder."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from koe.cli import app
from koe.config import SAMPLE_INPUT
from koe.store import RunStore
from koe.taggers.semantic import Corrections

PARAPHRASES = [  # performance complaints without any of the lists' keywords
    {"id": "R9001", "score": "3", "text": "画面の切り替えにいつも待たされる。"},
    {"id": "R9002", "score": "4", "text": "画面の切り替えで毎回待たされてしまう。"},
]


def test_the_latest_decision_on_a_sentence_and_theme_wins_and_undo_withdraws_it(tmp_path):
    store = RunStore(f"sqlite:///{tmp_path / 's.sqlite'}")
    first = store.add_decision("reject", comment_id="R1", sentence_idx=0, sentence="遅い。",
                               theme="speed", author="aki")  # fmt: skip
    store.add_decision("polarity", comment_id="R1", sentence_idx=0, sentence="遅い。",
                       theme="speed", polarity="negative")  # fmt: skip
    corrections = Corrections.from_decisions(store.decisions())
    assert corrections.labels == {"遅い。": {"speed": True}}
    assert corrections.polarity == {("遅い。", "speed"): "negative"}
    assert store.decisions()["author"].tolist() == ["aki", ""]
    assert store.undo_decision(first) and not store.undo_decision(first)
    assert len(store.decisions()) == 1
    with pytest.raises(ValueError, match="needs positive"):
        store.add_decision("polarity", comment_id="R1", sentence_idx=0, sentence="x", theme="t")


def _run(input_csv: Path, out: Path) -> pd.DataFrame:
    result = CliRunner().invoke(app, ["run", "--input", str(input_csv), "--out", str(out)])
    assert result.exit_code == 0, result.output
    folder = Path(result.output.split("finished: ")[1].split()[0])
    return pd.read_csv(folder / "tags.csv", dtype=str, keep_default_na=False)


def test_the_next_run_follows_the_analysts_decisions(prefect_harness, tmp_path):
    survey = pd.read_csv(SAMPLE_INPUT, dtype=str, keep_default_na=False)
    pd.concat([survey, pd.DataFrame(PARAPHRASES)]).fillna("").to_csv(tmp_path / "in.csv",
                                                                      index=False)  # fmt: skip
    out = tmp_path / "runs"
    before = _run(tmp_path / "in.csv", out)
    themed = before[before["source"] != "cluster"]
    assert themed[themed["id"].isin(["R9001", "R9002"])].empty  # no list catches them
    rejected = before[before["source"] == "lookup"].iloc[0]
    flipped = before[(before["source"] == "lookup") & (before["polarity"] == "positive")].iloc[0]
    texts = dict(zip(survey["id"], survey["text"], strict=True))
    store = RunStore(f"sqlite:///{out / 'koe_state.sqlite'}")
    # the analyst decides on whole one-sentence comments here, so sentence = the comment text
    sentence = {cid: texts[cid] for cid in (rejected["id"], flipped["id"])}
    assert all("。" not in t.rstrip("。") for t in sentence.values()), sentence
    store.add_decision("reject", comment_id=rejected["id"], sentence_idx=0,
                       sentence=sentence[rejected["id"]], theme=rejected["theme"])  # fmt: skip
    store.add_decision("polarity", comment_id=flipped["id"], sentence_idx=0,
                       sentence=sentence[flipped["id"]], theme=flipped["theme"],
                       polarity="negative")  # fmt: skip
    store.add_decision("add", comment_id="R9001", sentence_idx=0,
                       sentence=PARAPHRASES[0]["text"], theme="product_performance")  # fmt: skip
    after = _run(tmp_path / "in.csv", out)
    key = ["id", "theme"]
    assert after.merge(rejected.to_frame().T[key], on=key).empty  # rejected: gone
    flipped_now = after.merge(flipped.to_frame().T[key], on=key)
    assert flipped_now["polarity"].tolist() == ["negative"]
    after = after[after["source"] != "cluster"]
    added = after[after["id"] == "R9001"]
    assert added[["theme", "source"]].to_numpy().tolist() == [["product_performance", "review"]]
    follower = after[after["id"] == "R9002"]  # never decided on: learned from R9001
    assert follower[["theme", "source"]].to_numpy().tolist() == [["product_performance", "semantic"]]
    assert follower["evidence"].tolist() == [PARAPHRASES[0]["text"]]
    unchanged = themed[~themed["id"].isin([rejected["id"], flipped["id"], "R9001", "R9002"])]
    kept = unchanged.merge(after, on=key, how="left", indicator=True)
    assert (kept["_merge"] == "both").mean() > 0.97  # the rest of the night barely moves


def test_with_the_semantic_layer_off_the_decisions_still_hold():
    from koe.taggers.factory import build_tagger
    from koe.taggers.semantic import SemanticSettings, semantic_layer
    from koe.taggers.sentences import split_sentences

    tagger = build_tagger(None)
    sentences = split_sentences(pd.DataFrame({"id": ["a", "b"], "text": [
        "ログインできない。", "画面の切り替えにいつも待たされる。"]}))  # fmt: skip
    lookup = tagger.tag(sentences)
    wrong = lookup.iloc[0]
    corrections = Corrections(labels={"ログインできない。": {wrong["theme"]: False},
                                      "画面の切り替えにいつも待たされる。": {
                                          "product_performance": True}})  # fmt: skip
    tags, info = semantic_layer(tagger, sentences, lookup, "koe-default",
                                settings=SemanticSettings(enabled=False),
                                corrections=corrections)  # fmt: skip
    assert info == {"enabled": False}
    assert wrong["theme"] not in set(tags.loc[tags["id"] == "a", "theme"])
    assert tags.loc[tags["id"] == "b", ["theme", "source"]].to_numpy().tolist() == [
        ["product_performance", "review"]]


def test_an_added_theme_reaches_every_comment_with_that_sentence():
    from koe.taggers.factory import build_tagger
    from koe.taggers.lookup import tags_frame
    from koe.taggers.semantic import SemanticSettings, semantic_layer
    from koe.taggers.sentences import split_sentences

    tagger = build_tagger(None)
    text = "画面の切り替えにいつも待たされる。"
    sentences = split_sentences(pd.DataFrame({"id": ["a", "b"], "text": [text, text]}))
    assert tagger.tag(sentences).empty  # no list catches it
    theme = tagger.lists.themes["product_performance"]
    already = tags_frame([{  # "b" has the theme already (as if a list had caught it)
        "id": "b", "sentence_idx": 0, "theme": theme.id, "theme_name": theme.name,
        "parent": theme.parent, "department": theme.department, "polarity": "neutral",
        "is_request": False, "source": "lookup", "evidence": "待たされる", "start": 13,
        "end": 18, "confidence": 1.0}])  # fmt: skip
    corrections = Corrections(labels={text: {"product_performance": True}},
                              polarity={(text, "product_performance"): "negative"})  # fmt: skip
    tags, _ = semantic_layer(tagger, sentences, already, "koe-default",
                             settings=SemanticSettings(enabled=False),
                             corrections=corrections)  # fmt: skip
    mine = tags[tags["theme"] == "product_performance"].sort_values("id")
    assert mine[["id", "source", "polarity"]].to_numpy().tolist() == [
        ["a", "review", "negative"], ["b", "lookup", "negative"]]
