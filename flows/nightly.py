"""The nightly flow: ingest -> tag -> discover -> drivers -> route -> report, one run folder.

Run it with ``koe run`` (an ephemeral Prefect API, no server needed), or deploy it with
prefect.yaml (entrypoint ``flows/nightly.py:nightly``).
"""

from __future__ import annotations

import os
import platform
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from koe.prefect_env import configure_prefect

configure_prefect()

import pandas as pd  # noqa: E402
from prefect import flow, get_run_logger  # noqa: E402
from prefect.artifacts import create_markdown_artifact  # noqa: E402

from koe import __version__, outputs  # noqa: E402
from koe.config import load_config  # noqa: E402
from koe.flows import tasks  # noqa: E402
from koe.flows.partitioned import partitioned_tagger  # noqa: E402
from koe.incremental import comment_records, lookup_tag_stage  # noqa: E402
from koe.ingest.sources import describe_input  # noqa: E402
from koe.pipeline import tagged_comments  # noqa: E402
from koe.store import RunStore  # noqa: E402
from koe.taggers.lookup import to_tags_csv  # noqa: E402


@flow(name="koe-nightly", log_prints=False)
def nightly(
    input_path: str | None = None,
    config_path: str | None = None,
    output_root: str | None = None,
    columns: dict[str, str] | None = None,
    input_sql: str | None = None,
    input_db_url: str | None = None,
) -> str:
    """Run koe on one survey export and write a run folder; returns its path.

    Args:
        input_path: CSV/TSV/XLSX/Parquet export (default: the config's input, else the sample).
        config_path: koe.yaml (default: built-in defaults).
        output_root: folder that receives the run folders (default: the config's ``out``).
        columns: input column names overriding the config's, e.g. {"text": "コメント"}.
        input_sql: a SELECT to read instead of a file (with input_db_url, a SQLAlchemy URL).
        input_db_url: the database of input_sql.

    Returns "" when there is nothing new to process (a folder without new files, a query
    without rows). One run at a time per run-state store: see RunStore.acquire_lock.
    """
    logger = get_run_logger()
    config = load_config(
        config_path,
        input=Path(input_path) if input_path else None,
        out=Path(output_root) if output_root else None,
        columns=columns or None,
        input_sql=input_sql,
        input_db_url=input_db_url,
    )
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    # every store write waits for the run to complete (crash safety, see koe.store)
    store = RunStore(config.state_url(), deferred=True)
    try:
        store.acquire_lock(timeout_s=config.lock_timeout_s, on_wait=logger.warning)
        started = datetime.now(UTC)
        run = outputs.RunFolder(out, store.unique_run_id(outputs.new_run_id(started), out))
        remove_partial_folders(out)  # left by killed runs; we hold the lock, nobody writes them
        store.start_run(run.run_id, describe_input(config))
    except BaseException:
        store.close()  # releases the lock
        raise
    timings: dict[str, float] = {}

    def timed(name: str, task: Any, *args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        result = task(*args, **kwargs)
        timings[name] = round(time.perf_counter() - t0, 3)
        return result

    try:
        ingested = timed("ingest", tasks.ingest, config, store)
        if ingested.source_kind != "file" and ingested.input_rows == 0:
            store.finish_run(run.run_id, "skipped")
            store.close()
            logger.info("koe: nothing new in %s", ingested.input_path)
            return ""
        comments = ingested.comments
        seen = store.record_comments(run.run_id, comments["id"].tolist(), comments["text"].tolist())
        store.put_comment_rows(zip(ingested.origins, comment_records(comments), strict=True))
        store.mark_files_processed(run.run_id, ingested.files)
        pause_point("ingested")
        sentences = timed("split_sentences", tasks.split_sentences, comments)
        tagging = config.tagging
        partitioned = (
            partitioned_tagger(str(config.lookup_lists), config.polarity_model,
                               tagging.partitions, tagging.dask_address, tagging.dask_workers)
            if tagging.partitions > 1 else None
        )  # fmt: skip
        # partitioned: the tag-partition tasks run in a sub-flow of this flow, not in a task
        stage = tasks.lookup_tag if partitioned is None else lookup_tag_stage
        lookup_tags, tagger, tag_stats = timed(
            "lookup_tag", stage, comments, sentences, Path(config.lookup_lists), store,
            config.polarity_model, partitioned,
        )  # fmt: skip
        pause_point("tagged")
        discovery = timed(
            "embed_and_cluster",
            tasks.discover,
            sentences,
            lookup_tags,
            comments,
            config,
            store,
            tagger,
        )
        tags = pd.concat([lookup_tags, discovery.tags], ignore_index=True)
        analysis = timed(
            "analysis", tasks.analyze, comments, tags, config, ingested.segments,
            ingested.sub_scores,
        )  # fmt: skip
        driver_table, window_info = analysis.drivers, None
        if config.drivers.window_days:
            driver_table, window_info = timed(
                "drivers_window", tasks.window_drivers, store, comments, tags, tagger, config
            )
        pause_point("analyzed")
        departments = sorted(tagger.lists.departments)
        routed = timed("route", tasks.route, comments, tags, config, departments, ingested.segments)
        folder = run.open()
        routed_counts = timed(
            "write_routed", tasks.write_routed, routed, folder / "routed", mask_pii=config.mask_pii
        )
        follow_up, thank_you = timed(
            "close_the_loop", tasks.close_the_loop, comments, tags, driver_table,
            ingested.segments,
        )  # fmt: skip
        loop_counts = timed(
            "write_close_the_loop", tasks.write_close_the_loop, follow_up, thank_you,
            folder / "routed", mask_pii=config.mask_pii,
        )  # fmt: skip
        t_tables = time.perf_counter()
        tagged = tagged_comments(comments, tags, ingested.segments, ingested.sub_scores)
        clusters_csv = discovery.assignments.reindex(
            columns=["id", "sentence_idx", "cluster_id", "cluster_label", "similarity", "text"]
        ).assign(cluster_id=lambda f: f["cluster_id"].replace("", "-1"))
        files = outputs.write_tables(
            folder,
            tagged=tagged,
            tags_csv=to_tags_csv(tags),
            drivers=driver_table,
            quarantine=ingested.quarantine,
            emergent=discovery.themes,
            clusters=clusters_csv,
            regression=analysis.regression,
            segments=analysis.segments,
            trends=analysis.trends,
            subscores=analysis.subscores,
            nps_trend=analysis.nps_trend,
            segment_drivers=analysis.segment_drivers,
        )
        counts = {
            "input_rows": ingested.input_rows,
            "accepted": len(comments),
            "tagged": len(comments),
            "quarantined": len(ingested.quarantine),
            "non_answers": int(comments["non_answer"].sum()),
            "tagged_with_theme": int(tagged["tagged"].sum()),
            "untagged": int((~tagged["tagged"] & ~tagged["non_answer"]).sum()),
            "sentences": len(sentences),
            "lookup_mentions": len(lookup_tags),
            "cluster_mentions": len(discovery.tags),
            "emergent_themes": len(discovery.themes),
        }
        timings["write_tables"] = round(time.perf_counter() - t_tables, 3)
        t_report = time.perf_counter()
        warnings = analysis.warnings["message"].tolist()
        messages = [m for m in [discovery.info.get("message", "")] if m]
        (folder / "report.html").write_text(
            outputs.render_report(
                outputs.report_context(
                    run_id=run.run_id,
                    input_path=ingested.input_path,
                    comments=comments,
                    drivers=driver_table,
                    emergent=discovery.themes,
                    routed_counts=routed_counts,
                    quarantine=ingested.quarantine,
                    counts=counts,
                    messages=messages,
                    analysis=analysis,
                    min_mentions=config.drivers.min_mentions,
                    min_n=config.drivers.min_n,
                    tags=tags,
                    close_the_loop=loop_counts,
                    mask_pii=config.mask_pii,
                )
            ),
            encoding="utf-8",
        )
        timings["report"] = round(time.perf_counter() - t_report, 3)
        manifest = {
            "run_id": run.run_id,
            "koe_version": __version__,
            "started_at": started.isoformat(),
            "finished_at": datetime.now(UTC).isoformat(),
            "input": {
                "path": ingested.input_path, "sha256": ingested.input_sha256,
                "kind": ingested.source_kind, "files": [f[0] for f in ingested.files],
                "skipped_files": len(ingested.skipped_files),
            },
            "counts": counts,
            "quarantine_by_reason": ingested.quarantine["reason"].value_counts().to_dict(),
            "comments_seen": seen,
            # how much work the caches saved (execution facts, like timings_s)
            "incremental": {
                "tokenized": tag_stats["tokenized"], "tag_cache_hits": tag_stats["cached"],
                "tag_copies": tag_stats["copies"],
                # every text encoded tonight, by any model (discovery, polarity fallback)
                "embedded": store.pending_counts()["embeddings"],
                "embedding_cache_hits": discovery.info.get("embedding", {}).get("cached", 0),
            },
            "drivers_window": window_info,
            "lookup_lists": {
                "folder": str(config.lookup_lists),
                "files": list(tagger.lists.files),
                "sha256": tagger.lists.sha256,
                "themes": len(tagger.lists),
            },
            "embedding_model": config.embedding_model,
            "discovery": discovery.info,
            "early_warnings": warnings,
            "analysis": analysis.info,
            "routed": routed_counts,
            "close_the_loop": loop_counts,
            "segments": ingested.segments,
            "sub_scores": ingested.sub_scores,
            "seed": config.seed,
            "timings_s": timings,
            "versions": {"python": platform.python_version(), **outputs.package_versions()},
            "files": [*files, "report.html", "manifest.json",
                      *(f"routed/{d}.{ext}" for d in [*sorted(routed_counts), *loop_counts]
                        for ext in ("csv", "xlsx"))],
            "messages": messages,
        }  # fmt: skip
        outputs.write_manifest(manifest, folder / "manifest.json")
        pause_point("written")
        final = run.commit()
        pause_point("committed")
    except BaseException:
        try:
            store.finish_run(run.run_id, "failed")
        finally:
            store.close()
        raise
    try:  # the run's store writes, in one transaction (see koe.store)
        store.finish_run(run.run_id, "completed", manifest)
    finally:
        store.close()
    create_markdown_artifact(
        key="koe-run-summary",
        markdown=(
            f"# koe run {run.run_id}\n\n| | |\n|---|---|\n"
            + "".join(f"| {k} | {v} |\n" for k, v in counts.items())
            + f"\nOutputs: `{final}`\n"
        ),
        description="koe nightly run summary",
    )
    logger.info("koe run %s wrote %s", run.run_id, final)
    return str(final)


def remove_partial_folders(out: Path) -> None:
    """Delete ``.<run id>.partial`` folders: runs killed before their folder was complete."""
    for partial in out.glob(".*.partial"):
        if partial.is_dir():
            shutil.rmtree(partial, ignore_errors=True)


def pause_point(stage: str) -> None:
    """Crash-test hook: with ``KOE_PAUSE_AT=<stage>`` the run writes its pid to
    ``$KOE_PAUSE_FILE`` and waits there to be killed (tests/test_crash.py). A no-op otherwise."""
    if os.environ.get("KOE_PAUSE_AT") != stage:
        return
    Path(os.environ["KOE_PAUSE_FILE"]).write_text(f"{os.getpid()} {stage}\n", encoding="utf-8")
    while True:
        time.sleep(0.5)
