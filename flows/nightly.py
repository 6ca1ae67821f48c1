"""The nightly flow: ingest -> tag -> discover -> drivers -> route -> report, one run folder.

Run it with ``koe run`` (an ephemeral Prefect API, no server needed), or deploy it with
prefect.yaml (entrypoint ``flows/nightly.py:nightly``).
"""

from __future__ import annotations

import platform
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from koe.prefect_env import configure_prefect

configure_prefect()

import pandas as pd  # noqa: E402
from prefect import flow, get_run_logger  # noqa: E402
from prefect.artifacts import create_markdown_artifact  # noqa: E402

from flows import tasks  # noqa: E402
from koe import __version__, outputs  # noqa: E402
from koe.config import load_config  # noqa: E402
from koe.pipeline import tagged_comments  # noqa: E402
from koe.store import RunStore  # noqa: E402
from taggers.lookup import to_tags_csv  # noqa: E402


@flow(name="koe-nightly", log_prints=False)
def nightly(
    input_path: str | None = None,
    config_path: str | None = None,
    output_root: str | None = None,
    columns: dict[str, str] | None = None,
) -> str:
    """Run koe on one survey export and write a run folder; returns its path.

    Args:
        input_path: CSV/TSV/XLSX/Parquet export (default: the config's input, else the sample).
        config_path: koe.yaml (default: built-in defaults).
        output_root: folder that receives the run folders (default: the config's ``out``).
        columns: input column names overriding the config's, e.g. {"text": "コメント"}.
    """
    logger = get_run_logger()
    started = datetime.now(UTC)
    config = load_config(
        config_path,
        input=Path(input_path) if input_path else None,
        out=Path(output_root) if output_root else None,
        columns=columns or None,
    )
    run = outputs.RunFolder(Path(config.out), outputs.new_run_id(started))
    Path(config.out).mkdir(parents=True, exist_ok=True)
    store = RunStore(config.state_url())
    timings: dict[str, float] = {}

    def timed(name: str, task: Any, *args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        result = task(*args, **kwargs)
        timings[name] = round(time.perf_counter() - t0, 3)
        return result

    ingested = timed("ingest", tasks.ingest, config)
    store.start_run(run.run_id, ingested.input_path)
    try:
        comments = ingested.comments
        seen = store.record_comments(run.run_id, comments["id"].tolist(), comments["text"].tolist())
        sentences = timed("split_sentences", tasks.split_sentences, comments)
        lookup_tags, tagger = timed(
            "lookup_tag", tasks.lookup_tag, sentences, Path(config.lookup_lists)
        )
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
        driver_table = analysis.drivers
        departments = sorted(tagger.lists.departments)
        routed = timed("route", tasks.route, comments, tags, config, departments, ingested.segments)
        folder = run.open()
        routed_counts = timed(
            "write_routed", tasks.write_routed, routed, folder / "routed", mask_pii=config.mask_pii
        )
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
                )
            ),
            encoding="utf-8",
        )
        manifest = {
            "run_id": run.run_id,
            "koe_version": __version__,
            "started_at": started.isoformat(),
            "finished_at": datetime.now(UTC).isoformat(),
            "input": {"path": ingested.input_path, "sha256": ingested.input_sha256},
            "counts": counts,
            "quarantine_by_reason": ingested.quarantine["reason"].value_counts().to_dict(),
            "comments_seen": seen,
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
            "segments": ingested.segments,
            "sub_scores": ingested.sub_scores,
            "seed": config.seed,
            "timings_s": timings,
            "versions": {"python": platform.python_version(), **outputs.package_versions()},
            "files": [*files, "report.html", "manifest.json",
                      *(f"routed/{d}.csv" for d in sorted(routed_counts))],
            "messages": messages,
        }  # fmt: skip
        outputs.write_manifest(manifest, folder / "manifest.json")
        final = run.commit()
    except BaseException:
        store.finish_run(run.run_id, "failed")
        store.close()
        raise
    store.finish_run(run.run_id, "completed", manifest)
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
