"""What the workbench shows: a run folder's comments and tags, as plain DataFrames.

- :func:`load_run` reads a ``koe run`` folder (tagged.parquet, tags.csv, emergent_themes.csv,
  drivers.csv, manifest.json) into a :class:`RunView`;
- :func:`theme_overview` has one row per theme: volume, polarity mix, driver impact;
- :func:`theme_mentions` filters one theme's tags (polarity, source, score group, segment,
  date, text) and joins the comments they are on;
- :func:`sentence_at` is a comment's sentence as the pipeline splits it;
- :func:`highlight` splits a comment into plain and evidence pieces for the page to mark.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from koe.core.frames import THEME_SOURCES
from koe.taggers.sentences import split_text

# tags.csv plus sentence_idx and sentence (the sentence the tag is on)
MENTION_COLUMNS = ("id", "theme", "department", "polarity", "source", "evidence", "start", "end",
                   "is_request", "confidence", "sentence_idx", "sentence")  # fmt: skip
OVERVIEW_COLUMNS = ("theme", "name", "kind", "department", "comments", "mentions", "positive",
                    "neutral", "negative", "impact")  # fmt: skip


@dataclass(frozen=True)
class RunView:
    """A run folder as the workbench reads it.

    comments: tagged.parquet (id, text, score, nps_class, date, segments, sentiment, ...);
    tags: ``MENTION_COLUMNS``; emergent: emergent_themes.csv; drivers: drivers.csv (nps rows);
    segments: the segment columns (manifest ``segments``).
    """

    folder: Path
    comments: pd.DataFrame
    tags: pd.DataFrame
    emergent: pd.DataFrame
    drivers: pd.DataFrame
    segments: tuple[str, ...]


class RunFolderError(ValueError):
    """The folder is not a complete ``koe run`` folder; the message names what is missing."""


def _sentence_of(text: str, start: int) -> tuple[int, str]:
    """(index, text) of the sentence of ``text`` that holds offset ``start``."""
    spans = split_text(text)
    for idx, (s, e) in enumerate(spans):
        if s <= start < e:
            return idx, text[s:e]
    return (len(spans) - 1, text[spans[-1][0]:spans[-1][1]]) if spans else (0, text)


def load_run(folder: Path) -> RunView:
    """Read a ``koe run`` folder.

    Raises:
        RunFolderError: a file the workbench needs is missing.
    """
    needed = ("tagged.parquet", "tags.csv", "emergent_themes.csv", "manifest.json")
    missing = [name for name in needed if not (folder / name).is_file()]
    if missing:
        raise RunFolderError(f"{folder} is not a koe run folder: {', '.join(missing)} missing")
    comments = pd.read_parquet(folder / "tagged.parquet")
    comments["id"] = comments["id"].astype(str)
    tags = pd.read_csv(folder / "tags.csv", dtype={"id": str, "theme": str},
                       keep_default_na=False)  # fmt: skip
    texts = dict(zip(comments["id"], comments["text"].astype(str), strict=True))
    located = [_sentence_of(texts.get(cid, ""), int(start))
               for cid, start in zip(tags["id"], tags["start"], strict=True)]  # fmt: skip
    tags["sentence_idx"] = [idx for idx, _ in located]
    tags["sentence"] = [sentence for _, sentence in located]
    tags["is_request"] = tags["is_request"].astype(str).str.lower() == "true"
    drivers = pd.DataFrame()
    if (folder / "drivers.csv").is_file():
        drivers = pd.read_csv(folder / "drivers.csv")
        if "metric" in drivers:
            drivers = drivers[drivers["metric"] == "nps"]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    emergent = pd.read_csv(folder / "emergent_themes.csv", dtype=str, keep_default_na=False)
    return RunView(folder, comments, tags[list(MENTION_COLUMNS)], emergent, drivers,
                   tuple(manifest.get("segments") or ()))  # fmt: skip


def theme_overview(run: RunView, lists: dict[str, tuple[str, str]]) -> pd.DataFrame:
    """One row per theme (``OVERVIEW_COLUMNS``), list themes first by comments, then emergent.

    Args:
        run: the run.
        lists: theme id -> (name, department) of the current lookup lists; a list theme with
            no mention in the run still gets a row.

    ``kind`` is "list" (lookup, semantic and review tags) or "emergent" (cluster tags);
    ``impact`` is the theme's NPS impact in points (drivers.csv, polarity any), NaN when the
    driver table has no row for it.
    """
    tags = run.tags
    rows = []
    impact = {}
    if not run.drivers.empty:
        overall = run.drivers[run.drivers["polarity"] == "any"]
        impact = dict(zip(overall["theme"], overall["impact"], strict=True))
    labels = dict(zip(run.emergent["cluster_id"], run.emergent["label"], strict=True))
    for theme, group in tags.groupby("theme", sort=False):
        kind = "emergent" if (group["source"] == "cluster").all() else "list"
        name, department = lists.get(theme, (labels.get(theme, theme), group["department"].iloc[0]))
        counts = group["polarity"].value_counts()
        rows.append((theme, name, kind, department, group["id"].nunique(), len(group),
                     *(int(counts.get(p, 0)) for p in ("positive", "neutral", "negative")),
                     impact.get(theme, float("nan"))))  # fmt: skip
    seen = set(tags["theme"])
    rows += [(theme, name, "list", department, 0, 0, 0, 0, 0, float("nan"))
             for theme, (name, department) in lists.items() if theme not in seen]  # fmt: skip
    frame = pd.DataFrame(rows, columns=list(OVERVIEW_COLUMNS))
    frame["_emergent"] = frame["kind"] == "emergent"
    frame = frame.sort_values(["_emergent", "comments", "theme"], ascending=[True, False, True])
    return frame.drop(columns="_emergent").reset_index(drop=True)


@dataclass(frozen=True)
class MentionFilter:
    """Filters of a theme's page; empty strings mean "any"."""

    polarity: str = ""
    source: str = ""
    score_group: str = ""  # an nps_class: promoter, passive, detractor
    segment: str = ""  # "column=value"
    date_from: str = ""  # ISO dates, inclusive
    date_to: str = ""
    q: str = ""  # a substring of the comment text


