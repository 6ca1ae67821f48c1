"""Tokenization: SudachiPy for Japanese, spaCy lemmas for English.

The hot path uses SudachiPy directly (tens of thousands of short sentences per second per core);
English goes through ``spacy.blank("en")`` with the lookup lemmatizer from spacy-lookups-data,
so no model download is ever needed.

A :class:`Token` keeps what the taggers need: the surface, a matching key (Sudachi normalized
form, or the English lemma, lower-cased), the dictionary form, the coarse part of speech and
character offsets in the tokenized text. Tokens are plain named tuples: cheap and picklable.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

JA_CHARS = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uff66-\uff9f]")
LATIN_CHARS = re.compile(r"[A-Za-z]")

# Coarse POS that carry meaning for keyword labels (c-TF-IDF) and matching.
CONTENT_POS = frozenset({"名詞", "動詞", "形容詞", "形状詞", "NOUN", "VERB", "ADJ", "PROPN"})


class Token(NamedTuple):
    surface: str
    norm: str  # matching key: Sudachi normalized form / English lemma, lower-cased
    lemma: str  # dictionary form
    pos: str  # coarse part of speech (Sudachi's first level, or a spaCy-like tag for English)
    pos2: str  # second level (e.g. 接続助詞), "" for English
    start: int  # character offsets in the tokenized text
    end: int


def detect_language(text: str) -> str:
    """Return "ja" if the text has any kana/kanji, "en" if it has Latin letters, else "ja"."""
    if JA_CHARS.search(text):
        return "ja"
    if LATIN_CHARS.search(text):
        return "en"
    return "ja"


class SudachiTokenizer:
    """A thread-local SudachiPy tokenizer in split mode C, with mode-A sub-tokens on request.

    Args:
        dict_name: the Sudachi dictionary package ("core", "small", "full").
    """

    def __init__(self, dict_name: str = "core") -> None:
        self.dict_name = dict_name
        self._local = threading.local()

    def _tokenizers(self):
        if not hasattr(self._local, "mode_c"):
            try:
                from sudachipy import Dictionary, SplitMode
            except ImportError as exc:  # pragma: no cover - a dependency of koe
                raise RuntimeError(
                    "SudachiPy is not installed: run the setup command in README.md"
                ) from exc
            dictionary = Dictionary(dict=self.dict_name)
            self._local.mode_c = dictionary.create(SplitMode.C)
            self._local.mode_a = SplitMode.A
            self._local.pos_of = _PosCache(dictionary)
        return self._local.mode_c, self._local.mode_a

    def __getstate__(self) -> dict[str, str]:
        return {"dict_name": self.dict_name}

    def __setstate__(self, state: dict[str, str]) -> None:
        self.__init__(state["dict_name"])  # type: ignore[misc]

    def tokenize(self, text: str, *, split_a: bool = False) -> list[Token]:
        """Tokenize in mode C; with ``split_a`` compounds are replaced by their mode-A parts."""
        return self.tokenize_modes(text, with_a=split_a)[1 if split_a else 0]

    def tokenize_modes(self, text: str, *, with_a: bool = True) -> tuple[list[Token], list[Token]]:
        """Mode-C tokens and mode-A tokens of ``text`` from a single Sudachi pass.

        Texts longer than Sudachi's input limit (~49 KB) are tokenized in chunks cut at a
        punctuation mark or space where possible; offsets stay relative to ``text``.
        """
        mode_c: list[Token] = []
        mode_a: list[Token] = []
        for offset, chunk in _chunks(text, MAX_CHUNK_CHARS):
            c, a = self._tokenize_chunk(chunk, with_a)
            if offset:
                c = [t._replace(start=t.start + offset, end=t.end + offset) for t in c]
                a = (
                    [t._replace(start=t.start + offset, end=t.end + offset) for t in a]
                    if a is not c
                    else c
                )
            mode_c.extend(c)
            mode_a.extend(a)
        return mode_c, mode_a

    def _tokenize_chunk(self, text: str, with_a: bool) -> tuple[list[Token], list[Token]]:
        tokenizer, split_mode_a = self._tokenizers()
        pos_of = self._local.pos_of
        mode_c: list[Token] = []
        mode_a: list[Token] = []
        split = False
        for m in tokenizer.tokenize(text):
            token = _token(m, pos_of)
            if token is None:
                continue
            mode_c.append(token)
            # A single character is never a compound: skip the split call.
            parts = m.split(split_mode_a) if with_a and token.end - token.start > 1 else ()
            if len(parts) > 1:
                split = True
                mode_a.extend(t for t in (_token(p, pos_of) for p in parts) if t is not None)
            else:
                mode_a.append(token)
        return mode_c, (mode_a if split else mode_c)


class _PosCache(dict):
    """Part-of-speech tuples by id: one dictionary lookup per POS, not one tuple per token."""

    def __init__(self, dictionary) -> None:
        super().__init__()
        self._dictionary = dictionary

    def __missing__(self, pos_id: int) -> tuple[str, ...]:
        pos = self[pos_id] = tuple(self._dictionary.pos_of(pos_id))
        return pos


def _token(m, pos_of: _PosCache) -> Token | None:
    pos = pos_of[m.part_of_speech_id()]
    if pos[0] == "空白":
        return None
    return Token(
        m.surface(), m.normalized_form().lower(), m.dictionary_form(), pos[0], pos[1],
        m.begin(), m.end(),
    )  # fmt: skip


# Sudachi refuses inputs over 49,149 bytes; 8,000 characters stay below it even at 4 bytes each.
MAX_CHUNK_CHARS = 8000
_CUT = re.compile(r"[。．！？!?、,\s]")


def _chunks(text: str, size: int) -> list[tuple[int, str]]:
    """Split ``text`` into (offset, chunk) pieces of at most ``size`` characters."""
    if len(text) <= size:
        return [(0, text)]
    out = []
    start = 0
    while start < len(text):
        end = min(start + size, len(text))
        if end < len(text):
            cuts = [m.end() for m in _CUT.finditer(text, start + size // 2, end)]
            end = cuts[-1] if cuts else end
        out.append((start, text[start:end]))
        start = end
    return out


@lru_cache(maxsize=1)
def _english_pipeline():
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


_EN_POS = {"be": "AUX", "not": "PART"}


def tokenize_english(text: str) -> list[Token]:
    """Tokenize English with spaCy's rule tokenizer and lookup lemmas (lower-cased)."""
    tokens: list[Token] = []
    for offset, chunk in _chunks(text, MAX_CHUNK_CHARS):
        tokens.extend(
            t._replace(start=t.start + offset, end=t.end + offset)
            for t in _tokenize_english_chunk(chunk)
        )
    return tokens


