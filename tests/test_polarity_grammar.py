"""Grammar the lexicon reads beyond single words: benefactives (〜てくれる / 〜てもらう /
〜ていただく), negation through a degree adverb or a quantity, and cost words that a decrease
turns into praise. Real Sudachi, the shipped lexicon."""

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
    ("手間が省けた。", "positive"),
    ("工数がかなり増えた。", "negative"),
])  # fmt: skip
def test_sentence_polarity_reads_the_grammar(sentence, polarity):
    assert sentence_polarity(tokenize(sentence, "ja"), LEXICON).polarity == polarity


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
