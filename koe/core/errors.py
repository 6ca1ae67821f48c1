"""Recognizing a full disk in an exception, wherever it was raised and however it was wrapped.

A full disk (or quota) shows up as ``OSError`` ENOSPC / EDQUOT from Python's own writes,
as an ``OSError`` with only the message from pyarrow, as SQLite's ``database or disk is full``
(SQLITE_FULL) or PostgreSQL's ``disk_full`` (SQLSTATE 53100) under SQLAlchemy, each possibly
raised from, during the handling of, or inside a group with another exception.
"""

from __future__ import annotations

import errno

DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
DISK_FULL_MESSAGES = ("no space left on device", "disk quota exceeded", "database or disk is full")
SQLITE_FULL = 13
POSTGRES_DISK_FULL = "53100"


def _is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in DISK_FULL_ERRNOS:
        return True
    if getattr(exc, "sqlite_errorcode", None) == SQLITE_FULL:
        return True
    if getattr(exc, "sqlstate", None) == POSTGRES_DISK_FULL:
        return True
    if isinstance(exc, OSError) or type(exc).__module__.startswith("sqlite3"):
        return any(m in str(exc).lower() for m in DISK_FULL_MESSAGES)
    return False


def disk_full(exc: BaseException | None) -> BaseException | None:
    """The exception in ``exc``'s chain (itself, ``__cause__``, ``__context__``, the members of
    an exception group) that says a disk or a quota is full; None when there is none."""
    stack, seen = [exc], set()
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if _is_disk_full(current):
            return current
        stack += [current.__context__, current.__cause__]
        if isinstance(current, BaseExceptionGroup):
            stack += list(current.exceptions)
    return None


def describe_disk_full(exc: BaseException) -> str:
    """One line for a disk-full exception (see disk_full): the reason, and the file if known."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
