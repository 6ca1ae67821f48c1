"""Theme discovery quality on real Japanese survey text: koe vs BERTopic and other clusterers.

Data: 福井県観光連盟「福井県観光データ分析システム FTAS」 visitor-survey free-text answers
(fukui_survey_comments_2022-04_2025-06.csv), license CC BY 4.0.
出典: 福井県観光連盟「福井県観光データ分析システム FTAS」(CC BY 4.0)

Labelled sets (built by ``bench/embedder_choice.py``'s keyword rules, spot-checked there):

- A: 412 不便さ (inconvenience_detail) answers, 13 categories, at most 35 per category;
- B: all 3,179 answers that exactly one rule labels (same 13 categories, unbalanced: 706 transit
  .. 13 price), closer to a real night's mix;
- C: 900 answers of 6 questions with the question as a weak label (not used to choose anything).

Every method clusters the same USE multilingual v3 embeddings (koe's default model, through
the run-state embedding cache). Scores: NMI and ARI (sklearn) with every outlier in one extra
cluster ``-1`` (what ``koe eval-clusters`` prints), the outlier share and the cluster count.

- koe: exactly ``koe discover`` (koe.discovery.discover.discover_table with the default config):
  agglomerative clustering (cosine, average linkage, distance threshold 0.70), clusters under
  max(3, 0.25 % of the texts) dissolved, texts with cosine >= 0.30 to the nearest centroid
  assigned to it;
- the same with other thresholds (the NMI / outlier trade-off), without borderline assignment,
  on UMAP-5 vectors, and on sentences instead of whole answers;
- HDBSCAN (scikit-learn, min_cluster_size 5 and 10), alone and with koe's assignment;
- k-means with k chosen by the best cosine silhouette over k = 5, 10, ..., 60;
- BERTopic 0.17 default pipeline (UMAP 5-d, n_neighbors 15, min_dist 0, cosine; HDBSCAN
  min_cluster_size 10) on the same embeddings, UMAP seeds 0-4, with and without
  ``reduce_outliers(strategy="embeddings")``. Skipped with a note when bertopic is not
  importable (``pip install bertopic``; see the README for the versions measured).

Also measured: the outlier share on the untagged sentences of ``samples/survey.csv`` (what a
nightly run clusters) and on 10,000 Fukui sentences; and how well a cluster's nearest lookup
theme (``nearest_theme``) points to the right theme (split-half on the sample's tagged
sentences), which sets ``propose_threshold``.

Run: ``python bench/discovery_quality.py [--data PATH] [--bertopic-path DIR]``; writes
``bench/results/discovery_quality.md``. Exits 0 with a message when the data file is absent.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("KOE_EMBED_THREADS", "2")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "2")
os.environ.setdefault("OMP_NUM_THREADS", "2")

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
for path in (REPO, REPO / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from embedder_choice import (  # noqa: E402
    ATTRIBUTION,
    DEFAULT_DATA,
    NOTHING,
    RULES,
    keyword_labeled,
    load_data,
    machine_info,
    question_sample,
)

RESULTS = REPO / "bench" / "results" / "discovery_quality.md"
STATE = Path("/tmp/koe_bench_state.sqlite")
BERTOPIC_SEEDS = range(5)


# ---------------------------------------------------------------- data
def labelled_sets(df: pd.DataFrame) -> dict[str, pd.DataFrame]:
    a, _ = keyword_labeled(df)
    d = df[df["question_key"] == "inconvenience_detail"].drop_duplicates("text")
    d = d[~d["text"].str.contains(NOTHING, regex=True)]
    hits = pd.DataFrame({k: d["text"].str.contains(v, regex=True) for k, v in RULES.items()})
    single = hits.sum(axis=1) == 1
    b = d[single].assign(label=hits[single].idxmax(axis=1))
    c = question_sample(df, 0)
    out = {}
    for name, frame in (("A", a), ("B", b), ("C", c)):
        out[name] = pd.DataFrame(
            {"id": frame["comment_id"].to_numpy(), "text": frame["text"].to_numpy(),
             "label": frame["label"].to_numpy()}
        )  # fmt: skip
    return out


SET_NAMES = {
    "A": "A: 412 不便さ answers, 13 keyword categories (balanced)",
    "B": "B: 3,179 不便さ answers, same 13 categories (unbalanced)",
    "C": "C: 900 answers, question as weak label (6)",
}


# ---------------------------------------------------------------- scoring
def score(labels: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    pred = np.asarray(pred).astype(str)
    pred = np.where(np.isin(pred, ["-1", ""]), "-1", pred)
    return {
        "nmi": normalized_mutual_info_score(labels, pred),
        "ari": adjusted_rand_score(labels, pred),
        "outliers": float((pred == "-1").mean()),
        "k": len(set(pred) - {"-1"}),
    }


def mean_sd(rows: list[dict[str, float]]) -> dict[str, str]:
    out = {}
    for key in ("nmi", "ari", "outliers", "k"):
        values = [r[key] for r in rows]
        fmt = "{:.0f}" if key == "k" else "{:.3f}"
        sd = statistics.stdev(values) if len(values) > 1 else 0.0
        out[key] = f"{fmt.format(statistics.mean(values))} ± {fmt.format(sd)}"
    return out


def fmt_row(name: str, r: dict) -> str:
    def cell(key: str) -> str:
        v = r[key]
        return v if isinstance(v, str) else (f"{v:.0f}" if key == "k" else f"{v:.3f}")

    return f"| {name} | {cell('nmi')} | {cell('ari')} | {cell('outliers')} | {cell('k')} |"


# ---------------------------------------------------------------- methods
def koe_discover(frame: pd.DataFrame, store, unit: str = "comment", **cluster) -> np.ndarray:
    from koe.config import load_config
    from koe.discovery import discover_table, prepare_table

    config = load_config(None)
    if cluster:
        config = config.model_copy(update={"cluster": config.cluster.model_copy(update=cluster)})
    table, _ = prepare_table(frame, "id", "text")
    clusters, _, _ = discover_table(table, config, store, unit=unit)
    if unit == "comment":
        return clusters.set_index("id").loc[frame["id"], "cluster_id"].to_numpy()
    # sentences: each answer takes its clustered sentence of highest similarity (as
    # koe eval-clusters does)
    ordered = clusters.assign(
        _out=clusters["cluster_id"] == "-1", _sim=pd.to_numeric(clusters["similarity"])
    ).sort_values(["id", "_out", "_sim"], ascending=[True, True, False], kind="stable")
    per_id = ordered.drop_duplicates("id").set_index("id")["cluster_id"]
    return per_id.reindex(frame["id"]).fillna("-1").to_numpy()


def assign(x: np.ndarray, labels: np.ndarray, threshold: float) -> np.ndarray:
    labels = labels.copy()
    ks = sorted(set(labels) - {-1})
    if not ks:
        return labels
    centroids = np.stack([x[labels == k].mean(axis=0) for k in ks])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    sims = x @ centroids.T
    best = sims.max(axis=1)
    move = (labels == -1) & (best >= threshold)
    labels[move] = np.array(ks)[sims.argmax(axis=1)[move]]
    return labels


def hdbscan_labels(x: np.ndarray, min_cluster_size: int) -> np.ndarray:
    from sklearn.cluster import HDBSCAN

    return HDBSCAN(min_cluster_size=min_cluster_size).fit_predict(x)


def kmeans_silhouette(x: np.ndarray) -> tuple[np.ndarray, int]:
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    best = None
    for k in range(5, 61, 5):
        if k >= len(x):
            break
        labels = KMeans(k, n_init=4, random_state=0).fit_predict(x)
        s = silhouette_score(x, labels, metric="cosine")
        if best is None or s > best[0]:
            best = (s, k, labels)
    assert best is not None
    return best[2], best[1]


def umap_vectors(x: np.ndarray, seed: int) -> np.ndarray:
    from umap import UMAP

    y = UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine",
             random_state=seed).fit_transform(x)  # fmt: skip
    y = y - y.mean(axis=0)  # UMAP coordinates are not centred: cosine needs the origin inside
    return y / np.linalg.norm(y, axis=1, keepdims=True)


UMAP_THRESHOLDS = (0.1, 0.2, 0.3, 0.5, 0.7)


def umap_rows(x: np.ndarray, labels: np.ndarray) -> list[str]:
    """koe's clustering on UMAP-5 vectors, per distance threshold (seeds 0-4)."""
    from koe.discovery import cluster_vectors

    scores: dict[float, list[dict]] = {t: [] for t in UMAP_THRESHOLDS}
    for seed in BERTOPIC_SEEDS:
        u = umap_vectors(x, seed)
        for t in UMAP_THRESHOLDS:
            r = cluster_vectors(u, distance_threshold=t, min_cluster_size=3,
                                min_cluster_share=0.0025, assign_threshold=0.30)  # fmt: skip
            scores[t].append(score(labels, r.labels))
    return [fmt_row(f"koe's clustering on centred UMAP-5 vectors, distance {t}, seeds 0-4",
                    mean_sd(rows)) for t, rows in scores.items()]  # fmt: skip


