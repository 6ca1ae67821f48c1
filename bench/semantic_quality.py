"""Tagging quality on the Fukui gold sets: naive substring vs lookup vs semantic vs combined.

    python -m bench.semantic_quality [--sets fukui_visit,fukui_requests] [--split test]
        [--context period|none] [--request-polarity lists|neutral|negative]
        [--out bench/results/semantic_quality.md]

Each gold set (tests/gold/<set>/) has a theme list written for it, comments and blind labels
(tests/gold/LABELLING_RULES.md). ``--split tune`` is for tuning; ``test`` is the frozen set,
measured only to report. ``--context period`` tags the labelled comments inside every answer to
the same questions in the same months (the night's whole export, as koe run sees it; only the
labelled comments are scored); ``none`` tags the labelled comments alone.
``--request-polarity`` reads a request without a complaint in it as the lists' polarity.yaml
says (``lists``, the default) or as neutral / negative, to compare the two conventions.

Data: 出典: 福井県観光連盟「福井県観光データ分析システム FTAS」, CC BY 4.0.
"""

from __future__ import annotations

import argparse
import time
import unicodedata
from dataclasses import replace
from pathlib import Path

import pandas as pd

from koe.evaluate import evaluate_tags
from koe.ingest.normalize import is_non_answer, normalize_text
from koe.taggers.factory import build_tagger
from koe.taggers.lookup import LookupTagger
from koe.taggers.sentences import split_sentences

REPO = Path(__file__).resolve().parents[1]
GOLD = REPO / "tests" / "gold"
FUKUI = REPO.parent / "shared/data/fukui/fukui_survey_comments_2022-04_2025-06.csv"
PERIODS = {"test": ("2025-04", "2025-06"), "tune": ("2024-04", "2024-09")}


def load_set(name: str, split: str) -> tuple[pd.DataFrame, pd.DataFrame, Path]:
    folder = GOLD / name
    comments = pd.read_csv(folder / f"{split}_comments.csv", dtype=str, keep_default_na=False)
    gold = pd.read_csv(folder / f"{split}_gold.csv", dtype=str, keep_default_na=False)
    return comments, gold, folder / "lists"


def context_of(comments: pd.DataFrame, split: str) -> pd.DataFrame:
    """Every answer to the set's questions in the split's months (the labelled ones included)."""
    lo, hi = PERIODS[split]
    data = pd.read_csv(FUKUI, dtype=str, keep_default_na=False)
    month = data["answered_at"].str[:7]
    keep = data["question_key"].isin(set(comments["question_key"])) & (month >= lo) & (month <= hi)
    return data.loc[keep, ["comment_id", "text"]].rename(columns={"comment_id": "id"})


def prepare(frame: pd.DataFrame) -> pd.DataFrame:
    texts = frame["text"].map(normalize_text)
    keep = ~texts.map(is_non_answer) & (texts.str.strip() != "")
    return pd.DataFrame({"id": frame["id"][keep], "text": texts[keep]}).reset_index(drop=True)


def naive_substring(comments: pd.DataFrame, tagger) -> pd.DataFrame:
    """The baseline: a theme when any of its keywords is a substring of the comment."""
    rows = []
    for cid, text in zip(comments["id"], comments["text"], strict=True):
        low = unicodedata.normalize("NFKC", text).lower()
        for theme in tagger.lists.themes.values():
            words = [unicodedata.normalize("NFKC", k).lower() for k in theme.keywords]
            if any(all(p in low for p in w.split()) for w in words):
                rows.append((cid, theme.id, "neutral", "lookup"))
    return pd.DataFrame(rows, columns=["id", "theme", "polarity", "source"])


