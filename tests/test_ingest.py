"""Tests for koe.ingest: reading files, column mapping, quarantine rules, dtypes."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from koe.core.frames import COMMENT_COLUMNS, QUARANTINE_COLUMNS
from koe.ingest import (
    MAX_TEXT_CHARS,
    QUARANTINE_REASONS,
    ColumnMapping,
    IngestError,
    detect_encoding,
    load_comments,
    parse_date,
    prepare_comments,
    read_table,
)

NOV_1 = pd.Timestamp("2026-11-01")
JA_MAPPING = ColumnMapping(id="回答ID", text="コメント", score="推奨度", date="回答日")


def write(path: Path, content: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(content.encode(encoding))
    return path


def frame(rows: list[tuple], columns: tuple[str, ...] = ("id", "text", "score")) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(columns), dtype=object)


def reasons(quarantine: pd.DataFrame) -> dict[int, str]:
    return dict(zip(quarantine["source_row"], quarantine["reason"], strict=True))


def assert_accounted(raw: pd.DataFrame, comments: pd.DataFrame, quarantine: pd.DataFrame) -> None:
    rows = sorted([*comments["source_row"], *quarantine["source_row"]])
    assert rows == list(range(1, len(raw) + 1))
    assert len(comments) + len(quarantine) == len(raw)


# --------------------------------------------------------------------------------------------
# Encodings and file formats
# --------------------------------------------------------------------------------------------


def test_utf8_csv(tmp_path: Path) -> None:
    path = write(
        tmp_path / "survey.csv",
        "id,text,score,date\na1,問合せの返信が遅い,3,2026-11-01\na2,NA,8,\na3,,10,2026/11/01\n",
    )
    assert detect_encoding(path) == "utf-8"
    raw = read_table(path)
    assert list(raw.columns) == ["id", "text", "score", "date"]
    assert raw["text"].tolist() == ["問合せの返信が遅い", "NA", ""]
    assert raw["date"].tolist() == ["2026-11-01", "", "2026/11/01"]
    assert all(pd.api.types.is_string_dtype(raw[c]) for c in raw.columns)

    comments, quarantine = load_comments(path)
    assert comments["id"].tolist() == ["a1", "a2"]
    assert comments["text"].tolist() == ["問合せの返信が遅い", "NA"]
    assert comments["score"].tolist() == [3, 8]
    assert comments["nps_class"].tolist() == ["detractor", "passive"]
    assert comments["date"].iloc[0] == NOV_1
    assert pd.isna(comments["date"].iloc[1])
    assert reasons(quarantine) == {3: "empty_text"}


def test_utf8_bom_csv(tmp_path: Path) -> None:
    path = write(tmp_path / "bom.csv", "id,text,score\n1,使いやすい,9\n", "utf-8-sig")
    assert detect_encoding(path) == "utf-8-sig"
    raw = read_table(path)
    assert list(raw.columns) == ["id", "text", "score"]
    comments, quarantine = load_comments(path)
    assert comments["text"].tolist() == ["使いやすい"]
    assert quarantine.empty


def test_cp932_csv_with_japanese_headers(tmp_path: Path) -> None:
    content = (
        "回答ID,コメント,推奨度,回答日\n"
        "1,問合せの返信が遅い,3,2026/11/01\n"
        "2,髙橋さんの対応が①番良かった,10,令和8年11月1日\n"
        "3,～が不便,6,R8.11.1\n"
    )
    with pytest.raises(UnicodeEncodeError):
        content.encode("shift_jis")  # 髙 and ① are cp932-only
    path = write(tmp_path / "export_sjis.csv", content, "cp932")
    assert detect_encoding(path) == "cp932"

    comments, quarantine = load_comments(path, JA_MAPPING)
    assert quarantine.empty
    assert comments["id"].tolist() == ["1", "2", "3"]
    # ① becomes 1 and ～ becomes ~ under NFKC; 髙 is kept.
    assert comments["text"].tolist() == [
        "問合せの返信が遅い",
        "髙橋さんの対応が1番良かった",
        "~が不便",
    ]
    assert comments["score"].tolist() == [3, 10, 6]
    assert comments["date"].tolist() == [NOV_1, NOV_1, NOV_1]


def test_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "survey.xlsx"
    # fmt: off
    pd.DataFrame({
        "id": [101, 102, 103],
        "text": ["画面が見やすい", "NA", None],
        "score": [9, 7, 5],
        "date": [pd.Timestamp("2026-11-01"), None, pd.Timestamp("2026-11-02 10:30")],
        "plan": ["Pro", "Free", None],
    }).to_excel(path, index=False, sheet_name="回答")
    # fmt: on
    raw = read_table(path)
    assert raw["id"].tolist() == ["101", "102", "103"]
    assert raw["text"].tolist() == ["画面が見やすい", "NA", ""]
    assert raw["score"].tolist() == ["9", "7", "5"]
    assert raw["date"].tolist() == ["2026-11-01 00:00:00", "", "2026-11-02 10:30:00"]

    comments, quarantine = load_comments(path)
    assert comments["id"].tolist() == ["101", "102"]
    assert comments["date"].tolist()[0] == NOV_1
    assert comments["plan"].tolist() == ["Pro", "Free"]
    assert reasons(quarantine) == {3: "empty_text"}


def test_xlsx_sheet_selection(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"x": [1]}).to_excel(writer, sheet_name="集計", index=False)
        frame([("1", "良い", "9")]).to_excel(writer, sheet_name="回答", index=False)
    assert list(read_table(path).columns) == ["x"]
    assert read_table(path, sheet="回答")["text"].tolist() == ["良い"]
    assert read_table(path, sheet=1)["text"].tolist() == ["良い"]
    with pytest.raises(IngestError, match=r"no sheet 'なし'.*'集計', '回答'"):
        read_table(path, sheet="なし")
    with pytest.raises(IngestError, match="no sheet 5"):
        read_table(path, sheet=5)


def test_parquet(tmp_path: Path) -> None:
    path = tmp_path / "survey.parquet"
    # fmt: off
    pd.DataFrame({
        "id": [1, 2, 3],
        "text": ["サポートが丁寧", "料金が高い", None],
        "score": [10.0, None, 4.0],
        "date": pd.to_datetime(["2026-11-01", None, "2026-11-03"]),
    }).to_parquet(path)
    # fmt: on
    raw = read_table(path)
    assert raw["score"].tolist() == ["10.0", "", "4.0"]
    assert raw["text"].tolist() == ["サポートが丁寧", "料金が高い", ""]

    comments, quarantine = load_comments(path)
    assert comments["id"].tolist() == ["1"]
    assert comments["score"].tolist() == [10]
    assert comments["date"].tolist() == [NOV_1]
    assert reasons(quarantine) == {2: "missing_score", 3: "empty_text"}


@pytest.mark.parametrize("suffix", [".tsv", ".txt"])
def test_tab_separated(tmp_path: Path, suffix: str) -> None:
    path = write(tmp_path / f"survey{suffix}", "id\ttext\tscore\n1\t速い, 安い\t9\n")
    comments, _ = load_comments(path)
    assert comments["text"].tolist() == ["速い, 安い"]


def test_utf16_excel_unicode_text(tmp_path: Path) -> None:
    # Excel's "Unicode text" export: UTF-16 with a BOM, tab-separated.
    path = write(tmp_path / "unicode.txt", "id\ttext\tscore\n1\t動作が軽い\t8\n", "utf-16")
    assert detect_encoding(path) == "utf-16"
    comments, _ = load_comments(path)
    assert comments["text"].tolist() == ["動作が軽い"]


def test_explicit_separator(tmp_path: Path) -> None:
    path = write(tmp_path / "semicolon.csv", "id;text;score\n1;良い;9\n")
    assert read_table(path, sep=";")["text"].tolist() == ["良い"]
    comments, _ = load_comments(path, sep=";")
    assert comments["score"].tolist() == [9]


def test_newline_inside_quoted_cell(tmp_path: Path) -> None:
    path = write(
        tmp_path / "multiline.csv",
        'id,text,score\n1,"1行目\n2行目, 続き",9\n2,"引用符""あり""",8\n',
    )
    comments, quarantine = load_comments(path)
    assert quarantine.empty
    assert comments["text"].tolist() == ["1行目\n2行目, 続き", '引用符"あり"']
    assert comments["source_row"].tolist() == [1, 2]


