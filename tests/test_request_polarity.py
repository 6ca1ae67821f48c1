"""Requests: desiderative wishes (増えるとよい) read as requests, and ``request_polarity`` sets
what a request without a complaint in it reads as. Real Sudachi, the shipped lexicon."""

from __future__ import annotations

from dataclasses import replace

import pytest

from koe.config import DEFAULT_LOOKUP_LISTS
from koe.taggers.lookup import LookupTagger
from koe.taggers.lookup_lists import LookupListError
from koe.taggers.polarity import PolarityLexicon, sentence_polarity
from koe.taggers.tokenize import tokenize

LEXICON = PolarityLexicon.for_folder(DEFAULT_LOOKUP_LISTS)
NEGATIVE = replace(LEXICON, request_polarity="negative")

VISIT_LIST = (
    "version: 1\n"
    "themes:\n"
    "  - {id: dining, name: 飲食, department: product, keywords: [カフェ, 飲食店]}\n"
    "  - {id: rest_areas, name: 休憩, department: product, keywords: [休憩]}\n"
    "  - {id: parking, name: 駐車場, department: product, keywords: [駐車場]}\n"
)


@pytest.mark.parametrize("sentence", [
    "手頃な値段のカフェや飲食店がもっと増えるとよい。",        # と after a verb; 手頃 hypothetical
    "休憩処ができる素敵なカフェなどあるとなお嬉しいです!",      # a degree adverb between
    "休憩できるスペースがあってもいいと思います。",            # ても
    "テイクアウトのお店がもっと増えてくれたら嬉しいです",      # たら; not a favour received
    "体験もできるお店が駅前にあったら便利だと思いました。",
    "夏はかき氷屋さんとかあれば良いですね!",
    "もっといろんな施設が出来ればいい!",                    # the adverb できれば
    "説明が分かりやすいと嬉しいです",                          # と after an adjective
    "子供が遊べる場所があると良かった",                        # counterfactual: ある, past
    "あったら良かったです",
])  # fmt: skip
def test_a_wish_is_a_request(sentence):
    read = sentence_polarity(tokenize(sentence, "ja"), LEXICON)
    assert (read.polarity, read.is_request) == ("neutral", True)
    assert sentence_polarity(tokenize(sentence, "ja"), NEGATIVE).polarity == "negative"


@pytest.mark.parametrize("sentence", [
    "来てよかった",                                    # て, not a condition
    "雨でも楽しめて良かった",
    "何かあればすぐ相談できるので助かる",              # the wish word does not end the condition
    "分からないことがあれば丁寧に教えてくれる",
    "困った時に助けてもらえて嬉しい",                  # 時に is a condition, not of a wish
    "温泉に入ると気持ちが良い",                        # a subject between
    "電話するとすぐ繋がるので便利",
])  # fmt: skip
def test_praise_near_a_condition_is_not_a_wish(sentence):
    for lexicon in (LEXICON, NEGATIVE):
        read = sentence_polarity(tokenize(sentence, "ja"), lexicon)
        assert (read.polarity, read.is_request) == ("positive", False)


@pytest.mark.parametrize(("sentence", "polarity"), [
    ("陶芸まつりで欲しいものを探せた。", "neutral"),            # 欲しい describes a noun
    ("欲しかった商品が買えた。", "neutral"),
    ("思っていたより行きたい場所が沢山あった。", "neutral"),
    ("電車では行きたいところに行きにくい。", "negative"),       # the complaint is read
    ("子供が喜んでいたので、他の子持ちの人にも勧めたい。", "positive"),  # recommending
    ("友人にも紹介したいです。", "positive"),
    ("また来たいです。", "positive"),                           # coming back
    ("是非もう一度訪れたいと思います。", "positive"),
    ("まだ知らない所もまた巡ってみたい。", "positive"),
    ("もう一度行きたいとは思わない。", "negative"),             # negated
])  # fmt: skip
def test_a_wish_to_come_back_or_recommend_is_praise_not_a_request(sentence, polarity):
    for lexicon in (LEXICON, NEGATIVE):
        read = sentence_polarity(tokenize(sentence, "ja"), lexicon)
        assert (read.polarity, read.is_request) == (polarity, False)


