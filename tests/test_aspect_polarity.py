"""Aspect-dependent evaluation words: a theme's ``polarity_words`` (早い is bad for a closing
time and good for a reply), with negation kept."""

from __future__ import annotations

import shutil

import pytest

from koe.taggers.factory import build_tagger
from koe.taggers.lookup_lists import LookupListError

from .conftest import LOOKUP_LISTS

LIST = """\
version: 1
themes:
  - id: hours
    name: 営業時間
    department: product
    keywords: [閉店, 営業時間]
    polarity_words: {negative: [早い, 短い], positive: [長い, 遅い]}
  - id: parking
    name: 駐車場
    department: product
    keywords: [駐車場]
    polarity_words: {positive: [広い], negative: [狭い]}
  - id: reply
    name: 返信
    department: support
    keywords: [返信]
  - id: crowding
    name: 混雑
    department: product
    keywords: [人出]
    polarity_words: {positive: [少ない]}
"""


@pytest.fixture(scope="module")
def tagger(tmp_path_factory):
    folder = tmp_path_factory.mktemp("aspects")
    shutil.copy(LOOKUP_LISTS / "polarity.yaml", folder / "polarity.yaml")
    (folder / "t.yaml").write_text(LIST, encoding="utf-8")
    return build_tagger(folder, None)


@pytest.mark.parametrize(
    ("sentence", "theme", "polarity"),
    [
        ("閉店が早い", "hours", "negative"),
        ("返信が早い", "reply", "positive"),  # the lexicon's reading, for other themes
        ("閉店が早くないので助かる", "hours", "positive"),  # negation still flips
        ("営業時間が短い", "hours", "negative"),
        ("営業時間が長くて助かる", "hours", "positive"),
        ("返信が遅い", "reply", "negative"),
        ("閉店時間が遅くて便利", "hours", "positive"),
        ("駐車場が広い", "parking", "positive"),
        ("駐車場が広くない", "parking", "negative"),
        ("駐車場が少ない", "parking", "negative"),  # too few: a shortfall
        ("人出が少なくてゆっくりできた", "crowding", "positive"),  # fewer is better here
    ],
)
def test_polarity_words_set_the_sign_for_their_theme_only(tagger, sentence, theme, polarity):
    hits = {h["theme"]: h["polarity"] for h in tagger.match_sentence(sentence)}
    assert hits == {theme: polarity}


def test_polarity_words_must_be_a_mapping_of_lists(tmp_path):
    shutil.copy(LOOKUP_LISTS / "polarity.yaml", tmp_path / "polarity.yaml")
    (tmp_path / "t.yaml").write_text(LIST.replace("{positive: [広い], negative: [狭い]}",
                                                  "[広い]"), encoding="utf-8")  # fmt: skip
    with pytest.raises(LookupListError, match=r"t\.yaml:\d+: theme 'parking': polarity_words"):
        build_tagger(tmp_path, None)
