"""A project for the workbench tests: the sample survey plus three rows, its own copy of the
shipped lists, and one real `koe run` of it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from koe.cli import app
from koe.config import DEFAULT_LOOKUP_LISTS, SAMPLE_INPUT

HOSTILE = '<script>alert("koe")</script>サポートの返信が遅い。'
EXTRA_ROWS = [
    {"id": "R9101", "score": "2", "text": HOSTILE},
    {"id": "R9102", "score": "3", "text": "画面の切り替えにいつも待たされる。"},
    {"id": "R9103", "score": "4", "text": "画面の切り替えで毎回待たされてしまう。"},
]


def make_project(folder: Path) -> Path:
    """Write koe.yaml, lists/ and survey.csv into ``folder``; returns the koe.yaml."""
    folder.mkdir(parents=True, exist_ok=True)
    lists = folder / "lists"
    lists.mkdir()
    for path in DEFAULT_LOOKUP_LISTS.glob("*.yaml"):
        shutil.copy2(path, lists / path.name)
    survey = pd.read_csv(SAMPLE_INPUT, dtype=str, keep_default_na=False)
    pd.concat([survey, pd.DataFrame(EXTRA_ROWS)]).fillna("").to_csv(folder / "survey.csv",
                                                                    index=False)  # fmt: skip
    config = folder / "koe.yaml"
    config.write_text(f"input: {folder / 'survey.csv'}\nlookup_lists: {lists}\n"
                      f"out: {folder / 'runs'}\n", encoding="utf-8")  # fmt: skip
    return config


def run_koe(config: Path) -> Path:
    """One `koe run` of the project; returns its run folder."""
    result = CliRunner().invoke(app, ["run", "--config", str(config)])
    assert result.exit_code == 0, result.output
    return Path(result.output.split("finished: ")[1].split()[0])


def read_tags(run: Path) -> pd.DataFrame:
    return pd.read_csv(run / "tags.csv", dtype=str, keep_default_na=False)