@pytest.mark.parametrize("sentence", [
    "もっと詳しく知りたい。",                                   # たい of another verb
    "今度は駐車場を広くしてほしい。",
    "次は公共交通機関で行きたいが、バスの本数を増やしてほしい。",
    "改善してほしい点としては、CSV出力の列の順番を指定できないこと。",  # 〜てほしい before a noun
])  # fmt: skip
def test_other_wishes_stay_requests(sentence):
    assert sentence_polarity(tokenize(sentence, "ja"), LEXICON).is_request


def test_a_complaint_in_a_request_stays_negative_and_a_wish_joins_the_request_catcher():
    read = sentence_polarity(tokenize("不便なので駐車場がもっと広いと助かる。", "ja"), LEXICON)
    assert (read.polarity, read.is_request) == ("negative", True)
    tagger = LookupTagger.from_folder(DEFAULT_LOOKUP_LISTS)
    hits = {h["theme"]: h for h in tagger.match_sentence("レポートのテンプレートがもっと増えると助かる。")}
    assert set(hits) == {"product_reports", "product_feature_requests"}
    assert hits["product_feature_requests"]["evidence"] == "と助かる"
    assert hits["product_reports"]["polarity"] == "neutral" and hits["product_reports"]["is_request"]
    # an intent is no request for the catcher either
    hits = {h["theme"]: h for h in tagger.match_sentence("レポートが見やすいので同僚にも勧めたい。")}
    assert "product_feature_requests" not in hits and hits["product_reports"]["polarity"] == "positive"
    assert not hits["product_reports"]["is_request"]


def _folder(tmp_path, polarity_yaml: str | None):
    (tmp_path / "visit.yaml").write_text(VISIT_LIST, encoding="utf-8")
    if polarity_yaml is not None:
        (tmp_path / "polarity.yaml").write_text(polarity_yaml, encoding="utf-8")
    return LookupTagger.from_folder(tmp_path)


def test_request_polarity_is_set_by_the_folders_polarity_yaml(tmp_path):
    sentence = "カフェなど軽く休憩できるスペースがあってもいいと思います。"  # 軽く: in the condition
    default = {h["theme"]: h["polarity"] for h in _folder(tmp_path, None).match_sentence(sentence)}
    assert default == {"dining": "neutral", "rest_areas": "neutral"}
    tagger = _folder(tmp_path, "request_polarity: negative\nnegative: [狭い]\n")
    assert tagger.lexicon.request_polarity == "negative"
    assert set(LEXICON.positive) <= set(tagger.lexicon.positive)  # still extends koe's lexicon
    read = {h["theme"]: h["polarity"] for h in tagger.match_sentence(sentence)}
    assert read == {"dining": "negative", "rest_areas": "negative"}
    # praise and a complaint read as before; only a request without a complaint changes
    assert [h["polarity"] for h in tagger.match_sentence("カフェが素敵だった。")] == ["positive"]
    assert [h["polarity"] for h in tagger.match_sentence("駐車場が狭い。")] == ["negative"]
    assert [h["polarity"] for h in tagger.match_sentence("駐車場について。")] == ["neutral"]


def test_a_semantic_tag_on_a_request_reads_the_request_polarity(tmp_path):
    from koe.taggers.semantic import _polarities

    tagger = _folder(tmp_path, "request_polarity: negative\n")
    rows = [{"theme": "dining", "polarity": "neutral", "_lang": "ja",
             "_sentence": "地元の魚が食べられる店がもっと増えるとよい。"}]  # fmt: skip
    _polarities(tagger, rows)
    assert rows == [{"theme": "dining", "polarity": "negative", "is_request": True}]


def test_an_unknown_request_polarity_is_refused_with_the_file(tmp_path):
    (tmp_path / "polarity.yaml").write_text("request_polarity: positive\n", encoding="utf-8")
    with pytest.raises(LookupListError, match=r"polarity\.yaml: request_polarity must be one of"):
        PolarityLexicon.for_folder(tmp_path)
