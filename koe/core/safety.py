"""Making shared files safe: spreadsheet formula injection and personal data in comment text."""

from __future__ import annotations

import re

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Line breaks a reader may split a cell on: CR, LF (so CRLF too) and the other breaks of
# str.splitlines (VT, FF, FS, GS, RS, NEL, U+2028, U+2029). A line inside a cell that starts
# like a formula is neutralized as well, so a reader that splits there finds no live formula.
_LINE_FORMULA = re.compile(r"([\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029])(?=[=+\-@\t])")

_FILE_ID = re.compile(r"[a-z0-9_]{1,64}")
# Device names Windows will not open as files (con.csv is the console), whatever the extension.
_WINDOWS_DEVICES = frozenset(
    {"con", "prn", "aux", "nul"} | {f"{p}{i}" for p in ("com", "lpt") for i in range(10)}
)
# File names in routed/ that are not departments (close-the-loop lists).
RESERVED_FILE_IDS = frozenset({"follow_up", "thank_you"})

# Personal data in comment text. Japanese is written without spaces, so the look-arounds accept
# kana and kanji next to a number (電話03-1234-5678に); only ASCII letters and digits (half or
# full width) count as "inside a word". Digits may be full width (０３-１２３４-５６７８).
_D = "[0-9０-９]"
_ZERO = "[0０]"
_WORD = "[0-9０-９A-Za-zＡ-Ｚａ-ｚ]"
_SEP = "(?:[-‐‑–—―−－ｰー]|[ \u3000])"  # a hyphen of any width, the long-vowel mark, a space
# The local part and domain are ASCII, so an address glued to Japanese words stops at them.
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
# Candidates for international (+81 3 1234 5678) and Japanese numbers: landline (03-1234-5678,
# (03)1234-5678, 0312345678), mobile (090-1234-5678, 090 1234 5678), free dial (0120-123-456).
# A candidate is a phone number only with the digit count of one (see _mask_phone), so a date
# written 01-02-2026 or a count is left alone.
_PHONE = re.compile(
    rf"(?<!{_WORD})(?:"
    rf"[+＋]{_D}{{1,3}}{_SEP}?[(（]?{_D}{{1,4}}[)）]?(?:{_SEP}?{_D}{{2,4}}){{2,3}}"
    rf"|[(（]{_ZERO}{_D}{{0,4}}[)）]{_SEP}?{_D}{{1,4}}{_SEP}?{_D}{{4}}"
    rf"|{_ZERO}{_D}{{1,4}}{_SEP}{_D}{{1,4}}{_SEP}{_D}{{3,4}}"
    rf"|{_ZERO}{_D}{{9,10}}"
    rf")(?!{_WORD})"
)
# Postal codes (〒100-0001, 100-0001); not a range of prices or counts (500-1000円).
_POSTAL = re.compile(
    rf"〒\s?{_D}{{3}}{_SEP}?{_D}{{4}}"
    rf"|(?<!{_WORD}|[-－/]){_D}{{3}}[-－]{_D}{{4}}"
    rf"(?!{_WORD}|[-－/.,]|[円人個件回本枚冊台分秒時日月年%％])"
)


def _mask_phone(match: re.Match[str]) -> str:
    digits = sum(ch.isdigit() for ch in match.group())
    international = match.group()[0] in "+＋"
    ok = 10 <= digits <= 15 if international else digits in (10, 11)
    return "[phone]" if ok else match.group()


def mask_personal_data(text: str) -> str:
    """Replace e-mail addresses, phone numbers and postal codes with placeholders."""
    text = _EMAIL.sub("[email]", text)
    text = _PHONE.sub(_mask_phone, text)
    return _POSTAL.sub("[postal]", text)


def check_department_id(department: object) -> str:
    """Return ``department`` if it is safe as a file name in routed/, else raise ValueError.

    Safe: 1-64 characters of ``[a-z0-9_]`` (no path separators, dots or ``..``), not a
    Windows device name (con, nul, com1, ...) and not a close-the-loop list name.
    """
    if not isinstance(department, str) or not _FILE_ID.fullmatch(department):
        raise ValueError(
            f"department {department!r} is not a safe file name: use 1-64 characters a-z, 0-9, _"
        )
    if department in _WINDOWS_DEVICES:
        raise ValueError(f"department {department!r} is a reserved device name on Windows")
    if department in RESERVED_FILE_IDS:
        raise ValueError(f"department {department!r} is reserved for a close-the-loop list")
    return department


def neutralize_formula(value: object) -> object:
    """Prefix a cell that a spreadsheet would read as a formula with an apostrophe.

    A cell starting with one of ``FORMULA_START`` gets a leading apostrophe, and so does every
    line inside the cell that starts with ``= + - @`` or a tab after a line break
    (``"x\\n=1"`` becomes ``"x\\n'=1"``). Other values are returned unchanged.
    """
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_START):
        value = "'" + value
    return _LINE_FORMULA.sub(r"\1'", value)


# Columns koe fills itself (never input text): the outlier cluster is "-1".
KOE_COLUMNS = ("cluster_id",)


def safe_for_spreadsheet(frame: pd.DataFrame, keep: tuple[str, ...] = KOE_COLUMNS) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell neutralized against formula injection, except
    in the columns ``keep`` (koe's own values)."""
    out = frame.copy()
    for column in out.columns:
        if column in keep:
            continue
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(neutralize_formula)
    return out
