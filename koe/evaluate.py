"""Quality against references: tags against a gold set (``koe eval``: per-theme precision/recall/
F1 and polarity accuracy) and clusters against labels (``koe eval-clusters``: NMI, ARI, outlier
share, cluster count).

Gold format (CSV): ``id,theme,polarity``, one row per gold tag; a comment without gold rows has
no theme (a row with an empty theme says so: it only puts the comment among the gold ids).
Predictions: a tags.csv (``id,theme,polarity`` used; where it has a ``source``
column, theme tags only: lookup and semantic, not cluster). :func:`evaluate_sources` scores
lookup-only, semantic-only and combined tags side by side (``koe eval``). The evaluated
comments are ``ids`` when given (e.g. every id of the gold comments file), else the union of
gold and predicted ids.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from koe.core.frames import THEME_SOURCES


@dataclass(frozen=True)
class Evaluation:
    per_theme: pd.DataFrame  # theme, support, predicted, tp, precision, recall, f1
    micro_precision: float
    micro_recall: float
    micro_f1: float
    macro_f1: float
    polarity_accuracy: float  # on true-positive (id, theme) pairs
    polarity_pairs: int
    comments: int


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _ratio(a: int, b: int) -> float:
    return a / b if b else 0.0


def evaluate_tags(
    gold: pd.DataFrame, pred: pd.DataFrame, ids: Iterable[str] | None = None
) -> Evaluation:
    """Compare predicted tags with gold tags.

    Args:
        gold: id, theme, polarity.
        pred: id, theme, polarity (and optionally source; cluster tags are ignored).
        ids: the comments evaluated; predictions on other ids are ignored.

    Returns:
        An Evaluation. Macro F1 averages over themes with gold support or predictions.
    """
    if "source" in pred:
        pred = pred[pred["source"].isin(THEME_SOURCES)]
    gold = gold.astype({"id": str, "theme": str})
    pred = pred.astype({"id": str, "theme": str})
    universe = set(ids) if ids is not None else set(gold["id"]) | set(pred["id"])
    # a row with an empty theme: a reviewed comment without any theme (koe review's gold file)
    gold = gold[gold["id"].isin(universe) & (gold["theme"] != "")].drop_duplicates(["id", "theme"])
    pred = pred[pred["id"].isin(universe)].drop_duplicates(["id", "theme"])
    gold_pairs = dict(
        zip(zip(gold["id"], gold["theme"], strict=True), gold["polarity"], strict=True)
    )
    pred_pairs = dict(
        zip(zip(pred["id"], pred["theme"], strict=True), pred["polarity"], strict=True)
    )
    tp_pairs = gold_pairs.keys() & pred_pairs.keys()
    rows = []
    for theme in sorted({t for _, t in gold_pairs} | {t for _, t in pred_pairs}):
        support = sum(1 for _, t in gold_pairs if t == theme)
        predicted = sum(1 for _, t in pred_pairs if t == theme)
        tp = sum(1 for _, t in tp_pairs if t == theme)
        precision, recall = _ratio(tp, predicted), _ratio(tp, support)
        rows.append((theme, support, predicted, tp, precision, recall, _f1(precision, recall)))
    per_theme = pd.DataFrame(
        rows, columns=["theme", "support", "predicted", "tp", "precision", "recall", "f1"]
    )
    precision = _ratio(len(tp_pairs), len(pred_pairs))
    recall = _ratio(len(tp_pairs), len(gold_pairs))
    agree = sum(1 for pair in tp_pairs if gold_pairs[pair] == pred_pairs[pair])
    return Evaluation(
        per_theme=per_theme,
        micro_precision=precision,
        micro_recall=recall,
        micro_f1=_f1(precision, recall),
        macro_f1=float(per_theme["f1"].mean()) if len(per_theme) else 0.0,
        polarity_accuracy=_ratio(agree, len(tp_pairs)),
        polarity_pairs=len(tp_pairs),
        comments=len(universe),
    )


def format_evaluation(result: Evaluation) -> str:
    """A plain-text report: the per-theme table, then micro/macro and polarity accuracy."""
    table = result.per_theme.copy()
    for column in ("precision", "recall", "f1"):
        table[column] = table[column].map("{:.3f}".format)
    lines = [table.to_string(index=False), ""]
    lines.append(
        f"comments {result.comments}  micro P {result.micro_precision:.3f}  "
        f"R {result.micro_recall:.3f}  F1 {result.micro_f1:.3f}  macro F1 {result.macro_f1:.3f}"
    )
    lines.append(
        f"polarity accuracy {result.polarity_accuracy:.3f} "
        f"on {result.polarity_pairs} correctly tagged themes"
    )
    return "\n".join(lines)


SOURCE_VIEWS = {"lookup": ("lookup",), "semantic": ("semantic",), "combined": THEME_SOURCES}


def evaluate_sources(
    gold: pd.DataFrame, pred: pd.DataFrame, ids: Iterable[str] | None = None
) -> dict[str, Evaluation]:
    """:func:`evaluate_tags` of the lookup tags, the semantic tags and both (``combined``).

    A prediction file without a ``source`` column counts as lookup tags only.
    """
    pred = pred if "source" in pred else pred.assign(source="lookup")
    universe = list(ids) if ids is not None else sorted(set(gold["id"]) | set(pred["id"]))
    return {
        view: evaluate_tags(gold, pred[pred["source"].isin(sources)], universe)
        for view, sources in SOURCE_VIEWS.items()
    }


def format_source_evaluation(results: dict[str, Evaluation]) -> str:
    """Per-theme P/R/F1 of each view side by side, then micro/macro and polarity per view."""
    table = None
    for view, result in results.items():
        part = result.per_theme.set_index("theme")[["precision", "recall", "f1"]]
        part.columns = [f"{view}_{c[0].upper()}" if c != "f1" else f"{view}_F1"
                        for c in part.columns]  # fmt: skip
        support = result.per_theme.set_index("theme")["support"]
        table = part if table is None else table.join(part, how="outer")
        table["support"] = support.combine_first(table.get("support", support))
    assert table is not None
    table = table.fillna(0.0)
    columns = ["support", *(c for c in table.columns if c != "support")]
    table = table[columns].astype({"support": int}).reset_index()
    for column in columns[1:]:
        table[column] = table[column].map("{:.3f}".format)
    lines = [table.to_string(index=False), ""]
    for view, result in results.items():
        summary = format_evaluation(result).splitlines()[-2:]
        lines += [f"{view + ':':10s}{summary[0]}", f"{'':10s}{summary[1]}"]
    return "\n".join(lines)


def evaluate_clusters(labels: pd.DataFrame, clusters: pd.DataFrame) -> dict[str, Any]:
    """Compare a clustering with reference labels.

    Args:
        labels: ``id,label``.
        clusters: ``id,cluster_id`` (+ ``similarity``); outliers are ``-1``. With several rows
            per id (sentence units), the id takes its clustered row of highest similarity.

    Returns:
        items (labelled ids), missing (labelled ids absent from ``clusters``, counted as
        outliers), clusters (distinct non-outlier clusters among the items), outlier_share,
        nmi and ari with every outlier in one extra cluster ``-1``, and nmi_clustered /
        ari_clustered over the clustered items only.
    """
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    for name, frame, need in (("labels", labels, {"id", "label"}),
                              ("clusters", clusters, {"id", "cluster_id"})):  # fmt: skip
        missing = need - set(frame.columns)
        if missing:
            raise ValueError(f"{name} file lacks column(s) {sorted(missing)}")
    lab = labels.assign(id=labels["id"].astype(str)).drop_duplicates("id")
    clu = clusters.assign(
        id=clusters["id"].astype(str),
        cluster_id=clusters["cluster_id"].astype(str).replace({"": "-1", "nan": "-1"}),
    )
    sim = pd.to_numeric(clu["similarity"], errors="coerce") if "similarity" in clu else 0.0
    clu = clu.assign(_out=clu["cluster_id"] == "-1", _sim=sim).sort_values(
        ["id", "_out", "_sim"], ascending=[True, True, False], kind="stable"
    )
    per_id = clu.drop_duplicates("id").set_index("id")["cluster_id"]
    pred = per_id.reindex(lab["id"]).fillna("-1").astype(str).to_numpy()
    truth = lab["label"].astype(str).to_numpy()
    clustered = pred != "-1"
    out: dict[str, Any] = {
        "items": len(lab),
        "missing": int((~lab["id"].isin(per_id.index)).sum()),
        "clusters": len(set(pred[clustered])),
        "outlier_share": float(1 - clustered.mean()) if len(pred) else math.nan,
        "nmi": float(normalized_mutual_info_score(truth, pred)) if len(pred) else math.nan,
        "ari": float(adjusted_rand_score(truth, pred)) if len(pred) else math.nan,
    }
    if clustered.any():
        out["nmi_clustered"] = float(
            normalized_mutual_info_score(truth[clustered], pred[clustered])
        )
        out["ari_clustered"] = float(adjusted_rand_score(truth[clustered], pred[clustered]))
    else:
        out["nmi_clustered"] = out["ari_clustered"] = math.nan
    return out


def format_cluster_evaluation(result: dict[str, Any]) -> str:
    """The evaluation as printed by ``koe eval-clusters``."""
    lines = [
        f"labelled items      {result['items']}"
        + (f"  ({result['missing']} not in the clusters file: counted as outliers)"
           if result["missing"] else ""),
        f"clusters            {result['clusters']}",
        f"outlier share       {result['outlier_share']:.3f}",
        f"NMI                 {result['nmi']:.3f}   (outliers count as one cluster, -1)",
        f"ARI                 {result['ari']:.3f}   (outliers count as one cluster, -1)",
        f"NMI, clustered only {result['nmi_clustered']:.3f}",
        f"ARI, clustered only {result['ari_clustered']:.3f}",
    ]  # fmt: skip
    return "\n".join(lines)
