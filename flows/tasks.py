"""Thin Prefect tasks over koe's plain stage functions (koe.pipeline, koe.outputs).

Only I/O tasks retry (a flaky network share, a locked file); deterministic stages such as
tagging or a bad config fail at once. Results are not cached: DataFrames stay in memory.
"""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from koe import outputs, pipeline

IO_RETRIES = {"retries": 3, "retry_delay_seconds": [2, 5, 15]}

ingest = task(pipeline.ingest, name="ingest", cache_policy=NO_CACHE, **IO_RETRIES)
split_sentences = task(pipeline.sentences_of, name="split-sentences", cache_policy=NO_CACHE)
lookup_tag = task(pipeline.lookup_tag, name="lookup-tag", cache_policy=NO_CACHE)
discover = task(pipeline.discover, name="embed-and-cluster", cache_policy=NO_CACHE)
analyze = task(pipeline.analyze, name="drivers-segments-trends", cache_policy=NO_CACHE)
route = task(pipeline.route, name="route", cache_policy=NO_CACHE)
write_routed = task(outputs.write_routed, name="write-routed", cache_policy=NO_CACHE, **IO_RETRIES)
