"""Tokenization with real SudachiPy (core dictionary) and spaCy English lemmas."""

from __future__ import annotations

import pickle

import pytest

from koe.taggers.sentences import split_sentences, split_text
from koe.taggers.tokenize import SudachiTokenizer, Token, content_words, detect_language, tokenize


@pytest.mark.parametrize(
    ("text", "norm"),
    [
        ("問合せ", "問い合わせ"),
        ("問い合せ", "問い合わせ"),
        ("お問い合わせ", "問い合わせ"),
        ("出来る", "出来る"),
        ("できる", "出来る"),
        ("API", "api"),
    ],
)
def test_sudachi_normalized_forms_absorb_spelling_variants(text, norm):
    norms = [t.norm for t in tokenize(text) if t.pos != "接頭辞"]
    assert norms == [norm]


def test_japanese_tokens_carry_offsets_and_pos():
    tokens = tokenize("問合せの返信が遅くない")
    assert [t.surface for t in tokens] == ["問合せ", "の", "返信", "が", "遅く", "ない"]
    assert [(t.start, t.end) for t in tokens][2] == (4, 6)
    assert tokens[4].lemma == "遅い" and tokens[4].pos == "形容詞"


def test_mode_a_splits_compounds_for_matching():
    mode_c = [t.surface for t in tokenize("選挙管理委員会")]
    mode_a = [t.surface for t in tokenize("選挙管理委員会", split_a=True)]
    assert mode_c == ["選挙管理委員会"]
    assert mode_a == ["選挙", "管理", "委員", "会"]


def test_english_lemmas_are_lower_cased():
    tokens = tokenize("The Responses were SLOWER", "en")
    assert [t.norm for t in tokens] == ["the", "response", "be", "slow"]
    assert tokens[1].surface == "Responses"


def test_detect_language():
    assert detect_language("返信が遅い") == "ja"
    assert detect_language("Support was slow") == "en"
    assert detect_language("API連携") == "ja"
    assert detect_language("👍") == "ja"


def test_content_words_drop_particles_and_auxiliaries():
    words = content_words(tokenize("レポートの表示がとても遅いです"))
    assert words == ["レポート", "表示", "遅い"]
    assert content_words(tokenize("It is very good with reports", "en")) == ["good", "report"]


def test_tokenizer_is_picklable_for_worker_processes():
    tok = pickle.loads(pickle.dumps(SudachiTokenizer()))
    assert [t.norm for t in tok.tokenize("問合せ")] == ["問い合わせ"]


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("説明は丁寧だが、返信が遅い。", ["説明は丁寧だが、返信が遅い。"]),
        ("早い！助かる。", ["早い！", "助かる。"]),
        ("良い\n悪い", ["良い", "悪い"]),
        ("Fast. Helpful too", ["Fast.", "Helpful too"]),
        ("version 3.5 is fine", ["version 3.5 is fine"]),
        ("最高でした👍", ["最高でした👍"]),
        ("遅い。。。", ["遅い。。。"]),
    ],
)
def test_split_text(text, sentences):
    assert [text[s:e] for s, e in split_text(text)] == sentences


def test_split_sentences_frame_keeps_offsets():
    import pandas as pd

    comments = pd.DataFrame({"id": ["a", "b"], "text": ["料金が高い。サポートは良い。", "👍"]})
    frame = split_sentences(comments)
    assert frame[
        ["id", "sentence_idx", "sentence", "start", "end", "lang"]
    ].to_numpy().tolist() == [
        ["a", 0, "料金が高い。", 0, 6, "ja"],
        ["a", 1, "サポートは良い。", 6, 14, "ja"],
    ]


