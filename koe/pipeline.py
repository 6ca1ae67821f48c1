"""The pipeline's stages as plain functions; flows/tasks.py wraps each in a Prefect task.

ingest -> normalize (in ingest) -> split sentences -> lookup-tag -> embed -> cluster
-> join scores -> drivers -> route -> tables and report. Each stage takes and returns
documented frames (koe.core.frames) and can be called and tested without Prefect.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from koe.analysis.journey import (
    churn_risk,
    compare_cells,
    journey_drivers,
    journey_table,
    segment_scores,
)
from koe.analysis.metrics import all_metric_drivers, metric_column, score_values
from koe.analysis.regression import theme_regression
from koe.analysis.segments import nps_trend, segment_drivers, segment_table
from koe.analysis.subscores import MAX_SUBSCORES, subscore_drivers
from koe.analysis.trends import early_warnings, theme_trends
from koe.config import SAMPLE_INPUT, KoeConfig
from koe.core.frames import COMMENT_COLUMNS, THEME_SOURCES
from koe.core.scores import ScoreScale
from koe.ingest.normalize import is_non_answer
from koe.ingest.sources import column_mapping, prepare_sources, read_input
from koe.manifest import run_messages
from koe.outputs import clusters_table, write_tables
from koe.report import render_report, report_context, score_context
from koe.routing import follow_up_list, route_comments, thank_you_list
from koe.store import RunStore
from koe.taggers.factory import build_tagger
from koe.taggers.lookup import LookupTagger, to_tags_csv
from koe.taggers.sentences import split_sentences

if TYPE_CHECKING:
    from koe.discovery.discover import DiscoveryResult


@dataclass
class IngestResult:
    comments: pd.DataFrame
    quarantine: pd.DataFrame
    input_rows: int
    input_path: str
    input_sha256: str
    sub_scores: list[str]
    segments: list[str]
    source_kind: str = "file"  # file | folder | sql (koe.ingest.sources)
    files: list[tuple[str, str, int]] = field(default_factory=list)  # (path, sha256, rows) read
    skipped_files: list[str] = field(default_factory=list)  # a folder's already processed files
    origins: list[str] = field(default_factory=list)  # source label per accepted comment


def input_path_of(config: KoeConfig) -> Path:
    """The input file: the configured one, or the shipped sample survey."""
    return Path(config.input) if config.input is not None else SAMPLE_INPUT


def primary_classes(comments: pd.DataFrame, config: KoeConfig) -> pd.Series:
    """A survey without a 0-10 score puts its primary score's classes in ``nps_class``: high ->
    promoter, mid -> passive, low -> detractor (koe.core.scores), so routing rules, follow-up
    and thank-you lists work unchanged; <NA> where the score is missing."""
    scale = next(s for s in config.score_scales() if s.name == config.primary_score)
    names = {"high": "promoter", "mid": "passive", "low": "detractor"}
    classes = scale.classes(score_values(comments, scale))
    return pd.Series(pd.array([names.get(c, pd.NA) for c in classes],
                              dtype="string"), index=comments.index)  # fmt: skip


def ingest(config: KoeConfig, store: RunStore | None = None) -> IngestResult:
    """Read the input and split it into accepted comments and quarantined rows.

    The input is a file, the new files of a folder or a SQL query (koe.ingest.sources); with a
    ``store``, a folder's files processed by earlier runs are skipped and ids accepted from
    another file by an earlier run are duplicates (first wins). Adds ``non_answer`` (bool:
    「特になし」 and the like) to the CommentFrame.
    """
    raw = read_input(config, store.processed_files() if store is not None else None)
    columns = config.columns
    canonical = {columns.id, columns.text, columns.score, columns.date, columns.customer_id}
    tables = [table for _, table in raw.tables]
    shared = [c for c in tables[0].columns if all(c in t.columns for t in tables)] if tables else []
    sub_scores = (
        list(config.sub_scores)
        if config.sub_scores is not None
        else [c for c in shared if c.startswith(config.sub_score_prefix) and c not in canonical]
    )
    mapping = column_mapping(config, sub_scores)
    comments, quarantine, origins = prepare_sources(
        raw, mapping, store.comment_sources if store is not None else None
    )
    known = {*COMMENT_COLUMNS, *sub_scores, *(s.name for s in config.scores)}
    segments = [c for c in comments.columns if c not in known]
    comments = comments.copy()
    comments["non_answer"] = pd.array([is_non_answer(t) for t in comments["text"]], dtype=bool)
    if config.columns.score is None:  # no 0-10 score: the classes of the primary score
        comments["nps_class"] = primary_classes(comments, config)
    return IngestResult(
        comments=comments,
        quarantine=quarantine,
        input_rows=raw.rows,
        input_path=raw.label,
        input_sha256=raw.sha256,
        sub_scores=sub_scores,
        segments=segments,
        source_kind=raw.kind,
        files=[(f.path, f.sha256, f.rows) for f in raw.files],
        skipped_files=raw.skipped,
        origins=origins,
    )


def sentences_of(comments: pd.DataFrame) -> pd.DataFrame:
    """SentenceFrame of the comments that are not non-answers."""
    if "non_answer" not in comments:
        return split_sentences(comments)
    return split_sentences(comments.loc[~comments["non_answer"].astype(bool)])


def lookup_tag(sentences: pd.DataFrame, lookup_lists: Path) -> tuple[pd.DataFrame, LookupTagger]:
    """Tag sentences with the lookup lists of a folder. Returns (TagFrame, tagger)."""
    tagger = build_tagger(lookup_lists)
    return tagger.tag(sentences), tagger


def semantic_tag(
    sentences: pd.DataFrame,
    lookup_tags: pd.DataFrame,
    tagger: LookupTagger,
    config: KoeConfig,
    store: RunStore | None,
) -> tuple[pd.DataFrame, dict]:
    """Lookup tags plus the semantic layer's (koe.taggers.semantic), corrected by and
    learning from the analysts' review decisions in ``store``: (TagFrame, info)."""
    from koe.taggers.semantic import Corrections, semantic_layer, settings_of

    settings = settings_of(config.semantic, config.seed)
    decisions = store.decisions() if store is not None else None
    corrections = (Corrections.from_decisions(decisions)
                   if decisions is not None and len(decisions) else None)  # fmt: skip
    tags, info = semantic_layer(tagger, sentences, lookup_tags, config.embedding_model, store,
                                settings, corrections)  # fmt: skip
    if info.get("enabled"):
        info["review_decisions"] = 0 if decisions is None else len(decisions)
    return tags, info


