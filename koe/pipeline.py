"""The pipeline's stages as plain functions; flows/tasks.py wraps each in a Prefect task.

ingest -> normalize (in ingest) -> split sentences -> lookup-tag -> embed -> cluster
-> join scores -> drivers -> route -> report. Each stage takes and returns documented frames
(koe.frames) and can be called and tested without Prefect.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.drivers import compute_drivers
from analysis.regression import theme_regression
from analysis.segments import segment_table
from analysis.subscores import MAX_SUBSCORES, subscore_drivers
from analysis.trends import early_warnings, theme_trends
from koe.config import SAMPLE_INPUT, KoeConfig
from koe.frames import COMMENT_COLUMNS
from koe.ingest import ColumnMapping, prepare_comments, read_table
from koe.normalize import is_non_answer
from koe.store import RunStore
from models.embedding_cache import embed_with_cache
from taggers.cluster import discover_themes
from taggers.lookup import LookupTagger, tags_frame
from taggers.polarity import mention_polarity
from taggers.routing import route_comments
from taggers.sentences import split_sentences
from taggers.tokenize import tokenize


@dataclass
class IngestResult:
    comments: pd.DataFrame
    quarantine: pd.DataFrame
    input_rows: int
    input_path: str
    input_sha256: str
    sub_scores: list[str]
    segments: list[str]


@dataclass
class DiscoveryResult:
    assignments: pd.DataFrame
    themes: pd.DataFrame
    tags: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)


def input_path_of(config: KoeConfig) -> Path:
    """The input file: the configured one, or the shipped sample survey."""
    return Path(config.input) if config.input is not None else SAMPLE_INPUT


def ingest(config: KoeConfig) -> IngestResult:
    """Read the input and split it into accepted comments and quarantined rows.

    Adds ``non_answer`` (bool: 「特になし」 and the like) to the CommentFrame.
    """
    path = input_path_of(config)
    columns = config.columns
    raw = read_table(path)
    canonical = {columns.id, columns.text, columns.score, columns.date, columns.customer_id}
    sub_scores = (
        list(config.sub_scores)
        if config.sub_scores is not None
        else [
            c for c in raw.columns
            if c.startswith(config.sub_score_prefix) and c not in canonical
        ]
    )  # fmt: skip
    mapping = ColumnMapping(
        id=columns.id,
        text=columns.text,
        score=columns.score,
        date=columns.date,
        customer_id=columns.customer_id,
        sub_scores=tuple(sub_scores),
        segments=tuple(config.segments) if config.segments is not None else None,
    )
    comments, quarantine = prepare_comments(raw, mapping, source=str(path))
    known = {*COMMENT_COLUMNS, *sub_scores}
    segments = [c for c in comments.columns if c not in known]
    comments = comments.copy()
    comments["non_answer"] = [is_non_answer(t) for t in comments["text"]]
    return IngestResult(
        comments=comments,
        quarantine=quarantine,
        input_rows=len(raw),
        input_path=str(path),
        input_sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        sub_scores=sub_scores,
        segments=segments,
    )


def sentences_of(comments: pd.DataFrame) -> pd.DataFrame:
    """SentenceFrame of the comments that are not non-answers."""
    keep = ~comments["non_answer"] if "non_answer" in comments else slice(None)
    return split_sentences(comments[keep])


def lookup_tag(sentences: pd.DataFrame, lookup_lists: Path) -> tuple[pd.DataFrame, LookupTagger]:
    """Tag sentences with the lookup lists of a folder. Returns (TagFrame, tagger)."""
    tagger = LookupTagger.from_folder(lookup_lists)
    return tagger.tag(sentences), tagger


def discover(
    sentences: pd.DataFrame,
    lookup_tags: pd.DataFrame,
    comments: pd.DataFrame,
    config: KoeConfig,
    store: RunStore | None,
    tagger: LookupTagger,
) -> DiscoveryResult:
    """Embed sentences (or comments) and cluster the ones no lookup theme caught.

    Returns the assignments (units with cluster_id/label/similarity), the emergent themes
    table, cluster tags (TagFrame rows with source "cluster") and info for the manifest.
    """
    cfg = config.cluster
    if cfg.unit == "sentence":
        units = sentences.rename(columns={"sentence": "text"})[
            ["id", "sentence_idx", "text", "start", "end"]
        ]
        tagged_keys = set(zip(lookup_tags["id"], lookup_tags["sentence_idx"], strict=True))
        is_tagged = [
            (i, s) in tagged_keys for i, s in zip(units["id"], units["sentence_idx"], strict=True)
        ]
    else:
        keep = comments[~comments["non_answer"]]
        units = pd.DataFrame(
            {"id": keep["id"], "sentence_idx": 0, "text": keep["text"], "start": 0,
             "end": keep["text"].str.len()}
        )  # fmt: skip
        is_tagged = units["id"].isin(set(lookup_tags["id"])).tolist()
    units = units.reset_index(drop=True)
    candidates = units[[not t for t in is_tagged]] if cfg.only_untagged else units
    info: dict[str, Any] = {"unit": cfg.unit, "units": len(units), "candidates": len(candidates)}
    if not cfg.enabled or candidates.empty:
        info["message"] = "clustering disabled" if not cfg.enabled else "nothing to cluster"
        empty = candidates.assign(cluster_id="", cluster_label="", similarity=float("nan"))
        return DiscoveryResult(empty, _empty_themes(), tags_frame([]), info)
    vectors, stats = embed_with_cache(
        candidates["text"].tolist(),
        config.embedding_model,
        store,
        show_progress=sys.stderr.isatty(),
    )
    info["embedding"] = stats.__dict__
    assignments, themes, message = discover_themes(
        candidates.reset_index(drop=True),
        vectors,
        comments,
        distance_threshold=cfg.distance_threshold,
        min_cluster_size=cfg.min_cluster_size,
        assign_threshold=cfg.assign_threshold,
        max_keywords=cfg.max_keywords,
        representatives=cfg.representatives,
        seed=config.seed,
    )
    info["message"] = message
    info["clusters"] = len(themes)
    clustered = assignments[assignments["cluster_id"] != ""]
    info["outlier_share"] = 1 - len(clustered) / len(assignments) if len(assignments) else 0.0
    rows = []
    for row in clustered.itertuples(index=False):
        tokens = tokenize(row.text)
        pol = mention_polarity(tokens, (0, max(len(tokens), 1)), tagger.lexicon)
        rows.append(
            {
                "id": row.id,
                "sentence_idx": int(row.sentence_idx),
                "theme": row.cluster_id,
                "theme_name": row.cluster_label,
                "parent": "",
                "department": "triage",
                "polarity": pol.polarity,
                "is_request": pol.is_request,
                "source": "cluster",
                "evidence": row.text,
                "start": int(row.start),
                "end": int(row.end),
            }
        )
    return DiscoveryResult(assignments, themes, tags_frame(rows), info)


def _empty_themes() -> pd.DataFrame:
    return pd.DataFrame(
        columns=["cluster_id", "label", "keywords", "size", "comments", "share",
                 "promoters_share", "detractors_share", "nps", "representatives"]
    )  # fmt: skip


def drivers(comments: pd.DataFrame, tags: pd.DataFrame, config: KoeConfig) -> pd.DataFrame:
    """Driver table per (theme, polarity) over all tags (see analysis.drivers)."""
    cfg = config.drivers
    return compute_drivers(
        comments, tags, n_boot=cfg.n_boot, seed=config.seed, min_mentions=cfg.min_mentions,
        alpha=cfg.alpha,
    )  # fmt: skip


@dataclass
class AnalysisResult:
    """Everything the analysis stage writes: see analysis/* for each table's columns."""

    drivers: pd.DataFrame
    regression: pd.DataFrame
    segments: pd.DataFrame
    trends: pd.DataFrame
    warnings: pd.DataFrame
    subscores: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)


def analyze(
    comments: pd.DataFrame,
    tags: pd.DataFrame,
    config: KoeConfig,
    segments: list[str],
    sub_scores: list[str],
) -> AnalysisResult:
    """Drivers, the regression view, segments, trends with early warnings, sub-score drivers."""
    cfg = config.drivers
    wide = [c for c in segments if comments[c].nunique() > cfg.max_segment_values]
    usable = [c for c in segments if c not in wide]
    combos = [combo for combo in cfg.segment_combos if set(combo) <= set(usable)]
    regression = pd.concat(
        [
            theme_regression(
                comments, tags, target=target, min_mentions=cfg.min_mentions,
                n_boot=cfg.regression_n_boot, seed=config.seed, alpha=cfg.alpha,
            )
            for target in cfg.regression_targets
        ],
        ignore_index=True,
    )  # fmt: skip
    trends = theme_trends(
        comments, tags, period=cfg.trend_period, trailing=cfg.trend_trailing, z=cfg.trend_z,
        min_count=cfg.trend_min_count,
    )  # fmt: skip
    return AnalysisResult(
        drivers=drivers(comments, tags, config),
        regression=regression,
        segments=segment_table(comments, usable, combos=combos or None, min_n=cfg.min_n),
        trends=trends,
        warnings=early_warnings(trends),
        subscores=subscore_drivers(
            comments, sub_scores[:MAX_SUBSCORES], n_boot=cfg.n_boot, seed=config.seed
        ),
        info={
            "segments": usable,
            "segments_skipped_too_wide": wide,
            "segment_combos": combos,
            "sub_scores_skipped": sub_scores[MAX_SUBSCORES:],
        },
    )


def route(
    comments: pd.DataFrame,
    tags: pd.DataFrame,
    config: KoeConfig,
    departments: list[str],
    segments: list[str],
) -> dict[str, pd.DataFrame]:
    """Routed frames per department (see taggers.routing)."""
    return route_comments(
        comments, tags, config.routing_rules(), departments=departments, segments=segments
    )


def tagged_comments(
    comments: pd.DataFrame, tags: pd.DataFrame, segments: list[str], sub_scores: list[str]
) -> pd.DataFrame:
    """One row per comment with its themes, departments, polarities and clusters.

    Columns: the CommentFrame columns plus themes (list of lookup theme ids), departments,
    polarities (list of "theme:polarity"), clusters (list of cluster ids), n_positive,
    n_negative, tagged (bool: any lookup theme).
    """
    lookup = tags[tags["source"] == "lookup"]
    cluster = tags[tags["source"] == "cluster"]

    def lists(frame: pd.DataFrame, column: str) -> pd.Series:
        return frame.groupby("id", sort=False)[column].agg(lambda s: list(dict.fromkeys(s)))

    out = comments.copy()
    themes = lists(lookup, "theme")
    departments = lists(lookup, "department")
    pol = lookup.assign(tp=lookup["theme"] + ":" + lookup["polarity"])
    polarities = lists(pol, "tp")
    clusters = lists(cluster, "theme")
    empty: list[str] = []
    out["themes"] = [themes.get(i, empty) for i in out["id"]]
    out["departments"] = [departments.get(i, empty) for i in out["id"]]
    out["polarities"] = [polarities.get(i, empty) for i in out["id"]]
    out["clusters"] = [clusters.get(i, empty) for i in out["id"]]
    for name in ("positive", "negative"):
        per_id = lookup[lookup["polarity"] == name].groupby("id").size()
        out[f"n_{name}"] = [int(per_id.get(i, 0)) for i in out["id"]]
    out["tagged"] = [len(t) > 0 for t in out["themes"]]
    ordered = [c for c in out.columns if c not in segments + sub_scores]
    return out[ordered[: ordered.index("source_row") + 1] + sub_scores + segments
               + ordered[ordered.index("source_row") + 1 :]]  # fmt: skip
