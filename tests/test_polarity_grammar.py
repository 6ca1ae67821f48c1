"""Grammar the lexicon reads beyond single words: benefactives (〜てくれる / 〜てもらう /
〜ていただく), negation through a degree adverb or a quantity, cost words that a decrease turns
into praise, and too few of a thing (本数が少ない). Real Sudachi, the shipped lexicon."""

from __future__ import annotations

import pytest

from koe.config import DEFAULT_LOOKUP_LISTS
from koe.taggers.polarity import PolarityLexicon, sentence_polarity
from koe.taggers.tokenize import tokenize

LEXICON = PolarityLexicon.for_folder(DEFAULT_LOOKUP_LISTS)


@pytest.mark.parametrize(("sentence", "polarity"), [
    ("上司への説明資料に使わせてもらいました。", "positive"),   # a favour received
    ("問題を解決してくれた。", "positive"),                     # a lexicon phrase, counted once
    ("対応してくれない。", "negative"),                         # negated
    ("回答してもらえなかった。", "negative"),
    ("返信してもらいたい。", "neutral"),                        # a request: hypothetical
    ("対応してくれると助かる。", "neutral"),
    ("ロードマップを共有してもらえると、計画が立てやすいです。", "neutral"),  # conditional: no favour yet
    ("回避策を教えてもらっただけで不具合は直っていない。", "negative"),       # だけ: not a favour
    ("作業が止まることがほとんどない。", "positive"),           # negation through ほとんど
    ("待たされることはあまりない。", "positive"),
    ("導入してからレポート作成の工数が月20時間くらい減りました。", "positive"),  # through a quantity
    ("工数が月二十時間くらい減りました。", "positive"),         # a kanji numeral bridges too
    ("作業時間が三割ほど減った。", "positive"),
    ("工数が月二十時間増えた。", "negative"),
    ("手間が省けた。", "positive"),
    ("工数がかなり増えた。", "negative"),
    ("作業時間が大幅に減りました。", "positive"),               # through a degree of decrease
    ("ミスがぐっと少なくなった。", "positive"),
    ("不具合ゼロで運用できている。", "positive"),               # ゼロ: none of a complaint
    ("不具合らしい不具合に遭遇したことがない。", "positive"),   # an experience denied
    ("操作が難しいと感じたことは特にないです。", "positive"),
    ("エラーが出たことは一度もない。", "positive"),
    ("難しいと感じたことがあった。", "negative"),               # not denied
    ("使いやすいと思ったことはない。", "negative"),
    ("知識の深さも申し分ありません。", "positive"),             # 申し分ない, polite form
    ("返信を3日待った。", "negative"),                          # a wait counted in days
    ("1時間以上待たされた。", "negative"),                      # the lexicon's 待たされる, once
    ("3日待たずに返信が来た。", "positive"),
    ("バスの本数が少ない。", "negative"),                       # too few of a thing
    ("飲食店少ない", "negative"),
    ("案内板がやや少なかった。", "negative"),
    ("カフェやおしゃれなお店が少ない。", "negative"),           # おしゃれ: of the shops that lack
    ("ミスが少ない。", "positive"),                             # fewer of a complaint
    ("トラブルが少ないので安心。", "positive"),
    ("品数は少なくない。", "neutral"),                          # not few: no shortfall
])  # fmt: skip
def test_sentence_polarity_reads_the_grammar(sentence, polarity):
    assert sentence_polarity(tokenize(sentence, "ja"), LEXICON).polarity == polarity


@pytest.mark.parametrize(("sentence", "polarity", "score"), [
    ("Waited 5 days for a reply to a simple billing question.", "negative", -1),  # over simple
    ("I waited two weeks.", "negative", -2),
    ("We did not wait a day.", "positive", 1),
    ("Wait times are short.", "neutral", 0),                    # no duration: not a wait
])  # fmt: skip
def test_a_wait_counted_in_time_is_a_complaint_in_english(sentence, polarity, score):
    read = sentence_polarity(tokenize(sentence, "en"), LEXICON)
    assert (read.polarity, read.score) == (polarity, score)


def test_an_evaluation_without_a_topic_of_its_own_reads_the_previous_sentence(tmp_path):
    """The sample's R0317 and R0181, which the issue names, through `koe tag`: 「見やすいと好評
    です」 names no topic (見やすい is a keyword, and the evaluation), so it tells how the
    dashboard of the sentence before is seen; the wait outweighs "simple"."""
    import pandas as pd
    from typer.testing import CliRunner

    from koe.cli import app
    from koe.config import SAMPLE_INPUT

    survey = pd.read_csv(SAMPLE_INPUT, dtype=str, keep_default_na=False)
    survey[survey["id"].isin(["R0317", "R0181"])].to_csv(tmp_path / "in.csv", index=False)
    result = CliRunner().invoke(app, ["tag", "--input", str(tmp_path / "in.csv"), "--out",
                                      str(tmp_path / "tags.csv")])  # fmt: skip
    assert result.exit_code == 0, result.output
    tags = pd.read_csv(tmp_path / "tags.csv", dtype=str, keep_default_na=False)
    assert sorted(zip(tags["id"], tags["theme"], tags["polarity"], strict=True)) == [
        ("R0181", "commercial_contract_billing", "negative"),
        ("R0181", "support_response_speed", "negative"),
        ("R0317", "product_reports", "positive"),
        ("R0317", "product_ui", "positive"),
    ]


def test_the_samples_promoter_comments_read_right(tmp_path):
    """Two of the sample's promoter comments the issue names, through `koe tag` (no special
    case: the benefactive and quantity rules above)."""
    import pandas as pd
    from typer.testing import CliRunner

    from koe.cli import app
    from koe.config import SAMPLE_INPUT

    survey = pd.read_csv(SAMPLE_INPUT, dtype=str, keep_default_na=False)
    picked = survey[survey["text"].str.contains("工数が月20時間|作業が止まることがほとんどない")]
    picked.to_csv(tmp_path / "in.csv", index=False)
    result = CliRunner().invoke(app, ["tag", "--input", str(tmp_path / "in.csv"), "--out",
                                      str(tmp_path / "tags.csv")])  # fmt: skip
    assert result.exit_code == 0, result.output
    tags = pd.read_csv(tmp_path / "tags.csv", dtype=str, keep_default_na=False)
    assert sorted(zip(tags["theme"], tags["polarity"], strict=True)) == [
        ("product_reports", "positive"), ("support_response_speed", "positive")]