def bertopic_labels(docs: list[str], x: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from bertopic import BERTopic
    from umap import UMAP

    model = BERTopic(
        umap_model=UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine",
                        random_state=seed),
        calculate_probabilities=False,
    )  # fmt: skip
    topics, _ = model.fit_transform(docs, embeddings=x)
    reduced = model.reduce_outliers(docs, topics, strategy="embeddings", embeddings=x)
    return np.array(topics), np.array(reduced)


# ---------------------------------------------------------------- outlier share where it matters
def sample_candidates() -> list[str]:
    from koe import pipeline
    from koe.config import load_config

    config = load_config(None)
    ingested = pipeline.ingest(config)
    sentences = pipeline.sentences_of(ingested.comments)
    tags, _ = pipeline.lookup_tag(sentences, config.lookup_lists)
    keys = set(zip(tags["id"], tags["sentence_idx"], strict=True))
    pairs = zip(sentences["id"], sentences["sentence_idx"], strict=True)
    return [t for t, k in zip(sentences["sentence"], pairs, strict=True) if k not in keys]


def fukui_sentences(df: pd.DataFrame, n: int, seed: int = 0) -> list[str]:
    from koe.taggers.sentences import split_sentences

    answers = df.drop_duplicates("text").sample(n, random_state=seed)
    frame = pd.DataFrame({"id": answers["comment_id"], "text": answers["text"]})
    sentences = split_sentences(frame)
    return sentences["sentence"].tolist()[:n]


