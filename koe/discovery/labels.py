"""Readable labels of emergent themes: c-TF-IDF keywords over Sudachi content words, shown in
the forms a reader expects, and the keywords that would catch a cluster as a lookup theme."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

from koe.taggers.tokenize import content_words, tokenize

_INFLECTING = frozenset({"動詞", "形容詞", "VERB", "ADJ"})
_NOUNS = frozenset({"名詞", "NOUN", "PROPN"})


def ctfidf_keywords(docs_per_cluster: Sequence[Sequence[str]], top_n: int = 6) -> list[list[str]]:
    """Top c-TF-IDF words per cluster (BERTopic's class-based TF-IDF).

    Args:
        docs_per_cluster: for each cluster, the content words of all its members.
        top_n: keywords per cluster.
    """
    counts = [Counter(words) for words in docs_per_cluster]
    total: Counter[str] = Counter()
    for c in counts:
        total.update(c)
    avg_words = sum(total.values()) / max(len(counts), 1)
    out = []
    for c in counts:
        size = sum(c.values()) or 1
        scored = sorted(((c[w] / size) * math.log(1 + avg_words / total[w]), w) for w in c)
        scored.sort(key=lambda sw: (-sw[0], sw[1]))
        out.append([w for _, w in scored[:top_n]])
    return out


def catch_keywords(
    word_sets: Sequence[frozenset[str]],
    members: np.ndarray,
    weights: np.ndarray,
    candidates: Sequence[str],
    *,
    max_keywords: int = 5,
    min_precision: float = 0.5,
    min_support: float = 0.05,
) -> tuple[list[str], float, float]:
    """Keywords that would catch a cluster as a lookup theme.

    Greedy over ``candidates`` (c-TF-IDF order; discovery passes nouns only, as the lookup lists
    mark themes with nouns and leave evaluative words to the polarity lexicon): a word is taken
    when at least ``min_precision`` of the (weighted) texts containing it are members, at least
    ``min_support`` of the members (and 2) contain it, and it covers a member not yet covered.

    Args:
        word_sets: content words of every text clustered in the run.
        members: boolean mask of the cluster's texts.
        weights: rows per text.
        candidates: words to consider, best first.

    Returns:
        (keywords, coverage: share of members containing one of them, precision: share of
        texts containing one of them that are members; NaN when no keyword was found).
    """
    members = np.asarray(members, dtype=bool)
    covered = np.zeros(len(word_sets), dtype=bool)
    chosen: list[str] = []
    support = max(2.0, min_support * weights[members].sum())
    for word in candidates:
        has = np.fromiter((word in s for s in word_sets), dtype=bool, count=len(word_sets))
        hit = weights[has].sum()
        in_members = weights[has & members].sum()
        if not hit or in_members < support or in_members / hit < min_precision:
            continue
        if not (has & members & ~covered).any():
            continue
        chosen.append(word)
        covered |= has
        if len(chosen) == max_keywords:
            break
    member_weight = weights[members].sum()
    if not chosen or not member_weight:
        return chosen, 0.0, math.nan
    coverage = weights[covered & members].sum() / member_weight
    precision = weights[covered & members].sum() / weights[covered].sum()
    return chosen, float(coverage), float(precision)


def words_with_display(text: str) -> list[tuple[str, str, bool]]:
    """(key, display, is_noun) per content word.

    The key is the normalized form (what c-TF-IDF counts and lookup lists match on), the display
    form what a reader expects: the surface of a noun (ゴミ箱, not the normalized 塵箱), the
    dictionary form of a verb or adjective.
    """
    out = []
    for token in tokenize(text):
        key = content_words([token])
        if key:
            inflecting = token.pos in _INFLECTING
            out.append((key[0], token.lemma if inflecting else token.surface,
                        token.pos in _NOUNS or (token.pos == "X" and token.norm.isalpha())))
    return out
