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
from collections import OrderedDict
from collections.abc import Iterable
from functools import lru_cache, partial
from typing import Any, NamedTuple

JA_CHARS = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uff66-\uff9f]")
LATIN_CHARS = re.compile(r"[A-Za-z]")

# Coarse POS that carry meaning for keyword labels (c-TF-IDF) and matching.
CONTENT_POS = frozenset({"名詞", "動詞", "形容詞", "形状詞", "NOUN", "VERB", "ADJ", "PROPN"})
# Closed classes that Sudachi tags as ordinary nouns and verbs but that say nothing about a
# topic: formal nouns (こと, ため, 時 …, by normalized form) and light verbs (による, と思う …).
FORMAL_NOUNS = frozenset(
    "こと もの ため とき ところ よう ほう わけ はず 事 物 為 時 所 様 方 感じ 場合 際 等 他 "
    "以外 以上 以下 中 的 点 訳 筈 積もり 上 内 前 後 "
    "辺り 毎 位 程 頃 度 今回 今日 自分 皆 人達 色々 沢山 特 皆さん 何 誰 其れ 此れ".split()
)
LIGHT_VERBS = frozenset(
    "よる 因る 依る 思う 言う 感じる 致す 頂く 頂ける 下さる 居る おる 貰う 成る 為る 有る".split()
)


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


# Sentences whose tokens a tokenizer keeps per thread (about 3 KB each with mode-A tokens).
SENTENCE_CACHE_SIZE = 10_000


class SudachiTokenizer:
    """A thread-local SudachiPy tokenizer in split mode C, with mode-A sub-tokens on request.

    Exact speed-ups over reading every field of every Sudachi morpheme (same tokens):

    - what a token takes from the dictionary (normalized form, dictionary form, POS, whether
      mode A splits it) is cached by Sudachi word id, so most morphemes cost three cheap calls
      (``word_id``, ``begin``, ``end``); the surface is a slice of the text;
    - Sudachi's output list is reused between calls (``out=``);
    - survey answers repeat a lot ("特になし。"): a sentence seen twice has its tokens kept
      (least recently used dropped first, ``cache_size`` sentences per thread). Texts seen
      once only cost an entry in a bounded list of seen texts; texts over ``MAX_CACHED_CHARS``
      are never kept. This helps duplicate-heavy input only.

    Args:
        dict_name: the Sudachi dictionary package ("core", "small", "full").
        cache_size: sentences whose tokens are kept per thread; 0 disables the sentence cache.
    """

    def __init__(self, dict_name: str = "core", cache_size: int = SENTENCE_CACHE_SIZE) -> None:
        self.dict_name = dict_name
        self.cache_size = cache_size
        self._local = threading.local()

    def _state(self) -> _SudachiState:
        try:
            return self._local.state
        except AttributeError:
            state = self._local.state = _SudachiState(self.dict_name)
            return state

    def __getstate__(self) -> dict[str, str | int]:
        return {"dict_name": self.dict_name, "cache_size": self.cache_size}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["dict_name"], state.get("cache_size", SENTENCE_CACHE_SIZE))  # type: ignore[misc]

    def clear_cache(self) -> None:
        """Forget this thread's sentences (benchmarks: time tokenizing, not earlier passes)."""
        state = self._state()
        state.sentences.clear()
        state.seen.clear()

    def tokenize(self, text: str, *, split_a: bool = False) -> list[Token]:
        """Tokenize in mode C; with ``split_a`` compounds are replaced by their mode-A parts."""
        mode_c, mode_a = self._modes(text, split_a)
        return mode_a if split_a else mode_c

    def tokenize_modes(self, text: str, *, with_a: bool = True) -> tuple[list[Token], list[Token]]:
        """Mode-C tokens and mode-A tokens of ``text`` from a single Sudachi pass.

        Two new lists, equal when nothing splits (or without ``with_a``). Texts longer than
        Sudachi's input limit (~49 KB) are tokenized in chunks cut at a punctuation mark or
        space where possible; offsets stay relative to ``text``.
        """
        mode_c, mode_a = self._modes(text, with_a)
        return mode_c, (list(mode_a) if mode_a is mode_c else mode_a)

    def _modes(self, text: str, with_a: bool) -> tuple[list[Token], list[Token]]:
        """(mode C, mode A) tokens as new lists, one list when nothing splits."""
        state = self._state()
        cacheable = self.cache_size > 0 and len(text) <= MAX_CACHED_CHARS
        if cacheable:
            hit = state.sentences.get(text)
            if hit is not None and (not with_a or hit[1] is not None):
                state.sentences.move_to_end(text)
                mode_c = list(map(_as_token, hit[0]))
                if with_a and hit[1] is not hit[0]:
                    return mode_c, list(map(_as_token, hit[1]))  # type: ignore[arg-type]
                return mode_c, mode_c
        if len(text) <= MAX_CHUNK_CHARS:
            mode_c, mode_a = state.tokenize(text, with_a)
        else:
            mode_c, mode_a = [], []
            for offset, chunk in _chunks(text, MAX_CHUNK_CHARS):
                c, a = state.tokenize(chunk, with_a)
                if offset:
                    c = _shifted(c, offset)
                    a = _shifted(a, offset) if a is not c else c
                mode_c.extend(c)
                mode_a.extend(a)
        if cacheable:
            state.keep(text, mode_c, mode_a if with_a else None, self.cache_size)
        return mode_c, mode_a