def _tokenize_english_chunk(text: str) -> list[Token]:
    lowered = text.lower()
    if len(lowered) != len(text):  # rare Unicode case mappings change lengths: keep offsets right
        lowered = text
    doc = _english_pipeline()(lowered)
    tokens = []
    for tok in doc:
        if tok.is_space:
            continue
        lemma = (tok.lemma_ or tok.text).lower()
        pos = "PUNCT" if tok.is_punct else _EN_POS.get(lemma, "X")
        surface = text[tok.idx : tok.idx + len(tok.text)]
        tokens.append(Token(surface, lemma, lemma, pos, "", tok.idx, tok.idx + len(tok.text)))
    return tokens


_DEFAULT_SUDACHI = SudachiTokenizer()


def tokenize(text: str, lang: str | None = None, *, split_a: bool = False) -> list[Token]:
    """Tokenize one sentence with the tokenizer for its language."""
    lang = lang or detect_language(text)
    if lang == "en":
        return tokenize_english(text)
    return _DEFAULT_SUDACHI.tokenize(text, split_a=split_a)


def tokenize_modes(text: str, lang: str | None = None) -> tuple[list[Token], list[Token]]:
    """(mode C, mode A) tokens for Japanese; English tokens twice (it has no compounds)."""
    lang = lang or detect_language(text)
    if lang == "en":
        tokens = tokenize_english(text)
        return tokens, tokens
    return _DEFAULT_SUDACHI.tokenize_modes(text)


def content_words(tokens: Iterable[Token]) -> list[str]:
    """Normalized forms of content words: nouns, verbs, adjectives (no particles/auxiliaries).

    Used for cluster labels. Single kana characters, numbers and non-independent words
    (する, なる, ある as 非自立可能) are dropped.
    """
    from spacy.lang.en.stop_words import STOP_WORDS

    out = []
    for t in tokens:
        if t.pos not in CONTENT_POS and not (t.pos == "X" and t.norm.isalpha()):
            continue
        if t.pos == "X" and t.norm in STOP_WORDS:
            continue
        if t.pos2 in {"非自立可能", "数詞"} or (len(t.norm) < 2 and not JA_CHARS.search(t.norm)):
            continue
        if len(t.norm) == 1 and re.match(r"[\u3040-\u30ff]", t.norm):
            continue
        out.append(t.lemma if t.pos in {"動詞", "形容詞"} else t.norm)
    return out
