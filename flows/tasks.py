"""Thin Prefect tasks over koe's plain stage functions (koe.pipeline, koe.outputs).

Only I/O tasks retry, and only on I/O errors (a flaky network share, a locked file, a dropped
database connection): a missing column, a bad encoding or a bad config is deterministic and
fails at once. Results are not cached: DataFrames stay in memory.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy.exc
from prefect import task
from prefect.cache_policies import NO_CACHE

from koe import incremental, outputs, pipeline

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # includes TimeoutError, ConnectionError, PermissionError on a share
    sqlalchemy.exc.OperationalError,  # "database is locked", a dropped connection
)


# database errors that say the query is wrong, not that the database is unreachable
PERMANENT_DB_ERRORS = ("syntax error", "no such table", "no such column", "does not exist")


def is_transient(exc: BaseException | None) -> bool:
    """True when ``exc`` or an exception it was raised from is an I/O error worth a retry."""
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

ingest = task(pipeline.ingest, name="ingest", cache_policy=NO_CACHE, **IO_RETRIES)
split_sentences = task(pipeline.sentences_of, name="split-sentences", cache_policy=NO_CACHE)
lookup_tag = task(incremental.lookup_tag_stage, name="lookup-tag", cache_policy=NO_CACHE)
window_drivers = task(incremental.window_drivers, name="drivers-window", cache_policy=NO_CACHE)
discover = task(pipeline.discover, name="embed-and-cluster", cache_policy=NO_CACHE)
analyze = task(pipeline.analyze, name="drivers-segments-trends", cache_policy=NO_CACHE)
route = task(pipeline.route, name="route", cache_policy=NO_CACHE)
write_routed = task(outputs.write_routed, name="write-routed", cache_policy=NO_CACHE, **IO_RETRIES)
close_the_loop = task(pipeline.close_the_loop, name="close-the-loop", cache_policy=NO_CACHE)
write_close_the_loop = task(
    outputs.write_close_the_loop, name="write-close-the-loop", cache_policy=NO_CACHE, **IO_RETRIES
)
