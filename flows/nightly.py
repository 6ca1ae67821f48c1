"""The nightly flow: ingest -> tag -> discover -> drivers -> route -> report, one run folder.

Run it with ``koe run`` (an ephemeral Prefect API, no server needed), or deploy it with
prefect.yaml (entrypoint ``flows/nightly.py:nightly``).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
from pathlib import Path

from koe.prefect_env import configure_prefect

configure_prefect()

import pandas as pd  # noqa: E402
from prefect import flow, get_run_logger  # noqa: E402
from prefect.artifacts import create_markdown_artifact  # noqa: E402
from prefect.utilities.annotations import quote  # noqa: E402

from koe.config import load_config  # noqa: E402
from koe.flows import tasks  # noqa: E402
from koe.flows.partitioned import partitioned_tagger  # noqa: E402
from koe.ingest.sources import describe_input  # noqa: E402
from koe.manifest import Timings, run_counts, summary_markdown  # noqa: E402
from koe.outputs import RunFolder  # noqa: E402
from koe.store import RunStore  # noqa: E402


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

    Returns "" when there is nothing new (a folder without new files, a query without rows).
    One run at a time per store (RunStore.open_run); stage tasks time themselves (Timings).
    """
    logger = get_run_logger()
    config = load_config(
        config_path, input=Path(input_path) if input_path else None,
        out=Path(output_root) if output_root else None, columns=columns or None,
        input_sql=input_sql, input_db_url=input_db_url,
    )  # fmt: skip
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    store = RunStore(config.state_url(), deferred=True)  # writes wait for completion (koe.store)
    with store.open_run(out, describe_input(config), lock_timeout_s=config.lock_timeout_s,
                        on_wait=logger.warning) as run, Timings() as timings:  # fmt: skip
        remove_partial_folders(out)  # left by killed runs; we hold the lock, nobody writes them
        ingested = tasks.ingest(config, store)
        if ingested.source_kind != "file" and ingested.input_rows == 0:
            logger.info("koe: nothing new in %s", ingested.input_path)
            run.status = "skipped"
            return ""
        comments, segments = ingested.comments, ingested.segments
        seen = tasks.record_comments(store, run.run_id, quote(ingested))
        pause_point("ingested")
        sentences = tasks.split_sentences(comments)
        partitioned = partitioned_tagger(config)
        lookup_tag = tasks.lookup_tag if partitioned is None else tasks.lookup_tag_partitioned
        lookup_tags, tagger, tag_stats = lookup_tag(comments, sentences, config, store, partitioned)
        theme_tags, semantic = tasks.semantic_tag(sentences, lookup_tags, tagger, config, store)
        comments = tasks.sentiment(comments, tagger, config, store)
        ingested = dataclasses.replace(ingested, comments=comments)
        pause_point("tagged")
        discovery = tasks.discover(sentences, theme_tags, comments, config, store, tagger)
        tags = pd.concat([theme_tags, discovery.tags], ignore_index=True)
        analysis = tasks.analyze(comments, tags, config, segments, ingested.sub_scores)
        driver_table, window = analysis.drivers, None
        if config.drivers.window_days:
            driver_table, window = tasks.window_drivers(store, comments, tags, tagger, config)
        pause_point("analyzed")
        routed = tasks.route(comments, tags, config, sorted(tagger.lists.departments), segments,
                             tagger.lists.theme_departments)  # fmt: skip
        run_folder = RunFolder(out, run.run_id)
        folder = run_folder.open()
        routed_counts = tasks.write_routed(routed, folder / "routed", mask_pii=config.mask_pii)
        follow_up, thank_you = tasks.close_the_loop(comments, tags, driver_table, segments, config)
        loop_counts = tasks.write_close_the_loop(follow_up, thank_you, folder / "routed",
                                                 mask_pii=config.mask_pii)  # fmt: skip
        tables, tagged = tasks.write_tables(folder, quote(ingested), tags, discovery, analysis,
                                            driver_table)  # fmt: skip
        counts = run_counts(ingested, tagged, sentences, theme_tags, discovery)
        tasks.write_report(
            folder / "report.html", run_id=run.run_id, ingested=quote(ingested), tags=tags,
            driver_table=driver_table, discovery=discovery, analysis=analysis,
            routed_counts=routed_counts, loop_counts=loop_counts, counts=counts, config=config,
        )  # fmt: skip
        run.manifest = tasks.build_manifest(
            run=run, config=config, ingested=quote(ingested), counts=counts, seen=seen,
            tag_stats=tag_stats, embedded=store.pending_counts()["embeddings"], lists=tagger.lists,
            discovery=discovery, semantic=semantic, analysis=analysis, window=window,
            routed=routed_counts,
            close_the_loop=loop_counts, tables=tables, timings=timings.seconds,
        )  # fmt: skip
        tasks.write_manifest(run.manifest, folder / "manifest.json")
        pause_point("written")
        final = run_folder.commit()
        pause_point("committed")
    # leaving the block finished the run: its store writes went in one transaction (koe.store)
    create_markdown_artifact(key="koe-run-summary", description="koe nightly run summary",
                             markdown=summary_markdown(run.run_id, counts, final))  # fmt: skip
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
    pause = Path(os.environ["KOE_PAUSE_FILE"])
    partial = pause.with_name(pause.name + ".partial")
    partial.write_text(f"{os.getpid()} {stage}\n", encoding="utf-8")
    partial.replace(pause)  # atomic: the test never reads a pause file without its pid
    while True:
        time.sleep(0.5)
