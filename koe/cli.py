"""koe's command line. Contract commands (keep stable): run, tag, lists check, lists show."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from koe.prefect_env import configure_prefect

if TYPE_CHECKING:
    from koe.taggers.lookup import LookupTagger

configure_prefect()

app = typer.Typer(
    help="koe (声): Japanese-first voice-of-the-customer text mining for NPS/CSAT surveys.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
lists_app = typer.Typer(help="Validate and inspect the lookup lists.", no_args_is_help=True)
app.add_typer(lists_app, name="lists")


def _user_errors() -> tuple[type[Exception], ...]:
    from koe.config import ConfigError
    from koe.ingest import IngestError
    from koe.models.embeddings import EmbedderLoadError
    from koe.models.polarity_model import PolarityModelError
    from koe.outputs import AccountingError
    from koe.store import LockTimeout
    from koe.taggers.lookup_lists import LookupListError

    return (ConfigError, IngestError, LookupListError, EmbedderLoadError, AccountingError,
            LockTimeout, PolarityModelError)  # fmt: skip


LookupListsOption = Annotated[
    Path | None, typer.Option("--lookup-lists", "-l", help="Lookup-list folder.")
]


def _load_tagger(folder: Path | None, polarity_model: str | None = None) -> LookupTagger:
    """The lookup tagger of ``folder`` (default: the shipped lists); user errors exit 2.

    ``polarity_model``: the sentence classifier behind the lexicon (None: lexicon only).
    """
    from koe.taggers.factory import build_tagger

    try:
        return build_tagger(folder, polarity_model)
    except _user_errors() as exc:
        _fail(exc)


def _fail(exc: Exception) -> None:
    typer.secho(f"koe: error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


def _preflight(config: Path | None, out: Path | None, columns: dict[str, str]) -> None:
    """Fail fast, before Prefect starts, on a bad config or lookup list."""
    from koe.config import load_config
    from koe.taggers.factory import build_tagger

    cfg = load_config(config, out=out, columns=columns or None)
    build_tagger(cfg.lookup_lists)


@app.command()
def run(
    input: Annotated[
        Path | None,
        typer.Option("--input", "-i", help="CSV/TSV/XLSX/Parquet export (default: the sample)."),
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="koe.yaml")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Folder for run folders (default koe_runs).")
    ] = None,
    id_col: Annotated[str | None, typer.Option("--id-col", help="Input id column.")] = None,
    text_col: Annotated[str | None, typer.Option("--text-col", help="Input text column.")] = None,
    score_col: Annotated[
        str | None, typer.Option("--score-col", help="Input 0-10 score column.")
    ] = None,
    date_col: Annotated[str | None, typer.Option("--date-col", help="Input date column.")] = None,
    input_sql: Annotated[
        str | None,
        typer.Option("--input-sql", help="Read a SELECT instead of a file (needs --db-url)."),
    ] = None,
    db_url: Annotated[
        str | None, typer.Option("--db-url", help="SQLAlchemy URL for --input-sql.")
    ] = None,
) -> None:
    """Run the nightly flow (a Prefect flow run) and print where the outputs are.

    --input may be a folder of daily export files: each run reads the files not processed yet.
    """
    columns = {
        key: value
        for key, value in (("id", id_col), ("text", text_col), ("score", score_col),
                           ("date", date_col))
        if value
    }  # fmt: skip
    try:
        _preflight(config, out, columns)
        from koe.flows.nightly import nightly

        folder = nightly(
            input_path=str(input) if input else None,
            config_path=str(config) if config else None,
            output_root=str(out) if out else None,
            columns=columns or None,
            input_sql=input_sql,
            input_db_url=db_url,
        )
    except _user_errors() as exc:
        _fail(exc)
    if not folder:
        typer.echo("koe run: nothing new to process (no new files, no rows); no run folder")
        return
    import json

    manifest = json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
    c = manifest["counts"]
    typer.echo(f"koe run {manifest['run_id']} finished: {folder}")
    typer.echo(
        f"  input rows {c['input_rows']} = tagged {c['tagged']} + quarantined {c['quarantined']}"
        f"; with a lookup theme {c['tagged_with_theme']}, non-answers {c['non_answers']}"
        f", emergent themes {c['emergent_themes']}"
    )
    for name in ("report.html", "tagged.parquet", "tags.csv", "drivers.csv", "quarantine.csv"):
        typer.echo(f"  {Path(folder) / name}")
    routed = [*sorted(manifest["routed"]), *manifest.get("close_the_loop", {})]
    typer.echo(f"  {Path(folder) / 'routed'}/ ({', '.join(routed)})")


@app.command()
def unlock(
    config: Annotated[Path | None, typer.Option("--config", "-c", help="koe.yaml")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Folder for run folders (default koe_runs).")
    ] = None,
) -> None:
    """Remove the run lock of the run-state store, left by a run on a machine that is gone.

    A lock of a dead process on this machine is reclaimed by the next run on its own.
    """
    from koe.config import load_config
    from koe.store import RunStore

    try:
        cfg = load_config(config, out=out)
    except _user_errors() as exc:
        _fail(exc)
    store = RunStore(cfg.state_url())
    holder = store.break_lock()
    store.close()
    if holder is None:
        typer.echo(f"no run lock on {store.safe_url}")
    else:
        typer.echo(
            f"removed the run lock of run {holder['run_id'] or '(starting)'}: pid {holder['pid']}"
            f" on {holder['host']}, since {holder['acquired_at']:%Y-%m-%d %H:%M:%S} UTC"
        )


@app.command()
def tag(
    input: Annotated[Path, typer.Option("--input", "-i", help="Table with id and text columns.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="tags.csv to write.")],
    lookup_lists: LookupListsOption = None,
    id_col: Annotated[str, typer.Option("--id-col", help="Id column.")] = "id",
    text_col: Annotated[str, typer.Option("--text-col", help="Text column.")] = "text",
    polarity_model: Annotated[
        str,
        typer.Option(
            "--polarity-model",
            help='Sentence polarity classifier behind the lexicon: "koe-default", a folder, '
            'or "none" (lexicon only).',
        ),
    ] = "koe-default",
    chunk_rows: Annotated[
        int,
        typer.Option(
            "--chunk-rows", min=1, help="Rows read, tagged and written at a time (bounds memory)."
        ),
    ] = 50_000,
    workers: Annotated[
        int,
        typer.Option(
            "--workers", min=1, help="Processes tagging pieces in parallel (each loads the models)."
        ),
    ] = 1,
) -> None:
    """Lookup tagging only: write tags.csv (id,theme,department,polarity,source,evidence).

    The input is streamed: CSV/TSV and Parquet are read ``--chunk-rows`` rows at a time and
    the tags of each piece are appended to the output, so memory grows with the input's ids
    only; ``--workers`` processes tag pieces in parallel (same tags). A text repeated within a
    piece is tagged once; a repeated id is skipped (counted).
    """
    from koe.batch import tag_table
    from koe.config import DEFAULT_LOOKUP_LISTS

    try:
        done = tag_table(
            input, out, lookup_lists or DEFAULT_LOOKUP_LISTS, polarity_model,
            id_col=id_col, text_col=text_col, chunk_rows=chunk_rows, workers=workers,
        )  # fmt: skip
    except _user_errors() as exc:
        _fail(exc)
    repeated = (
        f" ({done.repeated_ids} rows skipped: repeated id, the first row wins)"
        if done.repeated_ids
        else ""
    )
    typer.echo(f"{done.rows} comments, {done.tagged} tagged, {done.tags} tags -> {out}{repeated}")


@app.command("eval")
def eval_tags(
    gold: Annotated[Path, typer.Option("--gold", help="Gold tags: id,theme,polarity.")],
    pred: Annotated[Path, typer.Option("--pred", help="Predicted tags.csv.")],
    comments: Annotated[
        Path | None,
        typer.Option(
            "--comments", help="The evaluated comments (id column); default: gold ∪ pred."
        ),
    ] = None,
) -> None:
    """Per-theme precision/recall/F1, micro and macro, and polarity accuracy."""
    import pandas as pd

    from koe.evaluate import evaluate_tags, format_evaluation

    try:
        gold_frame = pd.read_csv(gold, dtype=str, keep_default_na=False)
        pred_frame = pd.read_csv(pred, dtype=str, keep_default_na=False)
        ids = pd.read_csv(comments, dtype=str)["id"].tolist() if comments else None
        for name, frame in (("gold", gold_frame), ("pred", pred_frame)):
            missing = {"id", "theme", "polarity"} - set(frame.columns)
            if missing:
                raise ValueError(f"{name} file lacks column(s) {sorted(missing)}")
    except (OSError, ValueError, KeyError) as exc:
        _fail(exc)
    typer.echo(format_evaluation(evaluate_tags(gold_frame, pred_frame, ids)))


@lists_app.command("check")
def lists_check(
    lookup_lists: LookupListsOption = None,
) -> None:
    """Validate every lookup list and run the themes' example comments."""
    from koe.taggers.lookup import check_examples

    tagger = _load_tagger(lookup_lists)
    failures = check_examples(tagger)
    n_examples = sum(
        len(t.examples_match) + len(t.examples_no_match) for t in tagger.lists.themes.values()
    )
    for failure in failures:
        typer.secho(f"FAIL {failure}", fg=typer.colors.RED)
    typer.echo(
        f"{len(tagger)} themes in {len(tagger.lists.files)} file(s); "
        f"{n_examples - len(failures)}/{n_examples} examples pass"
    )
    if failures:
        raise typer.Exit(1)


