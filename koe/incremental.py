"""Incremental runs: cached lookup tags, the comment history and the drivers window.

- **Tags**: a comment's lookup tags depend only on its text and the tagger version (the lookup
  lists' SHA-256, koe's version and the Sudachi dictionary's), so they are cached in the
  run-state store per (tagger key, text hash). A comment whose text and lists are unchanged is
  not tokenized or tagged again; ``stats["tokenized"]`` counts the comments that were.
- **History**: every accepted comment row is kept in the store (``comment_rows``, written by
  ``record_comments``), so driver statistics can cover a window of days
  (``drivers.window_days``) instead of tonight's file.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from koe.config import KoeConfig
from koe.store import RunStore, text_hash
from koe.taggers.factory import build_tagger, tagger_key
from koe.taggers.lookup import LookupTagger, tags_frame
from koe.taggers.sentences import split_sentences

if TYPE_CHECKING:
    from koe.pipeline import IngestResult


def lookup_tag_cached(
    comments: pd.DataFrame,
    sentences: pd.DataFrame,
    tagger: LookupTagger,
    store: RunStore | None,
    folder: Path | None = None,
    tag: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Lookup-tag ``sentences``, re-using the store's cached tags of unchanged comment texts.

    Args:
        comments: CommentFrame (id, text) of the sentences.
        sentences: SentenceFrame of the comments to tag (non-answers already left out).
        tagger: the lookup tagger.
        store: the run-state store, or None to tag everything.
        folder: the tagger's lookup-list folder (part of the cache key, see tagger_key).
        tag: tags the sentences of uncached comments (default ``tagger.tag``), e.g. in
            partitions on a Dask cluster (flows/partitioned.py); must give the same tags.

    Returns:
        (TagFrame in the order a fresh ``tagger.tag(sentences)`` gives, stats with ``comments``,
        ``cached`` (tags from the store), ``copies`` (same text as another comment tonight) and
        ``tokenized`` comment counts).
    """
    ids = list(dict.fromkeys(sentences["id"]))
    text_of = dict(zip(comments["id"], comments["text"], strict=True))
    hashes = {i: text_hash(text_of[i]) for i in ids}
    key = tagger_key(tagger, folder)
    cached = store.get_tags(key, list(hashes.values())) if store is not None else {}
    todo = [i for i in ids if hashes[i] not in cached]
    # one comment per distinct text is tagged; its copies get the same tags (offsets included)
    first_of: dict[str, str] = {}
    for i in todo:
        first_of.setdefault(hashes[i], i)
    fresh = (tag or tagger.tag)(sentences[sentences["id"].isin(set(first_of.values()))])
    by_hash: dict[str, list[dict[str, Any]]] = {h: [] for h in first_of}
    for cid, row in zip(fresh["id"], fresh.drop(columns="id").to_dict("records"), strict=True):
        by_hash[hashes[cid]].append(_plain(row))
    if store is not None:
        store.put_tags(key, by_hash.items())
    rows = []
    for i in ids:
        h = hashes[i]
        for tag in by_hash[h] if h in by_hash else cached[h]:
            rows.append({"id": i, **tag})
    stats = {
        "comments": len(ids),
        "cached": len(ids) - len(todo),
        "copies": len(todo) - len(first_of),
        "tokenized": len(first_of),
    }
    return tags_frame(rows), stats


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """numpy scalars -> Python, so the tags survive JSON unchanged."""
    return {k: v.item() if hasattr(v, "item") else v for k, v in row.items()}


def record_comments(store: RunStore, run_id: str, ingested: IngestResult) -> dict[str, int]:
    """Record tonight's accepted comments in the store: the comments seen, their rows as
    history (with the input each came from) and the files read. Returns the counts of new,
    changed and unchanged comments (RunStore.record_comments)."""
    comments = ingested.comments
    seen = store.record_comments(run_id, comments["id"].tolist(), comments["text"].tolist())
    store.put_comment_rows(zip(ingested.origins, comment_records(comments), strict=True))
    store.mark_files_processed(run_id, ingested.files)
    return seen


