"""Tokenization with real SudachiPy (core dictionary) and spaCy English lemmas."""

from __future__ import annotations

import pickle

import pytest

from taggers.sentences import split_sentences, split_text
from taggers.tokenize import SudachiTokenizer, content_words, detect_language, tokenize


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