def outlier_share(texts: list[str], store, **cluster) -> tuple[float, int]:
    frame = pd.DataFrame({"id": [f"s{i}" for i in range(len(texts))], "text": texts})
    pred = koe_discover(frame, store, **cluster)
    return float((pred == "-1").mean()), len(set(pred) - {"-1"})


# ---------------------------------------------------------------- nearest-theme calibration
def proposal_calibration(store, repeats: int = 5) -> dict[str, float]:
    """Split-half: sentences of one lookup theme, as a small cluster, vs the theme centroids."""
    from koe import pipeline
    from koe.config import load_config
    from koe.models.embedding_cache import embed_with_cache

    config = load_config(None)
    ingested = pipeline.ingest(config)
    sentences = pipeline.sentences_of(ingested.comments)
    tags, _ = pipeline.lookup_tag(sentences, config.lookup_lists)
    text = dict(zip(zip(sentences["id"], sentences["sentence_idx"], strict=True),
                    sentences["sentence"], strict=True))  # fmt: skip
    groups = {th: sorted({k for k in zip(g["id"], g["sentence_idx"], strict=True)})
              for th, g in tags.groupby("theme")}  # fmt: skip
    groups = {k: v for k, v in groups.items() if len(v) >= 6}
    texts = sorted({text[k] for v in groups.values() for k in v})
    x, _ = embed_with_cache(texts, "koe-default", store)
    vec = dict(zip(texts, x, strict=True))

    def centroid(keys):
        m = np.mean([vec[text[k]] for k in keys], axis=0)
        return m / np.linalg.norm(m)

    rng = np.random.default_rng(0)
    same, other = [], []
    for _ in range(repeats):
        halves = {}
        for theme, keys in groups.items():
            order = rng.permutation(len(keys))
            half = len(keys) // 2
            halves[theme] = ([keys[i] for i in order[:half]], [keys[i] for i in order[half:]])
        anchors = {theme: centroid(a) for theme, (a, _) in halves.items()}
        for theme, (_, b) in halves.items():
            for size in (3, 5):
                if len(b) >= size:
                    c = centroid(b[:size])
                    same.append(float(c @ anchors[theme]))
                    other.append(max(float(c @ anchors[o]) for o in anchors if o != theme))
    s, o = np.array(same), np.array(other)
    out = {"themes": len(groups), "pairs": len(s), "nearest_right": float((s > o).mean())}
    for t in (0.65, 0.70, 0.75, 0.80):
        proposed = np.maximum(s, o) >= t
        out[f"recall@{t}"] = float((s >= t).mean())
        out[f"foreign@{t}"] = float((o >= t).mean())
        out[f"right@{t}"] = float(((s > o) & proposed).sum() / max(proposed.sum(), 1))
    return out


