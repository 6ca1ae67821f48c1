"""bench/corpus.py: deterministic, exact size, the sample's columns, duplicates present."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.corpus import COLUMNS, iter_chunks, load_sources, write_csv

SOURCES = load_sources(use_fukui=False)


def rows(n: int, seed: int = 0, **kwargs) -> list[list[str]]:
    return [r for chunk in iter_chunks(n, seed, sources=SOURCES, **kwargs) for r in chunk]


def test_same_seed_same_rows_and_exact_size() -> None:
    a = rows(1_234, seed=3, chunk_size=500)
    assert a == rows(1_234, seed=3, chunk_size=500)
    assert len(a) == 1_234
    assert a != rows(1_234, seed=4, chunk_size=500)
    assert rows(500, seed=3, chunk_size=500) == a[:500]  # prefix-stable by chunk


def test_columns_ids_and_duplicates(tmp_path: Path) -> None:
    import pandas as pd

    out = tmp_path / "c.csv"
    info = write_csv(out, 1_500, seed=1, sources=SOURCES, id_offset=500)
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert info["rows"] == 1_500 and len(frame) == 1_500
    assert list(frame.columns) == COLUMNS
    assert frame["id"].is_unique and frame["id"].iloc[0] == "B00000500"
    assert frame["score"].astype(int).between(0, 10).all()
    assert (frame["text"].str.len() > 0).all()
    assert frame["text"].duplicated().sum() > 30
    assert frame["text"].str.contains(r"[A-Za-z]{4}").any()  # English/mixed present
    assert not (tmp_path / "c.csv.ATTRIBUTION.txt").exists()  # sample only: nothing to credit