def test_nul_bytes_in_file_are_removed(tmp_path: Path) -> None:
    path = write(tmp_path / "nul.csv", "id,text,score\n1,良\x00い,9\n")
    comments, _ = load_comments(path)
    assert comments["text"].tolist() == ["良い"]


def test_unknown_encoding_raises(tmp_path: Path) -> None:
    data = b"\x80\x81\xfe\xff" * 100
    for encoding in ("utf-8", "cp932"):
        with pytest.raises(UnicodeDecodeError):
            data.decode(encoding)
    path = tmp_path / "garbage.csv"
    path.write_bytes(data)
    with pytest.raises(IngestError, match=r"garbage\.csv.*UTF-8 or Shift_JIS"):
        detect_encoding(path)
    with pytest.raises(IngestError, match="cannot detect the text encoding"):
        read_table(path)


def test_binary_file_is_not_read_as_text(tmp_path: Path) -> None:
    # Valid UTF-8 but mostly NUL/control bytes: not a text file.
    path = tmp_path / "binary.csv"
    path.write_bytes(bytes(range(32)) * 50)
    with pytest.raises(IngestError, match="cannot detect the text encoding"):
        read_table(path)


def test_single_byte_western_encoding_falls_back_to_charset_normalizer(tmp_path: Path) -> None:
    # Neither UTF-8 nor cp932: charset_normalizer's guess is used when the result looks like text.
    # The guess between Western code pages is heuristic (it may say cp1250, where è is č), so
    # the text only uses characters that cp1250 and cp1252 share.
    content = "id,text,score\n" + "".join(f"{i},Café agréable,9\n" for i in range(20))
    path = write(tmp_path / "latin.csv", content, "cp1252")
    assert detect_encoding(path) not in ("utf-8", "cp932")
    comments, _ = load_comments(path)
    assert comments["text"].iloc[0] == "Café agréable"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("survey.json", b"{}", r"unsupported file type '\.json'"),
        ("survey.xls", b"x", r"save old \.xls workbooks as \.xlsx"),
        ("survey", b"x", "no extension"),
        ("empty.csv", b"", r"empty\.csv is empty"),
        ("blank.csv", b"\n\n\n", r"blank\.csv is empty"),
        (
            "bad_header.csv",
            b"id,te\xe3\x28xt,score\n" + "1,返信が遅いです,9\n2,とても良いサービス,8\n".encode(),
            r"header row \(line 1\) cannot be read: it does not decode as utf-8",
        ),
        ("fake.xlsx", b"id,text,score\n", r"cannot read .*fake\.xlsx as an Excel workbook"),
        ("fake.parquet", b"id,text,score\n", r"cannot read .*fake\.parquet as a Parquet"),
    ],
)
def test_unreadable_files_raise(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(IngestError, match=message):
        read_table(path)


def test_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match=r"file not found: .*nope\.csv"):
        load_comments(tmp_path / "nope.csv")
    with pytest.raises(IngestError, match=r"cannot read .*nope\.csv"):
        detect_encoding(tmp_path / "nope.csv")


