"""Survey dates: ISO, 2026/11/01, 2026年11月1日, compact, Japanese eras (R8.11.1, 令和8年11月1日),
with or without a time."""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

_ERA_BASE = {"令和": 2018, "R": 2018, "平成": 1988, "H": 1988, "昭和": 1925, "S": 1925}
_WEEKDAY_RE = re.compile(r"\s*\([月火水木金土日](?:曜日?)?\)\s*")
_ISO_DATE_RE = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})")
_COMPACT_DATE_RE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_JA_DATE_RE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_ERA_DATE_RE = re.compile(
    r"(令和|平成|昭和|R|H|S)\s*(\d{1,2}|元)\s*"
    r"(?:年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日|([-/.])(\d{1,2})\5(\d{1,2}))",
    re.IGNORECASE,
)
_CLOCK_TIME_RE = re.compile(
    r"(?:T|\s+)(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(?:Z|[+-]\d{2}:?\d{2})?"
)
_JA_TIME_RE = re.compile(
    r"\s*(午前|午後)?\s*(\d{1,2})\s*時(?:\s*(\d{1,2})\s*分(?:\s*(\d{1,2})\s*秒)?)?"
)


def _parse_time(rest: str) -> tuple[int, int, int, int]:
    """Parse the part after the date: "", " 10:30[:15[.123]][+09:00]" or "10時30分[15秒]"."""
    if not rest.strip():
        return 0, 0, 0, 0
    if m := _CLOCK_TIME_RE.fullmatch(rest):
        fraction = (m.group(4) or "").ljust(9, "0")
        return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0), int(fraction) // 1000
    if m := _JA_TIME_RE.fullmatch(rest):
        hour = int(m.group(2))
        if m.group(1) == "午後" and hour < 12:
            hour += 12
        elif m.group(1) == "午前" and hour == 12:
            hour = 0
        return hour, int(m.group(3) or 0), int(m.group(4) or 0), 0
    raise ValueError(f"unrecognized time {rest.strip()!r}")


def parse_date(value: str) -> pd.Timestamp | None:
    """Parse a survey answer date into a timezone-naive Timestamp.

    Accepted (after NFKC, so full-width digits work; a weekday such as 「(日)」 is ignored):
    2026-11-01, 2026/11/01, 2026.11.01, 20261101; 2026年11月1日; Japanese eras 令和8年11月1日,
    令和元年5月1日, R8.11.1, R8/11/1 (also 平成/H and 昭和/S). Each may be followed by a time:
    " 10:30", "T10:30:15.123", " 10:30:00+09:00" (the offset is dropped, the wall-clock time
    kept) or 「10時30分」 (「午後3時」 too). Day-month order is never guessed: 11/01/2026 is
    rejected, as are dates outside the datetime64[ns] range.

    Args:
        value: The cell text.

    Returns:
        The Timestamp, or None for an empty cell.

    Raises:
        ValueError: If the value is not empty and not a recognized, valid date.
    """
    text = unicodedata.normalize("NFKC", value).strip()
    if not text:
        return None
    text = _WEEKDAY_RE.sub(" ", text).strip()
    if m := _ERA_DATE_RE.match(text):
        era = m.group(1).upper() if m.group(1).isascii() else m.group(1)
        era_year = 1 if m.group(2) == "元" else int(m.group(2))
        if era_year < 1:
            raise ValueError(f"invalid era year in {value!r}")
        year = _ERA_BASE[era] + era_year
        month, day = int(m.group(3) or m.group(6)), int(m.group(4) or m.group(7))
    elif m := (_ISO_DATE_RE.match(text) or _JA_DATE_RE.match(text) or _COMPACT_DATE_RE.match(text)):
        groups = [g for g in m.groups() if g and g.isdigit()]
        year, month, day = (int(g) for g in groups)
    else:
        raise ValueError(f"unrecognized date {value!r}")
    hour, minute, second, microsecond = _parse_time(text[m.end() :])
    if not 1678 <= year <= 2261:
        raise ValueError(f"date {value!r} is out of range")
    # Raises ValueError for impossible dates (2026-02-30) and times (25:00).
    return pd.Timestamp(
        year=year,
        month=month,
        day=day,
        hour=hour,
        minute=minute,
        second=second,
        microsecond=microsecond,
    )