@lists_app.command("show")
def lists_show(
    theme: Annotated[str, typer.Argument(help="Theme id.")],
    lookup_lists: LookupListsOption = None,
) -> None:
    """Print a theme with its normalized keywords."""
    tagger = _load_tagger(lookup_lists)
    if theme not in tagger:
        typer.secho(f"koe: unknown theme {theme!r}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2)
    t = tagger.lists.themes[theme]
    typer.echo(f"{t.id}: {t.name_ja} / {t.name_en}  ({t.file}:{t.line})")
    typer.echo(f"  parent: {t.parent or '-'}  department: {t.department}  "
               f"default polarity: {t.default_polarity}")  # fmt: skip
    for keyword, norm in tagger.normalized_keywords(theme):
        typer.echo(f"  {keyword}  ->  {norm}")
    if t.exclusions:
        typer.echo(f"  exclusions: {', '.join(t.exclusions)}")


# -- theme discovery and the review loop ---------------------------------------------------------

themes_app = typer.Typer(
    help="Review discovered clusters: accept them as lookup themes, merge, rename.",
    no_args_is_help=True,
)
app.add_typer(themes_app, name="themes")


@app.command()
def discover(
    input: Annotated[Path, typer.Option("--input", "-i", help="Table with id and text columns.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for clusters.csv etc.")],
    text_col: Annotated[str, typer.Option("--text-col", help="Text column.")] = "text",
    id_col: Annotated[str, typer.Option("--id-col", help="Id column.")] = "id",
    score_col: Annotated[
        str | None, typer.Option("--score-col", help="Optional 0-10 score column (for NPS).")
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="koe.yaml")] = None,
    unit: Annotated[
        str, typer.Option("--unit", help="Cluster whole comments or their sentences.")
    ] = "comment",
    state_db: Annotated[
        Path | None,
        typer.Option("--state-db", help="Run-state database: embedding cache, stable ids."),
    ] = None,
) -> None:
    """Discovery alone: write OUT/clusters.csv (id,cluster_id,cluster_label,similarity; outliers
    -1) and OUT/emergent_themes.csv. Needs only an id and a text column."""
    from koe.config import load_config
    from koe.discovery.discover import discover_table, prepare_table, write_discovery
    from koe.ingest import read_table
    from koe.store import RunStore
    from koe.taggers.factory import build_tagger

    if unit not in ("comment", "sentence"):
        _fail(ValueError(f"--unit must be comment or sentence, got {unit!r}"))
    try:
        cfg = load_config(config)
        table, messages = prepare_table(read_table(input), id_col, text_col, score_col)
        tagger = build_tagger(cfg.lookup_lists)
    except _user_errors() as exc:
        _fail(exc)
    store = RunStore(f"sqlite:///{state_db.resolve()}") if state_db else None
    try:
        clusters, themes, info = discover_table(table, cfg, store, unit=unit, tagger=tagger)
    except _user_errors() as exc:
        _fail(exc)
    finally:
        if store is not None:
            store.close()
    paths = write_discovery(out, clusters, themes)
    for message in [*messages, *info["messages"]]:
        typer.secho(f"koe discover: {message}", fg=typer.colors.YELLOW, err=True)
    typer.echo(
        f"{info['rows']} rows, {len(themes)} clusters, outlier share "
        f"{info['outlier_share']:.3f} -> {paths[0]}, {paths[1]}"
    )


