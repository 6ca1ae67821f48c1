"""koe's command line: the command table. Contract commands (keep stable): run, tag,
sentiment, lists check, lists show; their options and outputs are relied on by other tools.

Each command lives in a module by area — ``runs`` (run, unlock), ``tagging`` (tag, sentiment,
eval, lists), ``review`` (discover, eval-clusters, themes, review) — and shares error handling with
``common``.
"""

from __future__ import annotations

import sys

from koe.prefect_env import configure_prefect

configure_prefect()  # before anything imports Prefect

import typer  # noqa: E402

from koe.cli import review, runs, tagging  # noqa: E402

app = typer.Typer(
    help="koe (声): Japanese-first voice-of-the-customer text mining for NPS/CSAT surveys.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",  # docstrings' paragraphs rewrap, ``--option`` shows as code
)
lists_app = typer.Typer(help="Validate and inspect the lookup lists.", no_args_is_help=True)
themes_app = typer.Typer(
    help="Review discovered clusters: accept them as lookup themes, merge, rename.",
    no_args_is_help=True,
)
app.add_typer(lists_app, name="lists")
polarity_app = typer.Typer(help="The sentence polarity model.", no_args_is_help=True)
app.add_typer(polarity_app, name="polarity")


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"koe {version('koe')}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(False, "--version", help="Print koe's version and exit.",
                                 callback=_print_version, is_eager=True),
) -> None:
    """koe (声): Japanese-first voice-of-the-customer text mining for NPS/CSAT surveys."""


app.command()(runs.init)
app.command()(runs.run)
app.command()(runs.unlock)
app.command()(tagging.tag)
app.command()(tagging.sentiment)
app.command("eval")(tagging.eval_tags)
lists_app.command("check")(tagging.lists_check)
lists_app.command("show")(tagging.lists_show)
polarity_app.command("train")(tagging.polarity_train)
app.add_typer(themes_app, name="themes")
app.command()(review.discover)
app.command("eval-clusters")(review.eval_clusters)
themes_app.command("accept")(review.themes_accept)
themes_app.command("merge")(review.themes_merge)
themes_app.command("rename")(review.themes_rename)
app.command("review")(review.review)


def main() -> None:  # pragma: no cover
    sys.exit(app())
