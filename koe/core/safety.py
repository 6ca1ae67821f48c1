"""Making shared files safe: spreadsheet formula injection and personal data in comment text."""

from __future__ import annotations

import re

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

_FILE_ID = re.compile(r"[a-z0-9_]{1,64}")
# Device names Windows will not open as files (con.csv is the console), whatever the extension.
_WINDOWS_DEVICES = frozenset(
    {"con", "prn", "aux", "nul"} | {f"{p}{i}" for p in ("com", "lpt") for i in range(10)}
)
# File names in routed/ that are not departments (close-the-loop lists).
RESERVED_FILE_IDS = frozenset({"follow_up", "thank_you"})

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# International (+81 3 1234 5678), Japanese (03-1234-5678, 090-1234-5678, 0120-123-456,
# 09012345678) phone numbers; postal codes (〒100-0001, 100-0001).
_PHONE = re.compile(
    r"(?<![\w-])(?:\+\d{1,3}[ -]?\(?\d{1,4}\)?(?:[ -]?\d{2,4}){2,3}"
    r"|0\d{1,4}-\d{1,4}-\d{3,4}|0[5789]0\d{8}|0\d{9})(?![\w-])"
)
_POSTAL = re.compile(r"(?:〒\s?\d{3}-?\d{4}|(?<![\w-])\d{3}-\d{4}(?![\w-]))")


def mask_personal_data(text: str) -> str:
    """Replace e-mail addresses, phone numbers and postal codes with placeholders."""
    text = _EMAIL.sub("[email]", text)
    text = _PHONE.sub("[phone]", text)
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
    """Prefix a cell that a spreadsheet would read as a formula with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_for_spreadsheet(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell neutralized against formula injection."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(neutralize_formula)
    return out
