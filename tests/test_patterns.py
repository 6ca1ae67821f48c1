"""Lookup-list regexes cannot hang koe: nested repeats refused at load, searches time-limited."""

from __future__ import annotations

import time

import pytest

from koe.taggers import patterns
from koe.taggers.lookup_lists import LookupListError, load_lookup_lists


@pytest.mark.parametrize("pattern", ["(a+)+$", "(a*)*b", "(?:x+y?)+z", "((ab)+)*", "(?:\\s*x+)+"])
def test_nested_unbounded_repeats_are_refused(pattern):
    with pytest.raises(ValueError, match="exponential time"):
        patterns.compile_pattern(pattern)


@pytest.mark.parametrize(
    "pattern",
    ["対応(?:が|の)?(?:とても|非常に)?(?:早|速|遅)", "(?<![A-Za-z])CS(?:担当|チーム)", r"\bSLA\b",
     "(?:ab){2,3}", "a+b+c*", "(?:でき|られ)るように(?:して)?(?:ほしい|欲しい)"],
)
def test_ordinary_patterns_compile_and_match_like_re(pattern):
    import re

    compiled = patterns.compile_pattern(pattern)
    for text in ["対応がとても早い", "CS担当の方", "SLA が守られない", "ababab", "aabbc",
                 "できるようにしてほしい", "xCSチーム"]:  # fmt: skip
        ours, theirs = patterns.search(compiled, text), re.search(pattern, text)
        assert (ours and ours.span()) == (theirs and theirs.span())


def test_a_slow_search_stops_at_the_time_limit(monkeypatch):
    import regex

    slow = regex.compile("(x+x+)+y")  # built past compile_pattern's check on purpose
    t0 = time.perf_counter()
    assert patterns.search(slow, "x" * 40) is None
    assert time.perf_counter() - t0 < 1.0


def test_a_list_with_a_catastrophic_regex_fails_at_load_naming_file_and_line(tmp_path):
    (tmp_path / "themes.yaml").write_text(
        "themes:\n  - id: speed\n    name: 速度\n    department: support\n"
        "    keywords: [遅い]\n    regex: ['(a+)+$']\n",
        encoding="utf-8",
    )
    with pytest.raises(LookupListError, match=r"themes\.yaml:2: theme 'speed': invalid regex '\(a\+\)\+\$': .*exponential"):
        load_lookup_lists(tmp_path)