def _reference_tokens(text: str, split_a: bool = False) -> list[tuple]:
    """Tokens read field by field from SudachiPy, as koe's tokenizer did before its caches."""
    from sudachipy import Dictionary, SplitMode

    dictionary = Dictionary(dict="core")
    out = []
    for m in dictionary.create(SplitMode.C).tokenize(text):
        parts = m.split(SplitMode.A) if split_a and m.end() - m.begin() > 1 else []
        for p in parts if len(parts) > 1 else [m]:
            pos = dictionary.pos_of(p.part_of_speech_id())
            if pos[0] != "空白":
                out.append((p.surface(), p.normalized_form().lower(), p.dictionary_form(),
                            pos[0], pos[1], p.begin(), p.end()))  # fmt: skip
    return out


TRICKY = [
    "三人で三千円、一二三も1,000円も",  # joined numbers share one word id, not one normal form
    "ﾃｽﾄとｶﾞｽ代とＡＢＣ　ｄｅｆ",  # half/full width: surfaces differ from dictionary forms
    "ノドグロとキャンピングカーとfreewifi",  # joined katakana and OOV words
    "選挙管理委員会の問合せ\t返信",
]


@pytest.mark.parametrize("cache_size", [0, 100])
def test_cached_tokens_equal_sudachi_fields(cache_size):
    tok = SudachiTokenizer(cache_size=cache_size)
    for _ in range(2):  # second pass: word-id (and sentence) caches warm
        for text in TRICKY:
            assert [tuple(t) for t in tok.tokenize(text)] == _reference_tokens(text)
            c, a = tok.tokenize_modes(text)
            assert [tuple(t) for t in a] == _reference_tokens(text, split_a=True)
            assert [tuple(t) for t in c] == _reference_tokens(text)


def test_sentence_cache_keeps_repeated_sentences_returns_new_lists_and_is_bounded():
    tok = SudachiTokenizer(cache_size=3)
    sentences = tok._state().sentences
    first = tok.tokenize("返信が遅い")
    assert not sentences  # seen once: not kept
    first.clear()  # callers may change what they get
    assert [t.surface for t in tok.tokenize("返信が遅い")] == ["返信", "が", "遅い"]
    assert "返信が遅い" in sentences  # seen twice: kept
    hit = tok.tokenize("返信が遅い")
    assert [t.surface for t in hit] == ["返信", "が", "遅い"] and type(hit[0]) is Token
    hit.clear()
    assert tok.tokenize("返信が遅い")[2].lemma == "遅い"
    c, a = tok.tokenize_modes("返信が遅い")
    assert c == a and c is not a  # two lists, as the lookup tagger expects
    for _ in range(2):
        assert [t.surface for t in tok.tokenize("選挙管理委員会")] == ["選挙管理委員会"]
    c, a = tok.tokenize_modes("選挙管理委員会")  # mode A asked after a mode-C-only entry
    assert [t.surface for t in a] == ["選挙", "管理", "委員", "会"] and len(c) == 1
    assert tok.tokenize("選挙管理委員会", split_a=True) == a
    for i in range(10):
        for _ in range(2):
            tok.tokenize(f"返信が{i}日遅い")
    assert len(sentences) == 3 and len(tok._state().seen) <= 3
    assert list(sentences) == ["返信が7日遅い", "返信が8日遅い", "返信が9日遅い"]
    tok.clear_cache()
    assert not sentences and not tok._state().seen
    off = SudachiTokenizer(cache_size=0)
    for _ in range(3):
        off.tokenize("返信が遅い")
    assert not off._state().sentences and not off._state().seen


def test_pickled_tokenizer_keeps_cache_size():
    tok = pickle.loads(pickle.dumps(SudachiTokenizer(cache_size=7)))
    assert tok.cache_size == 7 and tok.tokenize("問合せ")[0].norm == "問い合わせ"


def test_long_text_is_chunked_with_offsets():
    from koe.taggers.tokenize import MAX_CHUNK_CHARS

    text = "問合せの返信が遅い。" * (MAX_CHUNK_CHARS // 5)
    c, a = SudachiTokenizer().tokenize_modes(text)
    assert len(text) > MAX_CHUNK_CHARS and c == a and c is not a
    assert all(text[t.start : t.end] == t.surface for t in c)
    assert [t.norm for t in c[-6:]] == ["問い合わせ", "の", "返信", "が", "遅い", "。"]