def test_header_only_file_gives_empty_frames(tmp_path: Path) -> None:
    comments, quarantine = load_comments(write(tmp_path / "header.csv", "id,text,score\n"))
    assert comments.empty
    assert quarantine.empty
    assert tuple(comments.columns) == COMMENT_COLUMNS


# --------------------------------------------------------------------------------------------
# Column mapping
# --------------------------------------------------------------------------------------------


def test_wrong_header_names_all_missing_columns(tmp_path: Path) -> None:
    path = write(tmp_path / "wrong.csv", "ID番号,本文,score\n1,良い,9\n")
    with pytest.raises(IngestError) as info:
        load_comments(path)
    message = str(info.value)
    assert "wrong.csv" in message
    assert "missing required column(s): 'id', 'text'" in message
    assert "Columns present: 'ID番号', '本文', 'score'" in message


def test_wrong_separator_hint(tmp_path: Path) -> None:
    path = write(tmp_path / "semicolon.csv", "id;text;score\n1;良い;9\n")
    with pytest.raises(IngestError, match="is the separator right"):
        load_comments(path)


def test_cp932_file_with_default_mapping_lists_japanese_headers(tmp_path: Path) -> None:
    path = write(tmp_path / "sjis.csv", "回答ID,コメント,推奨度\n1,良い,9\n", "cp932")
    with pytest.raises(IngestError, match="'回答ID', 'コメント', '推奨度'"):
        load_comments(path)


