"""Input sources (koe.ingest.sources): a folder of daily exports, a SQL query, duplicate ids across
files. Plain functions, no Prefect."""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest

from koe.config import ConfigError, load_config
from koe.ingest import ColumnMapping, IngestError
from koe.ingest.sources import (
    RawInput,
    describe_input,
    file_sha256,
    list_export_files,
    prepare_sources,
    read_input,
    read_sql,
)

HEADER = "id,text,score\n"


def write(path, body: str, encoding: str = "utf-8"):
    path.write_text(HEADER + body, encoding=encoding)
    return path


def test_a_folder_lists_export_files_in_name_order(tmp_path):
    for name in ("2026-11-02.csv", "2026-11-01.xlsx", ".hidden.csv", "~$2026-11-01.xlsx",
                 "notes.md", "2026-11-03.tsv"):  # fmt: skip
        (tmp_path / name).write_text("x", encoding="utf-8")
    (tmp_path / "old").mkdir()
    names = [p.name for p in list_export_files(tmp_path)]
    assert names == ["2026-11-01.xlsx", "2026-11-02.csv", "2026-11-03.tsv"]


def test_a_folder_reads_only_files_not_processed_yet(tmp_path):
    day1 = write(tmp_path / "day1.csv", "a,良い,9\n")
    day2 = write(tmp_path / "day2.csv", "b,遅い,3\n")
    config = load_config(input=tmp_path)
    raw = read_input(config, processed={(str(day1.resolve()), file_sha256(day1))})
    assert raw.kind == "folder"
    assert [f.path for f in raw.files] == [str(day2.resolve())]
    assert raw.skipped == [str(day1.resolve())]
    assert raw.rows == 1
    write(day1, "a,良い,9\nc,普通,7\n")  # day1 re-exported with a new row: read again
    raw = read_input(config, processed={(str(day1.resolve()), "old sha")})
    assert [f.rows for f in raw.files] == [2, 1]


def test_an_unreadable_file_in_the_folder_is_a_clear_error(tmp_path):
    write(tmp_path / "day1.csv", "a,良い,9\n")
    (tmp_path / "day2.csv").write_bytes(b"\x80\x81\xfe\xff" * 100)
    with pytest.raises(IngestError, match=r"day2\.csv.*UTF-8 or Shift_JIS"):
        read_input(load_config(input=tmp_path))


def test_duplicate_ids_across_files_first_wins(tmp_path):
    write(tmp_path / "day1.csv", "a,最初,9\nb,二番目,5\n")
    write(tmp_path / "day2.csv", "c,三番目,7\na,重複,1\nc,同じ日の重複,1\nd,前の晩の重複,4\n")
    raw = read_input(load_config(input=tmp_path))
    earlier = {"d": "/exports/old.csv"}  # accepted from another file by an earlier run
    comments, quarantine, origins = prepare_sources(
        raw, ColumnMapping(), lambda ids: {i: earlier[i] for i in ids if i in earlier}
    )
    assert comments["id"].tolist() == ["a", "b", "c"]
    assert comments["text"].tolist() == ["最初", "二番目", "三番目"]
    assert [o.rsplit("/", 1)[-1] for o in origins] == ["day1.csv", "day1.csv", "day2.csv"]
    assert quarantine["reason"].tolist() == ["duplicate_id"] * 3
    assert quarantine["source_row"].tolist() == [2, 3, 4]  # rows of day2.csv
    assert quarantine["text"].tolist() == ["重複", "同じ日の重複", "前の晩の重複"]
    detail = quarantine["detail"].tolist()
    assert (
        detail[0]
        == "day2.csv: id 'a' already appears in day1.csv row 1 (the first occurrence is kept)"
    )
    assert detail[1].startswith("day2.csv: id 'c' already appears in row 1")  # within the file
    assert "was accepted from old.csv by an earlier run" in detail[2]
    assert len(comments) + len(quarantine) == raw.rows == 6


def test_a_growing_file_is_not_a_duplicate_of_itself(tmp_path):
    path = write(tmp_path / "survey.csv", "a,良い,9\n")
    raw = read_input(load_config(input=path))
    comments, quarantine, _ = prepare_sources(
        raw, ColumnMapping(), lambda ids: dict.fromkeys(ids, str(path.resolve()))
    )
    assert comments["id"].tolist() == ["a"] and quarantine.empty


def test_sql_input(tmp_path):
    db = tmp_path / "survey.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE answers (id TEXT, text TEXT, score INTEGER, extra REAL)")
        conn.executemany("INSERT INTO answers VALUES (?, ?, ?, ?)",
                         [("a", "良い", 9, None), ("b", "遅い", 3, 1.5)])  # fmt: skip
    url = f"sqlite:///{db}"
    frame = read_sql("SELECT * FROM answers ORDER BY id", url)
    assert frame.to_dict("list") == {"id": ["a", "b"], "text": ["良い", "遅い"],
                                     "score": ["9", "3"], "extra": ["", "1.5"]}  # fmt: skip
    raw = read_input(load_config(input_sql="SELECT id, text, score FROM answers", input_db_url=url))
    assert raw.kind == "sql" and raw.rows == 2 and raw.label == f"sql:{url}"
    comments, quarantine, _ = prepare_sources(raw, ColumnMapping())
    assert comments["score"].tolist() == [9, 3] and quarantine.empty
    with pytest.raises(IngestError, match=r"failed: .*syntax error"):
        read_sql("SELEC * FROM answers", url)
    with pytest.raises(ConfigError, match="input_sql needs input_db_url"):
        read_input(load_config(input_sql="SELECT 1"))


def test_the_database_password_never_shows(tmp_path):
    config = load_config(input_sql="SELECT 1", input_db_url="postgresql://koe:s3cret@db/survey")
    assert describe_input(config) == "sql:postgresql://koe:***@db/survey"


def test_a_folder_digest_changes_with_its_files():
    one = RawInput("folder", "/x", [], files=[])
    assert one.sha256 == RawInput("folder", "/x", [], files=[]).sha256
    frame = pd.DataFrame({"id": ["a"]})
    assert RawInput("sql", "sql:x", [("sql:x", frame)]).sha256 != one.sha256
