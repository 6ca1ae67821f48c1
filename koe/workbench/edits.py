"""Lookup-list edits from the workbench: previewed, checked against the version the analyst
saw, written through koe.themes (strict loader, comments kept, atomic), recorded with undo.

Last-write detection: every page carries :func:`koe.themes.lists_version` of the list folder
it was rendered from. An edit made from a page whose version is no longer the folder's (another
tab or person saved an edit since) is refused with :class:`StaleListsError`; the other edit
stands, and the analyst reloads and redoes theirs. Edits are serialized by one lock.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from koe.store import RunStore
from koe.taggers.sentences import split_sentences
from koe.themes import (
    ThemeEditError,
    accept_cluster,
    add_to_theme,
    lists_version,
    merge_cluster,
    rename_theme,
)
from koe.workbench.data import RunView

LIST_ACTIONS = ("accept", "merge", "rename", "keyword", "exclusion")
_LOCK = threading.Lock()


class StaleListsError(ThemeEditError):
    """The lists changed since the page the edit comes from was rendered."""


def _texts(lists: Path) -> dict[Path, str]:
    return {p: p.read_text(encoding="utf-8") for p in sorted(lists.glob("*.y*ml"))}


def _run_edit(action: str, lists: Path, run: Path, theme: str, value: str,
              department: str | None, name: str | None) -> str:  # fmt: skip
    """Carry out one edit; returns what it did, in words."""
    if action == "accept":
        edit = accept_cluster(value, theme, run=run, lists=lists, department=department or None,
                              name=name or None)  # fmt: skip
        return f"accepted {value} as {theme} ({', '.join(edit.keywords_added)})"
    if action == "merge":
        edit = merge_cluster(value, theme, run=run, lists=lists)
        return f"merged {value} into {theme} (+{', '.join(edit.keywords_added)})"
    if action == "rename":
        rename_theme(theme, value, lists=lists)
        return f"renamed {theme} to {value}"
    if action in ("keyword", "exclusion"):
        add_to_theme(theme, f"{action}s", value, lists=lists)
        return f"{action} {' '.join(value.split())!r} added to {theme}"
    raise ThemeEditError(f"unknown edit {action!r}; one of {LIST_ACTIONS}")


def apply_list_edit(store: RunStore, lists: Path, run: Path, *, action: str, theme: str,
                    value: str, seen_version: str, department: str | None = None,
                    name: str | None = None, author: str = "") -> str:  # fmt: skip
    """Make one lookup-list edit and record it; returns what it did.

    Args:
        action: accept (``value`` a cluster id, ``theme`` the new theme id), merge (``value``
            a cluster id into ``theme``), rename (``value`` the new name), keyword or
            exclusion (``value`` added to ``theme``).
        department, name: of the theme an accept creates (default: triage, the label).
        seen_version: the lists' version on the page the edit comes from.

    Raises:
        StaleListsError: the lists changed since ``seen_version``.
        ThemeEditError: the edit cannot be made (the message says why).
    """
    with _LOCK:
        if lists_version(lists) != seen_version:
            raise StaleListsError(
                "the lookup lists changed since this page was loaded (another tab or person "
                "saved an edit); reload the page and make this edit again"
            )
        before = _texts(lists)
        detail = _run_edit(action, lists, run, theme, value, department, name)
        after = _texts(lists)
        for path in sorted(after):
            if before.get(path) != after[path]:
                store.add_list_edit(action, theme=theme, detail=detail, path=str(path),
                                    before_text=before.get(path, ""), after_text=after[path],
                                    author=author)  # fmt: skip
        return detail


def undo_list_edit(store: RunStore, lists: Path, edit_id: int) -> str:
    """Write back the file as it was before edit ``edit_id``, if nothing changed it since.

    Raises:
        ThemeEditError: no such active edit, or the file changed after it.
    """
    with _LOCK:
        edits = store.list_edits()
        row = edits[edits["edit_id"] == edit_id]
        if row.empty:
            raise ThemeEditError(f"no active list edit {edit_id}")
        edit = row.iloc[0]
        path = Path(edit["path"])
        now = path.read_text(encoding="utf-8") if path.is_file() else ""
        if now != edit["after_text"]:
            raise ThemeEditError(f"{path.name} changed after edit {edit_id}; undo the later "
                                 "edits first, or edit the file by hand")  # fmt: skip
        if edit["before_text"]:
            staged = path.with_name(f".{path.name}.koe-tmp")
            staged.write_text(edit["before_text"], encoding="utf-8")
            staged.replace(path)
        else:
            path.unlink()
        store.mark_list_edit_undone(edit_id)
        return f"undid: {edit['detail']}"


@dataclass(frozen=True)
class Preview:
    """What a keyword or exclusion would change in the run's lookup tags of its theme."""

    checked: int  # comments tagged again
    total: int  # comments in the run
    added: pd.DataFrame  # id, text: comments that would gain the theme
    removed: pd.DataFrame  # id, text: comments that would lose it


def preview_list_change(run: RunView, lists: Path, *, theme: str, field: str, value: str,
                        max_comments: int = 5000, seed: int = 0) -> Preview:  # fmt: skip
    """Tag the run's comments with the lists as they are and with the change made (in a copy);
    compare which comments have a lookup tag of ``theme``.

    An exclusion can only remove the theme, so the comments it is on are checked; a keyword
    is checked on every comment, or a seeded sample of ``max_comments`` of them. The semantic
    layer's answer to the change shows on the next run; the preview is the lists' own.

    Raises:
        ThemeEditError: the change cannot be made (the same checks as saving it).
    """
    from koe.taggers.factory import build_tagger

    comments = run.comments
    if "non_answer" in comments:
        comments = comments[~comments["non_answer"].astype(bool)]
    if field == "exclusions":
        on = run.tags[(run.tags["theme"] == theme) & (run.tags["source"] == "lookup")]["id"]
        comments = comments[comments["id"].isin(set(on))]
    if len(comments) > max_comments:
        comments = comments.sample(max_comments, random_state=seed)
    sentences = split_sentences(comments[["id", "text"]])
    with tempfile.TemporaryDirectory(prefix="koe-preview-") as tmp:
        for path in lists.glob("*.y*ml"):
            shutil.copy2(path, Path(tmp) / path.name)
        add_to_theme(theme, field, value, lists=Path(tmp))
        changed = build_tagger(Path(tmp)).tag(sentences)
    current = build_tagger(lists).tag(sentences)
    before = set(current.loc[current["theme"] == theme, "id"])
    after = set(changed.loc[changed["theme"] == theme, "id"])
    pick = comments[["id", "text"]]
    return Preview(len(comments), len(run.comments), pick[pick["id"].isin(after - before)],
                   pick[pick["id"].isin(before - after)])  # fmt: skip