def test_header_matching_ignores_spaces_bom_and_case() -> None:
    raw = frame([("1", "良い", "9")], columns=("\ufeff ID ", "Text", "ＳＣＯＲＥ"))
    comments, _ = prepare_comments(raw)
    assert comments["id"].tolist() == ["1"]
    assert comments["score"].tolist() == [9]


def test_optional_columns_absent() -> None:
    comments, _ = prepare_comments(frame([("1", "良い", "9")]))
    assert comments["date"].dtype == "datetime64[ns]"
    assert comments["date"].isna().all()
    assert comments["customer_id"].isna().all()


def test_customer_id_sub_scores_and_explicit_segments() -> None:
    columns = ("id", "text", "score", "customer_id", "sub_speed", "plan", "role", "memo")
    # fmt: off
    raw = frame([
        ("1", "速い", "9", " C-1 ", "4", " Pro ", "admin", "x"),
        ("2", "遅い", "3", "", "４.5", "", "user", "y"),
        ("3", "普通", "7", "C-3", "abc", "Free", "", "z"),
        ("4", "良い", "8", "C-4", "", "Free", "user", "w"),
    ], columns=columns)
    # fmt: on
    mapping = ColumnMapping(sub_scores=("sub_speed",), segments=("plan", "role"))
    comments, _ = prepare_comments(raw, mapping)
    assert list(comments.columns) == [*COMMENT_COLUMNS, "sub_speed", "plan", "role"]
    assert comments["customer_id"].tolist() == ["C-1", pd.NA, "C-3", "C-4"]
    speed = comments["sub_speed"].tolist()
    assert speed[:2] == [4.0, 4.5]
    assert math.isnan(speed[2])
    assert math.isnan(speed[3])
    assert comments["sub_speed"].dtype == np.float64
    assert comments["plan"].tolist() == ["Pro", pd.NA, "Free", "Free"]
    assert comments["role"].tolist() == ["admin", "user", pd.NA, "user"]
    assert comments["plan"].dtype == "string"


def test_segments_default_to_every_other_column() -> None:
    columns = ("id", "text", "score", "sub_speed", " plan ", "Unnamed: 5", "回答日")
    raw = frame([("1", "良い", "9", "5", "Pro", "", "2026/11/01")], columns=columns)
    mapping = ColumnMapping(date="回答日", sub_scores=("sub_speed",))
    comments, _ = prepare_comments(raw, mapping)
    assert list(comments.columns) == [*COMMENT_COLUMNS, "sub_speed", "plan"]
    assert comments["date"].tolist() == [NOV_1]


def test_unmapped_column_with_canonical_name_is_not_a_segment() -> None:
    raw = frame([("1", "x", "良い", "9")], columns=("回答ID", "id", "text", "score"))
    comments, _ = prepare_comments(raw, ColumnMapping(id="回答ID"))
    assert list(comments.columns) == list(COMMENT_COLUMNS)
    assert comments["id"].tolist() == ["1"]


