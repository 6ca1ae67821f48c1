"""Making shared files safe: spreadsheet formula injection and personal data in comment text."""

from __future__ import annotations

import re

import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

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


def neutralize_formula(value: object) -> object:
    """Prefix a cell that a spreadsheet would read as a formula with an apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def safe_for_spreadsheet(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell neutralized against formula injection."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(neutralize_formula)
    return out
