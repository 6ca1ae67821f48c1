"""The semantic layer over the lookup lists: themes from sentence embeddings.

Each theme's profile is a set of reference sentences: the corpus sentences its lookup list
tags (weak labels, a seeded sample per theme) and the analyst's ``examples.match``. A sentence's
score for a theme is the similarity-weighted vote of its ``neighbours`` most similar references
(cosine of sentence embeddings):

    score(s, t) = sum(sim(s, r) for r in the k nearest references if r has theme t) / k

so a score is high only when the nearest references are both close and of that theme. Each
distinct sentence text is scored once and is not its own reference. Then:

- a theme the lists missed is added when its score reaches ``add_at``
  (``source`` = semantic, ``confidence`` = the score, ``evidence`` = the nearest reference of
  that theme: a tagged sentence of the corpus or one of the analyst's examples);
- a lookup hit is vetoed when its theme scores below ``veto_below`` times the sentence's best
  theme score: its nearest references are about something else (「車椅子で入れる席」 is not
  about cars).

A theme with ``semantic: false`` is neither added nor vetoed, and its references vote for no
theme. ``add_at`` and ``veto_below`` were chosen for precision on the tune halves of the Fukui
gold sets (bench/semantic_quality.py, README: Tagging); the frozen halves are only reported.
Deterministic: the same input gives the same tags.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from koe.taggers.lookup import LookupTagger, tags_frame
from koe.taggers.polarity import sentence_polarity
from koe.taggers.tokenize import tokenize

if TYPE_CHECKING:
    from koe.config import SemanticConfig
    from koe.store import RunStore

Embed = Callable[[Sequence[str]], np.ndarray]
_BLOCK = 1024  # sentences scored at a time (bounds the similarity block's memory)


@dataclass(frozen=True)
class SemanticSettings:
    """How the semantic layer decides (koe.yaml ``semantic:``)."""

    enabled: bool = True
    neighbours: int = 30
    add_at: float = 0.40
    veto_below: float = 0.15  # of the sentence's best theme score
    veto_min_references: int = 60  # a theme with fewer tagged sentences is never vetoed
    max_references: int = 1000  # weak labels sampled per theme
    review_reach: float = 0.80  # one decision alone tags (or untags) sentences this close
    seed: int = 0


@dataclass(frozen=True)
class Corrections:
    """Analysts' decisions by sentence text (koe.corrections): ``labels`` text -> theme ->
    True (confirmed or added) / False (rejected); ``polarity`` (text, theme) -> polarity."""

    labels: Mapping[str, Mapping[str, bool]] = field(default_factory=dict)
    polarity: Mapping[tuple[str, str], str] = field(default_factory=dict)

    @classmethod
    def from_decisions(cls, decisions: pd.DataFrame) -> Corrections:
        """From RunStore.decisions (oldest first): the latest decision on a (sentence, theme)
        wins; confirm, add and polarity say the theme is right, reject that it is wrong."""
        labels: dict[str, dict[str, bool]] = {}
        polarity: dict[tuple[str, str], str] = {}
        for d in decisions.itertuples(index=False):
            labels.setdefault(d.sentence, {})[d.theme] = d.action != "reject"
            key = (d.sentence, d.theme)
            if d.action == "polarity":
                polarity[key] = d.polarity
            elif d.action == "reject":
                polarity.pop(key, None)
        return cls(labels, polarity)


def settings_of(config: SemanticConfig, seed: int = 0) -> SemanticSettings:
    """The settings of koe.yaml's ``semantic:`` section and the run's seed."""
    return SemanticSettings(**config.model_dump(), seed=seed)


@dataclass(frozen=True)
class References:
    """The themes' reference sentences: vectors, texts, comment ids and theme memberships."""

    themes: list[str]
    vectors: np.ndarray  # (refs, dim), L2-normalized
    texts: list[str]
    keys: np.ndarray  # (refs,) int: the text's code; -1 for the analyst's examples
    labels: np.ndarray  # (refs, themes) bool
    decided: np.ndarray | None = None  # (refs,) bool: an analyst's decision; None: none
    against: np.ndarray | None = None  # (refs, themes) bool: votes against (rejections)


def _labels(sentences: pd.DataFrame, tags: pd.DataFrame, themes: list[str]) -> np.ndarray:
    """(sentences, themes) bool: ``tags`` has the theme on the sentence."""
    row = {k: i for i, k in enumerate(zip(sentences["id"], sentences["sentence_idx"],
                                          strict=True))}  # fmt: skip
    col = {t: j for j, t in enumerate(themes)}
    y = np.zeros((len(sentences), len(themes)), dtype=bool)
    for cid, idx, theme in zip(tags["id"], tags["sentence_idx"], tags["theme"], strict=True):
        i, j = row.get((cid, int(idx))), col.get(theme)
        if i is not None and j is not None:
            y[i, j] = True
    return y


