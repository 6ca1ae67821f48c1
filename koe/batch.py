"""Streamed lookup tagging of big tables (``koe tag``): bounded memory, one or more processes.

``tag_table`` reads the input ``chunk_rows`` rows at a time (``koe.ingest.iter_table_chunks``),
tags each piece and appends its tags.csv rows to the output, in input order. With ``workers``
> 1 the pieces are tagged by that many processes, each with its own SudachiPy tokenizer and
models (started with "spawn": nothing is inherited from this process); at most ``workers`` + 1
pieces are in flight, so memory stays bounded. The tags are the same for any ``workers`` and
``chunk_rows``. Rows are validated as ``koe run`` validates them (koe.ingest.prepare_texts: one
id rule, the same text checks, bad records of a damaged file): a row that cannot be tagged, a
repeated id included (the first row wins), goes to the quarantine file with its reason. A text
repeated within a piece is tagged once.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import pandas as pd

from koe.core.csvio import write_csv
from koe.core.frames import QUARANTINE_COLUMNS
from koe.core.safety import safe_for_spreadsheet
from koe.ingest import iter_table_chunks, prepare_texts

if TYPE_CHECKING:
    from koe.taggers.semantic import SemanticSettings


@dataclass
class TagTableResult:
    """Counts of a ``tag_table`` run: input rows, comments with a tag, tag rows, quarantined
    rows (repeated ids among them) by reason."""

    rows: int = 0
    tagged: int = 0
    tags: int = 0
    quarantined: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)

    @property
    def repeated_ids(self) -> int:
        return self.by_reason.get("duplicate_id", 0)

    @property
    def accepted(self) -> int:
        return self.rows - self.quarantined


_TAGGER = None  # the worker process's tagger (see _init_worker)


def _init_worker(lookup_lists: str, polarity_model: str | None) -> None:
    global _TAGGER
    from koe.taggers.factory import build_tagger

    _TAGGER = build_tagger(lookup_lists, polarity_model)


def _tag_piece(comments: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(SentenceFrame, lookup TagFrame) of one piece (id, text) with the worker's tagger."""
    from koe.incremental import lookup_tag_cached
    from koe.ingest.normalize import is_non_answer
    from koe.taggers.sentences import split_sentences

    assert _TAGGER is not None, "_init_worker was not called"
    # non-answers (特になし) are accepted rows without themes, as in koe run
    answers = comments[~comments["text"].map(is_non_answer)] if len(comments) else comments
    sentences = split_sentences(answers.reindex(columns=["id", "text"]))
    tags, _ = lookup_tag_cached(comments, sentences, _TAGGER, None)
    return sentences, tags


@contextmanager
def atomic_outputs(out: Path, quarantine_out: Path) -> Iterator[tuple[TextIO, TextIO]]:
    """``out`` and ``quarantine_out`` (its header written) opened as ``.partial`` files, both
    renamed when the block ends, both removed when it raises."""
    out.parent.mkdir(parents=True, exist_ok=True)
    quarantine_out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    quarantine_partial = quarantine_out.with_name(f".{quarantine_out.name}.partial")
    try:
        with (
            partial.open("w", encoding="utf-8", newline="") as handle,
            quarantine_partial.open("w", encoding="utf-8-sig", newline="") as quarantine,
        ):
            write_csv(pd.DataFrame(columns=list(QUARANTINE_COLUMNS)), quarantine)
            yield handle, quarantine
        os.replace(partial, out)
        os.replace(quarantine_partial, quarantine_out)
    except BaseException:
        partial.unlink(missing_ok=True)
        quarantine_partial.unlink(missing_ok=True)
        raise


def accepted_pieces(
    path: Path,
    id_col: str,
    text_col: str,
    chunk_rows: int,
    result: TagTableResult,
    quarantine: TextIO,
) -> Iterator[pd.DataFrame]:
    """The input's accepted (id, text) pieces; rows that cannot be tagged (koe.ingest's id and
    text rules, a repeated id included) are appended to ``quarantine``; counts in result."""
    seen: dict[str, int] = {}  # id -> row of its first occurrence (the first row wins)
    for raw in iter_table_chunks(path, chunk_rows):
        comments, quarantined = prepare_texts(raw, id_col, text_col, seen=seen, source=str(path))
        result.rows += len(raw)
        result.quarantined += len(quarantined)
        for reason, count in quarantined["reason"].value_counts().items():
            result.by_reason[str(reason)] = result.by_reason.get(str(reason), 0) + int(count)
        if len(quarantined):
            write_csv(safe_for_spreadsheet(quarantined), quarantine, header=False)
        yield comments


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
    quarantine_out: Path | None = None,
    semantic: SemanticSettings | None = None,
    embedding_model: str = "koe-default",
) -> TagTableResult:
    """Tag the table at ``path`` and write tags.csv to ``out``, and the rows that cannot be
    tagged to ``quarantine_out`` (default: ``quarantine_path(out)``; the columns of koe run's
    quarantine.csv, a header only when every row is tagged). Both are written atomically: a
    ``.partial`` file renamed at the end, removed on error. Every input row is either in the
    tagged input (``result.accepted``) or in the quarantine file.

    With ``semantic`` settings the semantic layer (koe.taggers.semantic) runs over the lookup
    tags of the whole input, as ``koe run`` runs it over a night's: the pieces are lookup-tagged
    as they stream in, then the layer learns from all of them and tags.csv is written at the
    end (memory grows with the input's sentences; the embedding model loads once, here).

    Raises:
        IngestError: unreadable input or a missing column (nothing is left at ``out``).
        LookupListError, PolarityModelError: bad lookup lists or polarity model.
    """
    if chunk_rows < 1 or workers < 1:
        raise ValueError("chunk_rows and workers must be >= 1")
    result = TagTableResult()
    init_args = (str(lookup_lists), polarity_model)
    with atomic_outputs(out, quarantine_out or quarantine_path(out)) as (handle, quarantine):
        from koe.taggers.lookup import to_tags_csv

        collected: list[tuple[pd.DataFrame, pd.DataFrame]] = []

        def write_table(table: pd.DataFrame) -> None:
            write_csv(safe_for_spreadsheet(table), handle, header=handle.tell() == 0)
            result.tagged += table["id"].nunique() if len(table) else 0
            result.tags += len(table)

        def write(piece: tuple[pd.DataFrame, pd.DataFrame]) -> None:
            if semantic is not None and semantic.enabled:
                collected.append(piece)  # written once the whole input is tagged
            else:
                write_table(to_tags_csv(piece[1]))

        pieces = accepted_pieces(Path(path), id_col, text_col, chunk_rows, result, quarantine)
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
        if collected:
            from koe.taggers.semantic import semantic_layer

            tags, _ = semantic_layer(
                _TAGGER,
                pd.concat([s for s, _ in collected], ignore_index=True),
                pd.concat([t for _, t in collected], ignore_index=True),
                embedding_model,
                None,
                semantic,
            )
            write_table(to_tags_csv(tags))
        if handle.tell() == 0:  # no rows at all: still a tags.csv with its header
            write_csv(to_tags_csv(pd.DataFrame()), handle)
    return result


def quarantine_path(out: Path) -> Path:
    """Where ``koe tag --out tags.csv`` writes its quarantine: tags.quarantine.csv beside it."""
    return out.with_name(f"{out.stem}.quarantine.csv")
