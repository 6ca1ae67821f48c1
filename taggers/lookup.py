"""The lookup-list tagger: themes from analyst keywords, matched on normalized forms.

Like spaCy's SpanRuler, many surface patterns map to one canonical theme id. Keywords and
comments go through the same tokenizer, so Sudachi's normalized forms absorb 表記ゆれ
(問合せ = 問い合わせ = お問い合わせ) and English matches on lower-cased lemmas. Compounds are
also matched on their mode-A parts (返信 inside 返信速度). A keyword with spaces matches its parts
in order within ``window`` tokens.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from koe.core.frames import TAG_COLUMNS, TAGS_CSV_COLUMNS
from koe.taggers.lookup_lists import LookupLists, Theme, load_lookup_lists
from koe.taggers.patterns import search as search_pattern
from koe.taggers.polarity import (
    PolarityLexicon,
    mention_polarity,
    pattern_of,
    request_span,
    sentence_polarity,
)
from koe.taggers.sentences import split_text
from koe.taggers.tokenize import Token, detect_language, tokenize, tokenize_modes

Part = tuple[str, ...]


@dataclass(frozen=True)
class KeywordPattern:
    theme: str
    parts: tuple[Part, ...]  # one part per space-separated piece of the keyword
    text: str


@dataclass(frozen=True)
class Mention:
    theme: str
    tok_start: int
    tok_end: int
    char_start: int
    char_end: int


def _compile(keyword: str, theme: str, split_a: bool) -> KeywordPattern | None:
    pieces = [keyword] if keyword.isascii() else keyword.split()
    parts = []
    for piece in pieces:
        lang = detect_language(piece)
        tokens = tokenize(piece, lang, split_a=split_a and lang == "ja")
        part = tuple(t.norm for t in tokens if t.pos not in ("補助記号", "PUNCT"))
        if not part:
            return None
        parts.append(part)
    return KeywordPattern(theme, tuple(parts), keyword)


class _PatternIndex:
    """Keyword patterns indexed by their first token, for one tokenization mode."""

    def __init__(self, patterns: Iterable[KeywordPattern], window: int) -> None:
        self.window = window
        self.by_first: dict[str, list[KeywordPattern]] = {}
        for p in patterns:
            self.by_first.setdefault(p.parts[0][0], []).append(p)

    def find(self, tokens: list[Token]) -> list[Mention]:
        norms = [t.norm for t in tokens]
        found = []
        for i, norm in enumerate(norms):
            for p in self.by_first.get(norm, ()):
                end = self._match(norms, i, p.parts)
                if end is not None:
                    found.append(Mention(p.theme, i, end, tokens[i].start, tokens[end - 1].end))
        return found

    def _match(self, norms: list[str], i: int, parts: tuple[Part, ...]) -> int | None:
        first = parts[0]
        if tuple(norms[i : i + len(first)]) != first:
            return None
        pos = i + len(first)
        for part in parts[1:]:
            for j in range(pos, min(len(norms), pos + self.window + 1)):
                if tuple(norms[j : j + len(part)]) == part:
                    pos = j + len(part)
                    break
            else:
                return None
        return pos


# a keyword may end inside one of these (a stem: 人が多|かった, 迷|った, 開いていな|い)
_INFLECTED = frozenset({"動詞", "形容詞", "助動詞"})


class _FragmentIndex:
    """Japanese keywords matched on the surface, for fragments and stems that do not align
    with Sudachi's tokens (人が多, 開いていな, 迷). A match must start where a token starts and
    end where a token ends, or inside an inflected word: 迷 matches 迷った but 道 does not match
    北海道 and 海 does not match 海鮮."""

    def __init__(self, keywords: Iterable[tuple[str, str]]) -> None:
        self.by_first: dict[str, list[tuple[str, str]]] = {}
        for keyword, theme in keywords:
            if keyword.isascii() or " " in keyword:
                continue
            surface = unicodedata.normalize("NFKC", keyword).lower()
            self.by_first.setdefault(surface[0], []).append((surface, theme))
        for entries in self.by_first.values():
            entries.sort(key=lambda e: -len(e[0]))  # longest first

    def find(self, sentence: str, modes: tuple[list[Token], ...]) -> list[Mention]:
        if not self.by_first:
            return []
        text = sentence.lower()
        if len(text) != len(sentence):
            return []
        starts = {t.start: i for tokens in reversed(modes) for i, t in enumerate(tokens)}
        ends = {t.end for tokens in modes for t in tokens}
        inside = {}  # character position -> pos of the mode-C token spanning it
        found = []
        for start in sorted(starts):
            for surface, theme in self.by_first.get(text[start], ()):
                end = start + len(surface)
                if not text.startswith(surface, start):
                    continue
                if end not in ends:
                    if not inside:
                        inside = {c: t.pos for t in modes[0] for c in range(t.start + 1, t.end)}
                    if inside.get(end) not in _INFLECTED:
                        continue
                found.append(Mention(theme, starts[start], starts[start] + 1, start, end))
        return found


def _leftmost_longest(m: Mention) -> tuple[int, int]:
    return (m.char_start, m.char_start - m.char_end)


def _text_of(sentence: str, tokens: list[Token], span: tuple[int, int]) -> str:
    """The sentence text covered by the token range ``span`` (the sentence if empty)."""
    lo, hi = span
    return sentence[tokens[lo].start : tokens[hi - 1].end] if hi > lo else sentence


def _span_in(tokens: list[Token], mention: Mention) -> tuple[int, int]:
    """Token index range of ``tokens`` covering the mention's characters."""
    inside = [
        i for i, t in enumerate(tokens) if t.end > mention.char_start and t.start < mention.char_end
    ]
    return (inside[0], inside[-1] + 1) if inside else (0, len(tokens))


