"""The semantic layer over the lookup lists (real Sudachi, real embedder), fragment keywords,
and the tags.csv contract with ``confidence``."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from koe.cli import app
from koe.taggers.factory import build_tagger
from koe.taggers.lookup import to_tags_csv
from koe.taggers.semantic import SemanticSettings, semantic_layer
from koe.taggers.sentences import split_sentences

from .conftest import LOOKUP_LISTS

THEMES = """\
version: 1
themes:
  - id: parking
    name: 駐車場
    department: product
    keywords: [駐車場, 駐車]
  - id: hours
    name: 営業時間
    department: product
    keywords: [営業時間, 閉店, 開店]
  - id: facilities
    name: 施設
    department: product
    keywords: [施設, 設備, 建物]{opt_out}
  - id: food
    name: 食事
    department: product
    keywords: [料理, 食事, ランチ]
"""

# Each theme's keyword sentences: the weak labels the layer learns from.
CORPUS = {
    "parking": ["駐車場が広くて停めやすかった", "駐車場が狭い", "駐車場が満車で困った",
                "駐車場が無料でよかった", "駐車場が少ない", "駐車場がもっと欲しい",
                "駐車場まで遠い", "駐車場が混んでいた"],
    "hours": ["営業時間が短い", "閉店が早すぎる", "営業時間をもっと長くしてほしい",
              "開店時間が遅い", "閉店時間が早くて残念", "営業時間が短くて入れなかった",
              "夕方に閉店してしまう", "営業時間の延長を希望"],
    "facilities": ["施設がきれいだった", "設備が新しい", "建物が立派", "施設が広くて快適",
                   "設備が古い", "施設が充実している", "建物がおしゃれ",
                   "施設が新しくて気持ちいい"],
    "food": ["料理が美味しかった", "食事が最高", "ランチが美味しい", "料理の量が多い",
             "食事が高い", "ランチが安くて美味しい", "料理が冷めていた", "食事の種類が少ない"],
}  # fmt: skip


def lists_folder(tmp_path, opt_out: bool = False):
    folder = tmp_path / ("opt_out" if opt_out else "lists")
    folder.mkdir()
    shutil.copy(LOOKUP_LISTS / "polarity.yaml", folder / "polarity.yaml")
    extra = "\n    semantic: false" if opt_out else ""
    (folder / "t.yaml").write_text(THEMES.format(opt_out=extra), encoding="utf-8")
    return folder


def comments(*extra: tuple[str, str]) -> pd.DataFrame:
    rows = [(f"{theme}{i}", text) for theme, texts in CORPUS.items() for i, text in
            enumerate(texts)]  # fmt: skip
    return pd.DataFrame([*rows, *extra], columns=["id", "text"])


def combined_tags(folder, frame: pd.DataFrame, **settings) -> tuple[pd.DataFrame, dict]:
    tagger = build_tagger(folder, None)
    sentences = split_sentences(frame)
    return semantic_layer(tagger, sentences, tagger.tag(sentences), "koe-default", None,
                          SemanticSettings(**settings))  # fmt: skip


def themes_of(tags: pd.DataFrame, cid: str) -> dict[str, str]:
    rows = tags[tags["id"] == cid]
    return dict(zip(rows["theme"], rows["source"], strict=True))


def test_a_paraphrase_without_the_keyword_is_tagged_by_the_semantic_layer(tmp_path):
    folder = lists_folder(tmp_path)
    frame = comments(("p1", "車を停める場所が見つからなかった"), ("f1", "お昼ご飯がおいしかった"),
                     ("n1", "また来たいです"))  # fmt: skip
    assert build_tagger(folder, None).tag(split_sentences(frame.tail(3))).empty  # no keyword
    tags, info = combined_tags(folder, frame)
    assert themes_of(tags, "p1") == {"parking": "semantic"}
    assert themes_of(tags, "f1") == {"food": "semantic"}
    assert themes_of(tags, "n1") == {}  # about no theme: nothing added
    parking = tags[tags["id"] == "p1"].iloc[0]
    assert parking["evidence"] in CORPUS["parking"]  # the nearest supporting example
    assert 0.40 <= parking["confidence"] < 1.0
    assert (tags.loc[tags["source"] == "lookup", "confidence"] == 1.0).all()
    assert info["added"] == 2 and info["references"] == 32


def test_a_generic_noun_hit_on_a_sentence_about_something_else_is_vetoed(tmp_path):
    frame = comments(("v1", "施設の閉店が早すぎる"))
    lookup = build_tagger(lists_folder(tmp_path), None).tag(split_sentences(frame))
    assert set(lookup.loc[lookup["id"] == "v1", "theme"]) == {"facilities", "hours"}
    # 9 tagged sentences per theme: enough here to say what facilities are not
    tags, info = combined_tags(tmp_path / "lists", frame, veto_min_references=9)
    assert themes_of(tags, "v1") == {"hours": "lookup"}
    assert info["vetoed"] == 1
    # by default a theme needs 60 tagged sentences before its hits can be vetoed
    tags, info = combined_tags(tmp_path / "lists", frame)
    assert themes_of(tags, "v1") == {"facilities": "lookup", "hours": "lookup"}
    # a theme that opts out (semantic: false) is never vetoed
    tags, info = combined_tags(lists_folder(tmp_path, opt_out=True), frame,
                               veto_min_references=9)  # fmt: skip
    assert themes_of(tags, "v1") == {"facilities": "lookup", "hours": "lookup"}
    assert info["vetoed"] == 0


def test_the_same_input_gives_the_same_tags(tmp_path):
    folder = lists_folder(tmp_path)
    frame = comments(("p1", "車を停める場所が見つからなかった"), ("v1", "施設の閉店が早すぎる"))
    first, _ = combined_tags(folder, frame)
    second, _ = combined_tags(folder, frame)
    pd.testing.assert_frame_equal(first, second)
    assert to_tags_csv(first).equals(to_tags_csv(second))


def test_disabled_the_layer_returns_the_lookup_tags(tmp_path):
    folder = lists_folder(tmp_path)
    frame = comments(("p1", "車を停める場所が見つからなかった"))
    tags, info = combined_tags(folder, frame, enabled=False)
    assert info == {"enabled": False}
    assert set(tags["source"]) == {"lookup"} and "p1" not in set(tags["id"])


FRAGMENTS = """\
version: 1
themes:
  - id: crowding
    name: 混雑
    department: product
    keywords: [人が多]
  - id: wayfinding
    name: 道案内
    department: product
    keywords: [迷, 道]
  - id: scenery
    name: 景色
    department: marketing
    keywords: [海]
