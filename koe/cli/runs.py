"""`koe run` (the nightly flow) and `koe unlock`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from koe.cli.common import fail, preflight, user_errors

if TYPE_CHECKING:
    from koe.config import KoeConfig


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
    from koe.core.errors import disk_full

    cfg = None
    try:
        cfg = preflight(config, out, columns, input, input_sql)
        from koe.flows.nightly import nightly
        from koe.prefect_env import console_tracebacks_hidden, start_local_api

        start_local_api()  # dies with this process, even on SIGKILL (koe.prefect_env)
        with console_tracebacks_hidden(disk_full):
            folder = nightly(
                input_path=str(input) if input else None,
                config_path=str(config) if config else None,
                output_root=str(out) if out else None,
                columns=columns or None,
                input_sql=input_sql,
                input_db_url=db_url,
            )
    except user_errors() as exc:
        fail(exc)
    except Exception as exc:
        if disk_full(exc) is None:
            raise
        fail(disk_full_message(exc, cfg), code=1)
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
    for message in manifest.get("messages", []):
        typer.secho(f"  note: {message}", fg=typer.colors.YELLOW)


def disk_full_message(exc: BaseException, cfg: KoeConfig | None) -> str:
    """The one line of a run stopped by a full disk (exit 1): what could not be written, what
    koe did about it (store.open_run: partial folder removed, run failed, lock released)."""
    from koe.core.dburl import safe_url
    from koe.core.errors import describe_disk_full, disk_full

    full = disk_full(exc)
    assert full is not None
    what = describe_disk_full(full)
    if not isinstance(full, OSError):  # the run-state database
        store = safe_url(cfg.state_url()) if cfg is not None else "(unknown)"
        what = f"run-state database {store}: {what}"
    notes = [n for e in (exc, full) for n in getattr(e, "__notes__", ())]
    done = ("the run-state store could not be updated (the next run marks this run crashed)"
            if any(n.startswith("koe: could not") for n in notes) else
            "the run was marked failed and its lock released")  # fmt: skip
    where = f"under {cfg.out.resolve()} and " if cfg is not None else ""
    return (f"disk full: {what}; any partial run folder was removed and {done}. Free space "
            f"{where}on the disk of the run-state store, then run again")  # fmt: skip


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
    except user_errors() as exc:
        fail(exc)
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


def init(
    folder: Annotated[Path, typer.Argument(help="Project folder (default: here).")] = Path("."),
    template: Annotated[
        str, typer.Option("--template", "-t", help="Lookup lists to start from: saas or empty.")
    ] = "empty",
) -> None:
    """Start a project for your own domain: koe.yaml (column mapping to fill in, routing rules
    from the lists' departments) and a lookup-list folder to edit (a template, or one example
    theme). Nothing existing is overwritten."""
    from koe.init import InitError, init_project

    try:
        done = init_project(folder, template)
    except (InitError, *user_errors()) as exc:
        fail(exc)
    typer.echo(f"koe init: wrote {done.config} and {done.lists}/ "
               f"(departments: {', '.join(done.departments) or 'none'})")  # fmt: skip
    typer.echo(f"  next: edit the columns in {done.config}, then "
               f"koe lists check --lookup-lists {done.lists}; "
               f"koe run --config {done.config} --input YOUR_EXPORT.csv")  # fmt: skip
