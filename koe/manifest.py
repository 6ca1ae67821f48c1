"""A run's manifest.json: what went in, what came out, the caches' savings and stage timings.

Plain functions over the stages' results; the nightly flow runs ``build_manifest`` as a task and
``koe.outputs.write_manifest`` writes the file. ``timings_s`` is filled by the stage tasks
themselves (``timed``, ``Timings``). The ingest and analysis results are read through
the small protocols below (``koe.pipeline.IngestResult`` and ``AnalysisResult`` fit them), as
koe.pipeline is a higher layer than this module.
"""

from __future__ import annotations

import functools
import platform
import time
from collections.abc import Callable
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, TypeVar

import pandas as pd

from koe import __version__
from koe.outputs import package_versions

if TYPE_CHECKING:
    from koe.config import KoeConfig
    from koe.discovery.discover import DiscoveryResult
    from koe.store import RunRecord
    from koe.taggers.lookup_lists import LookupLists

P = ParamSpec("P")
R = TypeVar("R")


class IngestFacts(Protocol):
    """What the manifest reads of an ingest result (koe.pipeline.IngestResult)."""

    input_rows: int
    quarantine: pd.DataFrame
    input_path: str
    input_sha256: str
    source_kind: str
    files: list[tuple[str, str, int]]
    skipped_files: list[str]
    segments: list[str]
    sub_scores: list[str]


class AnalysisFacts(Protocol):
    """What the manifest reads of an analysis result (koe.pipeline.AnalysisResult)."""

    warnings: pd.DataFrame
    info: dict[str, Any]


class Timings:
    """Seconds per stage, in the order the stages ran: the manifest's ``timings_s``.

    While a Timings is entered (``with Timings() as timings:``), every call of a function
    wrapped by :func:`timed` records its seconds in it, so the flow calls its stage tasks as
    they are and still gets their timings.
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._token: Token[Timings | None] | None = None

    def __enter__(self) -> Timings:
        self._token = _recording.set(self)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            _recording.reset(self._token)
            self._token = None


_recording: ContextVar[Timings | None] = ContextVar("koe_timings", default=None)


def timed(stage: str, fn: Callable[P, R]) -> Callable[P, R]:
    """``fn``, timing each call that returns as ``stage`` (to the millisecond) in the entered
    Timings; a call that raises, or one made outside a Timings, records nothing."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        t0 = time.perf_counter()
        result = fn(*args, **kwargs)
        timings = _recording.get()
        if timings is not None:
            timings.seconds[stage] = round(time.perf_counter() - t0, 3)
        return result

    return run


def run_counts(
    ingested: IngestFacts,
    tagged: pd.DataFrame,
    sentences: pd.DataFrame,
    theme_tags: pd.DataFrame,
    discovery: DiscoveryResult,
) -> dict[str, int]:
    """The run's row and mention counts (manifest ``counts``, the report's summary).

    Args:
        ingested: the ingest result (input rows, quarantine).
        tagged: one row per accepted comment (koe.pipeline.tagged_comments: ``non_answer``,
            ``tagged``).
        sentences: the SentenceFrame that was tagged.
        theme_tags: the TagFrame of theme tagging (lookup and semantic tags).
        discovery: discovery's cluster tags and emergent themes.
    """
    semantic = int((theme_tags["source"] == "semantic").sum()) if "source" in theme_tags else 0
    return {
        "input_rows": ingested.input_rows,
        "accepted": len(tagged),
        "tagged": len(tagged),
        "quarantined": len(ingested.quarantine),
        "non_answers": int(tagged["non_answer"].sum()),
        "tagged_with_theme": int(tagged["tagged"].sum()),
        "untagged": int((~tagged["tagged"] & ~tagged["non_answer"]).sum()),
        "sentences": len(sentences),
        "lookup_mentions": len(theme_tags) - semantic,
        "semantic_mentions": semantic,
        "cluster_mentions": len(discovery.tags),
        "emergent_themes": len(discovery.themes),
    }


# The lookup lists do not fit a night when fewer answered comments than this get a theme ...
MIN_LIST_COVERAGE = 0.35
# ... judged on at least this many answered comments.
MIN_COMMENTS_FOR_FIT = 30


def list_fit(counts: dict[str, int]) -> dict[str, Any]:
    """How well the lookup lists fit the night (manifest ``list_fit``): ``coverage``, the share
    of answered comments with a theme tag; ``emergent_share``, the share of mentions that only
    discovery found; ``fits``: False when coverage is under MIN_LIST_COVERAGE on at least
    MIN_COMMENTS_FOR_FIT answered comments, or most mentions are emergent."""
    answered = counts.get("accepted", 0) - counts.get("non_answers", 0)
    themed = counts.get("lookup_mentions", 0) + counts.get("semantic_mentions", 0)
    mentions = themed + counts.get("cluster_mentions", 0)
    coverage = counts.get("tagged_with_theme", 0) / answered if answered else None
    emergent = counts.get("cluster_mentions", 0) / mentions if mentions else None
    judged = answered >= MIN_COMMENTS_FOR_FIT
    fits = not judged or ((coverage or 0) >= MIN_LIST_COVERAGE and (emergent or 0) <= 0.5)
    return {"coverage": None if coverage is None else round(coverage, 4),
            "emergent_share": None if emergent is None else round(emergent, 4),
            "answered": answered, "fits": fits}  # fmt: skip