# ---------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--state", type=Path, default=STATE, help="embedding cache (SQLite)")
    parser.add_argument("--no-resume", dest="resume", action="store_false",
                        help="recompute sets already in the checkpoint beside --state")
    parser.add_argument("--bertopic-path", type=Path, default=None,
                        help="extra sys.path entry holding bertopic, umap, hdbscan")  # fmt: skip
    args = parser.parse_args(argv)
    if not args.data.is_file():
        print(f"SKIP: data file {args.data} not found; nothing written.")
        return 0
    if args.bertopic_path:
        sys.path.append(str(args.bertopic_path))
    try:
        import bertopic
        import umap  # noqa: F401

        bertopic_version = bertopic.__version__
    except ImportError as exc:
        bertopic_version = None
        print(f"bertopic not importable ({exc}); BERTopic rows skipped")

    from koe.models.embedding_cache import embed_with_cache
    from koe.store import RunStore

    store = RunStore(f"sqlite:///{args.state}")
    df = load_data(args.data)
    sets = labelled_sets(df)
    lines: list[str] = []
    add = lines.append
    results: dict[str, dict[str, list[str]]] = {}
    headline: dict[str, dict[str, dict]] = {}
    checkpoint = args.state.with_suffix(".quality.json")
    done = json.loads(checkpoint.read_text()) if checkpoint.is_file() and args.resume else {}
    for name, frame in sets.items():
        if name in done:
            results[name], headline[name] = done[name]["results"], done[name]["headline"]
            print(name, "from", checkpoint)
            if bertopic_version and "umap_rows" not in results[name]:
                x, _ = embed_with_cache(frame["text"].tolist(), "koe-default", store)
                results[name]["umap_rows"] = umap_rows(x.astype(np.float64),
                                                       frame["label"].to_numpy())  # fmt: skip
                checkpoint.write_text(json.dumps(done, ensure_ascii=False, default=float))
            continue
        t0 = time.perf_counter()
        labels = frame["label"].to_numpy()
        x, _ = embed_with_cache(frame["text"].tolist(), "koe-default", store)
        x = x.astype(np.float64)
        rows: list[str] = []
        head: dict[str, dict] = {}
        koe = score(labels, koe_discover(frame, store))
        head["koe"] = koe
        rows.append(fmt_row("**koe** (agglomerative 0.70, assign ≥ 0.30) — `koe discover`", koe))
        rows.append(fmt_row("koe without borderline assignment",
                            score(labels, koe_discover(frame, store, assign_threshold=1.0))))
        rows.append(fmt_row("koe on sentences (answer = its best sentence's cluster)",
                            score(labels, koe_discover(frame, store, unit="sentence"))))
        for mcs in (5, 10):
            raw = hdbscan_labels(x, mcs)
            rows.append(fmt_row(f"HDBSCAN (sklearn, min_cluster_size {mcs})", score(labels, raw)))
            rows.append(fmt_row(f"HDBSCAN {mcs} + koe assignment ≥ 0.30",
                                score(labels, assign(x, raw, 0.30))))
        km, k = kmeans_silhouette(x)
        rows.append(fmt_row(f"k-means, k by silhouette (k = {k})", score(labels, km)))
        if bertopic_version:
            plain, reduced = [], []
            docs = frame["text"].tolist()
            for seed in BERTOPIC_SEEDS:
                topics, fewer = bertopic_labels(docs, x.astype(np.float32), seed)
                plain.append(score(labels, topics))
                reduced.append(score(labels, fewer))
            head["bertopic"] = {k: statistics.mean(r[k] for r in plain) for k in plain[0]}
            head["bertopic_reduced"] = {
                k: statistics.mean(r[k] for r in reduced) for k in reduced[0]
            }
            rows.append(fmt_row("BERTopic default, UMAP seeds 0-4 (mean ± sd)", mean_sd(plain)))
            rows.append(fmt_row("BERTopic + reduce_outliers(embeddings), seeds 0-4",
                                mean_sd(reduced)))
        results[name] = {"rows": rows}
        if bertopic_version:
            results[name]["umap_rows"] = umap_rows(x, labels)
        headline[name] = head
        print(name, f"{time.perf_counter() - t0:.0f}s", koe, head.get("bertopic"))

        # trade-off: borderline assignment and distance threshold
        sweep = []
        if name in ("A", "B"):
            for a in (1.0, 0.5, 0.4, 0.35, 0.30, 0.25):
                sweep.append(("distance 0.70", f"assign ≥ {a:.2f}" if a < 1 else "no assignment",
                              score(labels, koe_discover(frame, store, assign_threshold=a))))
            for d in (0.55, 0.60, 0.65, 0.75, 0.80):
                sweep.append((f"distance {d:.2f}", "assign ≥ 0.30",
                               score(labels, koe_discover(frame, store, distance_threshold=d))))
            for share in (0.0, 0.01):
                sweep.append(("distance 0.70", f"assign ≥ 0.30, min share {share}",
                              score(labels, koe_discover(frame, store, min_cluster_share=share))))
        results[name]["sweep"] = [
            f"| {d} | {a} | {r['nmi']:.3f} | {r['ari']:.3f} | {r['outliers']:.3f} | {r['k']} |"
            for d, a, r in sweep
        ]
        done[name] = {"results": results[name], "headline": headline[name]}
        checkpoint.write_text(json.dumps(done, ensure_ascii=False, default=float))

    # outlier share on what a nightly run clusters
    candidates = sample_candidates()
    fukui10k = fukui_sentences(df, 10000)
    share_rows = []
    for label, cluster in (
        ("before (distance 0.55, assign ≥ 0.50, min size 3)",
         {"distance_threshold": 0.55, "assign_threshold": 0.50, "min_cluster_share": 0.0}),
        ("koe default (0.70, ≥ 0.30, min size max(3, 0.25 %))", {}),
        ("koe default without assignment", {"assign_threshold": 1.0}),
    ):  # fmt: skip
        s1, k1 = outlier_share(candidates, store, **cluster)
        s2, k2 = outlier_share(fukui10k, store, **cluster)
        share_rows.append(f"| {label} | {s1:.3f} ({k1} clusters) | {s2:.3f} ({k2} clusters) |")
        print(label, s1, s2)
    calibration = proposal_calibration(store)
    print(calibration)
    store.close()

    info = machine_info()
    add("# Theme discovery: quality on real Japanese survey text")
    add("")
    add(f"Date: {dt.date.today().isoformat()}  ")
    add(f"Machine: {info['nproc']} CPUs ({info['cpu']}), {info['memory']} RAM, no GPU; "
        f"Python {info['python']}  ")  # fmt: skip
    add(f"Versions: {info['versions']}"
        + (f", bertopic {bertopic_version}" if bertopic_version else ", bertopic not installed")
        + "  ")  # fmt: skip
    add("Script: `python bench/discovery_quality.py` (see its docstring for the methods)")
    add("")
    add(f"Data: `{args.data.name}`. {ATTRIBUTION}  ")
    add("License CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/); the labelled subsets "
        "are derived from it with the keyword rules of `bench/embedder_choice.py`.")  # fmt: skip
    add("")
    add("Scores: NMI and ARI with **every outlier in one extra cluster `-1`** (as `koe "
        "eval-clusters` prints them); `outliers` = share left unclustered; `k` = clusters. "
        "Every method clusters the same USE multilingual v3 embeddings.")  # fmt: skip
    add("")
    add("## Headline")
    add("")
    add("| set | koe NMI | koe ARI | koe outliers | BERTopic NMI | BERTopic ARI | BERTopic "
        "outliers | BERTopic + reduce_outliers NMI |")  # fmt: skip
    add("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, head in headline.items():
        k = head["koe"]
        b = head.get("bertopic")
        br = head.get("bertopic_reduced")
        add(f"| {SET_NAMES[name]} | {k['nmi']:.3f} | {k['ari']:.3f} | {k['outliers']:.3f} | "
            + (f"{b['nmi']:.3f} | {b['ari']:.3f} | {b['outliers']:.3f} | {br['nmi']:.3f} |"
               if b else "– | – | – | – |"))  # fmt: skip
    add("")
    add("BERTopic: mean over UMAP seeds 0-4. koe has no random step on these sizes.")
    add("")
    for name, block in results.items():
        add(f"## {SET_NAMES[name]}")
        add("")
        add("| method | NMI | ARI | outliers | k |")
        add("|---|---:|---:|---:|---:|")
        lines.extend(block["rows"])
        lines.extend(block.get("umap_rows", []))
        add("")
        if block["sweep"]:
            add("NMI / outlier trade-off (koe, whole answers):")
            add("")
            add("| clustering | assignment | NMI | ARI | outliers | k |")
            add("|---|---|---:|---:|---:|---:|")
            lines.extend(block["sweep"])
            add("")
    add("## Outlier share on what a nightly run clusters")
    add("")
    add(f"Untagged sentences of `samples/survey.csv` ({len(candidates)}) and 10,000 Fukui "
        "sentences (random distinct answers, split).")  # fmt: skip
    add("")
    add("| settings | samples/survey.csv | Fukui 10k sentences |")
    add("|---|---:|---:|")
    lines.extend(share_rows)
    add("")
    add("## Proposing a cluster as an addition to a lookup theme (`nearest_theme`)")
    add("")
    add(f"Split-half on `samples/survey.csv`: for each of the {calibration['themes']} lookup "
        "themes with ≥ 6 tagged sentences, half of its sentences make the theme centroid; 3 or "
        "5 of the other half play a cluster of that theme. 5 repeats, "
        f"{calibration['pairs']} pseudo-clusters. The nearest theme is the right one in "
        f"{calibration['nearest_right']:.0%} of them.")  # fmt: skip
    add("")
    add("| propose_threshold | right theme ≥ t (recall) | other theme ≥ t | proposals pointing "
        "to the right theme |")  # fmt: skip
    add("|---:|---:|---:|---:|")
    for t in (0.65, 0.70, 0.75, 0.80):
        add(f"| {t:.2f} | {calibration[f'recall@{t}']:.3f} | {calibration[f'foreign@{t}']:.3f} | "
            f"{calibration[f'right@{t}']:.3f} |")  # fmt: skip
    add("")
    add(ATTRIBUTION)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