def comment_records(comments: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready dicts of CommentFrame rows (dates as ISO text, missing values as None)."""
    text = comments.to_json(orient="records", date_format="iso", force_ascii=False)
    return json.loads(text)


def comments_from_records(records: list[dict[str, Any]], like: pd.DataFrame) -> pd.DataFrame:
    """A CommentFrame from comment_records, with the columns and dtypes of ``like``."""
    frame = pd.DataFrame.from_records(records, columns=list(like.columns))
    for column, dtype in like.dtypes.items():
        if column == "date":
            frame[column] = pd.to_datetime(frame[column], format="ISO8601").astype(dtype)
        elif str(dtype) == "bool":
            frame[column] = frame[column].fillna(False).astype(bool)
        else:
            frame[column] = frame[column].astype(dtype)
    return frame


def window_frames(
    store: RunStore,
    comments: pd.DataFrame,
    tags: pd.DataFrame,
    tagger: LookupTagger,
    window_days: int,
    now: datetime | None = None,
    folder: Path | None = None,
    semantic: Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """The comments and tags of the last ``window_days`` days: history plus tonight.

    A comment is in the window when its survey date (or, without one, the last night koe saw
    it) is at most ``window_days`` days before ``now``. Tonight's rows replace stored rows of
    the same id. Stored comments get their lookup tags from the tag cache (re-tagged when the
    lists changed), then ``semantic(sentences, lookup_tags)``'s when given (the semantic layer
    learning from the stored comments; their embeddings are cached); emergent cluster tags
    exist for tonight's comments only, as cluster ids are per run.

    Returns:
        (comments, tags, info) — info: window_days, since, comments, from_history, retagged.
    """
    now = now or datetime.now(UTC).replace(tzinfo=None)
    since = (now - timedelta(days=window_days)).replace(hour=0, minute=0, second=0, microsecond=0)
    tonight_ids = set(comments["id"])
    history = [r for r in store.comment_rows(since) if r["id"] not in tonight_ids]
    old = comments_from_records(history, comments) if history else comments.iloc[0:0]
    dated = comments["date"].isna() | (comments["date"] >= pd.Timestamp(since))
    tonight = comments[dated]
    answers = old[~old["non_answer"]] if "non_answer" in old else old
    old_sentences = split_sentences(answers)
    old_tags, stats = lookup_tag_cached(answers, old_sentences, tagger, store, folder)
    if semantic is not None and len(old_sentences):
        old_tags = semantic(old_sentences, old_tags)
    window = pd.concat([old, tonight], ignore_index=True)
    window_tags = pd.concat(
        [old_tags, tags[tags["id"].isin(set(tonight["id"]))]], ignore_index=True
    )
    info = {
        "window_days": window_days,
        "since": since.date().isoformat(),
        "comments": len(window),
        "from_history": len(old),
        "retagged": stats["tokenized"],
    }
    return window.reset_index(drop=True), window_tags, info


def lookup_tag_stage(
    comments: pd.DataFrame,
    sentences: pd.DataFrame,
    config: KoeConfig,
    store: RunStore | None,
    tag: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
) -> tuple[pd.DataFrame, LookupTagger, dict[str, int]]:
    """The lookup-tag stage with the tag cache: (TagFrame, tagger, stats; see lookup_tag_cached).

    Tags with the lists of ``config.lookup_lists``; ``config.polarity_model`` ("koe-default", a
    folder, or None / "none" for the lexicon only) reads the polarity of mentions no sentiment
    word reaches, its embeddings going through the store.
    """
    folder = Path(config.lookup_lists)
    tagger = build_tagger(folder, config.polarity_model, store)
    tags, stats = lookup_tag_cached(comments, sentences, tagger, store, folder, tag)
    return tags, tagger, stats


def window_drivers(
    store: RunStore,
    comments: pd.DataFrame,
    tags: pd.DataFrame,
    tagger: LookupTagger,
    config: KoeConfig,
    now: datetime | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """drivers.csv over the last ``config.drivers.window_days`` days (see window_frames)."""
    from koe.pipeline import drivers, semantic_tag

    def semantic(sentences: pd.DataFrame, lookup_tags: pd.DataFrame) -> pd.DataFrame:
        return semantic_tag(sentences, lookup_tags, tagger, config, store)[0]

    assert config.drivers.window_days is not None
    window, window_tags, info = window_frames(
        store, comments, tags, tagger, config.drivers.window_days, now, Path(config.lookup_lists),
        semantic if config.semantic.enabled else None,
    )
    return drivers(window, window_tags, config), info
