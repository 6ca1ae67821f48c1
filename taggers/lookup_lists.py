"""Loading and validating analyst-maintained lookup lists (lookup_lists/*.yaml).

Loading is safe (yaml.SafeLoader) and strict: an unknown field, a duplicate theme id, a missing
parent, an empty keyword or an invalid regex raises :class:`LookupListError` naming the file and
line, and nothing is half-loaded. See lookup_lists/README.md for the format.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import regex

from koe.core.yamlio import LINE_KEY as _LINE
from koe.core.yamlio import load_yaml_with_lines as _load_yaml
from koe.taggers.patterns import compile_pattern

BUILTIN_DEPARTMENTS = ("support", "marketing", "product", "triage")
THEME_FIELDS = frozenset(
    {
        "id",
        "name",
        "parent",
        "department",
        "keywords",
        "semantic",
        "polarity_words",
        "exclusions",
        "regex",
        "default_polarity",
        "fallback",
        "catch_requests",
        "examples",
        "description",
    }
)
TOP_FIELDS = frozenset({"version", "departments", "themes"})
POLARITY_FILE = "polarity.yaml"
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_]*$")


class LookupListError(ValueError):
    """A lookup list (or polarity lexicon) is invalid; the message names file and line."""


def load_yaml_with_lines(path: Path) -> Any:
    """Parse a lookup-list YAML file safely (see koe.core.yamlio); errors are LookupListError."""
    return _load_yaml(path, LookupListError)


@dataclass(frozen=True)
class Theme:
    """One theme of a lookup list."""

    id: str
    name_ja: str
    name_en: str
    parent: str
    department: str
    keywords: tuple[str, ...]
    exclusions: tuple[str, ...] = ()
    regex: tuple[regex.Pattern[str], ...] = ()
    default_polarity: str = "neutral"
    fallback: bool = False  # only when no sibling theme (same parent) matches the sentence
    catch_requests: bool = False  # also every request sentence about a sibling or no theme
    semantic: bool = True  # false: the semantic layer neither adds nor vetoes this theme
    # evaluation words whose sign depends on the aspect: 早い is negative for a closing time
    positive_words: tuple[str, ...] = ()
    negative_words: tuple[str, ...] = ()
    examples_match: tuple[str, ...] = ()
    examples_no_match: tuple[str, ...] = ()
    description: str = ""
    file: str = ""
    line: int = 0

    @property
    def name(self) -> str:
        return self.name_ja or self.name_en or self.id


@dataclass(frozen=True)
class LookupLists:
    """All themes of a lookup-list folder, keyed by id, with a content hash for versioning."""

    themes: dict[str, Theme]
    departments: dict[str, str]
    files: tuple[str, ...]
    sha256: str
    extra: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.themes)

    def __contains__(self, theme_id: object) -> bool:
        return theme_id in self.themes

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.themes)

    @property
    def theme_departments(self) -> list[str]:
        """The departments the themes use, sorted (``departments`` also holds koe's built-in
        ones)."""
        return sorted({t.department for t in self.themes.values() if t.department})


def _where(path: Path, node: Any) -> str:
    line = node.get(_LINE) if isinstance(node, dict) else None
    return f"{path}:{line}" if line else str(path)


def _strings(value: Any, what: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise LookupListError(f"{where}: {what} must be a list of strings")
    out = []
    for item in value:
        if isinstance(item, bool):
            raise LookupListError(
                f"{where}: {what}: YAML read an unquoted yes/no/on/off as {item}; quote it"
            )
        if not isinstance(item, str | int | float):
            raise LookupListError(f"{where}: {what} must be a list of strings, got {item!r}")
        text = str(item).strip()
        if not text:
            raise LookupListError(f"{where}: empty entry in {what}")
        out.append(text)
    return tuple(out)


def _parse_theme(raw: Any, path: Path, departments: dict[str, str]) -> dict[str, Any]:
    where = _where(path, raw)
    if not isinstance(raw, dict):
        raise LookupListError(f"{where}: each theme must be a mapping, got {raw!r}")
    unknown = sorted(set(raw) - THEME_FIELDS - {_LINE})
    if unknown:
        allowed = ", ".join(sorted(THEME_FIELDS))
        raise LookupListError(f"{where}: unknown field(s) {unknown} (allowed: {allowed})")
    theme_id = raw.get("id")
    if not isinstance(theme_id, str) or not _SLUG.match(theme_id):
        raise LookupListError(
            f"{where}: theme id must be an ASCII slug [a-z0-9_], got {theme_id!r}"
        )
    where = f"{where}: theme {theme_id!r}"
    name = raw.get("name", theme_id)
    if isinstance(name, dict):
        name = {k: v for k, v in name.items() if k != _LINE}
        if set(name) - {"ja", "en"}:
            raise LookupListError(f"{where}: name may only have keys ja and en")
        name_ja, name_en = str(name.get("ja", "")), str(name.get("en", ""))
    else:
        name_ja, name_en = (
            (str(name), "") if re.search(r"[^\x00-\x7f]", str(name)) else ("", str(name))
        )
    department = raw.get("department")
    if department is not None and department not in departments:
        known = ", ".join(departments)
        raise LookupListError(f"{where}: unknown department {department!r} (known: {known})")
    fallback = raw.get("fallback", False)
    catch_requests = raw.get("catch_requests", False)
    if not isinstance(fallback, bool) or not isinstance(catch_requests, bool):
        raise LookupListError(f"{where}: fallback and catch_requests must be true or false")
    semantic = raw.get("semantic", True)
    if not isinstance(semantic, bool):
        raise LookupListError(f"{where}: semantic must be true or false")
    polarity = raw.get("default_polarity", "neutral")
    if polarity not in ("positive", "negative", "neutral"):
        raise LookupListError(f"{where}: default_polarity must be positive/negative/neutral")
    patterns = []
    for pattern in _strings(raw.get("regex"), "regex", where):
        try:
            patterns.append(compile_pattern(pattern))
        except ValueError as exc:
            raise LookupListError(f"{where}: invalid regex {pattern!r}: {exc}") from exc
    words = raw.get("polarity_words") or {}
    if not isinstance(words, dict) or set(words) - {"positive", "negative", _LINE}:
        raise LookupListError(
            f"{where}: polarity_words must be a mapping with positive / negative lists"
        )
    examples = raw.get("examples") or {}
    if not isinstance(examples, dict) or set(examples) - {"match", "no_match", _LINE}:
        raise LookupListError(f"{where}: examples must be a mapping with match / no_match lists")
    return {
        "id": theme_id,
        "name_ja": name_ja,
        "name_en": name_en,
        "parent": raw.get("parent") or "",
        "department": department or "",
        "keywords": _strings(raw.get("keywords"), "keywords", where),
        "exclusions": _strings(raw.get("exclusions"), "exclusions", where),
        "regex": tuple(patterns),
        "default_polarity": polarity,
        "fallback": fallback,
        "catch_requests": catch_requests,
        "semantic": semantic,
        "positive_words": _strings(words.get("positive"), "polarity_words.positive", where),
        "negative_words": _strings(words.get("negative"), "polarity_words.negative", where),
        "examples_match": _strings(examples.get("match"), "examples.match", where),
        "examples_no_match": _strings(examples.get("no_match"), "examples.no_match", where),
        "description": str(raw.get("description") or ""),
        "file": str(path),
        "line": raw.get(_LINE, 0),
    }


def theme_list_files(folder: Path) -> list[Path]:
    """The theme-list files of a folder: every *.yaml / *.yml except polarity.yaml, sorted."""
    files = sorted(p for p in folder.glob("*.y*ml") if p.suffix in (".yaml", ".yml"))
    return [p for p in files if p.name != POLARITY_FILE]


def load_lookup_lists(folder: str | Path) -> LookupLists:
    """Load and validate every theme list in ``folder``.

    Raises:
        LookupListError: on any problem, naming the file and line. Nothing is half-loaded.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise LookupListError(f"{folder}: lookup-list folder not found")
    files = theme_list_files(folder)
    if not files:
        raise LookupListError(f"{folder}: no lookup lists (*.yaml) found")
    departments = {d: d for d in BUILTIN_DEPARTMENTS}
    docs = []
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        doc = load_yaml_with_lines(path)
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise LookupListError(f"{path}: top level must be a mapping with 'themes'")
        unknown = sorted(set(doc) - TOP_FIELDS - {_LINE})
        if unknown:
            raise LookupListError(f"{_where(path, doc)}: unknown top-level field(s) {unknown}")
        for dep in doc.get("departments") or []:
            if not isinstance(dep, dict) or not isinstance(dep.get("id"), str):
                raise LookupListError(f"{_where(path, dep)}: a department needs an id")
            if not _SLUG.match(dep["id"]):
                raise LookupListError(f"{_where(path, dep)}: department id must be [a-z0-9_]")
            departments[dep["id"]] = str(dep.get("name", dep["id"]))
        docs.append((path, doc))
    parsed: dict[str, dict[str, Any]] = {}
    for path, doc in docs:
        themes = doc.get("themes") or []
        if not isinstance(themes, list):
            raise LookupListError(f"{_where(path, doc)}: 'themes' must be a list")
        for raw in themes:
            theme = _parse_theme(raw, path, departments)
            if theme["id"] in parsed:
                first = parsed[theme["id"]]
                raise LookupListError(
                    f"{path}:{theme['line']}: duplicate theme id {theme['id']!r} "
                    f"(first defined at {first['file']}:{first['line']})"
                )
            parsed[theme["id"]] = theme
    for theme in parsed.values():
        parent = theme["parent"]
        where = f"{theme['file']}:{theme['line']}: theme {theme['id']!r}"
        if parent and parent not in parsed:
            raise LookupListError(f"{where}: parent {parent!r} is not defined")
        if parent and parsed[parent]["parent"]:
            raise LookupListError(f"{where}: parent {parent!r} is itself a child (two levels max)")
        if not theme["department"]:
            inherited = parsed[parent]["department"] if parent else ""
            if not inherited:
                raise LookupListError(f"{where}: no department (set it here or on the parent)")
            theme["department"] = inherited
    return LookupLists(
        themes={tid: Theme(**t) for tid, t in parsed.items()},
        departments=departments,
        files=tuple(str(p) for p in files),
        sha256=digest.hexdigest(),
    )