def semantic_themes(tagger: LookupTagger) -> list[str]:
    """The themes the semantic layer may add or veto (not ``semantic: false``)."""
    return [t.id for t in tagger.lists.themes.values() if t.semantic]


def build_references(
    tagger: LookupTagger,
    texts: Sequence[str],
    labels: np.ndarray,
    vectors: np.ndarray,
    embed: Embed,
    settings: SemanticSettings,
) -> References:
    """A seeded sample of up to ``max_references`` tagged texts per theme, plus every theme's
    ``examples.match``. ``texts``: distinct sentence texts, row-aligned with ``labels`` and
    ``vectors``; a reference's key is its row."""
    themes = semantic_themes(tagger)
    rng = np.random.default_rng(settings.seed)
    chosen: set[int] = set()
    for j in range(labels.shape[1]):
        rows = np.flatnonzero(labels[:, j])
        if len(rows) > settings.max_references:
            rows = rng.choice(rows, settings.max_references, replace=False)
        chosen.update(rows.tolist())
    rows = np.array(sorted(chosen), dtype=np.int64)
    examples = [(j, text) for j, t in enumerate(themes)
                for text in tagger.lists.themes[t].examples_match]  # fmt: skip
    example_labels = np.zeros((len(examples), len(themes)), dtype=bool)
    for n, (j, _) in enumerate(examples):
        example_labels[n, j] = True
    dim = vectors.shape[1]
    example_vectors = (np.asarray(embed([text for _, text in examples]), dtype=np.float32)
                       if examples else np.zeros((0, dim), dtype=np.float32))  # fmt: skip
    return References(
        themes=themes,
        vectors=np.vstack([vectors[rows], example_vectors]).astype(np.float32),
        texts=[*np.asarray(texts, dtype=object)[rows].tolist(), *(t for _, t in examples)],
        keys=np.concatenate([rows, np.full(len(examples), -1, dtype=np.int64)]),
        labels=np.vstack([labels[rows], example_labels]),
    )


