"""`koe tag`, `koe sentiment`, `koe eval` and `koe lists check / show`: tagging and its checks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from koe.cli.common import LookupListsOption, fail, load_tagger, user_errors


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
    quarantine: Annotated[
        Path | None,
        typer.Option(
            "--quarantine",
            help="Rows that cannot be tagged, with a reason (default: <out>.quarantine.csv "
            "beside --out, e.g. tags.quarantine.csv).",
        ),
    ] = None,
    semantic: Annotated[
        bool,
        typer.Option(
            "--semantic/--no-semantic",
            help="The semantic layer over the lookup lists (learns from the whole input); "
            "--no-semantic: lookup tags only.",
        ),
    ] = True,
    embedding_model: Annotated[
        str,
        typer.Option(
            "--embedding-model",
            help='Sentence embeddings of the semantic layer: "koe-default", a local folder or '
            "a cached hub model.",
        ),
    ] = "koe-default",
    seed: Annotated[int, typer.Option("--seed", help="Seed of the semantic layer.")] = 0,
) -> None:
    """Theme tagging: write tags.csv (id,theme,department,polarity,source,evidence, then
    start,end,is_request,confidence), lookup and semantic tags as ``koe run`` writes them.

    Rows are checked as ``koe run`` checks them (one id rule, the same text checks, bad
    records of a damaged file): a row that cannot be tagged, a repeated id included (the first
    row wins), goes to the quarantine file (source_row,id,reason,detail,text).

    The input is streamed: CSV/TSV and Parquet are read ``--chunk-rows`` rows at a time and
    the tags of each piece are appended to the output, so memory grows with the input's ids
    only; ``--workers`` processes tag pieces in parallel (same tags). A text repeated within a
    piece is tagged once. The semantic layer learns from the whole input once every piece is
    lookup-tagged (so tags.csv is written at the end); ``--no-semantic`` streams the output.
    """
    from koe.batch import quarantine_path, tag_table
    from koe.config import DEFAULT_LOOKUP_LISTS, SemanticConfig
    from koe.taggers.semantic import settings_of

    try:
        done = tag_table(
            input, out, lookup_lists or DEFAULT_LOOKUP_LISTS, polarity_model,
            id_col=id_col, text_col=text_col, chunk_rows=chunk_rows, workers=workers,
            quarantine_out=quarantine, embedding_model=embedding_model,
            semantic=settings_of(SemanticConfig(enabled=semantic), seed),
        )  # fmt: skip
    except user_errors() as exc:
        fail(exc)
    reasons = ", ".join(f"{n} {reason}" for reason, n in sorted(done.by_reason.items()))
    quarantined = (
        f"; {done.quarantined} rows quarantined ({reasons}) -> "
        f"{quarantine or quarantine_path(out)}"
        if done.quarantined
        else ""
    )
    repeated = (
        f" ({done.repeated_ids} rows skipped: repeated id, the first row wins)"
        if done.repeated_ids
        else ""
    )
    typer.echo(
        f"{done.rows} comments, {done.tagged} tagged, {done.tags} tags -> {out}{repeated}"
        f"{quarantined}"
    )


def sentiment(
    input: Annotated[Path, typer.Option("--input", "-i", help="Table with id and text columns.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="sentiment CSV to write.")],
    id_col: Annotated[str, typer.Option("--id-col", help="Id column.")] = "id",
    text_col: Annotated[str, typer.Option("--text-col", help="Text column.")] = "text",
    lookup_lists: LookupListsOption = None,
    polarity_model: Annotated[
        str,
        typer.Option(
            "--polarity-model",
            help='Sentence polarity model for sentences without a sentiment word: "koe-default", '
            'a folder, or "none" (lexicon only).',
        ),
    ] = "koe-default",
    chunk_rows: Annotated[
        int, typer.Option("--chunk-rows", min=1, help="Rows read and written at a time.")
    ] = 50_000,
    quarantine: Annotated[
        Path | None,
        typer.Option("--quarantine", help="Rows that cannot be read, with a reason (default: "
                     "<out>.quarantine.csv beside --out)."),
    ] = None,
) -> None:
    """Comment sentiment on its own: one row per accepted input row, ``id,polarity,score,source``
    (polarity positive/neutral/negative, score in [-1, 1], source lexicon/model), streamed
    ``--chunk-rows`` rows at a time. Rows that cannot be read go to the quarantine file. The
    lexicon is koe's polarity.yaml, extended by the lookup-list folder's own, if any."""
    from koe.batch import quarantine_path
    from koe.config import DEFAULT_LOOKUP_LISTS
    from koe.sentiment import model_scorer, sentiment_table
    from koe.taggers.polarity import PolarityLexicon

    try:
        folder = lookup_lists or DEFAULT_LOOKUP_LISTS
        lexicon = PolarityLexicon.for_folder(Path(folder))
        done = sentiment_table(
            input, out, lexicon, model_scorer(polarity_model), id_col=id_col, text_col=text_col,
            chunk_rows=chunk_rows, quarantine_out=quarantine,
        )  # fmt: skip
    except user_errors() as exc:
        fail(exc)
    counts = ", ".join(f"{n} {p}" for p, n in sorted(done.by_polarity.items()))
    quarantined = (f"; {done.quarantined} rows quarantined -> "
                   f"{quarantine or quarantine_path(out)}" if done.quarantined else "")  # fmt: skip
    typer.echo(f"{done.rows} rows, {done.written} scored ({counts}) -> {out}{quarantined}")


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
    """Per-theme precision/recall/F1, micro and macro, and polarity accuracy: lookup-only,
    semantic-only and combined tags side by side (by the tags.csv ``source`` column)."""
    import pandas as pd

    from koe.evaluate import evaluate_sources, format_source_evaluation

    try:
        gold_frame = pd.read_csv(gold, dtype=str, keep_default_na=False)
        pred_frame = pd.read_csv(pred, dtype=str, keep_default_na=False)
        ids = pd.read_csv(comments, dtype=str)["id"].tolist() if comments else None
        for name, frame in (("gold", gold_frame), ("pred", pred_frame)):
            missing = {"id", "theme", "polarity"} - set(frame.columns)
            if missing:
                raise ValueError(f"{name} file lacks column(s) {sorted(missing)}")
    except (OSError, ValueError, KeyError) as exc:
        fail(exc)
    typer.echo(format_source_evaluation(evaluate_sources(gold_frame, pred_frame, ids)))


def lists_check(
    lookup_lists: LookupListsOption = None,
) -> None:
    """Validate every lookup list and run the themes' example comments."""
    from koe.taggers.lookup import check_examples

    tagger = load_tagger(lookup_lists)
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


