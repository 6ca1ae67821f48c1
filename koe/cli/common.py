"""What the commands share: user errors that exit 2 with one line, common options."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from koe.config import KoeConfig
    from koe.taggers.lookup import LookupTagger


def user_errors() -> tuple[type[Exception], ...]:
    from koe.config import ConfigError
    from koe.core.dburl import MissingDriverError
    from koe.ingest import IngestError
    from koe.models.embeddings import EmbedderLoadError
    from koe.models.polarity_model import PolarityModelError
    from koe.outputs import AccountingError
    from koe.store import LockTimeout
    from koe.taggers.lookup_lists import LookupListError

    return (ConfigError, IngestError, LookupListError, EmbedderLoadError, AccountingError,
            LockTimeout, PolarityModelError, MissingDriverError)  # fmt: skip


LookupListsOption = Annotated[
    Path | None, typer.Option("--lookup-lists", "-l", help="Lookup-list folder.")
]


def load_tagger(folder: Path | None, polarity_model: str | None = None) -> LookupTagger:
    """The lookup tagger of ``folder`` (default: the shipped lists); user errors exit 2.

    ``polarity_model``: the sentence classifier behind the lexicon (None: lexicon only).
    """
    from koe.taggers.factory import build_tagger

    try:
        return build_tagger(folder, polarity_model)
    except user_errors() as exc:
        fail(exc)


def fail(exc: Exception | str, code: int = 2) -> NoReturn:
    """Print one ``koe: error:`` line to stderr and exit with ``code`` (2: a user error)."""
    typer.secho(f"koe: error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def preflight(config: Path | None, out: Path | None, columns: dict[str, str],
              input: Path | None = None, input_sql: str | None = None) -> KoeConfig:  # fmt: skip
    """Fail fast, before Prefect starts, on a bad config, input file, output folder, lookup
    list or missing database driver; returns the config."""
    from koe.config import ConfigError, load_config
    from koe.core.dburl import check_driver
    from koe.ingest.sources import check_input
    from koe.taggers.factory import build_tagger

    cfg = load_config(config, out=out, columns=columns or None, input=input,
                      input_sql=input_sql)  # fmt: skip
    check_input(cfg)
    root = cfg.out
    existing = next((p for p in [root, *root.parents] if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise ConfigError(f"--out {root}: {existing} is a file, not a folder")
    if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"--out {root}: cannot write in {existing}")
    check_driver(cfg.state_url())
    build_tagger(cfg.lookup_lists)
    return cfg