def theme_mentions(run: RunView, theme: str | None, where: MentionFilter,
                   limit: int = 200) -> tuple[pd.DataFrame, int]:  # fmt: skip
    """The tags of ``theme`` (every tag when None) that pass ``where``, joined with their
    comments' text, score, nps_class and date; at most ``limit`` rows, and the total count."""
    tags = run.tags if theme is None else run.tags[run.tags["theme"] == theme]
    if where.polarity:
        tags = tags[tags["polarity"] == where.polarity]
    if where.source:
        tags = tags[tags["source"] == where.source]
    keep = ["id", "text", "score", "nps_class", "date", *run.segments]
    comments = run.comments[[c for c in keep if c in run.comments]]
    joined = tags.merge(comments, on="id", how="left")
    if where.score_group:
        joined = joined[joined["nps_class"] == where.score_group]
    if where.segment and "=" in where.segment:
        column, value = where.segment.split("=", 1)
        if column in run.segments and column in joined:
            joined = joined[joined[column].astype(str) == value]
    if "date" in joined and (where.date_from or where.date_to):
        dates = pd.to_datetime(joined["date"], errors="coerce")
        if where.date_from:
            joined = joined[dates >= pd.Timestamp(where.date_from)]
            dates = dates[joined.index]
        if where.date_to:
            joined = joined[dates < pd.Timestamp(where.date_to) + pd.Timedelta(days=1)]
    if where.q:
        joined = joined[joined["text"].astype(str).str.contains(where.q, regex=False)]
    return joined.head(limit).reset_index(drop=True), len(joined)


def search_comments(run: RunView, q: str, limit: int = 200) -> tuple[pd.DataFrame, int]:
    """Comments whose text contains ``q`` (any tags or none), with their theme ids."""
    hits = run.comments[run.comments["text"].astype(str).str.contains(q, regex=False)]
    return hits.head(limit).reset_index(drop=True), len(hits)


def sentence_at(run: RunView, comment_id: str, idx: int) -> str:
    """Sentence ``idx`` of a comment of the run, as the pipeline splits it.

    Raises:
        KeyError: no such comment; ValueError: no such sentence.
    """
    texts = run.comments.loc[run.comments["id"] == comment_id, "text"]
    if texts.empty:
        raise KeyError(f"no comment {comment_id!r} in this run")
    text = str(texts.iloc[0])
    spans = split_text(text)
    if not 0 <= idx < len(spans):
        raise ValueError(f"comment {comment_id} has no sentence {idx}")
    return text[spans[idx][0]:spans[idx][1]]


def highlight(text: str, start: int, end: int) -> list[tuple[str, bool]]:
    """``text`` as (piece, is_evidence) pieces; the template escapes each piece."""
    start, end = max(0, min(start, len(text))), max(0, min(end, len(text)))
    if end <= start:
        return [(text, False)]
    pieces = [(text[:start], False), (text[start:end], True), (text[end:], False)]
    return [p for p in pieces if p[0]]


def theme_tags(run: RunView) -> pd.DataFrame:
    """The list-theme tags (lookup, semantic, review): what the gold file is made of."""
    return run.tags[run.tags["source"].isin(THEME_SOURCES)]