def test_missing_sub_score_or_segment_column_raises() -> None:
    raw = frame([("1", "良い", "9")])
    with pytest.raises(IngestError, match="'sub_speed', 'plan'"):
        prepare_comments(raw, ColumnMapping(sub_scores=("sub_speed",), segments=("plan",)))


def test_segment_name_clashing_with_comment_column_raises() -> None:
    raw = frame([("1", "良い", "9", "x")], columns=("id", "text", "score", "source_row"))
    with pytest.raises(IngestError, match="clash"):
        prepare_comments(raw, ColumnMapping(segments=("source_row",)))


def test_column_mapping_accepts_lists_and_is_hashable() -> None:
    mapping = ColumnMapping(sub_scores=["a", "b"], segments=["plan"])  # type: ignore[arg-type]
    assert mapping.sub_scores == ("a", "b")
    assert mapping.segments == ("plan",)
    hash(mapping)
    with pytest.raises(IngestError, match=r"ColumnMapping\.id"):
        ColumnMapping(id=" ")


# --------------------------------------------------------------------------------------------
# Quarantine rules
# --------------------------------------------------------------------------------------------

# fmt: off
QUARANTINE_CASES = [
    # (id, text, score, date) -> reason of the second row (the first row is valid, id "ok")
    (("", "良い", "9", ""), "missing_id"),
    (("  ", "良い", "9", ""), "missing_id"),
    ((None, "良い", "9", ""), "missing_id"),
    (("ok", "良い", "9", ""), "duplicate_id"),
    ((" ok ", "良い", "9", ""), "duplicate_id"),
    (("x", "良い", "", ""), "missing_score"),
    (("x", "良い", None, ""), "missing_score"),
    (("x", "良い", "abc", ""), "invalid_score"),
    (("x", "良い", "10点", ""), "invalid_score"),
    (("x", "良い", "9.5", ""), "invalid_score"),
    (("x", "良い", "1e1", ""), "invalid_score"),
    (("x", "良い", "11", ""), "score_out_of_range"),
    (("x", "良い", "-1", ""), "score_out_of_range"),
    (("x", "良い", "100", ""), "score_out_of_range"),
    (("x", "良い", "1" * 5000, ""), "score_out_of_range"),
    (("x", "良い", "-0010", ""), "score_out_of_range"),
    (("x", "", "9", ""), "empty_text"),
    (("x", None, "9", ""), "empty_text"),
    (("x", " \u3000\n ", "9", ""), "empty_text"),
    (("x", "<br>", "9", ""), "empty_text"),
    (("x", "。。。", "9", ""), "no_text_content"),
    (("x", "👍👍", "9", ""), "no_text_content"),
    (("x", "!!!", "9", ""), "no_text_content"),
    (("x", "あ" * 100_000, "9", ""), "text_too_long"),
    (("x", "良い", "9", "not a date"), "invalid_date"),
    (("x", "良い", "9", "2026-02-30"), "invalid_date"),
    (("x", "良い", "9", "11/01/2026"), "invalid_date"),
    # one reason per row, first applicable in check order
    (("", "", "abc", "bad"), "missing_id"),
    (("ok", "", "abc", "bad"), "duplicate_id"),
    (("x", "", "abc", "bad"), "invalid_score"),
    (("x", "", "9", "bad"), "empty_text"),
]
# fmt: on


@pytest.mark.parametrize(("row", "reason"), QUARANTINE_CASES)
def test_quarantine_reason(row: tuple, reason: str) -> None:
    columns = ("id", "text", "score", "date")
    raw = frame([("ok", "問合せの返信が遅い", "3", "2026-11-01"), row], columns=columns)
    comments, quarantine = prepare_comments(raw)
    assert comments["id"].tolist() == ["ok"]
    assert quarantine["source_row"].tolist() == [2]
    assert quarantine["reason"].tolist() == [reason]
    assert reason in QUARANTINE_REASONS
    assert quarantine["detail"].iloc[0]


