"""Thin Prefect tasks over koe's plain stage functions (koe.pipeline, koe.incremental,
koe.outputs, koe.manifest).

Only I/O tasks retry, and only on I/O errors (a flaky network share, a locked file, a dropped
database connection): a missing column, a bad encoding or a bad config is deterministic and
fails at once. Results are not cached: DataFrames stay in memory.

Stage tasks time themselves into the flow's ``koe.manifest.Timings`` (manifest ``timings_s``).
The flow passes an IngestResult inside ``prefect.utilities.annotations.quote``: Prefect would
otherwise walk its per-comment lists before each task (seconds at 100,000 comments).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy.exc
from prefect import Task, task
from prefect.cache_policies import NO_CACHE

from koe import incremental, manifest, outputs, pipeline
from koe.core.errors import disk_full
from koe.manifest import timed

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # includes TimeoutError, ConnectionError, PermissionError on a share
    sqlalchemy.exc.OperationalError,  # "database is locked", a dropped connection
)


# database errors that say the query is wrong, not that the database is unreachable
PERMANENT_DB_ERRORS = ("syntax error", "no such table", "no such column", "does not exist")


def is_transient(exc: BaseException | None) -> bool:
    """True when ``exc`` or an exception it was raised from is an I/O error worth a retry.

    A full disk is not: it does not clear itself between retries (koe.core.errors.disk_full).
    """
    if disk_full(exc) is not None:
        return False
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, sqlalchemy.exc.OperationalError) and any(
            marker in str(exc).lower() for marker in PERMANENT_DB_ERRORS
        ):
            return False
        if isinstance(exc, TRANSIENT_ERRORS):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def retry_on_io_error(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect ``retry_condition_fn``: retry only transient I/O failures."""
    exc = state.data if isinstance(state.data, BaseException) else None
    if exc is None:
        try:
            exc = state.result(raise_on_failure=False)
        except Exception:  # an unreadable result: do not retry blindly
            return False
    return isinstance(exc, BaseException) and is_transient(exc)


IO_RETRIES: dict[str, Any] = {
    "retries": 3,
    "retry_delay_seconds": [2, 5, 15],
    "retry_condition_fn": retry_on_io_error,
}


def stage_task(stage: str, fn: Callable[..., Any], name: str, **options: Any) -> Task:
    """A Prefect task over ``fn`` that times each run as ``stage`` in the flow's
    koe.manifest.Timings (manifest ``timings_s``, see koe.manifest.timed)."""
    return task(timed(stage, fn), name=name, cache_policy=NO_CACHE, **options)


ingest = stage_task("ingest", pipeline.ingest, "ingest", **IO_RETRIES)
split_sentences = stage_task("split_sentences", pipeline.sentences_of, "split-sentences")
lookup_tag = stage_task("lookup_tag", incremental.lookup_tag_stage, "lookup-tag")
# with tagging.partitions > 1 the partitions run as tasks of a sub-flow: no task around them
lookup_tag_partitioned = timed("lookup_tag", incremental.lookup_tag_stage)
sentiment = stage_task("sentiment", pipeline.add_sentiment, "sentiment")
semantic_tag = stage_task("semantic_tag", pipeline.semantic_tag, "semantic-tag")
discover = stage_task("embed_and_cluster", pipeline.discover, "embed-and-cluster")
analyze = stage_task("analysis", pipeline.analyze, "drivers-segments-trends")
window_drivers = stage_task("drivers_window", incremental.window_drivers, "drivers-window")
route = stage_task("route", pipeline.route, "route")
write_routed = stage_task("write_routed", outputs.write_routed, "write-routed", **IO_RETRIES)
close_the_loop = stage_task("close_the_loop", pipeline.close_the_loop, "close-the-loop")
write_close_the_loop = stage_task(
    "write_close_the_loop", outputs.write_close_the_loop, "write-close-the-loop", **IO_RETRIES
)
write_tables = stage_task("write_tables", pipeline.write_run_tables, "write-tables", **IO_RETRIES)
write_report = stage_task("report", pipeline.write_report, "write-report", **IO_RETRIES)
record_comments = task(incremental.record_comments, name="record-comments", cache_policy=NO_CACHE)
build_manifest = task(manifest.build_manifest, name="build-manifest", cache_policy=NO_CACHE)
write_manifest = task(
    outputs.write_manifest, name="write-manifest", cache_policy=NO_CACHE, **IO_RETRIES
)