def add_sentiment(
    comments: pd.DataFrame, tagger: LookupTagger, config: KoeConfig, store: RunStore | None
) -> pd.DataFrame:
    """The comments with ``sentiment`` (positive | neutral | negative) and ``sentiment_score``
    (in [-1, 1]) columns: koe.sentiment with the tagger's lexicon and the polarity model."""
    from koe.sentiment import comment_sentiment, model_scorer

    frame = comment_sentiment(list(comments["id"]), list(comments["text"]), tagger.lexicon,
                              model_scorer(config.polarity_model, store))  # fmt: skip
    return comments.assign(sentiment=frame["polarity"].to_numpy(),
                           sentiment_score=frame["score"].to_numpy())  # fmt: skip


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
    Cluster ids are kept across runs through ``store`` (see koe.discovery.discover.run_discovery).
    """
    from koe.discovery.discover import (
        run_discovery,  # loads the embedder's modules: only when needed
    )

    return run_discovery(sentences, lookup_tags, comments, config, store, tagger)


def drivers(comments: pd.DataFrame, tags: pd.DataFrame, config: KoeConfig) -> pd.DataFrame:
    """drivers.csv: per (theme, polarity) over all tags, for every score the comments have
    (analysis.drivers for nps, analysis.metrics for the others; the ``metric`` column)."""
    cfg = config.drivers
    scales = [s for s in config.score_scales() if metric_column(s) in comments]
    return all_metric_drivers(
        comments, tags, scales, n_boot=cfg.n_boot, seed=config.seed,
        min_mentions=cfg.min_mentions, alpha=cfg.alpha,
    )  # fmt: skip


def metric_rows(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The drivers.csv rows of one metric (all rows of a table without a ``metric`` column)."""
    if "metric" not in table:
        return table
    return table[table["metric"] == metric].reset_index(drop=True)