"""


@pytest.mark.parametrize(
    ("sentence", "themes"),
    [
        ("休日は人が多かった", {"crowding": "人が多"}),  # a stem ending inside an adjective
        ("人が多くなくて快適", {"crowding": "人が多"}),
        ("駅からの道で迷った", {"wayfinding": "道"}),  # the first mention of the theme
        ("少し迷いました", {"wayfinding": "迷"}),  # inside a verb
        ("北海道から来ました", {}),  # 道 does not start a token of 北海道
        ("海鮮丼がおいしい", {}),  # 海 may not end inside the noun 海鮮
        ("海がきれい", {"scenery": "海"}),
    ],
)
def test_fragment_keywords_match_where_tokens_allow(tmp_path, sentence, themes):
    shutil.copy(LOOKUP_LISTS / "polarity.yaml", tmp_path / "polarity.yaml")
    (tmp_path / "f.yaml").write_text(FRAGMENTS, encoding="utf-8")
    hits = build_tagger(tmp_path, None).match_sentence(sentence)
    assert {h["theme"]: h["evidence"] for h in hits} == themes


@pytest.mark.parametrize(
    ("sentence", "polarity"),
    [("全く迷わなかった", "positive"), ("人が多くなくて快適", "positive"),
     ("道がわかりにくくて迷った", "negative")],
)
def test_a_fragment_mention_keeps_the_negation_logic(tmp_path, sentence, polarity):
    shutil.copy(LOOKUP_LISTS / "polarity.yaml", tmp_path / "polarity.yaml")
    (tmp_path / "f.yaml").write_text(FRAGMENTS, encoding="utf-8")
    [hit] = build_tagger(tmp_path, None).match_sentence(sentence)
    assert hit["polarity"] == polarity


def test_koe_tag_adds_semantic_tags_and_no_semantic_turns_them_off(tmp_path):
    folder = lists_folder(tmp_path)
    comments(("p1", "車を停める場所が見つからなかった")).to_csv(tmp_path / "in.csv", index=False)
    runner = CliRunner()
    for flag, out in (([], "on.csv"), (["--no-semantic"], "off.csv")):
        result = runner.invoke(app, ["tag", "--input", str(tmp_path / "in.csv"), "--out",
                                     str(tmp_path / out), "--lookup-lists", str(folder), *flag])  # fmt: skip
        assert result.exit_code == 0, result.output
    on = pd.read_csv(tmp_path / "on.csv", dtype={"id": str})
    off = pd.read_csv(tmp_path / "off.csv", dtype={"id": str})
    assert list(on.columns) == ["id", "theme", "department", "polarity", "source", "evidence",
                                "start", "end", "is_request", "confidence"]  # fmt: skip
    p1 = on[on["id"] == "p1"]
    assert list(zip(p1["theme"], p1["source"], strict=True)) == [("parking", "semantic")]
    assert set(off["source"]) == {"lookup"} and "p1" not in set(off["id"])
    assert len(off) == 32 and (off["confidence"] == 1.0).all()