# Morpheme fields SudachiPy decodes for koe; the others (reading form, synonyms, ...) are skipped.
SUDACHI_FIELDS = frozenset({"surface", "pos", "normalized_form", "dictionary_form", "split_a"})
# Texts longer than this are not kept in the sentence cache (survey sentences are far shorter).
MAX_CACHED_CHARS = 512
# Word ids whose dictionary data is cached; the cache is emptied when it grows past this.
MAX_CACHED_WORDS = 200_000
# Sudachi word ids: 4 bits of dictionary, 28 of word. Out-of-vocabulary and joined nodes
# (numbers, katakana runs) carry dictionary 0xF or word 0x0FFFFFFF and their own data.
_WORD_MASK = 0x0FFFFFFF
_OOV_IDS = 0xF0000000
_new_token = tuple.__new__
_as_token = partial(tuple.__new__, Token)


class _SudachiState:
    """One thread's Sudachi tokenizer, reusable output lists and caches."""

    def __init__(self, dict_name: str) -> None:
        try:
            from sudachipy import Dictionary, SplitMode
        except ImportError as exc:  # pragma: no cover - a dependency of koe
            raise RuntimeError(
                "SudachiPy is not installed: run the setup command in README.md"
            ) from exc
        self.dictionary = Dictionary(dict=dict_name)
        # only the fields koe reads are decoded (surface: mode-A split offsets need it)
        self.tokenizer = self.dictionary.create(SplitMode.C, fields=set(SUDACHI_FIELDS))
        self.mode_a = SplitMode.A
        self.out = self.tokenizer.tokenize("")  # reused by every call (``out=``)
        self.split_out = self.tokenizer.tokenize("")
        self.probe_out = self.tokenizer.tokenize("")  # for the split test of a new word
        self.pos: dict[int, tuple[str, ...]] = {}
        # word id -> (norm, lemma, pos, pos2, splits in mode A), or () for whitespace
        self.words: dict[int, tuple] = {}
        # text -> (mode-C tokens, mode-A tokens or None when not asked for), as plain tuples:
        # the garbage collector stops tracking those (Tokens it would walk on every collection)
        self.sentences: OrderedDict[str, tuple[tuple[tuple, ...], tuple[tuple, ...] | None]]
        self.sentences = OrderedDict()
        self.seen: OrderedDict[str, None] = OrderedDict()  # texts tokenized once, not kept

    def keep(self, text: str, mode_c: list[Token], mode_a: list[Token] | None, size: int) -> None:
        """Keep the tokens of ``text`` if it was seen before; else remember it was seen."""
        if text not in self.seen and text not in self.sentences:
            self.seen[text] = None
            if len(self.seen) > size:
                self.seen.popitem(last=False)
            return
        self.seen.pop(text, None)
        c = tuple(map(tuple, mode_c))
        a = None if mode_a is None else c if mode_a is mode_c else tuple(map(tuple, mode_a))
        self.sentences[text] = (c, a)
        if len(self.sentences) > size:
            self.sentences.popitem(last=False)

    def word(self, m, word_id: int) -> tuple:
        """What a token takes from the dictionary for morpheme ``m``; cached for real words."""
        pos_id = m.part_of_speech_id()
        pos = self.pos.get(pos_id)
        if pos is None:
            pos = self.pos[pos_id] = tuple(self.dictionary.pos_of(pos_id))
        if pos[0] == "空白":
            info: tuple = ()
        else:
            splits = len(m.split(self.mode_a, out=self.probe_out)) > 1
            info = (m.normalized_form().lower(), m.dictionary_form(), pos[0], pos[1], splits)
        if word_id < _OOV_IDS and word_id & _WORD_MASK != _WORD_MASK:
            if len(self.words) >= MAX_CACHED_WORDS:
                self.words.clear()
            self.words[word_id] = info
        return info

    def tokenize(self, text: str, with_a: bool) -> tuple[list[Token], list[Token]]:
        """Mode-C and mode-A tokens of one chunk (the same list when nothing splits)."""
        get = self.words.get
        word = self.word
        mode_c: list[Token] = []
        add = mode_c.append
        to_split: list[tuple[int, Any]] = []  # (index in mode_c, morpheme) of mode-A compounds
        for m in self.tokenizer.tokenize(text, out=self.out):
            word_id = m.word_id()
            info = get(word_id)
            if info is None:
                info = word(m, word_id)
            if not info:
                continue
            norm, lemma, pos, pos2, splits = info
            begin = m.begin()
            end = m.end()
            # A single character is never a compound.
            if splits and with_a and end - begin > 1:
                to_split.append((len(mode_c), m))
            add(_new_token(Token, (text[begin:end], norm, lemma, pos, pos2, begin, end)))
        if not to_split:
            return mode_c, mode_c
        mode_a: list[Token] = []
        done = 0
        for i, m in to_split:
            mode_a.extend(mode_c[done:i])
            done = i + 1
            for p in m.split(self.mode_a, out=self.split_out):
                info = word(p, p.word_id())
                if info:
                    begin, end = p.begin(), p.end()
                    mode_a.append(_new_token(Token, (text[begin:end], *info[:4], begin, end)))
        mode_a.extend(mode_c[done:])
        return mode_c, mode_a


def _shifted(tokens: list[Token], offset: int) -> list[Token]:
    return [t._replace(start=t.start + offset, end=t.end + offset) for t in tokens]


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
        tokens.extend(_shifted(_tokenize_english_chunk(chunk), offset))
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

    Used for cluster labels. Single kana characters, numbers, non-independent words
    (する, なる, ある as 非自立可能), formal nouns (こと, ため, 時) and light verbs (よる,
    思う) are dropped.
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
        if t.norm in FORMAL_NOUNS or t.lemma in LIGHT_VERBS or t.norm in LIGHT_VERBS:
            continue
        out.append(t.lemma if t.pos in {"動詞", "形容詞"} else t.norm)
    return out
