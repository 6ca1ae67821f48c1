"""The architecture's rules, checked on the source tree (README: Architecture).

- one import namespace: every module is ``koe.*``; the design card's top-level folders are mapped
  into it by pyproject.toml, and nothing imports them under their folder names;
- layers one way: a module never imports a module of a higher layer (lazy imports inside
  functions and type-checking imports count too);
- pyproject.toml's package list names every package of the tree, so the wheel has them all.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PACKAGE_DIR: dict[str, str] = PYPROJECT["tool"]["setuptools"]["package-dir"]

# Bottom to top. A module may import its own layer and the layers below it.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("koe", "koe.core", "koe.lookup_lists", "koe.samples"),
    ("koe.config", "koe.store"),
    ("koe.ingest",),
    ("koe.models",),
    ("koe.taggers",),
    ("koe.discovery",),
    ("koe.analysis",),
    ("koe.routing", "koe.outputs", "koe.report", "koe.charts", "koe.manifest"),
    ("koe.pipeline", "koe.incremental", "koe.batch", "koe.sentiment", "koe.partitions",
     "koe.themes", "koe.init", "koe.evaluate", "koe.prefect_env", "koe.polarity_training"),
    ("koe.workbench",),
    ("koe.flows",),
    ("koe.cli",),
)  # fmt: skip
FOLDER_NAMES = ("analysis", "flows", "taggers", "models")


def package_folders() -> dict[str, Path]:
    """Every package of the tree by name: the mapped folders and the sub-packages in them."""
    found: dict[str, Path] = {}
    for name, folder in PACKAGE_DIR.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            found[".".join((name, *init.parent.relative_to(ROOT / folder).parts))] = init.parent
    return found


def modules() -> dict[str, Path]:
    """Every module of the koe namespace, by dotted name."""
    result: dict[str, Path] = {}
    for package, folder in package_folders().items():
        for path in folder.glob("*.py"):
            result[package if path.stem == "__init__" else f"{package}.{path.stem}"] = path
    return result


def layer_of(module: str) -> int:
    best, layer = "", -1
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            matches = module == prefix or module.startswith(prefix + ".")
            if matches and len(prefix) > len(best):
                best, layer = prefix, index
    return layer


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in a file, wherever it stands."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            # `from koe import outputs` imports the module koe.outputs
            found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names
                      if f"{node.module}.{a.name}" in MODULES]  # fmt: skip
    return found


MODULES = modules()


def test_the_tree_has_the_expected_packages_and_modules():
    assert {"koe.flows.nightly", "koe.taggers.lookup", "koe.models.embeddings",
            "koe.analysis.drivers", "koe.ingest", "koe.store", "koe.cli"} <= set(MODULES)  # fmt: skip
    assert MODULES["koe.flows.nightly"] == ROOT / "flows" / "nightly.py"
    assert MODULES["koe.taggers.lookup"] == ROOT / "taggers" / "lookup.py"


def test_pyproject_lists_every_package_of_the_tree():
    assert sorted(PYPROJECT["tool"]["setuptools"]["packages"]) == sorted(package_folders())


def test_every_module_is_in_a_layer():
    assert [m for m in MODULES if layer_of(m) < 0] == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_a_higher_layer(module):
    own = layer_of(module)
    upward = [
        f"{MODULES[module].relative_to(ROOT)}:{line} imports {name}"
        for line, name in imported_modules(MODULES[module])
        if name.startswith("koe.") and layer_of(name) > own
    ]
    assert upward == []


def test_nothing_imports_the_folders_by_their_own_names():
    files = [*MODULES.values(), *ROOT.glob("tests/*.py"), *ROOT.glob("bench/*.py")]
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in files
        for line, name in imported_modules(path)
        if name.split(".")[0] in FOLDER_NAMES
    ]
    assert wrong == []


def test_layer_check_catches_an_upward_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from koe.pipeline import ingest\n", encoding="utf-8")
    assert imported_modules(bad) == [(2, "koe.pipeline")]
    assert layer_of("koe.pipeline") > layer_of("koe.taggers.lookup")