def measure(
    name: str,
    split: str,
    context: str,
    settings=None,
    state: str | None = None,
    request_polarity: str = "lists",
) -> dict:
    """The four taggers' scores on one gold set (``state``: a run-state store for the
    embedding cache, e.g. sqlite:////tmp/koe_bench.sqlite, to re-measure quickly;
    ``request_polarity``: "lists", or "neutral" / "negative" to override polarity.yaml's)."""
    from koe.models.embedding_cache import embed_with_cache
    from koe.store import RunStore
    from koe.taggers.semantic import SemanticSettings, semantic_tags

    store = RunStore(state) if state else None

    comments, gold, lists = load_set(name, split)
    corpus = comments[["id", "text"]]
    if context == "period":
        extra = context_of(comments, split)
        corpus = pd.concat([corpus, extra[~extra["id"].isin(set(corpus["id"]))]])
    corpus = prepare(corpus)
    tagger = build_tagger(lists, "koe-default")
    if request_polarity != "lists":
        lexicon = replace(tagger.lexicon, request_polarity=request_polarity)
        tagger = LookupTagger(tagger.lists, lexicon, polarity_fallback=tagger.polarity_fallback)
    sentences = split_sentences(corpus)
    start = time.perf_counter()
    lookup = tagger.tag(sentences)
    vectors, _ = embed_with_cache(list(sentences["sentence"]), "koe-default", store)

    def embed(texts):
        return embed_with_cache(list(texts), "koe-default", store)[0]

    combined, info = semantic_tags(tagger, sentences, lookup, vectors, embed,
                                   settings or SemanticSettings())  # fmt: skip
    seconds = time.perf_counter() - start
    ids = list(comments["id"])
    result = {
        "naive": evaluate_tags(gold, naive_substring(prepare(comments), tagger), ids),
        "lookup": evaluate_tags(gold, lookup.assign(source="lookup"), ids),
        "semantic": evaluate_tags(
            gold, combined[combined["source"] == "semantic"].assign(source="lookup"), ids
        ),
        "combined": evaluate_tags(gold, combined.assign(source="lookup"), ids),
    }
    return {"results": result, "info": info, "seconds": seconds, "corpus": len(corpus),
            "sentences": len(sentences)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", default="fukui_visit,fukui_requests")
    parser.add_argument("--split", default="tune", choices=["tune", "test"])
    parser.add_argument("--context", default="period", choices=["period", "none"])
    parser.add_argument("--state", default=None, help="run-state store URL (embedding cache)")
    parser.add_argument("--request-polarity", default="lists",
                        choices=["lists", "neutral", "negative"])  # fmt: skip
    parser.add_argument("--out", type=Path, default=None, help="append a markdown table here")
    args = parser.parse_args()
    lines = [f"## split {args.split}, context {args.context}, "
             f"request polarity {args.request_polarity}", "",
             "| set | tagger | precision | recall | micro-F1 | macro-F1 | polarity |",
             "|---|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    for name in args.sets.split(","):
        out = measure(name, args.split, args.context, state=args.state,
                      request_polarity=args.request_polarity)  # fmt: skip
        print(f"## {name} ({args.split}, context {args.context}): corpus {out['corpus']}, "
              f"{out['sentences']} sentences, {out['seconds']:.1f}s")  # fmt: skip
        for kind, ev in out["results"].items():
            pol = "—" if kind == "naive" else f"{ev.polarity_accuracy:.3f}"
            print(f"{kind:9s} P {ev.micro_precision:.3f} R {ev.micro_recall:.3f} "
                  f"F1 {ev.micro_f1:.3f} pol {pol}")  # fmt: skip
            lines.append(f"| {name} | {kind} | {ev.micro_precision:.3f} | {ev.micro_recall:.3f} "
                         f"| {ev.micro_f1:.3f} | {ev.macro_f1:.3f} | {pol} |")  # fmt: skip
        print(out["info"])
        lines.append(f"| {name} | (corpus {out['corpus']} comments, {out['sentences']} "
                     f"sentences; {out['info']}) | | | | | |")  # fmt: skip
    if args.out:
        with args.out.open("a", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n\n")


if __name__ == "__main__":
    main()