# fmt: off
ACCEPTED_SCORES = [
    ("9", 9), (" 9 ", 9), ("９", 9), ("9.0", 9), ("9.", 9), ("１０", 10), ("0", 0), ("-0", 0),
    ("+7", 7), ("007", 7), ("10.00", 10),
]
# fmt: on


@pytest.mark.parametrize(("score", "expected"), ACCEPTED_SCORES)
def test_accepted_score_formats(score: str, expected: int) -> None:
    comments, quarantine = prepare_comments(frame([("1", "良い", score)]))
    assert quarantine.empty
    assert comments["score"].tolist() == [expected]


@pytest.mark.parametrize(
    ("score", "nps"),
    [(0, "detractor"), (6, "detractor"), (7, "passive"), (8, "passive"), (9, "promoter")],
)
def test_nps_class(score: int, nps: str) -> None:
    comments, _ = prepare_comments(frame([("1", "良い", str(score))]))
    assert comments["nps_class"].tolist() == [nps]


def test_duplicate_ids_first_occurrence_wins() -> None:
    # fmt: off
    raw = frame([
        ("a", "最初の回答", "9"),
        ("b", "別の回答", "5"),
        ("a", "二回目の回答", "3"),
        ("a", "三回目の回答", "1"),
    ])
    # fmt: on
    comments, quarantine = prepare_comments(raw)
    assert comments["id"].tolist() == ["a", "b"]
    assert comments["text"].tolist() == ["最初の回答", "別の回答"]
    assert reasons(quarantine) == {3: "duplicate_id", 4: "duplicate_id"}
    assert (quarantine["reason"] == "duplicate_id").sum() == 2
    assert all("row 1" in d for d in quarantine["detail"])


def test_duplicate_of_a_quarantined_row_is_still_a_duplicate() -> None:
    # The first occurrence owns the id even when it is itself quarantined.
    comments, quarantine = prepare_comments(frame([("a", "良い", "abc"), ("a", "良い", "9")]))
    assert comments.empty
    assert reasons(quarantine) == {1: "invalid_score", 2: "duplicate_id"}


def test_text_length_limit_boundary() -> None:
    raw = frame([("1", "あ" * MAX_TEXT_CHARS, "9"), ("2", "あ" * (MAX_TEXT_CHARS + 1), "9")])
    comments, quarantine = prepare_comments(raw)
    assert comments["id"].tolist() == ["1"]
    assert reasons(quarantine) == {2: "text_too_long"}
    assert "20,001 characters" in quarantine["detail"].iloc[0]


def test_non_answers_are_accepted() -> None:
    raw = frame([("1", "特になし", "8"), ("2", "-", "8"), ("3", "N/A", "8"), ("4", "。", "8")])
    comments, quarantine = prepare_comments(raw)
    assert comments["text"].tolist() == ["特になし", "-", "N/A"]
    assert reasons(quarantine) == {4: "no_text_content"}


def test_text_is_normalized_and_nul_removed() -> None:
    raw = frame([("1", " ＡＰＩが\x00遅い<br>改善して\r\nほしい ", "4")])
    comments, _ = prepare_comments(raw)
    assert comments["text"].tolist() == ["APIが遅い\n改善して\nほしい"]


def test_quarantine_keeps_raw_text_and_details() -> None:
    raw = frame([("1", " ＡＢＣ\x00 ", "abc"), ("", None, "9"), ("3", "👍", "11")])
    _, quarantine = prepare_comments(raw)
    assert quarantine["text"].tolist() == [" ＡＢＣ\x00 ", pd.NA, "👍"]
    assert quarantine["id"].tolist() == ["1", pd.NA, "3"]
    assert quarantine["detail"].tolist() == [
        "score 'abc' is not a whole number",
        "id is empty",
        "score 11 is outside 0-10",
    ]