def risk_scale(config: KoeConfig) -> ScoreScale:
    """The journey's risk score: ``journey.risk_score``, else the first binary or ordinal score
    (continuation intent), else the primary score."""
    scales = config.score_scales()
    wanted = config.journey.risk_score if config.journey is not None else None
    if wanted is None:
        wanted = next((s.name for s in scales if s.kind in ("binary", "ordinal")),
                      config.primary_score)  # fmt: skip
    return next(s for s in scales if s.name == wanted)


def journey(
    comments: pd.DataFrame, tags: pd.DataFrame, config: KoeConfig, segments: Sequence[str] = ()
) -> dict[str, pd.DataFrame]:
    """The tables of scores beyond NPS (koe.analysis.journey), by file name: segment_scores.csv
    and score_trend.csv (every score per ``drivers.trend_period``; dated comments) when
    koe.yaml declares ``scores``; journey.csv, journey_comparisons.csv, journey_drivers.csv
    and churn_risk.csv when it declares a ``journey``; else {}."""
    spec, cfg = config.journey, config.drivers
    scales = config.score_scales()
    tables = {}
    if config.scores:
        tables["segment_scores.csv"] = segment_scores(comments, segments, scales,
                                                      min_n=cfg.min_n, alpha=cfg.alpha)  # fmt: skip
        dated = comments[comments["date"].notna()]
        periods = dated.assign(period=dated["date"].dt.to_period(cfg.trend_period).astype(str))
        tables["score_trend.csv"] = segment_scores(periods, ["period"], scales,
                                                   min_n=cfg.min_n, alpha=cfg.alpha)  # fmt: skip
    if spec is None:
        return tables
    comparisons = [(c.name, c.a, c.b) for c in spec.compare]
    return {
        **tables,
        "journey.csv": journey_table(comments, spec.columns, scales, min_n=cfg.min_n,
                                     alpha=cfg.alpha),
        "journey_drivers.csv": journey_drivers(
            comments, tags, spec.columns, scales, min_n=cfg.min_n, n_boot=cfg.segment_n_boot,
            seed=config.seed, min_mentions=cfg.min_mentions, alpha=cfg.alpha),
        "journey_comparisons.csv": compare_cells(comments, comparisons, scales,
                                                 min_n=cfg.min_n, alpha=cfg.alpha),
        "churn_risk.csv": churn_risk(comments, tags, spec.columns, risk_scale(config),
                                     min_n=cfg.min_n, min_mentions=cfg.min_mentions,
                                     alpha=cfg.alpha),
    }  # fmt: skip


@dataclass
class AnalysisResult:
    """Everything the analysis stage writes: see koe/analysis/* for each table's columns."""

    drivers: pd.DataFrame
    regression: pd.DataFrame
    segments: pd.DataFrame
    trends: pd.DataFrame
    warnings: pd.DataFrame
    subscores: pd.DataFrame
    nps_trend: pd.DataFrame
    segment_drivers: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)
    journey: dict[str, pd.DataFrame] = field(default_factory=dict)  # file name -> table


