"""Lookup tagging over partitions as Prefect tasks: threads by default, or a Dask cluster.

The nightly flow uses it when koe.yaml sets ``tagging: {partitions: N}`` (N > 1) for the
comments the tag cache does not already know. ``tagging.dask_address`` picks the task runner:
unset, a thread pool in the flow's process; ``local``, a Dask LocalCluster of
``tagging.dask_workers`` processes; ``tcp://host:8786``, an existing Dask cluster (its workers
need koe installed and the lookup-list folder at the same path).
"""

from __future__ import annotations

from collections.abc import Callable

from koe.prefect_env import configure_prefect

configure_prefect()

import pandas as pd  # noqa: E402
from prefect import flow, task  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner  # noqa: E402

from koe.config import KoeConfig  # noqa: E402
from koe.partitions import concat_tags, partition_sentences, tag_sentences  # noqa: E402

tag_partition = task(tag_sentences, name="tag-partition", cache_policy=NO_CACHE)


@flow(name="koe-tag-partitioned")
def tag_partitioned(
    sentences: pd.DataFrame,
    lookup_lists: str,
    polarity_model: str | None = None,
    partitions: int = 4,
) -> pd.DataFrame:
    """Tokenize and lookup-tag ``sentences`` in ``partitions`` parts; returns the TagFrame in
    the order one ``LookupTagger.tag`` call gives."""
    futures = [
        tag_partition.submit(part, lookup_lists, polarity_model)
        for part in partition_sentences(sentences, partitions)
    ]
    return concat_tags([f.result() for f in futures])


def task_runner_for(address: str | None, workers: int = 2) -> TaskRunner:
    """The task runner for ``tagging.dask_address`` (see the module docstring)."""
    if not address:
        return ThreadPoolTaskRunner(max_workers=workers)
    from prefect_dask import DaskTaskRunner

    if address == "local":
        return DaskTaskRunner(
            cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True}
        )
    return DaskTaskRunner(address=address)


def partitioned_tagger(config: KoeConfig) -> Callable[[pd.DataFrame], pd.DataFrame] | None:
    """A ``tag(sentences) -> TagFrame`` function for koe.incremental.lookup_tag_cached that tags
    in ``config.tagging.partitions`` parts, or None when koe.yaml asks for one part."""
    tagging = config.tagging
    if tagging.partitions <= 1:
        return None
    runner = task_runner_for(tagging.dask_address, tagging.dask_workers)
    runner_flow = tag_partitioned.with_options(task_runner=runner)
    lookup_lists = str(config.lookup_lists)

    def tag(sentences: pd.DataFrame) -> pd.DataFrame:
        if sentences.empty:
            return concat_tags([])
        return runner_flow(sentences, lookup_lists, config.polarity_model, tagging.partitions)

    return tag