def test_source_row_is_position_not_index() -> None:
    raw = frame([("1", "良い", "9"), ("2", "", "9"), ("3", "悪い", "1")])
    raw.index = [10, 20, 30]
    comments, quarantine = prepare_comments(raw)
    assert comments["source_row"].tolist() == [1, 3]
    assert quarantine["source_row"].tolist() == [2]
    assert comments.index.tolist() == [0, 1]


def test_input_frame_is_not_modified() -> None:
    raw = frame([("1", " ＡＰＩ ", " 9 "), ("1", "", "x")])
    before = raw.copy()
    prepare_comments(raw)
    pd.testing.assert_frame_equal(raw, before)


def test_output_dtypes_and_columns() -> None:
    columns = ("id", "text", "score", "date", "customer_id")
    raw = frame([("1", "良い", "9", "2026/11/01", "C1"), ("2", "", "9", "", "")], columns=columns)
    comments, quarantine = prepare_comments(raw)
    assert tuple(comments.columns) == COMMENT_COLUMNS
    assert tuple(quarantine.columns) == QUARANTINE_COLUMNS
    assert comments.dtypes.astype(str).to_dict() == {
        "id": "string",
        "text": "string",
        "score": "Int64",
        "nps_class": "string",
        "date": "datetime64[ns]",
        "customer_id": "string",
        "source_row": "int64",
    }
    assert quarantine.dtypes.astype(str).to_dict() == {
        "source_row": "int64",
        "id": "string",
        "reason": "string",
        "detail": "string",
        "text": "string",
    }
    empty_comments, empty_quarantine = prepare_comments(raw.iloc[:0])
    assert empty_comments.dtypes.equals(comments.dtypes)
    assert empty_quarantine.dtypes.equals(quarantine.dtypes)


def test_accounting_invariant_on_mixed_rows() -> None:
    # fmt: off
    raw = frame([
        ("1", "問合せの返信が遅い", "3"),
        ("", "良い", "9"),
        ("1", "重複", "9"),
        ("4", "良い", "abc"),
        ("5", "良い", "12"),
        ("6", "", "8"),
        ("7", "👍", "8"),
        ("8", "特になし", "8"),
        ("9", "使いやすい", "10"),
    ])
    # fmt: on
    comments, quarantine = prepare_comments(raw)
    assert_accounted(raw, comments, quarantine)
    assert comments["id"].tolist() == ["1", "8", "9"]
    assert quarantine["reason"].tolist() == [
        "missing_id",
        "duplicate_id",
        "invalid_score",
        "score_out_of_range",
        "empty_text",
        "no_text_content",
    ]


# --------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------

# fmt: off
DATE_CASES = [
    ("2026-11-01", NOV_1),
    ("2026/11/01", NOV_1),
    ("2026/11/1", NOV_1),
    ("2026.11.01", NOV_1),
    ("20261101", NOV_1),
    ("２０２６／１１／０１", NOV_1),
    ("2026年11月1日", NOV_1),
    ("2026年 11月 1日", NOV_1),
    ("2026年11月1日(日)", NOV_1),
    ("R8.11.1", NOV_1),
    ("r8/11/1", NOV_1),
    ("Ｒ８.１１.１", NOV_1),
    ("令和8年11月1日", NOV_1),
    ("令和元年5月1日", pd.Timestamp("2019-05-01")),
    ("H31.4.30", pd.Timestamp("2019-04-30")),
    ("平成31年4月30日", pd.Timestamp("2019-04-30")),
    ("2026-11-01 10:30", pd.Timestamp("2026-11-01 10:30")),
    ("2026-11-01T10:30:15", pd.Timestamp("2026-11-01 10:30:15")),
    ("2026-11-01 10:30:15.250", pd.Timestamp("2026-11-01 10:30:15.250")),
    ("2026-11-01T10:30:00+09:00", pd.Timestamp("2026-11-01 10:30")),
    ("2026/11/01(日) 10:30", pd.Timestamp("2026-11-01 10:30")),
    ("2026年11月1日 10時30分", pd.Timestamp("2026-11-01 10:30")),
    ("2026年11月1日 午後3時", pd.Timestamp("2026-11-01 15:00")),
    ("令和8年11月1日 9時5分10秒", pd.Timestamp("2026-11-01 09:05:10")),
    ("2026-11-01 00:00:00", NOV_1),
]
# fmt: on


