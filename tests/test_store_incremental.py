"""The run-state store's crash-safe writes, caches and history (real SQLite), without Prefect."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from koe.incremental import (
    comment_records,
    comments_from_records,
    lookup_tag_cached,
    record_comments,
    tagger_key,
    window_frames,
)
from koe.ingest import prepare_comments
from koe.ingest.normalize import is_non_answer
from koe.pipeline import IngestResult
from koe.store import RunStore, text_hash
from koe.taggers.sentences import split_sentences

from .conftest import FIXTURES, LOOKUP_LISTS

TABLES = ("comments", "comment_rows", "embeddings", "tag_cache", "source_files")


def store_at(tmp_path, **kwargs) -> RunStore:
    return RunStore(f"sqlite:///{tmp_path / 'state.sqlite'}", **kwargs)


def write_everything(store: RunStore, run_id: str) -> None:
    store.record_comments(run_id, ["a", "b"], ["良い", "遅い"])
    store.put_comment_rows([("in.csv", {"id": "a", "date": "2026-11-01T00:00:00.000"})])
    store.put_embeddings("m", [(text_hash("良い"), np.ones(3, dtype=np.float32))])
    store.put_tags("k", [(text_hash("良い"), [{"theme": "t"}])])
    store.mark_files_processed(run_id, [("/in.csv", "abc", 2)])


def test_a_deferred_store_writes_everything_at_completion_in_one_go(tmp_path):
    store = store_at(tmp_path, deferred=True)
    store.start_run("r1", "in.csv")
    write_everything(store, "r1")
    # reads see the pending writes; the database has none of them yet
    assert list(store.get_embeddings("m", [text_hash("良い")])) == [text_hash("良い")]
    assert store.get_tags("k", [text_hash("良い")]) == {text_hash("良い"): [{"theme": "t"}]}
    other = store_at(tmp_path)
    assert {t: other.table_counts()[t] for t in TABLES} == dict.fromkeys(TABLES, 0)
    store.finish_run("r1", "completed", {"counts": {}})
    assert {t: other.table_counts()[t] for t in TABLES} == {
        "comments": 2, "comment_rows": 1, "embeddings": 1, "tag_cache": 1, "source_files": 1}  # fmt: skip
    assert other.processed_files() == {("/in.csv", "abc")}


def test_a_failed_run_writes_nothing_but_its_status(tmp_path):
    store = store_at(tmp_path, deferred=True)
    store.start_run("r1", "in.csv")
    write_everything(store, "r1")
    store.finish_run("r1", "failed")
    counts = store_at(tmp_path).table_counts()
    assert {t: counts[t] for t in TABLES} == dict.fromkeys(TABLES, 0)
    assert [r["status"] for r in store.runs()] == ["failed"]
    assert store.get_tags("k", [text_hash("良い")]) == {}  # pending writes were dropped


def test_writing_the_same_night_twice_adds_no_rows(tmp_path):
    store = store_at(tmp_path)
    for run_id in ("r1", "r2"):
        write_everything(store, run_id)
    counts = store.table_counts()
    assert {t: counts[t] for t in TABLES} == {
        "comments": 2, "comment_rows": 1, "embeddings": 1, "tag_cache": 1, "source_files": 1}  # fmt: skip


def test_unique_run_ids(tmp_path):
    store = store_at(tmp_path)
    store.start_run("20261101T020000Z", "in.csv")
    (tmp_path / "20261101T020000Z-2").mkdir()
    assert store.unique_run_id("20261101T020000Z", tmp_path) == "20261101T020000Z-3"
    assert store.unique_run_id("20261102T020000Z", tmp_path) == "20261102T020000Z"


@pytest.fixture(scope="module")
def mini():
    raw = pd.read_csv(FIXTURES / "mini_survey.csv", dtype=str, keep_default_na=False)
    comments, _ = prepare_comments(raw)
    comments["non_answer"] = [is_non_answer(t) for t in comments["text"]]
    return comments


def test_cached_tags_equal_fresh_tags_and_skip_tokenizing(tagger, mini, tmp_path):
    store = store_at(tmp_path)
    answers = mini[~mini["non_answer"]]
    sentences = split_sentences(answers)
    fresh = tagger.tag(sentences)
    _, stats1 = lookup_tag_cached(answers, split_sentences(answers.iloc[:10]), tagger, store)
    assert stats1 == {"comments": 10, "cached": 0, "copies": 0, "tokenized": 10}
    tags, stats = lookup_tag_cached(answers, sentences, tagger, store)
    assert stats == {
        "comments": len(answers), "cached": 10, "copies": 0, "tokenized": len(answers) - 10
    }  # fmt: skip
    pd.testing.assert_frame_equal(tags, fresh)
    again, stats = lookup_tag_cached(answers, sentences, tagger, store)
    assert stats["tokenized"] == 0
    pd.testing.assert_frame_equal(again, fresh)


def test_a_text_repeated_tonight_is_tagged_once_and_copied(tagger, mini, tmp_path):
    answers = mini[~mini["non_answer"]].iloc[:6]
    copies = answers.iloc[[0, 0, 3]].assign(id=["c1", "c2", "c3"])
    both = pd.concat([answers, copies], ignore_index=True)
    sentences = split_sentences(both)
    tags, stats = lookup_tag_cached(both, sentences, tagger, store_at(tmp_path))
    assert stats == {"comments": 9, "cached": 0, "copies": 3, "tokenized": 6}
    pd.testing.assert_frame_equal(tags, tagger.tag(sentences))


def test_the_tag_cache_key_follows_every_lookup_list_file(tagger, tmp_path):
    folder = tmp_path / "lists"
    folder.mkdir()
    for path in LOOKUP_LISTS.glob("*.yaml"):
        (folder / path.name).write_bytes(path.read_bytes())
    key = tagger_key(tagger, folder)
    assert tagger_key(tagger, folder) == key
    polarity = folder / "polarity.yaml"
    polarity.write_text(polarity.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert tagger_key(tagger, folder) != key  # polarity.yaml is not in lists.sha256


def test_comment_rows_round_trip(mini):
    back = comments_from_records(comment_records(mini), mini)
    pd.testing.assert_frame_equal(back, mini)


def test_the_drivers_window_reads_stored_comments(tagger, mini, tmp_path):
    store = store_at(tmp_path)
    old, tonight = mini.iloc[:10], mini.iloc[10:]
    old = old.assign(date=pd.Timestamp("2026-09-01"))
    old.loc[old.index[0], "date"] = pd.Timestamp("2026-05-01")  # outside a 90-day window
    store.put_comment_rows(zip(["in.csv"] * len(old), comment_records(old), strict=True))
    answers = tonight[~tonight["non_answer"]]
    tags = tagger.tag(split_sentences(answers))
    window, window_tags, info = window_frames(
        store, tonight, tags, tagger, 90, now=datetime(2026, 11, 1)
    )
    assert info["since"] == "2026-08-03" and info["from_history"] == 9
    assert info["comments"] == len(tonight) + 9 == len(window)
    assert window["id"].is_unique
    assert set(window_tags["id"]) <= set(window["id"])
    assert set(window_tags["id"]) & set(old["id"])  # stored comments bring their tags


def test_record_comments_keeps_the_comments_their_rows_and_the_files_read(tmp_path):
    comments = pd.DataFrame({"id": ["a", "b"], "text": ["良い", "遅い"], "score": [9, 3],
                             "date": pd.to_datetime(["2026-11-01", None])})  # fmt: skip
    ingested = IngestResult(
        comments=comments, quarantine=pd.DataFrame(), input_rows=2, input_path="exports/",
        input_sha256="", sub_scores=[], segments=[], source_kind="folder",
        files=[("exports/day1.csv", "abc", 1), ("exports/day2.csv", "def", 1)],
        origins=["exports/day1.csv", "exports/day2.csv"],
    )  # fmt: skip
    store = store_at(tmp_path)
    store.record_comments("r0", ["a"], ["良い"])
    assert record_comments(store, "r1", ingested) == {"new": 1, "changed": 0, "unchanged": 1}
    assert store.comment_sources(["a", "b"]) == {"a": "exports/day1.csv", "b": "exports/day2.csv"}
    assert [(r["id"], r["date"], r["score"]) for r in store.comment_rows()] == [
        ("a", "2026-11-01T00:00:00.000", 9), ("b", None, 3)]  # fmt: skip
    assert store.processed_files() == {("exports/day1.csv", "abc"), ("exports/day2.csv", "def")}
