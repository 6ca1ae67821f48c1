"""YAML documents that would expand without bound are refused with file and line."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from koe.config import ConfigError, load_config
from koe.core.yamlio import load_yaml_with_lines
from koe.taggers.lookup_lists import LookupListError, load_lookup_lists

BOMB = """\
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
"""


def test_an_alias_bomb_is_refused_quickly_naming_the_line(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB, encoding="utf-8")
    tracemalloc.start()
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=r"bomb\.yaml:\d+: aliases .* expand") as info:
        load_yaml_with_lines(path)
    elapsed = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 2 and peak < 50_000_000
    assert ":6:" in str(info.value)  # &f: the first anchor whose nine aliases pass the budget


def test_a_recursive_alias_is_refused(tmp_path):
    path = tmp_path / "loop.yaml"
    path.write_text("x: &x\n  - 1\n  - *x\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"loop\.yaml:\d+: an alias refers to its own anchor"):
        load_yaml_with_lines(path)


def test_ordinary_aliases_still_load(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text("base: &base {x: 1}\nother: *base\n", encoding="utf-8")
    assert load_yaml_with_lines(path)["other"]["x"] == 1


def test_a_bomb_in_a_lookup_list_description_is_a_lookup_list_error(tmp_path):
    bomb = BOMB.replace("\n", "\n    ").rstrip()
    (tmp_path / "bad.yaml").write_text(
        f"themes:\n  - id: speed\n    name: 速度\n    department: support\n"
        f"    keywords: [遅い]\n    description:\n    {bomb}\n",
        encoding="utf-8",
    )
    with pytest.raises(LookupListError, match=r"bad\.yaml:\d+: aliases"):
        load_lookup_lists(tmp_path)


def test_a_bomb_in_koe_yaml_is_a_config_error(tmp_path):
    path = tmp_path / "koe.yaml"
    path.write_text(BOMB, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"koe\.yaml:\d+: aliases"):
        load_config(path)