@pytest.mark.parametrize(("value", "expected"), DATE_CASES)
def test_parse_date(value: str, expected: pd.Timestamp) -> None:
    parsed = parse_date(value)
    assert parsed == expected
    assert parsed.tzinfo is None


@pytest.mark.parametrize("value", ["", "   ", "\u3000"])
def test_parse_date_empty(value: str) -> None:
    assert parse_date(value) is None


@pytest.mark.parametrize(
    "value",
    [
        "not a date",
        "11/01/2026",
        "01.11.2026",
        "2026-13-01",
        "2026-02-30",
        "2026-11-01 25:00",
        "2026-11-01 10時半",
        "R0.1.1",
        "2026年11月",
        "9999-01-01",
        "2026-11-01x",
    ],
)
def test_parse_date_invalid(value: str) -> None:
    with pytest.raises(ValueError):
        parse_date(value)


def test_dates_in_frame() -> None:
    values = ["2026年11月1日", "2026/11/01", "R8.11.1", "令和8年11月1日", "", "not a date"]
    raw = frame(
        [(str(i), "良い", "9", v) for i, v in enumerate(values)],
        columns=("id", "text", "score", "date"),
    )
    comments, quarantine = prepare_comments(raw)
    assert comments["date"].tolist()[:4] == [NOV_1] * 4
    assert pd.isna(comments["date"].iloc[4])
    assert comments["date"].dtype == "datetime64[ns]"
    assert reasons(quarantine) == {6: "invalid_date"}


# --------------------------------------------------------------------------------------------
# Property test
# --------------------------------------------------------------------------------------------

_TRICKY = "良い特になし 。!👍\x00\x01\r\n\t<br>&amp;ＡＢ\u200d\ufeff\ud800"
_texts = st.one_of(
    st.none(),
    st.text(alphabet=st.characters(exclude_categories=()), max_size=20),
    st.text(alphabet=_TRICKY, max_size=12),
    st.sampled_from(["", "特になし", "-", "👍👍", "。。。"]),
)
_scores = st.one_of(
    st.none(),
    st.integers(-3, 13).map(str),
    st.sampled_from(["", " 9 ", "９", "9.0", "abc", "10点", "9.5", "1e1", "+0", "-0"]),
    st.text(max_size=4),
    st.floats(),
)
_ids = st.one_of(
    st.none(),
    st.sampled_from(["a", "b", "c", "", " ", " a", "Ａ"]),
    st.text(alphabet=st.characters(exclude_categories=()), max_size=3),
    st.integers(0, 3),
)
_dates = st.one_of(
    st.none(),
    st.sampled_from(["", "2026-11-01", "R8.11.1", "令和元年5月1日", "not a date", "2026-02-30"]),
    st.text(max_size=12),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.tuples(_ids, _texts, _scores, _dates), max_size=30))
def test_prepare_comments_accounts_for_every_row(rows: list[tuple]) -> None:
    raw = frame(rows, columns=("id", "text", "score", "date"))
    comments, quarantine = prepare_comments(raw)
    assert_accounted(raw, comments, quarantine)
    assert not set(comments["source_row"]) & set(quarantine["source_row"])
    assert comments["id"].is_unique
    assert set(quarantine["reason"]) <= set(QUARANTINE_REASONS)
    assert comments["score"].between(0, 10).all()
    assert comments["source_row"].is_monotonic_increasing
    assert quarantine["source_row"].is_monotonic_increasing
    assert tuple(comments.columns) == COMMENT_COLUMNS
    assert tuple(quarantine.columns) == QUARANTINE_COLUMNS
