"""Theme discovery as a stage: what the nightly flow and ``koe discover`` run.

- :func:`run_discovery`: the pipeline stage. Embeds the sentences (or comments) no lookup
  theme caught, clusters them (``koe.discovery.themes``), keeps the theme ids of earlier runs
  (centroids in the run-state store), and proposes clusters close to a lookup theme as
  additions to it (the theme's centroid is the mean embedding of a seeded sample of the
  sentences tagged with it).
- :func:`discover_table`: discovery alone on any table with an id and a text column (no score
  needed), for ``koe discover``; writes ``clusters.csv`` (``id,cluster_id,cluster_label,
  similarity``, outliers ``-1``) and ``emergent_themes.csv``.

Bad input (no text, a single comment, fewer texts than a cluster needs, identical texts, only
emoji) never raises: the result carries a message and every row is an outlier.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from koe.config import KoeConfig
from koe.core.csvio import write_csv
from koe.core.safety import safe_for_spreadsheet
from koe.discovery.clusterer import OUTLIER, ThemeClusterer
from koe.discovery.stable_ids import KnownThemes
from koe.discovery.themes import empty_themes, find_themes
from koe.models.embedding_cache import embed_with_cache
from koe.taggers.lookup import tags_frame
from koe.taggers.polarity import mention_polarity
from koe.taggers.tokenize import detect_language, tokenize

if TYPE_CHECKING:
    from koe.store import RunStore
    from koe.taggers.lookup import LookupTagger

CLUSTERS_COLUMNS = ["id", "cluster_id", "cluster_label", "similarity"]


@dataclass
class DiscoveryResult:
    """assignments (units + cluster_id/label/similarity), themes, cluster tags, manifest info."""

    assignments: pd.DataFrame
    themes: pd.DataFrame
    tags: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)


def _units_of(
    sentences: pd.DataFrame, comments: pd.DataFrame, unit: str
) -> pd.DataFrame:
    if unit == "sentence":
        return sentences.rename(columns={"sentence": "text"})[
            ["id", "sentence_idx", "text", "start", "end"]
        ].reset_index(drop=True)
    keep = comments[~comments["non_answer"]] if "non_answer" in comments else comments
    return pd.DataFrame(
        {"id": keep["id"], "sentence_idx": 0, "text": keep["text"], "start": 0,
         "end": keep["text"].str.len()}
    ).reset_index(drop=True)  # fmt: skip


def _tagged_mask(units: pd.DataFrame, lookup_tags: pd.DataFrame, unit: str) -> np.ndarray:
    if unit == "sentence":
        keys = set(zip(lookup_tags["id"], lookup_tags["sentence_idx"], strict=True))
        pairs = zip(units["id"], units["sentence_idx"], strict=True)
        return np.array([(i, s) in keys for i, s in pairs], dtype=bool)
    return units["id"].isin(set(lookup_tags["id"])).to_numpy()


def _theme_samples(
    units: pd.DataFrame, lookup_tags: pd.DataFrame, unit: str, per_theme: int, seed: int
) -> dict[str, list[int]]:
    """Row positions in ``units`` of a seeded sample of each lookup theme's tagged units."""
    if lookup_tags.empty or per_theme <= 0:
        return {}
    position = (
        {(i, s): p for p, (i, s) in enumerate(zip(units["id"], units["sentence_idx"],
                                                   strict=True))}
        if unit == "sentence"
        else {(i, 0): p for p, i in enumerate(units["id"])}
    )  # fmt: skip
    out: dict[str, list[int]] = {}
    rng = np.random.default_rng(seed)
    for theme, group in lookup_tags.groupby("theme", sort=True):
        keys = zip(group["id"], group["sentence_idx"] if unit == "sentence" else [0] * len(group),
                   strict=True)  # fmt: skip
        rows = sorted({position[k] for k in keys if k in position})
        if len(rows) > per_theme:
            rows = sorted(rng.choice(rows, per_theme, replace=False).tolist())
        if rows:
            out[str(theme)] = rows
    return out


def theme_centroids(vectors: np.ndarray, samples: dict[str, list[int]]) -> dict[str, np.ndarray]:
    """Mean L2-normalized vector per lookup theme from its sampled rows of ``vectors``."""
    out = {}
    for theme, rows in samples.items():
        mean = np.asarray(vectors[rows], dtype=np.float64).mean(axis=0)
        norm = np.linalg.norm(mean)
        if norm > 0:
            out[theme] = mean / norm
    return out


def _known(store: RunStore | None, mid: str) -> KnownThemes:
    if store is None or not hasattr(store, "known_cluster_themes"):
        return KnownThemes()
    ids, centroids, next_number = store.known_cluster_themes(mid)
    return KnownThemes(tuple(ids), centroids, next_number)


