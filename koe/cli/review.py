"""Theme discovery and the review loop: `koe discover`, `koe eval-clusters`, `koe themes`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from koe.cli.common import fail, user_errors


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
    from koe.discovery import discover_table, prepare_table, write_discovery
    from koe.ingest import read_table
    from koe.store import RunStore
    from koe.taggers.factory import build_tagger

    if unit not in ("comment", "sentence"):
        fail(ValueError(f"--unit must be comment or sentence, got {unit!r}"))
    try:
        cfg = load_config(config)
        table, messages = prepare_table(read_table(input), id_col, text_col, score_col)
        tagger = build_tagger(cfg.lookup_lists)
    except user_errors() as exc:
        fail(exc)
    store = RunStore(f"sqlite:///{state_db.resolve()}") if state_db else None
    try:
        clusters, themes, info = discover_table(table, cfg, store, unit=unit, tagger=tagger)
    except user_errors() as exc:
        fail(exc)
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


def eval_clusters(
    labels: Annotated[Path, typer.Option("--labels", help="Reference labels: id,label.")],
    clusters: Annotated[Path, typer.Option("--clusters", help="clusters.csv to evaluate.")],
) -> None:
    """NMI, ARI, outlier share and cluster count of a clusters.csv against labels.

    Outliers (-1) count as one extra cluster in NMI and ARI; the scores over the clustered
    items alone are printed as well."""
    import pandas as pd

    from koe.evaluate import evaluate_clusters, format_cluster_evaluation

    try:
        label_frame = pd.read_csv(labels, dtype=str, keep_default_na=False)
        cluster_frame = pd.read_csv(clusters, dtype=str, keep_default_na=False)
        result = evaluate_clusters(label_frame, cluster_frame)
    except (OSError, ValueError, KeyError) as exc:
        fail(exc)
    typer.echo(format_cluster_evaluation(result))


RunOption = Annotated[
    Path | None,
    typer.Option("--run", help="Run folder with emergent_themes.csv (default: the newest)."),
]
ListsOption = Annotated[
    Path | None, typer.Option("--lists", help="Lookup-list folder (default: the config's).")
]
ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="koe.yaml")]
OutOption = Annotated[
    Path | None,
    typer.Option("--out", "-o", help="The runs folder `koe run --out` wrote to (default: the "
                                     "config's out, else koe_runs); its newest run is used."),
]  # fmt: skip


def _review_paths(config: Path | None, lists: Path | None, run: Path | None,
                  out: Path | None = None) -> tuple[Path, Path]:  # fmt: skip
    from koe.config import load_config
    from koe.themes import latest_run

    cfg = load_config(config, out=out)
    return (lists or Path(cfg.lookup_lists)), (run or latest_run(Path(cfg.out)))


def _theme_errors() -> tuple[type[Exception], ...]:
    from koe.themes import ThemeEditError

    return (*user_errors(), ThemeEditError)


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
    out: OutOption = None,
) -> None:
    """Write a new theme with the cluster's keywords into <lists>/accepted.yaml."""
    from koe.themes import accept_cluster

    try:
        folder, run_folder = _review_paths(config, lists, run, out)
        edit = accept_cluster(
            cluster_id, theme_id, run=run_folder, lists=folder, department=department,
            name=name, parent=parent,
        )  # fmt: skip
    except _theme_errors() as exc:
        fail(exc)
    typer.echo(
        f"theme {edit.theme_id} ({', '.join(edit.keywords_added)}) written to {edit.path}"
        f"{' (new file)' if edit.created_file else ''}; the next run tags it"
    )


def themes_merge(
    cluster_id: Annotated[str, typer.Argument(help="Cluster id, e.g. cluster_03.")],
    into: Annotated[str, typer.Option("--into", help="Existing theme id.")],
    lists: ListsOption = None,
    run: RunOption = None,
    config: ConfigOption = None,
    out: OutOption = None,
) -> None:
    """Add the cluster's keywords to an existing theme."""
    from koe.themes import merge_cluster

    try:
        folder, run_folder = _review_paths(config, lists, run, out)
        edit = merge_cluster(cluster_id, into, run=run_folder, lists=folder)
    except _theme_errors() as exc:
        fail(exc)
    typer.echo(f"theme {into}: added {', '.join(edit.keywords_added)} in {edit.path}")


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
        fail(exc)
    typer.echo(f"theme {theme_id} renamed to {name!r} in {edit.path}")


def review(
    run: Annotated[
        Path | None, typer.Argument(help="Run folder (default: the newest under the config's out).")
    ] = None,
    config: ConfigOption = None,
    host: Annotated[str, typer.Option("--host", help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port.")] = 8765,
    token: Annotated[
        str | None,
        typer.Option("--token", help="Access token (default: none on 127.0.0.1, a new one on "
                                     "any other address)."),
    ] = None,
    author: Annotated[
        str | None, typer.Option("--author", help="Name stored with each decision (default $USER).")
    ] = None,
) -> None:
    """The analyst's workbench: browse a run's themes and comments, confirm, reject and add tags,
    edit the lookup lists with a preview. Decisions go to the run-state database, the lists
    and OUT/review_gold.csv; the next `koe run` learns from them."""
    import os

    from koe.config import load_config
    from koe.store import RunStore
    from koe.themes import latest_run
    from koe.workbench import Workbench, gold_path, serve
    from koe.workbench.data import RunFolderError, load_run
    from koe.workbench.security import BindError, is_loopback, new_token

    if token is None and not is_loopback(host):
        token = new_token()
    try:
        cfg = load_config(config)
        folder = run or latest_run(Path(cfg.out))
        view = load_run(folder)
        # the state database beside the run's folder unless koe.yaml names one
        store = RunStore(cfg.model_copy(update={"out": folder.resolve().parent}).state_url())
    except (*_theme_errors(), RunFolderError) as exc:
        fail(exc)
    bench = Workbench(view, Path(cfg.lookup_lists), store, gold_path(folder.resolve().parent),
                      author=author if author is not None else os.environ.get("USER", ""))
    shown = "localhost" if is_loopback(host) else host
    url = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    typer.echo(f"koe review: run {folder.name}, lists {cfg.lookup_lists}; open {url} "
               "(Ctrl-C stops)")  # fmt: skip
    try:
        serve(bench, host, port, token)
    except BindError as exc:
        fail(exc)
    finally:
        store.close()