def theme_names(tags: pd.DataFrame) -> dict[str, str]:
    """Theme id -> display name (lookup theme names, emergent themes' labels) from a TagFrame."""
    if tags.empty or "theme_name" not in tags:
        return {}
    named = tags[tags["theme_name"].astype(str).str.strip() != ""]
    return dict(zip(named["theme"].astype(str), named["theme_name"].astype(str), strict=True))


@threadpool_limits.wrap(limits=1, user_api="blas")
def analyze(
    comments: pd.DataFrame,
    tags: pd.DataFrame,
    config: KoeConfig,
    segments: list[str],
    sub_scores: list[str],
) -> AnalysisResult:
    """Drivers, the regression view, segments, trends with early warnings, sub-score drivers.

    BLAS runs single-threaded here: the matrices are small (distinct rows x features), so
    threads only add synchronisation and compete with other work for the cores (a 10k-comment
    analysis took 110 s with OpenBLAS threads on 2 busy cores, 26 s with one).
    """
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
        journey=journey(comments, tags, config, usable),
        regression=regression,
        segments=segment_table(comments, usable, combos=combos or None, min_n=cfg.min_n),
        trends=trends,
        warnings=early_warnings(trends, names=theme_names(tags)),
        subscores=subscore_drivers(
            comments, sub_scores[:MAX_SUBSCORES], n_boot=cfg.n_boot, seed=config.seed
        ),
        nps_trend=nps_trend(
            comments, usable, periods=tuple(dict.fromkeys((cfg.trend_period, "M"))),
            min_n=cfg.min_n,
        ),
        segment_drivers=segment_drivers(
            comments, tags, usable, min_n=cfg.min_n, n_boot=cfg.segment_n_boot,
            seed=config.seed, min_mentions=cfg.min_mentions, alpha=cfg.alpha,
        ),
        info={
            "segments": usable,
            "segments_skipped_too_wide": wide,
            "segment_combos": combos,
            "sub_scores_skipped": sub_scores[MAX_SUBSCORES:],
            "primary_score": config.primary_score,
            "scores": [
                {"name": s.name, "kind": s.kind, "column": s.column, "range": [s.low, s.high],
                 "unit": s.unit,
                 "answered": int((~np.isnan(score_values(comments, s))).sum())}
                for s in config.score_scales()
            ],
        },
    )


def route(
    comments: pd.DataFrame,
    tags: pd.DataFrame,
    config: KoeConfig,
    departments: list[str],
    segments: list[str],
    theme_departments: list[str] | None = None,
) -> dict[str, pd.DataFrame]:
    """Routed frames per department (see koe.routing); ``theme_departments``: the departments
    the lookup themes use, which the default rules are fitted to (KoeConfig.routing_rules)."""
    return route_comments(
        comments, tags, config.routing_rules(theme_departments), departments=departments,
        segments=segments,
    )  # fmt: skip


