"""Theme discovery on hand-labelled real corpora that differ in text length.

Data: ``bench/discovery_gold/*/`` — real answers of the Fukui visitor survey, labelled by hand
into categories written down before any clustering (each folder's CATEGORIES.md, which also
gives the borderline rules), by labellers who never saw koe's output; a second labeller's
``check_labels.csv`` on the first 100-120 test texts measures agreement.
出典: 福井県観光連盟「福井県観光データ分析システム FTAS」(CC BY 4.0)

- short_inconvenience: 不便さの内容 answers, 10-40 characters (median 18), 20 categories;
- long_requests: 福井県に求めるもの answers, 60-400 characters (median 83), 13 categories.

Each has a frozen ``test`` split (2024-10 … 2025-06, only measured to report) and a ``tune``
split (2023) on which koe's settings were chosen. Methods, all on the same embeddings (koe's
default model through the run-state cache), whole answers as units:

- koe: exactly ``koe discover --unit comment`` (discover_table, default config): the cluster
  level (cluster_id) and the group level (parent_id);
- k-means told the true k (n_init 10, seeds 0-4), and told koe's k;
- BERTopic 0.17 default (UMAP 5-d, HDBSCAN min_cluster_size 10) on the same embeddings, UMAP
  seeds 0-4, with and without ``reduce_outliers``; skipped when bertopic is not importable.

Scores: NMI with outliers as one cluster -1 (as ``koe eval-clusters``), outlier share, cluster
count, the largest cluster's share and its purity (share of its majority label).

Run: ``python bench/discovery_gold.py [--split test|tune|both] [--state PATH]``; writes
``bench/results/discovery_gold.md`` (``--out`` to change).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
from pathlib import Path

os.environ.setdefault("KOE_EMBED_THREADS", "2")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
GOLD = REPO / "bench" / "discovery_gold"
SETS = ("short_inconvenience", "long_requests")
SEEDS = range(5)


def load_split(name: str, split: str) -> pd.DataFrame:
    """id, text, label of one labelled split."""
    texts = pd.read_csv(GOLD / name / f"{split}_texts.csv", dtype=str, keep_default_na=False)
    labels = pd.read_csv(GOLD / name / f"{split}_labels.csv", dtype=str, keep_default_na=False)
    frame = texts.merge(labels, on="comment_id", validate="one_to_one")
    if len(frame) != len(texts):
        raise SystemExit(f"{name}/{split}: {len(texts)} texts but {len(frame)} labelled")
    return frame.rename(columns={"comment_id": "id"})[["id", "text", "label"]]


def agreement(name: str) -> tuple[int, float, float]:
    """(texts, raw agreement, Cohen's kappa) of the second labeller on the test split."""
    from sklearn.metrics import cohen_kappa_score

    main = pd.read_csv(GOLD / name / "test_labels.csv", dtype=str)
    check = pd.read_csv(GOLD / name / "check_labels.csv", dtype=str)
    both = check.merge(main, on="comment_id", suffixes=("_check", "_main"))
    same = float((both["label_check"] == both["label_main"]).mean())
    return len(both), same, float(cohen_kappa_score(both["label_main"], both["label_check"]))


def score(labels: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import normalized_mutual_info_score

    pred = np.asarray(pred).astype(str)
    pred = np.where(np.isin(pred, ["-1", ""]), "-1", pred)
    clustered = pred[pred != "-1"]
    if len(clustered):
        values, counts = np.unique(clustered, return_counts=True)
        biggest = values[counts.argmax()]
        members = labels[pred == biggest]
        purity = pd.Series(members).value_counts().iloc[0] / len(members)
        big = counts.max() / len(pred)
    else:
        purity = big = 0.0
    return {"nmi": normalized_mutual_info_score(labels, pred),
            "outliers": float((pred == "-1").mean()), "k": len(set(clustered)),
            "big": float(big), "purity": float(purity)}  # fmt: skip


def mean_of(rows: list[dict[str, float]]) -> dict[str, str]:
    out = {}
    for key in rows[0]:
        values = [r[key] for r in rows]
        sd = statistics.stdev(values) if len(values) > 1 else 0.0
        fmt = "{:.0f}" if key == "k" else "{:.3f}"
        out[key] = fmt.format(statistics.mean(values)) + (f" ± {fmt.format(sd)}" if sd else "")
    return out


def row(method: str, r: dict) -> str:
    cells = [r[k] if isinstance(r[k], str) else (f"{r[k]:.0f}" if k == "k" else f"{r[k]:.3f}")
             for k in ("nmi", "outliers", "k", "big", "purity")]  # fmt: skip
    return f"| {method} | " + " | ".join(cells) + " |"


def koe_levels(frame: pd.DataFrame, store) -> tuple[np.ndarray, np.ndarray, float]:
    """cluster_id and parent_id per text from ``koe discover --unit comment``, and the
    merging distance used."""
    from koe.config import load_config
    from koe.discovery import discover_table, prepare_table

    table, _ = prepare_table(frame, "id", "text")
    clusters, themes, info = discover_table(table, load_config(None), store, unit="comment")
    cluster = clusters.set_index("id").loc[frame["id"], "cluster_id"].astype(str).to_numpy()
    parent_of = dict(zip(themes["cluster_id"], themes["parent_id"], strict=True))
    parent = np.array([parent_of.get(c, "-1") for c in cluster])
    return cluster, parent, float(info.get("distance_threshold", float("nan")))


def bertopic_rows(docs: list[str], x: np.ndarray, labels: np.ndarray) -> list[str]:
    try:
        from bertopic import BERTopic
        from umap import UMAP
    except ImportError as exc:
        return [f"| BERTopic: not importable ({exc}); `pip install -e .[bench]` | | | | | |"]
    plain, reduced = [], []
    for seed in SEEDS:
        model = BERTopic(umap_model=UMAP(n_neighbors=15, n_components=5, min_dist=0.0,
                                         metric="cosine", random_state=seed),
                         calculate_probabilities=False)  # fmt: skip
        topics, _ = model.fit_transform(docs, embeddings=x)
        plain.append(score(labels, np.array(topics)))
        if -1 in topics:
            topics = model.reduce_outliers(docs, topics, strategy="embeddings", embeddings=x)
        reduced.append(score(labels, np.array(topics)))
    return [row("BERTopic default, UMAP seeds 0-4", mean_of(plain)),
            row("BERTopic + reduce_outliers(embeddings), seeds 0-4", mean_of(reduced))]


def measure(frame: pd.DataFrame, store) -> tuple[list[str], dict[str, dict]]:
    from sklearn.cluster import KMeans

    from koe.models.embedding_cache import embed_with_cache

    labels = frame["label"].to_numpy()
    x, _ = embed_with_cache(frame["text"].tolist(), "koe-default", store)
    x = np.asarray(x, dtype=np.float64)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    cluster, parent, threshold = koe_levels(frame, store)
    head = {"koe": score(labels, cluster), "koe_groups": score(labels, parent)}
    true_k = len(set(labels))
    kmeans = [score(labels, KMeans(true_k, n_init=10, random_state=s).fit_predict(x))
              for s in SEEDS]  # fmt: skip
    head["kmeans_true_k"] = {k: statistics.mean(r[k] for r in kmeans) for k in kmeans[0]}
    rows = [
        row(f"**koe** `koe discover --unit comment`: clusters (cut at {threshold:.3f})",
            head["koe"]),
        row("koe: groups (parent_id)", head["koe_groups"]),
        row(f"k-means told the true k = {true_k}, seeds 0-4", mean_of(kmeans)),
    ]  # fmt: skip
    koe_k = head["koe"]["k"]
    if koe_k >= 2:
        same_k = [score(labels, KMeans(int(koe_k), n_init=10, random_state=s).fit_predict(x))
                  for s in SEEDS]  # fmt: skip
        rows.append(row(f"k-means told koe's k = {koe_k:.0f}, seeds 0-4", mean_of(same_k)))
    rows += bertopic_rows(frame["text"].tolist(), x, labels)
    return rows, head


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["test", "tune", "both"], default="both")
    parser.add_argument("--state", default="sqlite:////tmp/koe_bench_state.sqlite")
    parser.add_argument("--out", type=Path, default=REPO / "bench/results/discovery_gold.md")
    args = parser.parse_args(argv)

    import sklearn

    from koe.store import RunStore

    store = RunStore(args.state)
    splits = ["tune", "test"] if args.split == "both" else [args.split]
    lines = [
        "# Theme discovery on hand-labelled real corpora (short answers, long answers)", "",
        f"Date: {dt.date.today()}  ",
        f"Script: `python bench/discovery_gold.py --split {args.split}`; scikit-learn "
        f"{sklearn.__version__}; embeddings: koe's default model (USE multilingual v3)  ",
        "Data: `bench/discovery_gold/` (see its CATEGORIES.md files). 出典: 福井県観光連盟"
        "「福井県観光データ分析システム FTAS」(CC BY 4.0)", "",
        "NMI with outliers as one cluster; big = the largest cluster's share of the texts; "
        "purity = share of its majority label. koe's settings were chosen on the tune splits "
        "and the keyword-labelled sets of discovery_quality.md; the test splits were measured "
        "once, to report.", "",
    ]  # fmt: skip
    for name in SETS:
        n, same, kappa = agreement(name)
        lines += [f"## {name}", "",
                  f"Second labeller on {n} test texts: agreement {same:.3f}, Cohen's kappa "
                  f"{kappa:.3f}.", ""]  # fmt: skip
        for split in splits:
            frame = load_split(name, split)
            rows, _ = measure(frame, store)
            lines += [f"### {split}: {len(frame)} texts, {frame['label'].nunique()} labels, "
                      f"median {int(frame['text'].str.len().median())} characters", "",
                      "| method | NMI | outliers | k | big | purity |",
                      "|---|---:|---:|---:|---:|---:|", *rows, ""]  # fmt: skip
            print(f"{name}/{split} done", flush=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
