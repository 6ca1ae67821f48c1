"""Lookup tagging over partitions: a Dask LocalCluster (prefect-dask) gives the same tags as the
default thread pool and as one plain ``LookupTagger.tag`` call."""

from __future__ import annotations

import pandas as pd
import pytest

from koe.ingest import load_comments
from koe.partitions import partition_sentences
from koe.taggers.sentences import split_sentences

from .conftest import LOOKUP_LISTS, ROOT


@pytest.fixture(scope="module")
def sentences():
    comments, _ = load_comments(ROOT / "samples" / "survey.csv")
    return split_sentences(comments.iloc[:150])


def test_partitions_keep_whole_comments_in_order(sentences):
    parts = partition_sentences(sentences, 4)
    assert len(parts) == 4
    assert pd.concat(parts, ignore_index=True).equals(sentences.reset_index(drop=True))
    ids = [set(p["id"]) for p in parts]
    assert all(not (a & b) for i, a in enumerate(ids) for b in ids[i + 1 :])
    assert partition_sentences(sentences.iloc[0:0], 4) == []


def test_task_runner_choice():
    from prefect.task_runners import ThreadPoolTaskRunner
    from prefect_dask import DaskTaskRunner

    from koe.flows.partitioned import task_runner_for

    assert isinstance(task_runner_for(None), ThreadPoolTaskRunner)
    remote = task_runner_for("tcp://scheduler:8786")
    assert isinstance(remote, DaskTaskRunner) and remote.address == "tcp://scheduler:8786"


@pytest.mark.slow
def test_dask_local_cluster_tags_like_the_default_runner(prefect_harness, tagger, sentences):
    from prefect_dask import DaskTaskRunner

    from koe.flows.partitioned import tag_partitioned

    lists = str(LOOKUP_LISTS)
    expected = tagger.tag(sentences)
    threads = tag_partitioned(sentences, lists, None, 3)
    dask = DaskTaskRunner(cluster_kwargs={"n_workers": 2, "threads_per_worker": 1,
                                          "processes": False})  # fmt: skip
    on_dask = tag_partitioned.with_options(task_runner=dask)(sentences, lists, None, 3)
    assert len(expected) > 50
    pd.testing.assert_frame_equal(threads, expected)
    pd.testing.assert_frame_equal(on_dask, expected)