class LookupTagger:
    """Tag sentences with lookup-list themes and per-mention polarity.

    Args:
        lists: loaded lookup lists.
        lexicon: the polarity lexicon.
        window: max tokens between the parts of a spaced keyword.
        polarity_fallback: classifies sentences (a list of texts) as positive / negative /
            neutral, or None for "no opinion"; used for mentions where no sentiment word of
            the lexicon is in reach (see ``models.polarity_model``). None: lexicon only.
    """

    def __init__(
        self,
        lists: LookupLists,
        lexicon: PolarityLexicon,
        window: int = 4,
        polarity_fallback: Callable[[list[str]], list[str | None]] | None = None,
    ) -> None:
        self.lists = lists
        self.lexicon = lexicon
        self.window = window
        self.polarity_fallback = polarity_fallback
        self._request_catchers = tuple(
            t for t in lists.themes.values() if t.catch_requests and t.parent
        )
        keywords_c, keywords_a, excl_c, excl_a = [], [], [], []
        for theme in lists.themes.values():
            for kw in theme.keywords:
                keywords_c.append(_compile(kw, theme.id, False))
                keywords_a.append(_compile(kw, theme.id, True))
            for kw in theme.exclusions:
                excl_c.append(_compile(kw, theme.id, False))
                excl_a.append(_compile(kw, theme.id, True))
        self._keywords = (
            _PatternIndex([p for p in keywords_c if p], window),
            _PatternIndex([p for p in keywords_a if p], window),
        )
        self._exclusions = (
            _PatternIndex([p for p in excl_c if p], window),
            _PatternIndex([p for p in excl_a if p], window),
        )
        self._theme_lexicons = {
            t.id: lexicon.with_words(t.positive_words, t.negative_words)
            for t in lists.themes.values()
            if t.positive_words or t.negative_words
        }
        self._fragments = _FragmentIndex(
            (kw, theme.id) for theme in lists.themes.values() for kw in theme.keywords
        )

    @classmethod
    def from_folder(
        cls,
        folder: str | Path,
        polarity_fallback: Callable[[list[str]], list[str | None]] | None = None,
    ) -> LookupTagger:
        """Load the theme lists of a lookup-list folder, with koe's polarity lexicon extended by
        the folder's polarity.yaml, if any (PolarityLexicon.for_folder)."""
        folder = Path(folder)
        return cls(
            load_lookup_lists(folder),
            PolarityLexicon.for_folder(folder),
            polarity_fallback=polarity_fallback,
        )

    def lexicon_of(self, theme_id: str) -> PolarityLexicon:
        """The polarity lexicon a theme's mentions are read with (its ``polarity_words``)."""
        return self._theme_lexicons.get(theme_id, self.lexicon)

    @property
    def labels(self) -> tuple[str, ...]:
        return self.lists.labels

    def __len__(self) -> int:
        return len(self.lists)

    def __contains__(self, theme_id: object) -> bool:
        return theme_id in self.lists

    def _excluded(self, modes: tuple[list, ...]) -> set[str]:
        return {m.theme for index, tokens in zip(self._exclusions, modes, strict=False)
                for m in index.find(tokens)}  # fmt: skip

    def excluded_themes(self, sentence: str, lang: str | None = None) -> set[str]:
        """The themes one of whose exclusions is in ``sentence``: never tagged there."""
        tokens_c, tokens_a = tokenize_modes(sentence, lang or detect_language(sentence))
        return self._excluded((tokens_c, tokens_a) if tokens_a is not tokens_c else (tokens_c,))

    def match_sentence(self, sentence: str, lang: str | None = None) -> list[dict]:
        """Tag one sentence; returns one dict per theme with polarity and evidence offsets."""
        lang = lang or detect_language(sentence)
        tokens_c, tokens_a = tokenize_modes(sentence, lang)
        # Mode A only adds matches when some compound was split (else it is the same list).
        modes = (tokens_c, tokens_a) if tokens_a is not tokens_c else (tokens_c,)
        excluded = self._excluded(modes)
        # One mention per theme and sentence: the leftmost, then the longest.
        best: dict[str, Mention] = {}
        for index, tokens in zip(self._keywords, modes, strict=False):
            for m in index.find(tokens):
                if m.theme not in excluded and (
                    m.theme not in best or _leftmost_longest(m) < _leftmost_longest(best[m.theme])
                ):
                    best[m.theme] = m
        for m in self._fragments.find(sentence, modes):
            if m.theme not in excluded and m.theme not in best:
                best[m.theme] = m
        for theme in self.lists.themes.values():
            if theme.id in excluded or theme.id in best:
                continue
            for pattern in theme.regex:
                found = search_pattern(pattern, sentence)
                if found:
                    tok = next((i for i, t in enumerate(tokens_c) if t.end > found.start()), 0)
                    best[theme.id] = Mention(theme.id, tok, tok + 1, found.start(), found.end())
                    break
        themes = self.lists.themes
        specific_parents = {themes[t].parent for t in best if not themes[t].fallback}
        for theme_id in [t for t in best if themes[t].fallback]:
            if themes[theme_id].parent and themes[theme_id].parent in specific_parents:
                del best[theme_id]  # a catch-all yields to a more specific sibling
        self._catch_requests(tokens_c, best)
        out = []
        for theme_id in sorted(best, key=lambda t: (best[t].char_start, t)):
            mention = best[theme_id]
            theme: Theme = self.lists.themes[theme_id]
            # Polarity is always read on mode-C tokens, like the lexicon's own patterns.
            pol = mention_polarity(
                tokens_c, _span_in(tokens_c, mention), self.lexicon_of(theme.id),
                theme.default_polarity,
            )
            out.append(
                {
                    "theme": theme.id,
                    "theme_name": theme.name,
                    "parent": theme.parent,
                    "department": theme.department,
                    "polarity": pol.polarity,
                    "is_request": pol.is_request,
                    "evidence": sentence[mention.char_start : mention.char_end],
                    "start": mention.char_start,
                    "end": mention.char_end,
                    "_found": pol.found,
                    "_scope": _text_of(sentence, tokens_c, (pol.scope[0], len(tokens_c))),
                }
            )
        return out

    def _catch_requests(self, tokens: list[Token], best: dict[str, Mention]) -> None:
        """Add ``catch_requests`` themes to a request sentence (〜してほしい, wish) that mentions a
        theme under the same parent: 「Slackに通知を飛ばせるようにしてほしい」 is a feature
        request about integrations. The evidence is the request marker. (A request without any
        theme — 「これからも頑張ってください」「また利用したい」 — is left alone.)"""
        parents = {self.lists.themes[t].parent for t in best}
        catchers = [
            t for t in self._request_catchers if t.id not in best and t.parent in parents
        ]  # fmt: skip
        if not catchers:
            return
        span = request_span(tokens, self.lexicon)
        if span is None:
            return
        char_start, char_end = tokens[span[0]].start, tokens[span[1] - 1].end
        for theme in catchers:
            best[theme.id] = Mention(theme.id, span[0], span[1], char_start, char_end)

    def tag(self, sentences: pd.DataFrame) -> pd.DataFrame:
        """Tag a SentenceFrame.

        Args:
            sentences: SentenceFrame (id, sentence_idx, sentence, start, end, lang).

        Returns:
            TagFrame (koe.core.frames) with source "lookup"; offsets relative to the comment text.
        """
        rows = []
        hits_of = []
        records = list(
            zip(
                sentences["id"],
                sentences["sentence_idx"],
                sentences["sentence"],
                sentences["start"],
                sentences["lang"],
                strict=True,
            )
        )
        for cid, idx, sentence, offset, lang in records:
            hits = self.match_sentence(sentence, lang)
            hits_of.append(hits)
            for hit in hits:
                hit.update(
                    id=cid,
                    sentence_idx=int(idx),
                    source="lookup",
                    start=int(offset) + hit["start"],
                    end=int(offset) + hit["end"],
                )
                rows.append(hit)
        self._inherit_next_sentence(records, hits_of)
        self._apply_fallback(records, hits_of)
        for row in rows:
            row.pop("_found")
            row.pop("_open", None)
            row.pop("_scope")
        return tags_frame(rows)

    def _inherit_next_sentence(self, records: list[tuple], hits_of: list[list[dict]]) -> None:
        """A mention whose sentence carries no sentiment takes the next sentence's, when that
        sentence of the same comment names no topic of its own: it mentions no theme
        (「回答まで一週間かかった。遅すぎる。」), or only through an evaluation word that is a
        theme's keyword (「ダッシュボードを会議で映しています。見やすいと好評です。」).
        """
        for i, hits in enumerate(hits_of[:-1]):
            following = records[i + 1]
            pending = [h for h in hits if not h["_found"]]
            # the cheap checks first: most sentences have no mention left without a sentiment
            if not pending or following[0] != records[i][0] or not all(
                self._is_evaluation(h["evidence"], following[4]) for h in hits_of[i + 1]
            ):
                continue
            pol = sentence_polarity(tokenize(following[2], following[4]), self.lexicon)
            if pol.found and not pol.is_request:
                for hit in pending:
                    hit["polarity"] = pol.polarity
                    hit["_found"] = True

    def _is_evaluation(self, evidence: str, lang: str | None) -> bool:
        """Is a mention's evidence itself a sentiment word (見やすい, 高い), not a topic?"""
        return sentence_polarity(tokenize(evidence, lang), self.lexicon).found

    def _apply_fallback(self, records: list[tuple], hits_of: list[list[dict]]) -> None:
        """Mentions still without a sentiment word take the fallback classifier's reading of
        their sentence. Requests stay as the lexicon left them (a wish is not a complaint), and
        so do themes whose list sets a default polarity (the analyst's rule wins)."""
        if self.polarity_fallback is None:
            return
        for hits in hits_of:
            for hit in hits:
                open_ = not hit["_found"] and not hit["is_request"]
                theme = self.lists.themes[hit["theme"]]
                hit["_open"] = open_ and theme.default_polarity == "neutral"
        texts = list(dict.fromkeys(h["_scope"] for hits in hits_of for h in hits if h["_open"]))
        if not texts:
            return
        verdicts = dict(zip(texts, self.polarity_fallback(texts), strict=True))
        for hits in hits_of:
            for hit in hits:
                if hit["_open"] and verdicts[hit["_scope"]] is not None:
                    hit["polarity"] = verdicts[hit["_scope"]]

    def normalized_keywords(self, theme_id: str) -> list[tuple[str, str]]:
        """(keyword, normalized token pattern) pairs of a theme, for `koe lists show`."""
        theme = self.lists.themes[theme_id]
        return [(kw, " ".join(pattern_of(kw))) for kw in theme.keywords]