def close_the_loop(
    comments: pd.DataFrame, tags: pd.DataFrame, drivers: pd.DataFrame, segments: list[str],
    config: KoeConfig | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(follow_up, thank_you): detractors to contact and every respondent to thank.

    See taggers.routing.follow_up_list and thank_you_list. With ``config``'s scores,
    follow_up.csv shows their columns before the segments; with its journey, the respondents
    whose risk score is low (continuation intent "no", ...) are on it too, with a ``reason``.
    """
    scores = [s.name for s in config.scores if s.name in comments] if config else []
    also = None
    if config is not None and config.journey is not None:
        risk = risk_scale(config)
        low = risk.classes(score_values(comments, risk)) == "low"
        also = {cid: f"{risk.name}: low" for cid in comments.loc[low, "id"]}
    return (
        follow_up_list(comments, tags, drivers=metric_rows(drivers, "nps"),
                       segments=[*scores, *segments], also=also),
        thank_you_list(comments),
    )


def tagged_comments(
    comments: pd.DataFrame, tags: pd.DataFrame, segments: list[str], sub_scores: list[str]
) -> pd.DataFrame:
    """One row per comment with its themes, departments, polarities and clusters.

    Columns: the CommentFrame columns (with sentiment and sentiment_score after a run's
    add_sentiment) plus themes (list of theme ids, lookup and semantic), departments,
    polarities (list of "theme:polarity"), clusters (list of cluster ids), n_positive,
    n_negative, tagged (bool: any lookup theme).
    """
    lookup = tags[tags["source"].isin(THEME_SOURCES)]
    cluster = tags[tags["source"] == "cluster"]

    def lists(frame: pd.DataFrame, column: str) -> dict[str, list[str]]:
        out: dict[str, dict[str, None]] = {}
        for cid, value in zip(frame["id"].tolist(), frame[column].tolist(), strict=True):
            out.setdefault(cid, {})[value] = None
        return {cid: list(values) for cid, values in out.items()}

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
        per_id = lookup[lookup["polarity"] == name].groupby("id").size().to_dict()
        out[f"n_{name}"] = [int(per_id.get(i, 0)) for i in out["id"]]
    out["tagged"] = [len(t) > 0 for t in out["themes"]]
    ordered = [c for c in out.columns if c not in segments + sub_scores]
    return out[ordered[: ordered.index("source_row") + 1] + sub_scores + segments
               + ordered[ordered.index("source_row") + 1 :]]  # fmt: skip


def write_run_tables(
    folder: Path,
    ingested: IngestResult,
    tags: pd.DataFrame,
    discovery: DiscoveryResult,
    analysis: AnalysisResult,
    driver_table: pd.DataFrame,
) -> tuple[list[str], pd.DataFrame]:
    """Write the run's tables into ``folder`` (koe.outputs.write_tables).

    ``driver_table`` is the drivers.csv to write: tonight's (``analysis.drivers``) or a drivers
    window's. Returns (the file names written, the tagged comments: see tagged_comments).
    """
    tagged = tagged_comments(ingested.comments, tags, ingested.segments, ingested.sub_scores)
    files = write_tables(
        folder,
        tagged=tagged,
        tags_csv=to_tags_csv(tags),
        drivers=driver_table,
        quarantine=ingested.quarantine,
        emergent=discovery.themes,
        clusters=clusters_table(discovery.assignments),
        regression=analysis.regression,
        segments=analysis.segments,
        trends=analysis.trends,
        subscores=analysis.subscores,
        nps_trend=analysis.nps_trend,
        segment_drivers=analysis.segment_drivers,
        more=analysis.journey,
    )
    return files, tagged


def write_report(
    path: Path,
    *,
    run_id: str,
    ingested: IngestResult,
    tags: pd.DataFrame,
    driver_table: pd.DataFrame,
    discovery: DiscoveryResult,
    analysis: AnalysisResult,
    routed_counts: dict[str, int],
    loop_counts: dict[str, int],
    counts: dict[str, int],
    config: KoeConfig,
) -> None:
    """Render report.html (koe.report) from the run's stage results and write it to ``path``.

    ``routed_counts`` and ``loop_counts``: rows per routed and close-the-loop file;
    ``counts``: koe.manifest.run_counts. The driver chart and table show the primary score's
    rows; the other scores get a table each.
    """
    primary = config.primary_score
    context = report_context(
        run_id=run_id,
        input_path=ingested.input_path,
        comments=ingested.comments,
        drivers=metric_rows(driver_table, primary),
        emergent=discovery.themes,
        routed_counts=routed_counts,
        quarantine=ingested.quarantine,
        counts=counts,
        messages=run_messages(discovery.info, counts),
        analysis=analysis,
        min_mentions=config.drivers.min_mentions,
        min_n=config.drivers.min_n,
        tags=tags,
        close_the_loop=loop_counts,
        mask_pii=config.mask_pii,
    )
    context.update(score_context(driver_table, analysis.journey, config.score_scales(), primary,
                                 ingested.comments))
    path.write_text(render_report(context), encoding="utf-8")