def list_fit_message(fit: dict[str, Any]) -> str:
    """The warning of a night whose lookup lists do not fit it ("" when they do)."""
    if fit["fits"]:
        return ""
    return (
        "辞書がこのデータに合っていない可能性があります (the lookup lists may not fit this data): "
        f"only {fit['coverage']:.0%} of {fit['answered']} answered comments got a lookup theme"
        f" and {fit['emergent_share'] or 0:.0%} of the mentions are emergent themes, so routing "
        "by department is unreliable. Write lists for this domain (`koe init DIR --template "
        "empty`) or accept emergent themes (`koe themes accept`)."
    )


def run_messages(discovery_info: dict[str, Any], counts: dict[str, int] | None = None) -> list[str]:
    """The notes a run shows its reader: why a night had nothing to analyse, a warning when the
    lookup lists do not fit the data, and discovery's message when it left one. ``counts``:
    run_counts."""
    notes = []
    fit_note = list_fit_message(list_fit(counts)) if counts is not None else ""
    if fit_note:
        notes.append(fit_note)
    if counts is not None and counts.get("accepted") == 0:
        read, quarantined = counts.get("input_rows", 0), counts.get("quarantined", 0)
        notes.append(
            f"分析できるコメントがありません (no comments to analyse): {read} rows read, "
            f"{quarantined} quarantined"
            + (" — see 取り込めなかった行 below." if quarantined else ".")
        )
    return notes + [m for m in [discovery_info.get("message", "")] if m]


def run_files(
    tables: list[str], routed: dict[str, int], close_the_loop: dict[str, int]
) -> list[str]:
    """Every file of a run folder, relative to it: the tables, report, manifest, routed lists."""
    lists = [*sorted(routed), *close_the_loop]
    return [*tables, "report.html", "manifest.json",
            *(f"routed/{d}.{ext}" for d in lists for ext in ("csv", "xlsx"))]  # fmt: skip


def build_manifest(
    *,
    run: RunRecord,
    config: KoeConfig,
    ingested: IngestFacts,
    counts: dict[str, int],
    seen: dict[str, int],
    tag_stats: dict[str, int],
    embedded: int,
    lists: LookupLists,
    discovery: DiscoveryResult,
    analysis: AnalysisFacts,
    window: dict[str, Any] | None,
    routed: dict[str, int],
    close_the_loop: dict[str, int],
    tables: list[str],
    timings: dict[str, float],
    finished: datetime | None = None,
    semantic: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """manifest.json's content.

    Args:
        run: the run (id, start time). ``finished``: its end (default: now).
        counts: run_counts. seen: new/changed/unchanged comments (RunStore.record_comments).
        tag_stats: lookup-tag cache stats (koe.incremental.lookup_tag_cached).
        embedded: texts encoded tonight, by any model (discovery, polarity fallback).
        lists: the lookup lists tagged with. window: the drivers window's info, or None.
        routed, close_the_loop: rows per routed file. tables: the table files written.
        timings: seconds per stage (Timings.seconds).
        semantic: the semantic layer's info (koe.taggers.semantic.semantic_layer).
    """
    return {
        "run_id": run.run_id,
        "koe_version": __version__,
        "started_at": run.started.isoformat(),
        "finished_at": (finished or datetime.now(UTC)).isoformat(),
        "input": {
            "path": ingested.input_path, "sha256": ingested.input_sha256,
            "kind": ingested.source_kind, "files": [f[0] for f in ingested.files],
            "skipped_files": len(ingested.skipped_files),
        },
        "counts": counts,
        "list_fit": list_fit(counts),
        "quarantine_by_reason": ingested.quarantine["reason"].value_counts().to_dict(),
        "comments_seen": seen,
        # how much work the caches saved (execution facts, like timings_s)
        "incremental": {
            "tokenized": tag_stats["tokenized"], "tag_cache_hits": tag_stats["cached"],
            "tag_copies": tag_stats["copies"], "embedded": embedded,
            "embedding_cache_hits": discovery.info.get("embedding", {}).get("cached", 0),
        },
        "drivers_window": window,
        "lookup_lists": {
            "folder": str(config.lookup_lists), "files": list(lists.files),
            "sha256": lists.sha256, "themes": len(lists),
        },
        "embedding_model": config.embedding_model,
        "semantic": semantic or {"enabled": False},
        "discovery": discovery.info,
        "early_warnings": analysis.warnings["message"].tolist(),
        "analysis": analysis.info,
        "routed": routed,
        "close_the_loop": close_the_loop,
        "segments": ingested.segments,
        "sub_scores": ingested.sub_scores,
        "seed": config.seed,
        "timings_s": timings,
        "versions": {"python": platform.python_version(), **package_versions()},
        "files": run_files(tables, routed, close_the_loop),
        "messages": run_messages(discovery.info, counts),
    }  # fmt: skip


def summary_markdown(run_id: str, counts: dict[str, int], folder: Path) -> str:
    """The run summary the flow publishes as a Prefect markdown artifact."""
    rows = "".join(f"| {k} | {v} |\n" for k, v in counts.items())
    return f"# koe run {run_id}\n\n| | |\n|---|---|\n{rows}\nOutputs: `{folder}`\n"
