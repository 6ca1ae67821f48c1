"""Damaged text exports are read row by row: a bad record is quarantined with its physical
line and raw bytes, the rest of the file is read; one id rule for koe run and koe tag."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from koe.ingest import iter_table_chunks, load_comments, normalize_id, prepare_texts, read_table
from koe.ingest.rows import read_records

HEADER = "id,text,score\n"


def quarantined(path: Path) -> list[tuple[int, str, str, str]]:
    _, quarantine = load_comments(path)
    return list(quarantine[["source_row", "reason", "detail", "text"]].itertuples(index=False))


def test_an_undecodable_row_is_quarantined_with_its_physical_line(tmp_path):
    path = tmp_path / "bytes.csv"
    body = HEADER + '1,"返信が\n遅い",3\n'  # a record over two lines: line numbers differ
    path.write_bytes(body.encode() + b"2,\xff\xfe\xe3,9\n" + "3,良い,10\n".encode())
    comments, _ = load_comments(path)
    assert comments["id"].tolist() == ["1", "3"]
    assert comments["text"].tolist() == ["返信が\n遅い", "良い"]
    assert quarantined(path) == [
        (2, "undecodable_row", "line 4: bytes that are not valid utf-8", "2,\\xff\\xfe\\xe3,9")
    ]


def test_a_shift_jis_file_with_one_bad_row_keeps_the_others(tmp_path):
    path = tmp_path / "sjis.csv"
    rows = [HEADER, "1,問合せの返信が遅い,3\n", "2,料金が高い,5\n"]
    path.write_bytes("".join(rows).encode("cp932") + b"3,\x81\x20,9\n" + "4,良い,9\n".encode("cp932"))
    comments, quarantine = load_comments(path)
    assert comments["text"].tolist() == ["問合せの返信が遅い", "料金が高い", "良い"]
    assert quarantine["reason"].tolist() == ["undecodable_row"]
    assert quarantine["detail"].tolist() == ["line 4: bytes that are not valid cp932"]


@pytest.mark.parametrize(
    ("row", "detail"),
    [
        ("2,b,9,extra", "line 3: 4 fields where the header has 3"),
        # the quote runs on to the one that opens line 6's "multi and is refused there
        ('2,"b,9', "line 3: unbalanced or stray quote (',' expected after '\"')"),
        ('2,"b"x,9', "line 3: unbalanced or stray quote (',' expected after '\"')"),
    ],
)
def test_a_malformed_row_does_not_swallow_the_rows_after_it(tmp_path, row, detail):
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + f"1,a,9\n{row}\n3,c,8\n4,\"multi\nline\",7\n", encoding="utf-8")
    comments, quarantine = load_comments(path)
    assert comments["id"].tolist() == ["1", "3", "4"]
    assert comments["source_row"].tolist() == [1, 3, 4]
    assert quarantine[["source_row", "reason", "detail", "text"]].to_numpy().tolist() == [
        [2, "malformed_row", detail, row]
    ]


def test_an_unbalanced_quote_on_the_last_line_is_malformed(tmp_path):
    path = tmp_path / "last.csv"
    path.write_text(HEADER + '1,a,9\n2,"b,9\n', encoding="utf-8")
    assert quarantined(path) == [
        (2, "malformed_row", "line 3: unbalanced or stray quote (unexpected end of data)", '2,"b,9')
    ]


def test_a_stray_quote_paired_with_a_later_one_is_not_one_merged_row(tmp_path):
    # pandas reads lines 3-5 as one row whose text is 'b,9\n3,c,8\n4,' and then 'multi'
    path = tmp_path / "pair.csv"
    path.write_text(HEADER + '1,a,9\n2,"b,9\n3,c,8\n4,"multi\nline",7\n', encoding="utf-8")
    comments, quarantine = load_comments(path)
    assert comments["id"].tolist() == ["1", "3", "4"]
    assert quarantine["reason"].tolist() == ["malformed_row"]


def test_chunks_fall_back_mid_file_and_give_the_whole_reads_rows(tmp_path):
    path = tmp_path / "late.csv"
    good = "".join(f"{i},良い{i},9\n" for i in range(1, 8))
    path.write_text(HEADER + good + "8,b,9,extra\n9,c,8\n", encoding="utf-8")
    whole = read_table(path)
    chunks = list(iter_table_chunks(path, 3))
    assert [len(c) for c in chunks] == [3, 3, 3]
    assert pd.concat(chunks).reset_index(drop=True).equals(whole)
    seen: dict[str, int] = {}
    pieces = [prepare_texts(chunk, seen=seen) for chunk in chunks]
    quarantine = pd.concat([q for _, q in pieces])
    assert quarantine[["source_row", "reason"]].to_numpy().tolist() == [[8, "malformed_row"]]
    assert sum(len(c) for c, _ in pieces) == 8


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" R1 ", ("R1", "", "")),
        ("\u3000R1\u3000", ("R1", "", "")),
        ("", ("", "missing_id", "id is empty")),
        ("\u3000", ("", "missing_id", "id is empty")),
        ("R\x001", ("R\\x001", "invalid_id", "id 'R\\x001' contains the control character U+0000")),
        ("R1\r=cmd", ("R1\\x0d=cmd", "invalid_id",
                      "id 'R1\\r=cmd' contains the control character U+000D")),
    ],
)  # fmt: skip
def test_one_id_rule(raw, expected):
    assert normalize_id(raw) == expected


def test_koe_run_and_koe_tag_apply_the_same_id_rule(tmp_path):
    path = tmp_path / "ids.csv"
    path.write_text(
        HEADER + "R1,速い,9\n R1 ,遅い,3\n\u3000R2,高い,5\n,安い,8\n\"R\x003\",良い,9\n",
        encoding="utf-8",
    )
    comments, run_quarantine = load_comments(path)
    tag_comments, tag_quarantine = prepare_texts(read_table(path))
    assert comments["id"].tolist() == tag_comments["id"].tolist() == ["R1", "R2"]
    expected = [(2, "duplicate_id"), (4, "missing_id"), (5, "invalid_id")]
    assert list(run_quarantine[["source_row", "reason"]].itertuples(index=False)) == expected
    assert list(tag_quarantine[["source_row", "reason"]].itertuples(index=False)) == expected


@pytest.mark.parametrize("sep", [",", "\t"])
@pytest.mark.parametrize("line", ["", "  ", "\t", " \t ", ",", '""'])
def test_the_row_reader_counts_records_as_pandas_does(sep, line):
    # the chunked reader's fallback skips the rows pandas already gave: the counts must agree
    text = f"id{sep}text{sep}score\n1{sep}a{sep}9\n{line}\n2{sep}b{sep}9\n"
    pandas_rows = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    (rows,) = read_records(text.encode(), "utf-8", sep)
    assert len(rows) == len(pandas_rows)
