"""Lookup-list ``regex:`` patterns that cannot hang koe.

Two guards, because a list is written by people and one bad pattern must not stop a night:

- at load, :func:`compile_pattern` refuses a repeat nested in an unbounded repeat (``(a+)+``,
  ``(?:\\s*x+)*``): the shape that makes a backtracking engine take exponential time;
- at match time, :func:`search` gives every search a time limit (the ``regex`` package's
  ``timeout``), so a pattern that slips through costs at most that per sentence; a timed-out
  search counts as no match and is logged once per pattern.

Patterns keep Python's ``re`` syntax and Unicode semantics (``regex`` in its ``V0`` mode), so
lists written for ``re`` match the same; lookarounds stay available.
"""

from __future__ import annotations

import logging
import re
import re._constants as sre_constants
import re._parser as sre_parser

import regex

SEARCH_TIMEOUT_S = 0.05
_log = logging.getLogger(__name__)
_timed_out: set[str] = set()
_REPEATS = (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT)


def _nested_repeat(items: sre_parser.SubPattern, inside_unbounded: bool = False) -> bool:
    """Whether a repeat that can match more than once sits inside an unbounded repeat."""
    for op, av in items:
        if op in _REPEATS:
            _, high, sub = av
            if inside_unbounded and high > 1:
                return True
            if _nested_repeat(sub, inside_unbounded or high == sre_constants.MAXREPEAT):
                return True
        elif op is sre_constants.SUBPATTERN:
            if _nested_repeat(av[-1], inside_unbounded):
                return True
        elif op is sre_constants.BRANCH:
            if any(_nested_repeat(branch, inside_unbounded) for branch in av[1]):
                return True
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT, sre_constants.ATOMIC_GROUP):
            sub = av[-1] if isinstance(av, tuple) else av
            if _nested_repeat(sub, inside_unbounded):
                return True
    return False


def compile_pattern(pattern: str) -> regex.Pattern[str]:
    """Compile a lookup-list pattern.

    Raises:
        ValueError: the pattern is invalid, or nests repeats in a way that can backtrack
            exponentially (the message says how to rewrite it).
    """
    try:
        parsed = sre_parser.parse(pattern)
    except re.error as exc:
        raise ValueError(str(exc)) from exc
    if _nested_repeat(parsed):
        raise ValueError(
            "a repeat inside an unbounded repeat (like (a+)+) can make matching take "
            "exponential time; repeat the inner part once (a+) or bound the outer repeat"
        )
    try:
        return regex.compile(pattern, flags=regex.V0)
    except regex.error as exc:
        raise ValueError(str(exc)) from exc


def search(pattern: regex.Pattern[str], text: str) -> regex.Match[str] | None:
    """``pattern.search(text)`` within SEARCH_TIMEOUT_S; None when it finds nothing in time."""
    try:
        return pattern.search(text, timeout=SEARCH_TIMEOUT_S)
    except TimeoutError:
        if pattern.pattern not in _timed_out:
            _timed_out.add(pattern.pattern)
            _log.warning("lookup regex %r timed out on a %d-character sentence: no match",
                         pattern.pattern, len(text))  # fmt: skip
        return None
