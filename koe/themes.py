"""The review loop: turn discovered clusters into lookup themes (``koe themes ...``).

- :func:`accept_cluster` writes a new theme with the cluster's keywords into a lookup list
  (``accepted.yaml`` in the lookup-list folder, created when missing);
- :func:`merge_cluster` adds a cluster's keywords to an existing theme, in whatever file
  defines it;
- :func:`rename_theme` changes a theme's name;
- :func:`add_to_theme` adds a keyword or an exclusion to a theme (``koe review``).

Files are edited with ruamel.yaml's round-trip mode, so comments, key order, flow-style names
and indentation of the analysts' files are kept. Every change is validated before the file is
replaced: the whole lookup-list folder, with the changed file, must load with the strict loader
(``taggers.lookup_lists``) and compile into a tagger; the file is then replaced atomically
(written beside it and renamed). The next run's lookup tagging picks the theme up.

The keywords of a cluster are its ``catch_keywords`` (words that cover its members at a useful
precision, see ``taggers.cluster.catch_keywords``), or its c-TF-IDF ``keywords`` when none were
found.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from koe.taggers.lookup_lists import LookupListError, load_lookup_lists

ACCEPTED_FILE = "accepted.yaml"
ACCEPTED_HEADER = """\
# accepted.yaml — themes accepted from discovered clusters (koe themes accept / merge / rename).
# A normal lookup list: edit it like any other (format in README.md in this folder).
"""
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_]*$")
_JA = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")


class ThemeEditError(ValueError):
    """A review-loop command cannot be carried out; the message says why and what to do."""


@dataclass
class ThemeEdit:
    """What a review-loop command changed."""

    path: Path
    theme_id: str
    keywords_added: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    created_file: bool = False


# -- reading a run's clusters -------------------------------------------------------------------


def latest_run(runs: Path) -> Path:
    """The newest complete run folder under ``runs`` that has an emergent_themes.csv."""
    candidates = sorted(
        p for p in runs.glob("*") if p.is_dir() and not p.name.startswith(".")
        and (p / "emergent_themes.csv").is_file()
    )  # fmt: skip
    if not candidates:
        raise ThemeEditError(
            f"no run folder with emergent_themes.csv under {runs}; pass --run RUN_FOLDER "
            "(a `koe run` folder or a `koe discover --out` folder)"
        )
    return candidates[-1]


def cluster_row(run: Path, cluster_id: str) -> dict[str, Any]:
    """The emergent_themes.csv row of ``cluster_id`` in a run (or ``koe discover``) folder."""
    path = run / "emergent_themes.csv"
    if not path.is_file():
        raise ThemeEditError(f"{path} not found; pass --run with a run folder")
    themes = pd.read_csv(path, dtype=str, keep_default_na=False)
    match = themes[themes["cluster_id"] == cluster_id]
    if match.empty:
        known = ", ".join(themes["cluster_id"]) or "none"
        raise ThemeEditError(f"{cluster_id!r} is not in {path} (clusters: {known})")
    return match.iloc[0].to_dict()


def cluster_keywords(row: dict[str, Any]) -> list[str]:
    """The keywords a cluster contributes: catch_keywords, else its c-TF-IDF keywords."""
    for column in ("catch_keywords", "keywords"):
        words = [w.strip() for w in str(row.get(column) or "").split(",") if w.strip()]
        if words:
            return words
    raise ThemeEditError(f"cluster {row.get('cluster_id')!r} has no keywords to add")


# -- YAML round trip ----------------------------------------------------------------------------


def _yaml(text: str) -> tuple[Any, Any]:
    """(ruamel YAML instance set to the file's indentation, round-trip document)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.util import load_yaml_guess_indent

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    if text.strip():
        _, indent, offset = load_yaml_guess_indent(text)
        indent = indent or 2
        offset = offset or 0
        yaml.indent(mapping=indent - offset if offset else indent, sequence=indent, offset=offset)
    else:
        yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml, yaml.load(text) if text.strip() else None


def _dump(yaml: Any, doc: Any) -> str:
    buffer = io.StringIO()
    yaml.dump(doc, buffer)
    return buffer.getvalue()


def _validate(lists: Path, path: Path, text: str) -> Any:
    """The LookupTagger of ``lists`` with ``path`` replaced by ``text`` (``path`` untouched).

    Raises:
        ThemeEditError: the changed folder does not load (the message is the loader's).
    """
    from koe.taggers.factory import build_tagger

    with tempfile.TemporaryDirectory(prefix="koe-lists-") as tmp:
        folder = Path(tmp)
        for other in lists.glob("*.y*ml"):
            shutil.copy2(other, folder / other.name)
        (folder / path.name).write_text(text, encoding="utf-8")
        try:
            return build_tagger(folder)
        except LookupListError as exc:
            message = str(exc).replace(str(folder / path.name), str(path))
            raise ThemeEditError(f"the change would make the lookup lists invalid: {message}") \
                from exc  # fmt: skip


def _validate_and_replace(lists: Path, path: Path, text: str) -> Any:
    """Validate (see _validate), then replace ``path`` atomically; returns the tagger."""
    tagger = _validate(lists, path, text)
    staged = path.with_name(f".{path.name}.koe-tmp")
    staged.write_text(text, encoding="utf-8")
    os.replace(staged, path)
    return tagger


def _find_theme(doc: Any, theme_id: str) -> Any:
    for theme in doc.get("themes") or []:
        if isinstance(theme, dict) and theme.get("id") == theme_id:
            return theme
    return None


def _theme_file(lists: Path, theme_id: str) -> Path:
    loaded = load_lookup_lists(lists)
    if theme_id not in loaded.themes:
        raise ThemeEditError(
            f"unknown theme {theme_id!r} in {lists}; `koe lists show` lists a theme, "
            "`koe themes accept` creates one"
        )
    return Path(loaded.themes[theme_id].file)


def _matching(tagger: Any, theme_id: str, texts: list[str]) -> list[str]:
    """The texts the tagger tags with ``theme_id``."""
    from koe.taggers.tokenize import detect_language

    out = []
    for text in texts:
        hits = tagger.match_sentence(text, detect_language(text))
        if any(h["theme"] == theme_id for h in hits):
            out.append(text)
    return out


# -- commands -----------------------------------------------------------------------------------


def accept_cluster(
    cluster_id: str,
    theme_id: str,
    *,
    run: Path,
    lists: Path,
    department: str | None = None,
    name: str | None = None,
    parent: str | None = None,
    max_examples: int = 3,
) -> ThemeEdit:
    """Write a new theme with a cluster's keywords into ``lists/accepted.yaml``.

    The theme gets the cluster's keywords, its label as name (unless ``name``), ``department``
    (default: the parent's, else ``triage``), a description naming the cluster and run, and as
    ``examples.match`` up to ``max_examples`` of the cluster's representative texts that the new
    keywords do tag (so ``koe lists check`` stays green).

    Raises:
        ThemeEditError: unknown cluster, existing theme id, bad slug, or lists that would not
            load (unknown department or parent, ...).
    """
    if not _SLUG.match(theme_id):
        raise ThemeEditError(f"theme id must be an ASCII slug [a-z0-9_], got {theme_id!r}")
    existing = load_lookup_lists(lists)
    if theme_id in existing.themes:
        raise ThemeEditError(
            f"theme {theme_id!r} already exists ({existing.themes[theme_id].file}); "
            f"use `koe themes merge {cluster_id} --into {theme_id}` to add the keywords to it"
        )
    row = cluster_row(run, cluster_id)
    keywords = cluster_keywords(row)
    label = name or str(row.get("label") or cluster_id)
    path = lists / ACCEPTED_FILE
    created = not path.exists()
    text = path.read_text(encoding="utf-8") if not created else ""
    yaml, doc = _yaml(text)
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if doc is None:
        doc = CommentedMap()
        doc["version"] = 1
    if not isinstance(doc, dict):
        raise ThemeEditError(f"{path}: top level must be a mapping with 'themes'")
    if doc.get("themes") is None:
        doc["themes"] = CommentedSeq()
    theme = CommentedMap()
    theme["id"] = theme_id
    names = CommentedMap([("ja", label)] if _JA.search(label) else [("en", label)])
    names.fa.set_flow_style()
    theme["name"] = names
    if parent:
        theme["parent"] = parent
    if department or not parent:
        theme["department"] = department or "triage"
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    theme["description"] = f"{cluster_id} of {run.name} ({row.get('label', '')}), accepted {stamp}"
    theme["keywords"] = CommentedSeq(keywords)
    doc["themes"].append(theme)
    new_text = _dump(yaml, doc)
    if created:
        new_text = ACCEPTED_HEADER + new_text
    tagger = _validate(lists, path, new_text)
    representatives = [r for r in str(row.get("representatives") or "").split(" | ") if r]
    examples = _matching(tagger, theme_id, representatives)[:max_examples]
    if examples:
        theme["examples"] = CommentedMap([("match", CommentedSeq(examples))])
        new_text = _dump(yaml, doc)
        if created:
            new_text = ACCEPTED_HEADER + new_text
    _validate_and_replace(lists, path, new_text)
    return ThemeEdit(path, theme_id, keywords, examples, created)


def merge_cluster(cluster_id: str, into: str, *, run: Path, lists: Path) -> ThemeEdit:
    """Add a cluster's keywords (those the theme lacks) to the existing theme ``into``.

    Raises:
        ThemeEditError: unknown cluster or theme, or nothing new to add.
    """
    path = _theme_file(lists, into)
    row = cluster_row(run, cluster_id)
    yaml, doc = _yaml(path.read_text(encoding="utf-8"))
    theme = _find_theme(doc, into)
    if theme is None:  # pragma: no cover - the loader found it there
        raise ThemeEditError(f"theme {into!r} not found in {path}")
    from ruamel.yaml.comments import CommentedSeq

    current = theme.get("keywords")
    if current is None:
        current = CommentedSeq()
        theme["keywords"] = current
    elif isinstance(current, str):
        current = CommentedSeq([current])
        theme["keywords"] = current
    have = {str(k).strip() for k in current}
    added = [k for k in cluster_keywords(row) if k not in have]
    if not added:
        raise ThemeEditError(f"theme {into!r} already has every keyword of {cluster_id}")
    current.extend(added)
    _validate_and_replace(lists, path, _dump(yaml, doc))
    return ThemeEdit(path, into, added)


def rename_theme(theme_id: str, name: str, *, lists: Path) -> ThemeEdit:
    """Set a theme's name: the Japanese name for Japanese text, else the English one.

    Raises:
        ThemeEditError: unknown theme or empty name.
    """
    if not name.strip():
        raise ThemeEditError("the new name is empty")
    path = _theme_file(lists, theme_id)
    yaml, doc = _yaml(path.read_text(encoding="utf-8"))
    theme = _find_theme(doc, theme_id)
    if theme is None:  # pragma: no cover
        raise ThemeEditError(f"theme {theme_id!r} not found in {path}")
    key = "ja" if _JA.search(name) else "en"
    current = theme.get("name")
    if isinstance(current, dict):
        current[key] = name.strip()
    else:
        theme["name"] = name.strip()
    _validate_and_replace(lists, path, _dump(yaml, doc))
    return ThemeEdit(path, theme_id)


LIST_FIELDS = ("keywords", "exclusions")


def add_to_theme(theme_id: str, field: str, value: str, *, lists: Path) -> ThemeEdit:
    """Append ``value`` to a theme's ``keywords`` or ``exclusions``, in whatever file defines it.

    Raises:
        ThemeEditError: unknown theme or field, empty value, a value the theme already has, or
            lists that would not load with it.
    """
    if field not in LIST_FIELDS:
        raise ThemeEditError(f"field must be one of {LIST_FIELDS}, got {field!r}")
    value = " ".join(value.split())
    if not value:
        raise ThemeEditError(f"the new {field[:-1]} is empty")
    path = _theme_file(lists, theme_id)
    yaml, doc = _yaml(path.read_text(encoding="utf-8"))
    theme = _find_theme(doc, theme_id)
    if theme is None:  # pragma: no cover - the loader found it there
        raise ThemeEditError(f"theme {theme_id!r} not found in {path}")
    from ruamel.yaml.comments import CommentedSeq

    current = theme.get(field)
    if not isinstance(current, list):
        current = CommentedSeq([] if current is None else [current])
        theme[field] = current
    if value in {str(v).strip() for v in current}:
        raise ThemeEditError(f"theme {theme_id!r} already has {field[:-1]} {value!r}")
    current.append(value)
    _validate_and_replace(lists, path, _dump(yaml, doc))
    return ThemeEdit(path, theme_id, [value] if field == "keywords" else [])


def lists_version(lists: Path) -> str:
    """A digest of every list file's name and text: it changes with any edit to the folder."""
    digest = hashlib.sha256()
    for path in sorted(lists.glob("*.y*ml")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


__all__ = [
    "ACCEPTED_FILE",
    "ThemeEdit",
    "ThemeEditError",
    "accept_cluster",
    "add_to_theme",
    "cluster_keywords",
    "cluster_row",
    "latest_run",
    "lists_version",
    "merge_cluster",
    "rename_theme",
]