def cluster_units(
    units: pd.DataFrame,
    comments: pd.DataFrame,
    config: KoeConfig,
    store: RunStore | None,
    *,
    cluster_mask: np.ndarray | None = None,
    theme_rows: dict[str, list[int]] | None = None,
    clusterer: ThemeClusterer | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Embed ``units`` and cluster those in ``cluster_mask`` (default: all).

    Args:
        units: id, sentence_idx, text, start, end.
        comments: id, score (NaN allowed) for cluster statistics.
        theme_rows: lookup theme -> rows of ``units`` tagged with it (for nearest_theme).
        clusterer: the estimator (default: ``ThemeClusterer.from_config(config.cluster)``);
            any ThemeClusterer, e.g. with ``base=KMeans(n_clusters=20)``.

    Returns:
        (assignments of the clustered units, themes, info).
    """
    cfg = config.cluster
    mask = np.ones(len(units), dtype=bool) if cluster_mask is None else cluster_mask
    theme_rows = theme_rows or {}
    needed = np.array(sorted(set(np.flatnonzero(mask)) | {r for rs in theme_rows.values()
                                                          for r in rs}), dtype=int)  # fmt: skip
    candidates = units.iloc[np.flatnonzero(mask)].reset_index(drop=True)
    info: dict[str, Any] = {"candidates": len(candidates)}
    if candidates.empty:
        info["message"] = "nothing to cluster"
        empty = candidates.assign(cluster_id="", cluster_label="", similarity=math.nan)
        return empty, empty_themes(), info
    vectors, stats = embed_with_cache(
        units["text"].iloc[needed].tolist(),
        config.embedding_model,
        store,
        show_progress=sys.stderr.isatty(),
    )
    info["embedding"] = stats.__dict__
    full = np.zeros((len(units), vectors.shape[1]), dtype=np.float32)
    full[needed] = vectors
    mid = stats.model_id
    found = find_themes(
        candidates, full[mask], comments, settings=cfg, seed=config.seed, clusterer=clusterer,
        known=_known(store, mid), theme_centroids=theme_centroids(full, theme_rows),
    )  # fmt: skip
    names = store.cluster_names() if store is not None and hasattr(store, "cluster_names") else {}
    if names:  # the analysts' names for emergent themes (koe review) win over computed labels
        for frame, column in ((found.themes, "label"), (found.assignments, "cluster_label")):
            frame[column] = frame["cluster_id"].map(names).fillna(frame[column])
    if store is not None and hasattr(store, "save_cluster_themes") and len(found.themes):
        store.save_cluster_themes(
            mid,
            [
                {"cluster_id": row.cluster_id, "label": row.label, "keywords": row.keywords,
                 "size": int(row.size), "centroid": centroid}
                for row, centroid in zip(found.themes.itertuples(index=False), found.centroids,
                                         strict=True)
            ],
        )  # fmt: skip
    clustered = found.assignments["cluster_id"] != ""
    info.update(
        message=found.message,
        clusters=len(found.themes),
        outlier_share=float(1 - clustered.mean()) if len(clustered) else 0.0,
        ids_kept=list(found.kept_ids),
        ids_new=list(found.new_ids),
        proposed_additions=int((found.themes["proposal"] == "add_to_theme").sum()),
        distance_threshold=found.distance_threshold,
        groups=found.groups,
    )
    return found.assignments, found.themes, info


def run_discovery(
    sentences: pd.DataFrame,
    lookup_tags: pd.DataFrame,
    comments: pd.DataFrame,
    config: KoeConfig,
    store: RunStore | None,
    tagger: LookupTagger,
    clusterer: ThemeClusterer | None = None,
) -> DiscoveryResult:
    """The discovery stage of the nightly flow (see ``koe.pipeline.discover``); ``clusterer``
    swaps the clustering estimator (see :func:`cluster_units`)."""
    cfg = config.cluster
    units = _units_of(sentences, comments, cfg.unit)
    tagged = _tagged_mask(units, lookup_tags, cfg.unit)
    mask = ~tagged if cfg.only_untagged else np.ones(len(units), dtype=bool)
    info: dict[str, Any] = {"unit": cfg.unit, "units": len(units), "candidates": int(mask.sum())}
    if not cfg.enabled or not mask.any():
        info["message"] = "clustering disabled" if not cfg.enabled else "nothing to cluster"
        empty = units[mask].assign(cluster_id="", cluster_label="", similarity=math.nan)
        return DiscoveryResult(empty, empty_themes(), tags_frame([]), info)
    samples = _theme_samples(units, lookup_tags, cfg.unit, cfg.theme_sample, config.seed)
    assignments, themes, more = cluster_units(
        units, comments, config, store, cluster_mask=mask, theme_rows=samples,
        clusterer=clusterer,
    )
    info.update(more)
    rows = []
    for row in assignments[assignments["cluster_id"] != ""].itertuples(index=False):
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
                "confidence": round(float(row.similarity), 4),
            }
        )
    return DiscoveryResult(assignments, themes, tags_frame(rows), info)


# -- koe discover ------------------------------------------------------------------------------


def prepare_table(
    raw: pd.DataFrame, id_col: str, text_col: str, score_col: str | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """The rows of a table that can be clustered, and messages about the ones that cannot.

    Returns:
        (frame with id, text (normalized), score (float, NaN without ``score_col``),
        usable (bool: has text content); messages). Rows with an empty id or a repeated id
        (the first occurrence wins) are left out and counted in the messages.
    """
    from koe.ingest import IngestError
    from koe.ingest.normalize import has_content, normalize_text

    missing = [c for c in (id_col, text_col, score_col) if c and c not in raw.columns]
    if missing:
        raise IngestError(f"missing column(s) {missing}; columns present: {list(raw.columns)}")
    ids = raw[id_col].astype(str).str.strip()
    texts = [normalize_text(t) for t in raw[text_col].fillna("").astype(str)]
    frame = pd.DataFrame({"id": ids.to_numpy(), "text": texts})
    frame["score"] = (
        pd.to_numeric(raw[score_col], errors="coerce").to_numpy() if score_col else math.nan
    )
    messages = []
    no_id = frame["id"] == ""
    duplicate = frame["id"].duplicated() & ~no_id
    if no_id.any():
        messages.append(f"{int(no_id.sum())} row(s) without an id left out")
    if duplicate.any():
        messages.append(f"{int(duplicate.sum())} row(s) with a repeated id left out (first kept)")
    frame = frame[~no_id & ~duplicate].reset_index(drop=True)
    frame["usable"] = [has_content(t) for t in frame["text"]]
    if (~frame["usable"]).any():
        messages.append(
            f"{int((~frame['usable']).sum())} row(s) without text content (empty, only emoji "
            "or punctuation): outliers (-1)"
        )
    return frame, messages


def discover_table(
    table: pd.DataFrame,
    config: KoeConfig,
    store: RunStore | None = None,
    *,
    unit: str = "comment",
    tagger: LookupTagger | None = None,
    clusterer: ThemeClusterer | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Cluster every usable row of a prepared table (see :func:`prepare_table`); ``clusterer``
    swaps the clustering estimator (see :func:`cluster_units`).

    Lookup tags are not used to filter: every row is clustered, so that every id has a
    cluster; with a ``tagger``, each cluster gets its nearest lookup theme.

    Returns:
        (clusters: one row per id, or per sentence with ``unit="sentence"`` (then with
        ``sentence_idx`` and ``text`` after the contract columns), outliers ``-1``;
        themes; info with ``messages``).
    """
    from koe.taggers.sentences import split_sentences

    usable = table[table["usable"]]
    if unit == "sentence":
        units = split_sentences(usable).rename(columns={"sentence": "text"})
        units = units[["id", "sentence_idx", "text", "start", "end"]].reset_index(drop=True)
    else:
        units = pd.DataFrame(
            {"id": usable["id"], "sentence_idx": 0, "text": usable["text"], "start": 0,
             "end": usable["text"].str.len()}
        ).reset_index(drop=True)  # fmt: skip
    samples: dict[str, list[int]] = {}
    if tagger is not None and len(units):
        sentences = units.rename(columns={"text": "sentence"}).assign(
            lang=[detect_language(t) for t in units["text"]]
        )
        lookup_tags = tagger.tag(sentences)
        samples = _theme_samples(
            units, lookup_tags, "sentence", config.cluster.theme_sample, config.seed
        )
    assignments, themes, info = cluster_units(
        units, table[["id", "score"]], config, store, theme_rows=samples, clusterer=clusterer
    )
    info["messages"] = [m for m in [info.get("message", "")] if m]
    columns = ["sentence_idx", "text"] if unit == "sentence" else []
    clusters = assignments.reindex(columns=[*CLUSTERS_COLUMNS, *columns])
    left_out = table.loc[~table["id"].isin(set(units["id"])), ["id", "text"]]
    if len(left_out):
        clusters = pd.concat(
            [clusters, left_out.assign(cluster_id="", cluster_label="", similarity=math.nan,
                                       sentence_idx=0)[clusters.columns]],
            ignore_index=True,
        )  # fmt: skip
    order = {i: n for n, i in enumerate(table["id"])}
    clusters = clusters.sort_values(
        by=["id", *(["sentence_idx"] if unit == "sentence" else [])],
        key=lambda s: s.map(order) if s.name == "id" else s,
        kind="stable",
    ).reset_index(drop=True)
    clusters["cluster_id"] = clusters["cluster_id"].replace("", str(OUTLIER))
    info["rows"] = len(table)
    info["outlier_share"] = float((clusters["cluster_id"] == str(OUTLIER)).mean()) if len(
        clusters) else 0.0  # fmt: skip
    return clusters, themes, info


def write_discovery(out: Path, clusters: pd.DataFrame, themes: pd.DataFrame) -> list[Path]:
    """Write ``clusters.csv`` and ``emergent_themes.csv`` (UTF-8, neutralized against formula
    injection: koe.core.safety) into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "clusters.csv", out / "emergent_themes.csv"]
    for frame, path in zip((clusters, themes), paths, strict=True):
        tmp = path.with_name(f".{path.name}.tmp")
        write_csv(safe_for_spreadsheet(frame), tmp)
        tmp.replace(path)
    return paths


# -- koe eval-clusters -------------------------------------------------------------------------