@app.command("eval-clusters")
def eval_clusters(
    labels: Annotated[Path, typer.Option("--labels", help="Reference labels: id,label.")],
    clusters: Annotated[Path, typer.Option("--clusters", help="clusters.csv to evaluate.")],
) -> None:
    """NMI, ARI, outlier share and cluster count of a clusters.csv against labels.

    Outliers (-1) count as one extra cluster in NMI and ARI; the scores over the clustered
    items alone are printed as well."""
    import pandas as pd

    from koe.discovery.discover import evaluate_clusters, format_cluster_evaluation

    try:
        label_frame = pd.read_csv(labels, dtype=str, keep_default_na=False)
        cluster_frame = pd.read_csv(clusters, dtype=str, keep_default_na=False)
        result = evaluate_clusters(label_frame, cluster_frame)
    except (OSError, ValueError, KeyError) as exc:
        _fail(exc)
    typer.echo(format_cluster_evaluation(result))


RunOption = Annotated[
    Path | None,
    typer.Option("--run", help="Run folder with emergent_themes.csv (default: the newest)."),
]
ListsOption = Annotated[
    Path | None, typer.Option("--lists", help="Lookup-list folder (default: the config's).")
]
ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="koe.yaml")]


def _review_paths(config: Path | None, lists: Path | None, run: Path | None) -> tuple[Path, Path]:
    from koe.config import load_config
    from koe.themes import latest_run

    cfg = load_config(config)
    return (lists or Path(cfg.lookup_lists)), (run or latest_run(Path(cfg.out)))