def tags_frame(rows: list[dict]) -> pd.DataFrame:
    """Build a TagFrame with the documented columns and dtypes from row dicts."""
    frame = pd.DataFrame(rows, columns=list(TAG_COLUMNS))
    frame["confidence"] = pd.to_numeric(frame["confidence"]).fillna(1.0)
    return frame.astype(
        {"sentence_idx": "int64", "start": "int64", "end": "int64", "is_request": "bool",
         "confidence": "float64"}
    )


def to_tags_csv(tags: pd.DataFrame) -> pd.DataFrame:
    """Collapse mentions to the tags.csv contract: one row per (comment, theme).

    Polarity of a theme mentioned several times in one comment: the majority, ties going to
    negative (complaints are what the follow-up needs to see), then positive. Evidence texts
    are joined with " / ". Extra columns after the contract: start, end (first mention),
    is_request (any mention), confidence (the highest of the theme's mentions).
    """
    columns = [*TAGS_CSV_COLUMNS, "start", "end", "is_request", "confidence"]
    if tags.empty:
        return pd.DataFrame(columns=columns)
    rank = {"negative": 0, "positive": 1, "neutral": 2}
    groups: dict[tuple, dict] = {}  # (id, theme) in order of first mention
    if "confidence" not in tags:
        tags = tags.assign(confidence=1.0)
    fields = ["id", "theme", "department", "polarity", "source", "evidence", "start", "end",
              "is_request", "confidence"]  # fmt: skip
    for cid, theme, dept, pol, source, evidence, start, end, request, confidence in zip(
        *(tags[c].tolist() for c in fields), strict=True
    ):
        group = groups.get((cid, theme))
        if group is None:
            groups[(cid, theme)] = group = {
                "id": cid, "theme": theme, "department": dept, "source": source,
                "start": int(start), "end": int(end), "is_request": False,
                "votes": {}, "evidence": {}, "confidence": 0.0,
            }  # fmt: skip
        group["votes"][pol] = group["votes"].get(pol, 0) + 1
        group["evidence"][evidence] = None
        group["is_request"] = group["is_request"] or bool(request)
        group["confidence"] = max(group["confidence"], round(float(confidence), 4))
    rows = []
    for group in groups.values():
        votes = group.pop("votes")
        group["polarity"] = min(votes, key=lambda p: (-votes[p], rank[p]))
        group["evidence"] = " / ".join(group["evidence"])
        rows.append(group)
    return pd.DataFrame(rows, columns=columns)


def check_examples(tagger: LookupTagger) -> list[str]:
    """Run every theme's example comments; return one message per failed example."""
    failures = []
    for theme in tagger.lists.themes.values():
        for text, expected in [(t, True) for t in theme.examples_match] + [
            (t, False) for t in theme.examples_no_match
        ]:
            found = any(
                hit["theme"] == theme.id
                for s, e in split_text(text)
                for hit in tagger.match_sentence(text[s:e])
            )
            if found != expected:
                verb = "should match but did not" if expected else "should not match but did"
                failures.append(f"{theme.file}:{theme.line}: {theme.id}: {text!r} {verb}")
    return failures
