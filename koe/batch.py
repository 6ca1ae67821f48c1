"""Streamed lookup tagging of big tables (``koe tag``): bounded memory, one or more processes.

``tag_table`` reads the input ``chunk_rows`` rows at a time (``koe.ingest.iter_table_chunks``),
tags each piece and appends its tags.csv rows to the output, in input order. With ``workers``
> 1 the pieces are tagged by that many processes, each with its own SudachiPy tokenizer and
models (started with "spawn": nothing is inherited from this process); at most ``workers`` + 1
pieces are in flight, so memory stays bounded. The tags are the same for any ``workers`` and
``chunk_rows``. A repeated id is skipped and counted (the first row wins); a text repeated
within a piece is tagged once.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from koe.core.csvio import write_csv
from koe.ingest import IngestError, iter_table_chunks
from koe.ingest.normalize import normalize_text


@dataclass
class TagTableResult:
    """Counts of a ``tag_table`` run: input rows, comments with a tag, tag rows, skipped rows."""

    rows: int = 0
    tagged: int = 0
    tags: int = 0
    repeated_ids: int = 0


_TAGGER = None  # the worker process's tagger (see _init_worker)


def _init_worker(lookup_lists: str, polarity_model: str | None) -> None:
    global _TAGGER
    from koe.taggers.factory import build_tagger

    _TAGGER = build_tagger(lookup_lists, polarity_model)


def _tag_piece(comments: pd.DataFrame) -> pd.DataFrame:
    """tags.csv rows of one piece (id, text) with the worker's tagger."""
    from koe.incremental import lookup_tag_cached
    from koe.taggers.lookup import to_tags_csv
    from koe.taggers.sentences import split_sentences

    assert _TAGGER is not None, "_init_worker was not called"
    tags, _ = lookup_tag_cached(comments, split_sentences(comments), _TAGGER, None)
    return to_tags_csv(tags)


def _pieces(
    path: Path, id_col: str, text_col: str, chunk_rows: int, result: TagTableResult
) -> Iterator[pd.DataFrame]:
    """The input's (id, text) pieces without repeated ids; counts rows and skips in result."""
    seen: set[str] = set()  # ids so far: a repeated id is skipped (the first row wins)
    for raw in iter_table_chunks(path, chunk_rows):
        missing = [c for c in (id_col, text_col) if c not in raw.columns]
        if missing:
            raise IngestError(
                f"{path}: missing column(s) {missing}; columns present: {list(raw.columns)}"
            )
        ids = raw[id_col].astype(str)
        first = ~ids.duplicated().to_numpy() & ~ids.isin(seen).to_numpy()
        result.rows += len(raw)
        result.repeated_ids += int((~first).sum())
        seen.update(ids[first])
        yield pd.DataFrame(
            {
                "id": ids[first].to_numpy(),
                "text": [normalize_text(t) for t in raw.loc[first, text_col]],
            }
        )


def tag_table(
    path: Path,
    out: Path,
    lookup_lists: Path,
    polarity_model: str | None = "koe-default",
    *,
    id_col: str = "id",
    text_col: str = "text",
    chunk_rows: int = 50_000,
    workers: int = 1,
) -> TagTableResult:
    """Tag the table at ``path`` and write tags.csv to ``out`` (atomically: a ``.partial``
    file renamed at the end, removed on error).

    Raises:
        IngestError: unreadable input or a missing column (nothing is left at ``out``).
        LookupListError, PolarityModelError: bad lookup lists or polarity model.
    """
    if chunk_rows < 1 or workers < 1:
        raise ValueError("chunk_rows and workers must be >= 1")
    result = TagTableResult()
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    init_args = (str(lookup_lists), polarity_model)
    try:
        with partial.open("w", encoding="utf-8", newline="") as handle:

            def write(table: pd.DataFrame) -> None:
                write_csv(table, handle, header=handle.tell() == 0)
                result.tagged += table["id"].nunique() if len(table) else 0
                result.tags += len(table)

            pieces = _pieces(Path(path), id_col, text_col, chunk_rows, result)
            # the tagger of a single process; with workers, a check that gives a clear error
            # (a bad list or model) here rather than a broken process pool
            _init_worker(*init_args)
            if workers == 1:
                for piece in pieces:
                    write(_tag_piece(piece))
            else:
                spawn = multiprocessing.get_context("spawn")
                with ProcessPoolExecutor(
                    workers, mp_context=spawn, initializer=_init_worker, initargs=init_args
                ) as pool:
                    pending: deque[Future] = deque()
                    for piece in pieces:
                        pending.append(pool.submit(_tag_piece, piece))
                        if len(pending) > workers:
                            write(pending.popleft().result())
                    while pending:
                        write(pending.popleft().result())
            if handle.tell() == 0:  # no rows at all: still a tags.csv with its header
                from koe.taggers.lookup import to_tags_csv

                write_csv(to_tags_csv(pd.DataFrame()), handle)
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return result