def _theme_errors() -> tuple[type[Exception], ...]:
    from koe.themes import ThemeEditError

    return (*_user_errors(), ThemeEditError)


@themes_app.command("accept")
def themes_accept(
    cluster_id: Annotated[str, typer.Argument(help="Cluster id, e.g. cluster_03.")],
    theme_id: Annotated[str, typer.Option("--as", help="New theme id (ASCII slug).")],
    department: Annotated[
        str | None, typer.Option("--department", help="Department (default triage).")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Theme name.")] = None,
    parent: Annotated[str | None, typer.Option("--parent", help="Parent theme id.")] = None,
    lists: ListsOption = None,
    run: RunOption = None,
    config: ConfigOption = None,
) -> None:
    """Write a new theme with the cluster's keywords into <lists>/accepted.yaml."""
    from koe.themes import accept_cluster

    try:
        folder, run_folder = _review_paths(config, lists, run)
        edit = accept_cluster(
            cluster_id, theme_id, run=run_folder, lists=folder, department=department,
            name=name, parent=parent,
        )  # fmt: skip
    except _theme_errors() as exc:
        _fail(exc)
    typer.echo(
        f"theme {edit.theme_id} ({', '.join(edit.keywords_added)}) written to {edit.path}"
        f"{' (new file)' if edit.created_file else ''}; the next run tags it"
    )


@themes_app.command("merge")
def themes_merge(
    cluster_id: Annotated[str, typer.Argument(help="Cluster id, e.g. cluster_03.")],
    into: Annotated[str, typer.Option("--into", help="Existing theme id.")],
    lists: ListsOption = None,
    run: RunOption = None,
    config: ConfigOption = None,
) -> None:
    """Add the cluster's keywords to an existing theme."""
    from koe.themes import merge_cluster

    try:
        folder, run_folder = _review_paths(config, lists, run)
        edit = merge_cluster(cluster_id, into, run=run_folder, lists=folder)
    except _theme_errors() as exc:
        _fail(exc)
    typer.echo(f"theme {into}: added {', '.join(edit.keywords_added)} in {edit.path}")


@themes_app.command("rename")
def themes_rename(
    theme_id: Annotated[str, typer.Argument(help="Theme id.")],
    name: Annotated[str, typer.Option("--name", help="New name (Japanese sets name.ja).")],
    lists: ListsOption = None,
    config: ConfigOption = None,
) -> None:
    """Rename a theme (its id stays: ids are contracts)."""
    from koe.config import load_config
    from koe.themes import rename_theme

    try:
        folder = lists or Path(load_config(config).lookup_lists)
        edit = rename_theme(theme_id, name, lists=folder)
    except _theme_errors() as exc:
        _fail(exc)
    typer.echo(f"theme {theme_id} renamed to {name!r} in {edit.path}")


def main() -> None:  # pragma: no cover
    sys.exit(app())
