"""A seeded survey export of hostile rows, as bytes, for tests/test_hostile_rows.py.

Every kind of damage people's exports carry, mixed with ordinary rows: invalid UTF-8 bytes,
lone surrogates, unbalanced and stray quotes, NUL and other control characters, CR, LF and
CRLF inside quoted fields, 100,000-character texts, formula starts in every column, extra
fields, every score and date oddity, empty, padded and repeated ids.
"""

from __future__ import annotations

import random

HEADER = b"id,customer_id,date,score,text\n"
WORDS = ["問合せの返信が遅い", "料金が高い", "使いやすい", "サポートが丁寧", "画面が見づらい",
         "動作が速い", "ログインできない", "説明が分かりやすい", "特になし", "Great support"]  # fmt: skip
SCORES = ["", "abc", "11", "-1", "１０", "9.0", "9.5", "1e1", "NaN", "10点", "9" * 400, " 7 "]
DATES = ["2026-02-30", "令和8年13月1日", "abc", "", "99999-01-01", "2026/11/01", "R8.11.1"]
FORMULAS = ["=cmd|' /C calc'!A0", "@SUM(1+1)", "+1+1", "-2+3", "=HYPERLINK(\"http://x\")"]


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def hostile_rows(n: int = 10_000, seed: int = 0) -> tuple[bytes, int]:
    """(the CSV file's bytes, the number of data records in it); blank lines are not records."""
    rng = random.Random(seed)
    out = [HEADER]
    records = 0
    for i in range(n):
        kind = i % 16
        rid, cid, date = f"R{i}", f"C{i % 97}", f"2026-11-{1 + i % 28:02d}"
        score, text = str(rng.randint(0, 10)), rng.choice(WORDS)
        raw: bytes | None = None
        if kind == 1:  # bytes that are not UTF-8
            raw = f"{rid},{cid},{date},{score},".encode() + b"\xff\xfe" + text.encode() + b"\n"
        elif kind == 2:  # a lone surrogate (UTF-8 cannot carry it)
            raw = f"{rid},{cid},{date},{score},{text}\ud800\n".encode("utf-8", "surrogatepass")
        elif kind == 3:  # an unbalanced quote
            text = '"' + text
        elif kind == 4:  # NUL and control characters, in the text and in the id
            text, rid = f"{text}\x00\x07", rid + ("\x00" if i % 32 == 4 else "")
        elif kind == 5:  # CR, LF, CRLF inside a quoted field
            text = _quote(text + rng.choice(["\r", "\n", "\r\n"]) + "二行目")
        elif kind == 6:  # formula starts, after a line break too
            column = rng.randrange(4)
            formula = rng.choice(FORMULAS)
            if column == 0:
                rid = _quote(f"{rid}\r{formula}")
            elif column == 1:
                cid = _quote(formula)
            elif column == 2:
                text = _quote(f"{text}\n{formula}")
            else:  # accepted as it is: the outputs must neutralize it
                rid, text = _quote(f"{formula}{i}"), _quote(f"{formula} {text}")
        elif kind == 7:
            score = rng.choice(SCORES)
        elif kind == 8:
            date = rng.choice(DATES)
        elif kind == 9:  # empty, padded and repeated ids
            rid = rng.choice(["", "   ", "\u3000R0\u3000", f" R{i - 1} ", "R10"])
        elif kind == 10:  # an extra field
            text = f"{text},余分"
        elif kind == 11 and i % 500 == 11:  # 100,000 characters
            text = "長" * 100_000
        elif kind == 12:  # a stray quote inside an unquoted field
            text = f'彼は"すごい"と{text}'
        elif kind == 13:  # only symbols, or nothing
            text = rng.choice(["", "!!!", "👍👍", "。"])
        elif kind == 14:  # a stray quote after a quoted field
            text = _quote(text) + "x"
        records += 1
        out.append(raw if raw is not None else f"{rid},{cid},{date},{score},{text}\n".encode())
        if i % 1000 == 999:
            out.append(b"\n")  # a blank line: skipped, not a record
    return b"".join(out), records
