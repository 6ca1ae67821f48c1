"""Lookup tagging semantics on the shipped lists, with the real Sudachi dictionary."""

from __future__ import annotations

import pandas as pd
import pytest

from koe.taggers.lookup import to_tags_csv
from koe.taggers.sentences import split_sentences


def themes(tagger, text):
    return {h["theme"]: h["polarity"] for h in tagger.match_sentence(text)}


# fmt: off
CASES = [
    # 表記ゆれ through Sudachi normalized forms
    ("問合せの返信が遅い", "support_response_speed", "negative"),
    ("お問い合わせの返信が遅い", "support_response_speed", "negative"),
    ("問い合せの返信が早い", "support_response_speed", "positive"),
    # negation flips or neutralizes
    ("レスポンスは遅くないし、不満はないです", "support_response_speed", "positive"),
    ("The support team is not slow at all", "support_general", "positive"),
    # requests are not complaints
    ("CSV出力機能があれば嬉しい", "product_feature_requests", "neutral"),
    # a keyword with a negation inside it is not negated
    ("使い方が分からない", "usage_how_to", "negative"),
    ("料金が高い", "commercial_pricing", "negative"),
    ("API連携でエラーが出る😭", "product_bugs", "negative"),
    ("担当者の知識が豊富で助かりました！", "people_knowledge", "positive"),
    # sentiment in a conditional clause is hypothetical for the main clause
    ("分からないことがあれば丁寧に教えてくれる", "people_attitude", "positive"),
    ("問題が起きた時も迅速に返信をくれる", "support_response_speed", "positive"),
]
# fmt: on


@pytest.mark.parametrize(("text", "theme", "polarity"), CASES)
def test_theme_and_polarity(tagger, text, theme, polarity):
    assert themes(tagger, text).get(theme) == polarity


def test_mixed_sentiment_gives_two_themes_with_opposite_polarity(tagger):
    found = themes(tagger, "説明は丁寧だが、返信が遅い。")
    assert found["people_explanation"] == "positive"
    assert found["support_response_speed"] == "negative"


def test_request_is_flagged_and_evidence_has_offsets(tagger):
    (hit,) = [h for h in tagger.match_sentence("レポートをPDFで出せるようにしてほしい")
              if h["theme"] == "product_reports"]  # fmt: skip
    assert hit["is_request"] is True
    assert "レポートをPDFで出せるようにしてほしい"[hit["start"] : hit["end"]] == hit["evidence"]


def test_exclusion_suppresses_a_theme(tagger):
    assert "support_response_speed" not in themes(tagger, "自動返信メールが届いた")


def test_tagging_is_deterministic(tagger):
    comments = pd.DataFrame(
        {"id": ["a", "b"], "text": ["返信が遅い。料金は安い。", "UIが見やすい"]}
    )
    first = tagger.tag(split_sentences(comments))
    second = tagger.tag(split_sentences(comments))
    pd.testing.assert_frame_equal(first, second)


# fmt: off
BAD_INPUTS = ["", "   ", "👍👍👍", "\x00\x00", "。。。", "a" * 100_000,
              "返信が遅い。" * 20_000, "Русский текст 返信 العربية", "\u200b\u200b"]
# fmt: on


@pytest.mark.parametrize("text", BAD_INPUTS, ids=lambda t: repr(t[:12]))
def test_bad_input_never_crashes(tagger, text):
    comments = pd.DataFrame({"id": ["x"], "text": [text]})
    tags = tagger.tag(split_sentences(comments))
    assert set(tags["id"]) <= {"x"}
    assert set(to_tags_csv(tags)["polarity"]) <= {"positive", "negative", "neutral"}


def test_long_comment_is_tagged_across_sudachi_chunks(tagger):
    text = "とても良い。" * 3000 + "返信が遅い"
    comments = pd.DataFrame({"id": ["x"], "text": [text]})
    tags = tagger.tag(split_sentences(comments))
    row = tags[tags["theme"] == "support_response_speed"].iloc[0]
    assert text[row["start"] : row["end"]] == "返信"


def test_every_shipped_example_passes(tagger):
    from koe.taggers.lookup import check_examples

    assert check_examples(tagger) == []
    assert len(tagger) >= 25


def test_evaluation_in_the_next_sentence_is_inherited(tagger):
    comments = pd.DataFrame({"id": ["a"], "text": ["回答までに一週間かかった。遅すぎる。"]})
    tags = tagger.tag(split_sentences(comments))
    assert tags.set_index("theme").loc["support_response_speed", "polarity"] == "negative"


def test_negation_reaches_through_to_kanjita_koto_wa_nai(tagger):
    assert (
        themes(tagger, "返信が遅いと感じたことはありません")["support_response_speed"] == "positive"
    )