def neighbour_scores(
    vectors: np.ndarray, keys: np.ndarray, refs: References, k: int,
    decision_weight: Callable[[int], float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(scores (n, themes) in [0, 1], nearest reference per theme (n, themes), -1 when none
    votes).

    A reference whose key is the text's own is left out (a text never votes for itself).
    ``k`` is capped at half the references per theme, so that in a small corpus one theme's
    references can outvote the others'. An analyst's decision (``refs.decided``) votes
    ``decision_weight(k)`` times, for its confirmed themes and against its rejected ones.
    """
    n, m = len(vectors), len(refs.themes)
    scores = np.zeros((n, m), dtype=np.float64)
    nearest = np.full((n, m), -1, dtype=np.int64)
    if not len(refs.vectors) or not n or not m:
        return scores, nearest
    # a small corpus: at most half of an average theme's references vote
    k = max(1, min(k, len(refs.vectors) // (2 * m)))
    for lo in range(0, n, _BLOCK):
        hi = min(n, lo + _BLOCK)
        sims = vectors[lo:hi].astype(np.float32) @ refs.vectors.T
        sims[keys[lo:hi, None] == refs.keys[None, :]] = -np.inf
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        top_sims = np.take_along_axis(sims, top, axis=1)
        # order the k neighbours by similarity, then reference index: ties stay deterministic
        order = np.lexsort((top, -top_sims), axis=1)
        top = np.take_along_axis(top, order, axis=1)
        top_sims = np.maximum(np.take_along_axis(top_sims, order, axis=1), 0.0)
        votes = refs.labels[top]  # (block, k, themes)
        if refs.decided is None or decision_weight is None:
            scores[lo:hi] = (votes * top_sims[..., None]).sum(axis=1) / k
        else:  # analysts' decisions weigh more, and a rejection votes against its theme
            weights = np.where(refs.decided[top], decision_weight(k), 1.0)
            weighted = top_sims[..., None] * weights[..., None]
            scores[lo:hi] = np.clip(
                ((votes * weighted).sum(axis=1) - (refs.against[top] * weighted).sum(axis=1))
                / k, 0.0, 1.0)  # fmt: skip
        first = np.where(votes.any(axis=1), votes.argmax(axis=1), -1)  # nearest voter's rank
        nearest[lo:hi] = np.where(first >= 0, np.take_along_axis(top, np.maximum(first, 0),
                                                                 axis=1), -1)  # fmt: skip
    return scores, nearest


def semantic_tags(
    tagger: LookupTagger,
    sentences: pd.DataFrame,
    lookup_tags: pd.DataFrame,
    vectors: np.ndarray,
    embed: Embed,
    settings: SemanticSettings = SemanticSettings(),
    corrections: Corrections | None = None,
) -> tuple[pd.DataFrame, dict]:
    """The combined tags of a corpus: lookup tags (minus vetoes) and semantic tags, then the
    analysts' ``corrections``: a rejected (sentence, theme) is dropped wherever the sentence
    appears, a confirmed or added one is kept or added (``source`` review), and each decision
    is a reference that alone tags (or untags) the sentences within cosine ``review_reach``
    of it, unless the other references outvote it: similar sentences follow it.

    Args:
        tagger: the lookup tagger (its themes and lexicon).
        sentences: SentenceFrame of the corpus.
        lookup_tags: its lookup TagFrame.
        vectors: (len(sentences), dim) L2-normalized sentence embeddings, row-aligned.
        embed: embeds the analyst's examples with the model of ``vectors``.

    Returns:
        (TagFrame with ``confidence``, 1.0 for lookup tags, the score for semantic ones;
        info for the manifest: references, added, vetoed).
    """
    lookup_tags = lookup_tags.assign(confidence=1.0)
    if not settings.enabled or not len(sentences) or not semantic_themes(tagger):
        if corrections is not None:  # the decisions themselves still hold
            lookup_tags = _apply_decisions(tagger, sentences, lookup_tags, corrections)
        return lookup_tags, {"references": 0, "added": 0, "vetoed": 0}
    themes = semantic_themes(tagger)
    looked_up = _labels(sentences, lookup_tags, themes)
    # each distinct text is scored once; copies of a text share its labels and scores
    codes, texts = pd.factorize(sentences["sentence"])
    first = np.unique(codes, return_index=True)[1]
    text_labels = np.zeros((len(texts), len(themes)), dtype=bool)
    np.logical_or.at(text_labels, codes, looked_up)
    if corrections is not None:
        _override(text_labels, list(texts), themes, corrections)
    refs = build_references(tagger, list(texts), text_labels, vectors[first], embed, settings)
    if corrections is not None:
        refs = _with_decisions(refs, list(texts), vectors[first], embed, corrections)

    def decision_weight(k: int) -> float:  # a decision alone reaches add_at at review_reach
        return settings.add_at * k / settings.review_reach

    scores, nearest = neighbour_scores(vectors[first], np.arange(len(texts)), refs,
                                       settings.neighbours, decision_weight)  # fmt: skip
    scores, nearest = scores[codes], nearest[codes]
    above = scores >= settings.add_at
    col = {t: j for j, t in enumerate(themes)}
    position = {k: i for i, k in enumerate(zip(sentences["id"], sentences["sentence_idx"],
                                                strict=True))}  # fmt: skip
    # too few references say too little about what a theme is not: no veto
    vetoable = looked_up.sum(axis=0) >= settings.veto_min_references
    keep = np.ones(len(lookup_tags), dtype=bool)
    for n, (cid, idx, theme) in enumerate(zip(lookup_tags["id"], lookup_tags["sentence_idx"],
                                              lookup_tags["theme"], strict=True)):  # fmt: skip
        j, i = col.get(theme), position.get((cid, int(idx)))
        if j is not None and i is not None and vetoable[j]:
            keep[n] = scores[i, j] >= settings.veto_below * scores[i].max()
    add = _outside_exclusions(tagger, sentences, refs.themes, above & ~looked_up)
    rows = _added_rows(tagger, sentences, refs, scores, nearest, add)
    added = tags_frame(rows)
    combined = pd.concat([lookup_tags[keep], added], ignore_index=True)
    if corrections is not None:
        combined = _apply_decisions(tagger, sentences, combined, corrections)
    order = {cid: n for n, cid in enumerate(dict.fromkeys(sentences["id"]))}
    combined = (
        combined.assign(_order=combined["id"].map(order))
        .sort_values(["_order", "sentence_idx", "start", "theme"], kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )
    info = {"references": len(refs.texts), "added": len(rows), "vetoed": int((~keep).sum())}
    return combined, info


def _outside_exclusions(tagger: LookupTagger, sentences: pd.DataFrame, themes: list[str],
                        add: np.ndarray) -> np.ndarray:  # fmt: skip
    """``add`` without the (sentence, theme) pairs where the sentence has one of the theme's
    exclusions: the analyst said the theme is not there, whatever the sentence resembles."""
    excluding = np.array([bool(tagger.lists.themes[t].exclusions) for t in themes], dtype=bool)
    add = add.copy()
    for i in np.nonzero((add & excluding).any(axis=1))[0].tolist():
        excluded = tagger.excluded_themes(sentences["sentence"].iloc[i], sentences["lang"].iloc[i])
        for j in np.nonzero(add[i] & excluding)[0].tolist():
            add[i, j] = themes[j] not in excluded
    return add


def _added_rows(
    tagger: LookupTagger,
    sentences: pd.DataFrame,
    refs: References,
    scores: np.ndarray,
    nearest: np.ndarray,
    add: np.ndarray,
) -> list[dict]:
    add_i, add_j = np.nonzero(add)
    texts = sentences["sentence"].to_numpy()
    starts = sentences["start"].to_numpy()
    rows = []
    for i, j in zip(add_i.tolist(), add_j.tolist(), strict=True):
        theme = tagger.lists.themes[refs.themes[j]]
        start = int(starts[i])
        rows.append({
            "id": sentences["id"].iloc[i], "sentence_idx": int(sentences["sentence_idx"].iloc[i]),
            "theme": theme.id, "theme_name": theme.name, "parent": theme.parent,
            "department": theme.department, "polarity": theme.default_polarity,
            "is_request": False, "source": "semantic", "evidence": refs.texts[nearest[i, j]],
            "start": start, "end": start + len(texts[i]),
            "confidence": round(float(scores[i, j]), 4),
            "_sentence": str(texts[i]), "_lang": sentences["lang"].iloc[i],
        })  # fmt: skip
    _polarities(tagger, rows)
    return rows


def semantic_layer(
    tagger: LookupTagger,
    sentences: pd.DataFrame,
    lookup_tags: pd.DataFrame,
    embedding_model: str,
    store: RunStore | None = None,
    settings: SemanticSettings = SemanticSettings(),
    corrections: Corrections | None = None,
) -> tuple[pd.DataFrame, dict]:
    """:func:`semantic_tags` with the sentences embedded through the store's cache: the stage
    ``koe run`` and ``koe tag`` share. Returns (TagFrame, info: enabled, references, added,
    vetoed)."""
    if not settings.enabled:  # no learning; the decisions themselves still hold
        tags = lookup_tags.assign(confidence=1.0)
        if corrections is not None:
            tags = _apply_decisions(tagger, sentences, tags, corrections)
        return tags, {"enabled": False}
    from koe.models.embedding_cache import embed_with_cache

    vectors, _ = embed_with_cache(list(sentences["sentence"]), embedding_model, store)

    def embed(texts: Sequence[str]) -> np.ndarray:
        return embed_with_cache(list(texts), embedding_model, store)[0]

    tags, info = semantic_tags(tagger, sentences, lookup_tags, vectors, embed, settings,
                               corrections)  # fmt: skip
    return tags, {"enabled": True, **info}


def _polarities(tagger: LookupTagger, rows: list[dict]) -> None:
    """A semantic tag's polarity is its sentence's: the lexicon (a request reads as the
    lexicon's ``request_polarity``, as lookup mentions do), then the fallback model (themes
    whose default polarity is neutral), else the theme's default polarity."""
    open_rows = []
    for row in rows:
        lexicon = tagger.lexicon_of(row["theme"])
        pol = sentence_polarity(tokenize(row["_sentence"], row["_lang"]), lexicon)
        row["is_request"] = bool(pol.is_request)
        if pol.found or pol.is_request:
            row["polarity"] = pol.polarity
        elif row["polarity"] == "neutral":
            open_rows.append(row)
    if tagger.polarity_fallback is not None and open_rows:
        texts = list(dict.fromkeys(r["_sentence"] for r in open_rows))
        verdicts = dict(zip(texts, tagger.polarity_fallback(texts), strict=True))
        for row in open_rows:
            if verdicts[row["_sentence"]] is not None:
                row["polarity"] = verdicts[row["_sentence"]]
    for row in rows:
        del row["_sentence"], row["_lang"]


def _override(labels: np.ndarray, texts: list[str], themes: list[str],
              corrections: Corrections) -> None:  # fmt: skip
    """The corpus texts' weak labels, corrected by the analysts (in place)."""
    row = {t: i for i, t in enumerate(texts)}
    col = {t: j for j, t in enumerate(themes)}
    for text, decided in corrections.labels.items():
        for theme, value in decided.items():
            if text in row and theme in col:
                labels[row[text], col[theme]] = value


def _with_decisions(refs: References, texts: list[str], vectors: np.ndarray, embed: Embed,
                    corrections: Corrections) -> References:  # fmt: skip
    """``refs`` plus one reference per decided text (``decided``): for its confirmed themes
    and against its rejected ones."""
    col = {t: j for j, t in enumerate(refs.themes)}
    decided = [(text, d) for text, d in corrections.labels.items()
               if any(t in col for t in d)]  # fmt: skip
    if not decided:
        return refs
    row = {t: i for i, t in enumerate(texts)}
    outside = [text for text, _ in decided if text not in row]
    extra = dict(zip(outside, np.asarray(embed(outside), dtype=np.float32), strict=True)) \
        if outside else {}  # fmt: skip
    m = len(refs.themes)
    pro, con = np.zeros((len(decided), m), bool), np.zeros((len(decided), m), bool)
    for n, (_, d) in enumerate(decided):
        for theme, value in d.items():
            if theme in col:
                (pro if value else con)[n, col[theme]] = True
    new_vectors = np.stack([vectors[row[t]] if t in row else extra[t] for t, _ in decided])
    decided_before = np.zeros(len(refs.keys), bool) if refs.decided is None else refs.decided
    against = np.zeros_like(refs.labels) if refs.against is None else refs.against
    return References(
        themes=refs.themes,
        vectors=np.vstack([refs.vectors, new_vectors.astype(np.float32)]),
        texts=[*refs.texts, *(t for t, _ in decided)],
        keys=np.concatenate([refs.keys, [row.get(t, -1) for t, _ in decided]]).astype(np.int64),
        labels=np.vstack([refs.labels, pro]),
        decided=np.concatenate([decided_before, np.ones(len(decided), bool)]),
        against=np.vstack([against, con]),
    )


def _apply_decisions(tagger: LookupTagger, sentences: pd.DataFrame, tags: pd.DataFrame,
                     corrections: Corrections) -> pd.DataFrame:  # fmt: skip
    """Drop rejected (sentence, theme) tags, add confirmed ones that are missing and mark
    confirmed semantic ones (source review, confidence 1.0), and set decided polarities; by
    sentence text, wherever it appears."""
    text_of = dict(zip(zip(sentences["id"], sentences["sentence_idx"], strict=True),
                       sentences["sentence"], strict=True))  # fmt: skip
    texts = [text_of.get((cid, int(i)), "") for cid, i in zip(tags["id"], tags["sentence_idx"],
                                                               strict=True)]  # fmt: skip
    keep = [corrections.labels.get(t, {}).get(th) is not False
            for t, th in zip(texts, tags["theme"], strict=True)]  # fmt: skip
    tags = tags.loc[np.asarray(keep, dtype=bool)].copy()  # (a list picks columns when empty)
    texts = [t for t, kept in zip(texts, keep, strict=True) if kept]
    # a semantic guess the analyst confirmed is theirs now
    vouched = np.asarray([corrections.labels.get(t, {}).get(th) is True for t, th in
                          zip(texts, tags["theme"], strict=True)], dtype=bool)  # fmt: skip
    vouched &= (tags["source"] == "semantic").to_numpy()
    tags.loc[vouched, ["source", "confidence"]] = ["review", 1.0]
    present = set(zip(tags["id"], tags["sentence_idx"].astype(int), tags["theme"], strict=True))
    rows = []
    for s in sentences.itertuples(index=False):
        for theme_id, value in corrections.labels.get(s.sentence, {}).items():
            theme = tagger.lists.themes.get(theme_id)
            if not value or theme is None or (s.id, int(s.sentence_idx), theme_id) in present:
                continue
            rows.append({
                "id": s.id, "sentence_idx": int(s.sentence_idx), "theme": theme.id,
                "theme_name": theme.name, "parent": theme.parent, "department": theme.department,
                "polarity": theme.default_polarity, "is_request": False, "source": "review",
                "evidence": s.sentence, "start": int(s.start), "end": int(s.end),
                "confidence": 1.0, "_sentence": s.sentence, "_lang": s.lang,
            })  # fmt: skip
    _polarities(tagger, rows)
    out = pd.concat([tags, tags_frame(rows)], ignore_index=True)
    if corrections.polarity:
        texts += [row["evidence"] for row in rows]  # a review tag's evidence is its sentence
        out["polarity"] = [corrections.polarity.get((t, th)) or q for t, th, q in
                           zip(texts, out["theme"], out["polarity"], strict=True)]  # fmt: skip
    return out
