"""Incremental and idempotent nights, on real flow runs with a real SQLite run-state store.

- The same night twice: identical outputs (tests/runfolders.py) and no duplicated store rows.
- A growing file, N comments then N + 100: the second run tokenizes (lookup-tags) exactly the
  new comments and encodes only texts no run has embedded before (manifest ``incremental``).
- A folder of daily exports: only new files are read, duplicate ids across files are
  quarantined (first wins), drivers.csv covers ``drivers.window_days`` of stored comments.
- A SQL query as the input.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from koe.cli import app
from koe.config import load_config
from koe.ingest import IngestError
from koe.pipeline import ingest, sentences_of
from koe.store import RunStore
from koe.store.schema import embeddings_table

from .conftest import FIXTURES, ROOT
from .runfolders import assert_same_run, frozen_config, run_folders

pytestmark = pytest.mark.slow

N = 100  # comments on the first night; the file then grows by 100


def koe_run(*args: str) -> str:
    result = CliRunner().invoke(app, ["run", *args])
    assert result.exit_code == 0, result.output
    return result.output


def manifest_of(folder) -> dict:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def sample_rows() -> pd.DataFrame:
    """The shipped sample survey, one row per id and per text."""
    frame = pd.read_csv(ROOT / "samples" / "survey.csv", dtype=str, keep_default_na=False)
    return frame.drop_duplicates("id").drop_duplicates("text").reset_index(drop=True)


def embedded_hashes(store_path) -> set[str]:
    engine = sa.create_engine(f"sqlite:///{store_path}")
    with engine.connect() as conn:
        hashes = {h for (h,) in conn.execute(sa.select(embeddings_table.c.text_hash))}
    engine.dispose()
    return hashes


def test_same_night_twice_then_a_grown_file(prefect_harness, tmp_path):
    rows = sample_rows()
    survey, out = tmp_path / "survey.csv", tmp_path / "runs"
    config = str(frozen_config(tmp_path))
    store_path = out / "koe_state.sqlite"
    rows.iloc[:N].to_csv(survey, index=False)
    koe_run("--input", str(survey), "--out", str(out), "--config", config)
    counts_1 = RunStore(f"sqlite:///{store_path}").table_counts()
    hashes_1 = embedded_hashes(store_path)
    koe_run("--input", str(survey), "--out", str(out), "--config", config)
    first, second = run_folders(out)
    # idempotent: the same outputs, no duplicated rows, one more run recorded
    assert_same_run(second, first)
    counts_2 = RunStore(f"sqlite:///{store_path}").table_counts()
    assert counts_2 == counts_1 | {"runs": counts_1["runs"] + 1}
    assert (
        counts_2["comments"] == counts_2["comment_rows"] == manifest_of(first)["counts"]["accepted"]
    )
    assert counts_2["source_files"] == 1
    m2 = manifest_of(second)["incremental"]
    assert m2["tokenized"] == 0 and m2["embedded"] == 0 and m2["tag_cache_hits"] > 0

    # the file grows by 100 comments
    rows.iloc[: N + 100].to_csv(survey, index=False)
    koe_run("--input", str(survey), "--out", str(out), "--config", config)
    third = run_folders(out)[-1]
    manifest = manifest_of(third)
    incremental = manifest["incremental"]
    rows.iloc[:N].to_csv(tmp_path / "old.csv", index=False)
    old_comments = ingest(load_config(input=tmp_path / "old.csv")).comments
    new_comments = ingest(load_config(input=survey)).comments
    old_answers = set(old_comments.loc[~old_comments["non_answer"], "text"])
    new_answers = set(new_comments.loc[~new_comments["non_answer"], "text"]) - old_answers
    assert len(new_answers) > 80  # the 100 new rows, minus non-answers and quarantined rows
    assert incremental["tokenized"] == len(new_answers)
    assert incremental["tag_cache_hits"] == len(old_answers)
    assert manifest["comments_seen"]["new"] == len(new_comments) - len(old_comments)
    # only texts no earlier run embedded are encoded, each once: the sentences of new comments
    # that discovery needs, and the polarity fallback's mention scopes of the new comments
    new_units = set(sentences_of(new_comments)["sentence"]) - set(
        sentences_of(old_comments)["sentence"])  # fmt: skip
    encoded = embedded_hashes(store_path) - hashes_1
    assert len(encoded) == incremental["embedded"]
    assert 0 < incremental["embedded"] <= len(new_units) + len(new_answers)
    embedding = manifest["discovery"]["embedding"]
    assert embedding["encoded"] <= len(new_units)
    assert embedding["cached"] == incremental["embedding_cache_hits"] > 0
    print(f"incremental: run of {N} rows, then +100 rows: tokenized {incremental['tokenized']} "
          f"(new answers {len(new_answers)}), embedded {incremental['embedded']} "
          f"(new sentence texts {len(new_units)}), cached tags {incremental['tag_cache_hits']}, "
          f"cached embeddings {incremental['embedding_cache_hits']}")  # fmt: skip


def _day_file(mini: pd.DataFrame, ids: list[str], day: date) -> pd.DataFrame:
    return mini.set_index("id").loc[ids].reset_index().assign(date=day.isoformat())


def test_a_folder_of_daily_exports_with_a_drivers_window(prefect_harness, tmp_path):
    mini = pd.read_csv(FIXTURES / "mini_survey.csv", dtype=str, keep_default_na=False)
    ids = mini["id"].tolist()
    today = date.today()
    exports, out = tmp_path / "exports", tmp_path / "runs"
    exports.mkdir()
    config = frozen_config(tmp_path, f"input: {exports}\nout: {out}\n", drivers="window_days: 30")
    _day_file(mini, ids[:15], today - timedelta(days=2)).to_csv(exports / "day1.csv", index=False)
    koe_run("--config", str(config))
    (night1,) = run_folders(out)
    m1 = manifest_of(night1)
    assert m1["input"]["kind"] == "folder" and len(m1["input"]["files"]) == 1

    # night 2: a new file with a duplicate of night 1 (M01), a duplicate within the file (M16),
    # and one comment older than the window (M30)
    day2 = pd.concat(
        [_day_file(mini, ids[15:29], today - timedelta(days=1)),
         _day_file(mini, ["M01", "M16"], today - timedelta(days=1)),
         _day_file(mini, ["M30"], today - timedelta(days=100))], ignore_index=True
    )  # fmt: skip
    day2.to_csv(exports / "day2.csv", index=False)
    koe_run("--config", str(config))
    night2 = run_folders(out)[-1]
    m2 = manifest_of(night2)
    assert m2["input"]["files"] == [str((exports / "day2.csv").resolve())]
    assert m2["input"]["skipped_files"] == 1
    assert m2["counts"]["input_rows"] == len(day2) == 17
    quarantine = pd.read_csv(night2 / "quarantine.csv", dtype=str, encoding="utf-8-sig")
    dups = quarantine[quarantine["reason"] == "duplicate_id"].set_index("id")["detail"]
    assert "was accepted from day1.csv by an earlier run" in dups["M01"]
    assert dups["M01"].startswith("day2.csv: ")
    assert "already appears in row" in dups["M16"]
    # the window: night 1's accepted comments + night 2's, without the one from 100 days ago
    window = m2["drivers_window"]
    accepted1, accepted2 = m1["counts"]["accepted"], m2["counts"]["accepted"]
    assert window["from_history"] == accepted1
    assert window["comments"] == accepted1 + accepted2 - 1
    tags = pd.concat([pd.read_csv(n / "tags.csv") for n in (night1, night2)])
    lookup = tags[tags["source"].isin(["lookup", "semantic"]) & (tags["id"] != "M30")]
    drivers = pd.read_csv(night2 / "drivers.csv").set_index(["theme", "polarity"])
    tonight = lookup[lookup["id"].isin(set(pd.read_csv(night2 / "tags.csv")["id"]))]
    checked = spanning = 0
    for theme, mentions in lookup.groupby("theme")["id"].nunique().items():
        if (theme, "any") in drivers.index:
            assert drivers.loc[(theme, "any"), "mentions"] == mentions, theme
            checked += 1
            spanning += mentions > tonight[tonight["theme"] == theme]["id"].nunique()
    assert checked >= 3 and spanning >= 1

    # night 3: nothing new
    output = koe_run("--config", str(config))
    assert "nothing new" in output
    assert len(run_folders(out)) == 2
    assert RunStore(f"sqlite:///{out / 'koe_state.sqlite'}").runs()[-1]["status"] == "skipped"


def test_a_sql_query_as_the_input(prefect_harness, tmp_path):
    db = tmp_path / "survey.db"
    mini = pd.read_csv(FIXTURES / "mini_survey.csv", dtype=str, keep_default_na=False)
    with sqlite3.connect(db) as conn:
        mini.to_sql("answers", conn, index=False)
    url = f"sqlite:///{db}"
    with pytest.raises(IngestError, match=r"input_sql on sqlite:///.*survey\.db failed.*nope"):
        ingest(load_config(input_sql="SELECT * FROM nope", input_db_url=url))
    out = tmp_path / "runs"
    koe_run("--input-sql", "SELECT * FROM answers ORDER BY id", "--db-url", url, "--out", str(out))
    (folder,) = run_folders(out)
    manifest = manifest_of(folder)
    assert manifest["input"]["kind"] == "sql"
    assert manifest["input"]["path"] == f"sql:{url}"
    counts = manifest["counts"]
    assert (counts["input_rows"], counts["accepted"], counts["quarantined"]) == (30, 28, 2)
