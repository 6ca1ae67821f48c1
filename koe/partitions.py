"""Lookup tagging in partitions: whole comments per partition, results in the order a single
``tagger.tag`` call gives. flows/partitioned.py runs the partitions as Prefect tasks on any task
runner — threads by default, a Dask cluster (prefect-dask) for nights too big for one process.
"""

from __future__ import annotations

import pandas as pd

from koe.taggers.factory import shared_tagger
from koe.taggers.lookup import tags_frame


def partition_sentences(sentences: pd.DataFrame, partitions: int) -> list[pd.DataFrame]:
    """Split a SentenceFrame into at most ``partitions`` contiguous parts of whole comments."""
    ids = list(dict.fromkeys(sentences["id"]))
    if not ids:
        return []
    size = -(-len(ids) // max(1, partitions))
    groups = [set(ids[i : i + size]) for i in range(0, len(ids), size)]
    return [sentences[sentences["id"].isin(g)].reset_index(drop=True) for g in groups]


def tag_sentences(
    sentences: pd.DataFrame, lookup_lists: str, polarity_model: str | None = None
) -> pd.DataFrame:
    """Lookup-tag one partition (TagFrame). The tagger is built once per process and folder
    content, so a Dask worker loads the lists and models once, not per partition."""
    tagger = shared_tagger(lookup_lists, polarity_model)
    return tagger.tag(sentences)


def concat_tags(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The TagFrames of the partitions, in partition order."""
    if not parts:
        return tags_frame([])
    return tags_frame(pd.concat(parts, ignore_index=True).to_dict("records"))
