"""koe's command line. Contract commands (keep stable): run, tag, lists check, lists show."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from koe.prefect_env import configure_prefect

if TYPE_CHECKING:
    from taggers.lookup import LookupTagger

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
    from koe.outputs import AccountingError
    from models.embeddings import EmbedderLoadError
    from taggers.lookup_lists import LookupListError

    return (ConfigError, IngestError, LookupListError, EmbedderLoadError, AccountingError)


LookupListsOption = Annotated[
    Path | None, typer.Option("--lookup-lists", "-l", help="Lookup-list folder.")
]


def _load_tagger(folder: Path | None) -> LookupTagger:
    """The lookup tagger of ``folder`` (default: the shipped lists); user errors exit 2."""
    from koe.config import DEFAULT_LOOKUP_LISTS
    from taggers.lookup import LookupTagger

    try:
        return LookupTagger.from_folder(folder or DEFAULT_LOOKUP_LISTS)
    except _user_errors() as exc:
        _fail(exc)


def _fail(exc: Exception) -> None:
    typer.secho(f"koe: error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


def _preflight(config: Path | None, out: Path | None, columns: dict[str, str]) -> None:
    """Fail fast, before Prefect starts, on a bad config or lookup list."""
    from koe.config import load_config
    from taggers.lookup import LookupTagger

    cfg = load_config(config, out=out, columns=columns or None)
    LookupTagger.from_folder(cfg.lookup_lists)


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
) -> None:
    """Run the nightly flow (a Prefect flow run) and print where the outputs are."""
    columns = {
        key: value
        for key, value in (("id", id_col), ("text", text_col), ("score", score_col),
                           ("date", date_col))
        if value
    }  # fmt: skip
    try:
        _preflight(config, out, columns)
        from flows.nightly import nightly

        folder = nightly(
            input_path=str(input) if input else None,
            config_path=str(config) if config else None,
            output_root=str(out) if out else None,
            columns=columns or None,
        )
    except _user_errors() as exc:
        _fail(exc)
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
    typer.echo(f"  {Path(folder) / 'routed'}/ ({', '.join(sorted(manifest['routed']))})")


@app.command()
def tag(
    input: Annotated[Path, typer.Option("--input", "-i", help="Table with id and text columns.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="tags.csv to write.")],
    lookup_lists: LookupListsOption = None,
    id_col: Annotated[str, typer.Option("--id-col", help="Id column.")] = "id",
    text_col: Annotated[str, typer.Option("--text-col", help="Text column.")] = "text",
) -> None:
    """Lookup tagging only: write tags.csv (id,theme,department,polarity,source,evidence)."""
    import pandas as pd

    from koe.ingest import IngestError, read_table
    from koe.normalize import normalize_text
    from taggers.lookup import to_tags_csv
    from taggers.sentences import split_sentences

    tagger = _load_tagger(lookup_lists)
    try:
        raw = read_table(input)
        missing = [c for c in (id_col, text_col) if c not in raw.columns]
        if missing:
            raise IngestError(
                f"{input}: missing column(s) {missing}; columns present: {list(raw.columns)}"
            )
        comments = pd.DataFrame(
            {"id": raw[id_col].astype(str), "text": [normalize_text(t) for t in raw[text_col]]}
        )
    except _user_errors() as exc:
        _fail(exc)
    tags = tagger.tag(split_sentences(comments))
    table = to_tags_csv(tags)
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False, encoding="utf-8", lineterminator="\n")
    tagged = table["id"].nunique() if len(table) else 0
    typer.echo(f"{len(comments)} comments, {tagged} tagged, {len(table)} tags -> {out}")


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

    from taggers.evaluate import evaluate_tags, format_evaluation

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
    from taggers.lookup import check_examples

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


def main() -> None:  # pragma: no cover
    sys.exit(app())
