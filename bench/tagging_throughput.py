"""Throughput of lookup tagging vs tokenization alone, on the same sentences.

    python bench/tagging_throughput.py [--n 20000]

Uses the Fukui survey from ../shared when present
(出典: 福井県観光連盟「福井県観光データ分析システム
FTAS」, CC BY 4.0), else the shipped sample repeated. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import pandas as pd

from koe.ingest.normalize import normalize_text
from koe.taggers.lookup import LookupTagger
from koe.taggers.sentences import split_sentences
from koe.taggers.tokenize import tokenize

ROOT = Path(__file__).resolve().parents[1]
FUKUI = ROOT.parent / "shared/data/fukui/fukui_survey_comments_2022-04_2025-06.csv"


def load_texts(n: int) -> tuple[list[str], str]:
    if FUKUI.is_file():
        texts = pd.read_csv(FUKUI, usecols=["text"])["text"].dropna().astype(str).tolist()
        return texts[:n], f"Fukui survey (first {min(n, len(texts))} answers)"
    sample = pd.read_csv(ROOT / "samples/survey.csv", dtype=str, keep_default_na=False)
    texts = sample["text"].tolist()
    return (texts * (n // len(texts) + 1))[:n], "shipped sample, repeated"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=20000)
    args = parser.parse_args()
    texts, source = load_texts(args.n)
    comments = pd.DataFrame(
        {"id": [str(i) for i in range(len(texts))], "text": [normalize_text(t) for t in texts]}
    )
    sentences = split_sentences(comments)
    tagger = LookupTagger.from_folder(ROOT / "lookup_lists")
    tagger.tag(sentences.head(50))  # warm up (dictionaries, spaCy)

    from sudachipy import Dictionary, SplitMode

    raw = Dictionary(dict="core").create(SplitMode.C)
    t0 = time.perf_counter()
    for sentence in sentences["sentence"]:
        raw.tokenize(sentence)
    raw_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    for sentence, lang in zip(sentences["sentence"], sentences["lang"], strict=True):
        tokenize(sentence, lang)
    tokenize_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    tags = tagger.tag(sentences)
    tag_s = time.perf_counter() - t0

    n_comments = len(comments)
    print(f"# Lookup tagging throughput ({source}; {os.cpu_count()} cores)\n")
    print("| stage | seconds | comments/s | sentences/s |")
    print("|---|---:|---:|---:|")
    stages = (
        ("raw SudachiPy (mode C, all sentences as Japanese)", raw_s),
        ("koe tokenize (mode C; English via spaCy)", tokenize_s),
        ("koe tokenize + lookup tag (modes C+A, polarity)", tag_s),
    )
    for name, seconds in stages:
        print(
            f"| {name} | {seconds:.2f} | {n_comments / seconds:,.0f} | "
            f"{len(sentences) / seconds:,.0f} |"
        )
    print(f"\n{len(sentences)} sentences, {len(tags)} mentions of {len(tagger)} themes; "
          f"tag/tokenize time ratio {tag_s / tokenize_s:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
