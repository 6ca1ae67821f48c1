"""`koe sentiment`: comment sentiment on its own (real lexicon, real polarity model)."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from koe.cli import app
from koe.sentiment import SENTIMENT_COLUMNS, comment_sentiment, model_scorer
from koe.taggers.polarity import PolarityLexicon

from .conftest import LOOKUP_LISTS

LEXICON = PolarityLexicon.from_yaml(LOOKUP_LISTS / "polarity.yaml")


@pytest.mark.parametrize(
    ("text", "polarity", "score"),
    [
        ("返信が早くて助かりました", "positive", 1.0),
        ("対応が遅くないので満足", "positive", 1.0),  # negation: 遅くない is praise
        ("サポートの対応が遅い。困っています", "negative", -1.0),
        ("説明は丁寧でした。でも返信が遅い。", "neutral", 0.0),  # one of each: they cancel
        ("特になし", "neutral", 0.0),  # a non-answer
        ("ダッシュボードがあれば嬉しい", "neutral", 0.0),  # a wish without a complaint
    ],
)
def test_lexicon_sentiment_of_a_comment(text, polarity, score):
    frame = comment_sentiment(["c1"], [text], LEXICON, None)
    assert list(frame.columns) == list(SENTIMENT_COLUMNS)
    assert frame.iloc[0].to_dict() == {"id": "c1", "polarity": polarity, "score": score,
                                       "source": "lexicon"}  # fmt: skip


def test_sentences_without_a_sentiment_word_go_to_the_model():
    frame = comment_sentiment(["a", "b", "c"], ["Nobody answered my ticket for a week", "返信が早い",
                               "Nobody answered my ticket for a week"],
                              LEXICON, model_scorer("koe-default"))  # fmt: skip
    assert frame["id"].tolist() == ["a", "b", "c"]
    assert frame.loc[0, "source"] == "model" and frame.loc[0, "polarity"] == "negative"
    assert -1.0 <= frame.loc[0, "score"] < -0.1
    assert frame.loc[1].to_dict() == {"id": "b", "polarity": "positive", "score": 1.0,
                                      "source": "lexicon"}  # fmt: skip
    assert frame.loc[2, "score"] == frame.loc[0, "score"]  # the same text, the same reading


def write(path, rows):
    pd.DataFrame(rows, columns=["id", "text"]).to_csv(path, index=False)


def test_koe_sentiment_writes_one_row_per_accepted_row_and_quarantines_the_rest(tmp_path):
    write(tmp_path / "in.csv", [("a", "返信が早くて助かりました"), ("b", ""), ("a", "重複"),
                                 ("c", "特になし"), ("", "idなし")])  # fmt: skip
    result = CliRunner().invoke(app, ["sentiment", "--input", str(tmp_path / "in.csv"),
                                      "--out", str(tmp_path / "s.csv"), "--polarity-model",
                                      "none"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "5 rows, 2 scored" in result.output
    out = pd.read_csv(tmp_path / "s.csv", dtype={"id": str})
    assert out.to_dict("records") == [
        {"id": "a", "polarity": "positive", "score": 1.0, "source": "lexicon"},
        {"id": "c", "polarity": "neutral", "score": 0.0, "source": "lexicon"},
    ]
    quarantine = pd.read_csv(tmp_path / "s.quarantine.csv", dtype=str, keep_default_na=False)
    assert sorted(quarantine["reason"]) == ["duplicate_id", "empty_text", "missing_id"]


def test_koe_sentiment_refuses_a_missing_column_with_a_clear_error(tmp_path):
    pd.DataFrame({"id": ["a"], "comment": ["良い"]}).to_csv(tmp_path / "in.csv", index=False)
    result = CliRunner().invoke(app, ["sentiment", "--input", str(tmp_path / "in.csv"),
                                      "--out", str(tmp_path / "s.csv")])  # fmt: skip
    assert result.exit_code == 2
    assert "koe: error:" in result.output and "text" in result.output
    assert not (tmp_path / "s.csv").exists()


def peak_rss_mib(rows: int, tmp_path) -> float:
    texts = ["返信が早くて助かりました", "サポートの対応が遅い", "Waited 5 days for a reply",
             "料金が高い", "特になし", "画面が見やすい"]  # fmt: skip
    path = tmp_path / f"in_{rows}.csv"
    write(path, [(f"r{i}", f"{texts[i % len(texts)]} {i % 50}") for i in range(rows)])
    code = ("import resource, sys\nfrom koe.cli import app\nsys.argv = sys.argv[1:]\ntry:\n"
            "    app(prog_name='koe')\nfinally:\n"
            "    print('PEAK', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "
            "file=sys.stderr)")  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", code, "koe", "sentiment", "--input", str(path), "--out",
         str(tmp_path / f"out_{rows}.csv"), "--chunk-rows", "10000"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert len(pd.read_csv(tmp_path / f"out_{rows}.csv")) == rows
    return int(done.stderr.split("PEAK ")[-1].split()[0]) / 1024  # KiB on Linux


@pytest.mark.slow
def test_a_100000_row_stream_runs_in_bounded_memory(tmp_path):
    small = peak_rss_mib(10_000, tmp_path)
    large = peak_rss_mib(100_000, tmp_path)
    # ten times the rows: the peak may grow by the input's ids, not by the rows' frames
    assert large < small + 100, (small, large)