def lists_show(
    theme: Annotated[str, typer.Argument(help="Theme id.")],
    lookup_lists: LookupListsOption = None,
) -> None:
    """Print a theme with its normalized keywords."""
    tagger = load_tagger(lookup_lists)
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


def polarity_train(
    input: Annotated[Path, typer.Option("--input", "-i", help="Table with the comments.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Model folder to write.")],
    text_col: Annotated[str, typer.Option("--text-col", help="Text column.")] = "text",
    score_col: Annotated[
        str | None, typer.Option("--score-col", help="0-10 score column (distant labels).")
    ] = "score",
    label_col: Annotated[
        str | None,
        typer.Option("--label-col", help="Column of given labels (positive/neutral/negative); "
                     "wins over --score-col."),
    ] = None,
    lookup_lists: LookupListsOption = None,
    embedding_model: Annotated[
        str, typer.Option("--embedding-model", help="Embedder (as embedding_model in koe.yaml).")
    ] = "koe-default",
    reviews: Annotated[
        str | None,
        typer.Option("--reviews", help="Run-state database (file or URL) whose `koe review` "
                     "polarity decisions label their sentences too."),
    ] = None,
) -> None:
    """Fit the sentence polarity model on your own comments (``koe.polarity_training``):
    promoters' sentences positive, detractors' negative, requests and sentences the lexicon
    reads the other way dropped; or your own labels with ``--label-col``. Use the folder with
    ``polarity_model: FOLDER`` in koe.yaml, or ``koe sentiment --polarity-model FOLDER``."""
    import pandas as pd

    from koe.config import DEFAULT_LOOKUP_LISTS
    from koe.ingest.columns import find_column
    from koe.ingest.readers import read_table
    from koe.polarity_training import train_on, training_set
    from koe.taggers.polarity import PolarityLexicon

    try:
        if out.exists() and not out.is_dir():
            raise ValueError(f"--out {out} is a file, not a folder")
        raw = read_table(input)
        names = [str(c) for c in raw.columns]
        wanted = [c for c in (text_col, label_col or score_col) if c]
        missing = [c for c in wanted if find_column(names, c) is None]
        if missing or len(wanted) < 2:
            raise ValueError(f"{input}: missing column(s) {missing or ['--score-col']}; "
                             f"columns present: {names}")  # fmt: skip
        column = {c: raw.iloc[:, find_column(names, c)] for c in wanted}
        texts = column[text_col].fillna("").astype(str).tolist()
        lexicon = PolarityLexicon.for_folder(Path(lookup_lists or DEFAULT_LOOKUP_LISTS))
        if label_col:
            data = training_set(texts, lexicon, labels=column[label_col].fillna("").tolist())
        else:
            scores = pd.to_numeric(column[score_col], errors="coerce").tolist()
            data = training_set(texts, lexicon, scores=scores)
        if reviews:
            from koe.config import state_url_of
            from koe.polarity_training import with_decisions
            from koe.store import RunStore

            if "://" not in reviews and not Path(reviews).is_file():
                raise ValueError(f"--reviews {reviews}: no such database file")
            store = RunStore(state_url_of(reviews))
            try:
                data = with_decisions(data, store.decisions())
            finally:
                store.close()
        model = train_on(data, embedding_model, source=str(input))
        model.save(out)
    except (*user_errors(), ValueError) as exc:
        fail(exc)
    info = model.info or {}
    dropped = ", ".join(f"{k} {v}" for k, v in info["dropped"].items()) or "none"
    kept = ", ".join(f"{k} {v}" for k, v in info["sentences"].items())
    reviewed = f", {info['review_labels']} from review decisions" if reviews else ""
    typer.echo(
        f"{sum(info['sentences'].values())} sentences ({kept}{reviewed}; dropped: {dropped}); "
        f"cross-validated on these labels: accuracy {info['cv_accuracy_on_these_labels']:.3f}, "
        f"macro-F1 {info['cv_macro_f1_on_these_labels']:.3f} -> {out} "
        f"(use: polarity_model: {out})"
    )
